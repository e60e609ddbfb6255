import Crypto
public import Foundation

extension Keyset {
    /// Signs `message` with the primary version.
    /// - Returns: A 10-byte header (format, algorithm, key id, version) followed by the signature
    ///   (64 bytes for Ed25519; DER for ECDSA, over SHA-256, SHA-384 or SHA-512 by curve; ML-DSA's;
    ///   RSA-PSS over SHA-256). See docs/FORMAT.md.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is a signing key.
    public func sign<Message: DataProtocol>(_ message: Message) throws -> Data {
        try self.requirePurpose(.signing, for: "sign")
        let version = try self.usableVersion(self.primaryVersion, forDecryption: false)
        let header = EnvelopeHeader(algorithmID: self.type.wireID, keyID: self.id, keyVersion: version.number)
        var signed = Data(header.bytes(includingContextCheck: false))
        let input = signed + Data(message)
        switch version.primitive {
        case .ed25519(let key): signed.append(try key.signature(for: input))
        case .p256(let key): signed.append(try key.signature(for: input).derRepresentation)
        case .signer(let key): signed.append(try key.signature(for: input, digest: { key.naturalHash.digest(input) }, encoding: .der))
        default: throw BulwarkError(.keyVersionDestroyed, "the primary version has no material")
        }
        return signed
    }

    /// Verifies a signature made by ``sign(_:)`` with any usable version.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when it does not verify.
    public func verify<Signature: DataProtocol, Message: DataProtocol>(signature: Signature, for message: Message) throws {
        try self.requirePurpose(.signing, for: "verify a signature")
        let bytes = Data(signature)
        let header = try EnvelopeHeader(parsing: Array(bytes.prefix(EnvelopeHeader.tagLength)), length: EnvelopeHeader.tagLength)
        try self.requireOwnership(of: header)
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        let input = Data(header.bytes(includingContextCheck: false)) + Data(message)
        let raw = bytes.dropFirst(EnvelopeHeader.tagLength)
        let valid: Bool
        switch version.primitive {
        case .ed25519(let key):
            valid = key.publicKey.isValidSignature(raw, for: input)
        case .p256(let key):
            if let parsed = try? P256.Signing.ECDSASignature(derRepresentation: raw) {
                valid = key.publicKey.isValidSignature(parsed, for: input)
            } else {
                valid = false
            }
        case .signer(let key):
            valid = try key.isValid(Data(raw), for: input, digest: { key.naturalHash.digest(input) }, encoding: .der)
        default:
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        guard valid else { throw BulwarkError(.authenticationFailed, "the signature does not verify") }
    }

    /// The public key of a signing version: raw 32 bytes (Ed25519), SPKI DER (ECDSA, RSA), or
    /// FIPS 204's raw encoding (ML-DSA). Public keys are not secret and need no export permission.
    /// - Parameter version: The version, or nil for the primary.
    public func publicKey(version: UInt32? = nil) throws -> Data {
        try self.requirePurpose(.signing, for: "give a public key")
        let chosen = try self.usableVersion(version ?? self.primaryVersion, forDecryption: true)
        switch chosen.primitive {
        case .ed25519(let key): return key.publicKey.rawRepresentation
        case .p256(let key): return key.publicKey.derRepresentation
        case .signer(let key): return key.publicKeyBytes
        default: throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
    }
}
