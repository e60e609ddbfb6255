import Crypto
public import Foundation

extension Keyset {
    /// The HMAC of `message` alone, with no Bulwark header, under one version's HMAC key: what
    /// Vault's `transit/hmac` answers, for a key of any type.
    ///
    /// An HMAC key's version uses its own key. Every other version has an HMAC key of its own,
    /// derived from its key material (HKDF-SHA256, info `"bulwark hmac key v1"` ‖ key id ‖
    /// version, 32 bytes), so that rotating the key rotates its HMACs too and no HMAC reveals
    /// anything about the encryption or signing key. ``authenticate(_:)`` is the self-describing
    /// form; prefer it where only Bulwark verifies. An HMAC key's standard MACs are the bare
    /// HMACs its blind indexes and peppers use: give each use a key of its own.
    /// - Parameters:
    ///   - message: The message.
    ///   - version: The version, or nil for the primary; at or above the minimum encryption and
    ///     the minimum decryption version.
    ///   - hash: The hash, or nil for the key's own (SHA-512 for `hmac-sha512` keys, otherwise
    ///     SHA-256).
    /// - Throws: The version errors; ``BulwarkError/Code/keyVersionDestroyed`` for a version
    ///   without material.
    public func standardMAC<Message: DataProtocol>(for message: Message, version: UInt32? = nil, hash: SignatureHash? = nil) throws -> Data {
        let number = version ?? self.primaryVersion
        if number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        let chosen = try self.usableVersion(number, forDecryption: true)
        return try Self.mac(message, key: try self.hmacKey(chosen), hash: hash ?? self.defaultMACHash)
    }

    /// Verifies, in constant time, an HMAC made by ``standardMAC(for:version:hash:)``.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when it does not match; the version
    ///   errors for a version that may not decrypt.
    public func verify<MAC: DataProtocol, Message: DataProtocol>(
        standardMAC mac: MAC, for message: Message, version: UInt32, hash: SignatureHash? = nil
    ) throws {
        let chosen = try self.usableVersion(version, forDecryption: true)
        let expected = try Self.mac(message, key: try self.hmacKey(chosen), hash: hash ?? self.defaultMACHash)
        guard constantTimeEquals(expected, Array(mac)) else {
            throw BulwarkError(.authenticationFailed, "the MAC does not match the message")
        }
    }

    /// Exports one version's HMAC key (Vault's `export/hmac-key`): the key
    /// ``standardMAC(for:version:hash:)`` uses. For every type but the HMAC ones the key is
    /// derived from the version's key, so ``exportRawKeyMaterial(version:access:)`` gives it too.
    /// - Parameters:
    ///   - version: The version.
    ///   - access: ``InsecureSecretKeyAccess/token``: the output is a secret.
    /// - Throws: ``BulwarkError/Code/notExportable`` unless the key was created exportable; the
    ///   version errors.
    public func exportHMACKey(version: UInt32, access: InsecureSecretKeyAccess) throws -> Data {
        guard self.isExportable else {
            throw BulwarkError(.notExportable, "key '\(self.name)' was not created exportable")
        }
        return try self.hmacKey(try self.usableVersion(version, forDecryption: true)).withUnsafeBytes { Data($0) }
    }

    /// SHA-512 for `hmac-sha512` keys, SHA-256 otherwise.
    var defaultMACHash: SignatureHash { self.type == .hmacSHA512 ? .sha512 : .sha256 }

    /// A version's HMAC key: its own key for an HMAC key, otherwise derived from its material.
    func hmacKey(_ version: KeyVersion) throws -> SymmetricKey {
        if case .hmac(let key, _)? = version.primitive { return key }
        guard let material = version.material else {
            throw BulwarkError(.keyVersionDestroyed, "version \(version.number) of '\(self.name)' has no key material")
        }
        var info = Array("bulwark hmac key v1".utf8)
        info.appendBigEndian(self.id)
        info.appendBigEndian(version.number)
        // A derived key's contexts are HKDF infos under the same material with no salt: a
        // caller naming this info as a context would get the HMAC key as an encryption key.
        // Derived keys salt their HMAC key's derivation, which no context can reach.
        let salt = self.isDerived ? Array("bulwark derived-key hmac salt v1".utf8) : []
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material.rawBytes), salt: salt, info: info, outputByteCount: 32)
    }

    private static func mac<Message: DataProtocol>(_ message: Message, key: SymmetricKey, hash: SignatureHash) throws -> Data {
        switch hash.backing {
        case .sha256: Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha384: Data(HMAC<SHA384>.authenticationCode(for: message, using: key))
        case .sha512: Data(HMAC<SHA512>.authenticationCode(for: message, using: key))
        case .sha3_256: Data(HMAC<SHA3_256>.authenticationCode(for: message, using: key))
        case .sha3_384: Data(HMAC<SHA3_384>.authenticationCode(for: message, using: key))
        case .sha3_512: Data(HMAC<SHA3_512>.authenticationCode(for: message, using: key))
        }
    }
}
