import Crypto
public import Foundation

extension Keyset {
    /// Computes a MAC of `message` with the primary version.
    /// - Returns: A 10-byte header (format, algorithm, key id, version) followed by the tag.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an HMAC key.
    public func authenticate<Message: DataProtocol>(_ message: Message) throws -> Data {
        try self.requirePurpose(.mac, for: "compute a MAC")
        let version = try self.usableVersion(self.primaryVersion, forDecryption: false)
        let header = EnvelopeHeader(algorithmID: self.type.wireID, keyID: self.id, keyVersion: version.number)
        var out = Data(header.bytes(includingContextCheck: false))
        out.append(try Self.tag(version, header: header, message: message))
        return out
    }

    /// Verifies a MAC made by ``authenticate(_:)`` with any usable version, in constant time.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when it does not match.
    public func verify<MAC: DataProtocol, Message: DataProtocol>(mac: MAC, for message: Message) throws {
        try self.requirePurpose(.mac, for: "verify a MAC")
        let bytes = Array(mac)
        let header = try EnvelopeHeader(parsing: bytes, length: EnvelopeHeader.tagLength)
        try self.requireOwnership(of: header)
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        let expected = try Self.tag(version, header: header, message: message)
        guard constantTimeEquals(expected, bytes[EnvelopeHeader.tagLength...]) else {
            throw BulwarkError(.authenticationFailed, "the MAC does not match the message")
        }
    }

    private static func tag<Message: DataProtocol>(_ version: KeyVersion, header: EnvelopeHeader, message: Message) throws -> Data {
        guard case .hmac(let key, let sha512) = version.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        // The header is authenticated too, so a tag cannot be moved to another key or version.
        let prefix = header.bytes(includingContextCheck: false)
        if sha512 {
            var hmac = HMAC<SHA512>(key: key)
            hmac.update(data: prefix)
            hmac.update(data: message)
            return Data(hmac.finalize())
        }
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: prefix)
        hmac.update(data: message)
        return Data(hmac.finalize())
    }
}

extension Keyset {
    /// The bare HMAC of `message` under one version (no header): for peppers.
    func rawMAC(version: UInt32, message: [UInt8]) throws -> Data {
        try self.requirePurpose(.mac, for: "compute a pepper")
        let chosen = try self.usableVersion(version, forDecryption: true)
        guard case .hmac(let key, let sha512) = chosen.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the pepper version has no material")
        }
        return sha512 ? Data(HMAC<SHA512>.authenticationCode(for: message, using: key))
            : Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
