import Crypto
public import Foundation

extension Keyset {
    /// Signs `message` alone, with no Bulwark header: an Ed25519 signature (RFC 8032) or an
    /// ECDSA P-256 signature of the message's hash, which anyone holding
    /// ``publicKey(version:)`` verifies with a standard library (Vault's `transit/sign` answers
    /// these). The signature does not name its version; the caller carries it (`vault:vN:`).
    ///
    /// ``sign(_:)`` is the self-describing form; prefer it where only Bulwark verifies.
    /// - Parameters:
    ///   - message: The message, or with `prehashed` its digest under `hash`.
    ///   - version: The version to sign with, or nil for the primary. It must be at or above the
    ///     minimum encryption and the minimum decryption version.
    ///   - hash: ECDSA's hash. Ed25519 ignores it (it hashes with SHA-512 inside).
    ///   - prehashed: `message` is already the digest (its length must be `hash`'s). Refused for
    ///     Ed25519, which signs messages, not digests.
    ///   - encoding: ECDSA's encoding. An Ed25519 signature is the same in both.
    ///   - rsaPadding: RSA's padding (PSS by default); other types ignore it. RSA signs SHA-2
    ///     digests it computes (no SHA-3, no prehashed input).
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is a signing key;
    ///   ``BulwarkError/Code/invalidArgument`` for a refused `prehashed`; the version errors.
    public func standardSignature<Message: DataProtocol>(
        for message: Message, version: UInt32? = nil, hash: SignatureHash = .sha256,
        prehashed: Bool = false, encoding: SignatureEncoding = .der, rsaPadding: RSASignaturePadding = .pss
    ) throws -> Data {
        try self.requirePurpose(.signing, for: "sign")
        let number = version ?? self.primaryVersion
        if number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        // Nor below the minimum decryption version: such a signature would not verify here, yet
        // a third party holding the old public key would accept it.
        let chosen = try self.usableVersion(number, forDecryption: true)
        switch chosen.primitive {
        case .ed25519(let key):
            try Self.refusePrehashedEd25519(prehashed)
            return try key.signature(for: message)
        case .p256(let key):
            let signature = try key.signature(for: try Self.digest(message, hash: hash, prehashed: prehashed))
            return encoding == .raw ? signature.rawRepresentation : signature.derRepresentation
        case .signer(let key):
            if key.signsMessages { try Self.refusePrehashed(prehashed, key.type) }
            return try key.signature(
                for: message, digest: { try Self.digest(message, hash: hash, prehashed: prehashed) }, encoding: encoding, rsaPadding: rsaPadding)
        default:
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
    }

    /// Verifies a signature made by ``standardSignature(for:version:hash:prehashed:encoding:)``
    /// (or by any Ed25519 or ECDSA signer holding the version's private key).
    /// - Parameters:
    ///   - signature: The signature, in `encoding`. A DER signature must be exactly one DER
    ///     value; a raw one exactly twice the curve's size (64, 96 or 132 bytes).
    ///   - message: The message, or with `prehashed` its digest.
    ///   - version: The version that signed; it must be usable for decryption (enabled, at or
    ///     above the minimum decryption version).
    ///   - hash, prehashed, encoding, rsaPadding: As given to the signer.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when it does not verify (a malformed
    ///   signature included); ``BulwarkError/Code/wrongPurpose``, `invalidArgument` and the
    ///   version errors as for signing.
    public func verify<Signature: DataProtocol, Message: DataProtocol>(
        standardSignature signature: Signature, for message: Message, version: UInt32,
        hash: SignatureHash = .sha256, prehashed: Bool = false, encoding: SignatureEncoding = .der, rsaPadding: RSASignaturePadding = .pss
    ) throws {
        try self.requirePurpose(.signing, for: "verify a signature")
        let chosen = try self.usableVersion(version, forDecryption: true)
        let bytes = Data(signature)
        let valid: Bool
        switch chosen.primitive {
        case .ed25519(let key):
            try Self.refusePrehashedEd25519(prehashed)
            valid = bytes.count == 64 && key.publicKey.isValidSignature(bytes, for: message)
        case .p256(let key):
            let digest = try Self.digest(message, hash: hash, prehashed: prehashed)
            let parsed = encoding == .raw
                ? try? P256.Signing.ECDSASignature(rawRepresentation: bytes)
                : try? P256.Signing.ECDSASignature(derRepresentation: bytes)
            valid = parsed.map { key.publicKey.isValidSignature($0, for: digest) } ?? false
        case .signer(let key):
            if key.signsMessages { try Self.refusePrehashed(prehashed, key.type) }
            valid = try key.isValid(
                bytes, for: message, digest: { try Self.digest(message, hash: hash, prehashed: prehashed) }, encoding: encoding, rsaPadding: rsaPadding)
        default:
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        guard valid else { throw BulwarkError(.authenticationFailed, "the signature does not verify") }
    }

    private static func refusePrehashedEd25519(_ prehashed: Bool) throws {
        try Self.refusePrehashed(prehashed, .ed25519)
    }

    private static func refusePrehashed(_ prehashed: Bool, _ type: KeyType) throws {
        if prehashed { throw BulwarkError(.invalidArgument, "\(type) signs the message itself, not a digest: prehashed input is refused") }
    }

    private static func digest<Message: DataProtocol>(_ message: Message, hash: SignatureHash, prehashed: Bool) throws -> any Digest {
        guard prehashed else { return hash.digest(message) }
        guard message.count == hash.byteCount else {
            throw BulwarkError(.invalidArgument, "prehashed input of \(message.count) bytes is not a \(hash) digest (\(hash.byteCount) bytes)")
        }
        return hash.precomputed(Array(message))
    }
}
