public import Foundation

extension Keyset {
    /// The public key of a hybrid-encryption version, for senders. Public keys are not secret
    /// and need no export permission.
    /// - Parameter version: The version, or nil for the primary (what new messages should use).
    ///   A chosen version must be at or above both the minimum encryption and the minimum
    ///   decryption version: a key whose messages the holder would refuse is never handed out.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key;
    ///   `keyVersionBelowMinimum`, and the usual errors for a version that is unknown, disabled
    ///   or destroyed.
    public func hybridPublicKey(version: UInt32? = nil) throws -> HybridPublicKey {
        try self.requirePurpose(.hybridEncryption, for: "give a hybrid public key")
        let number = version ?? self.primaryVersion
        if number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        let chosen = try self.usableVersion(number, forDecryption: true)
        guard case .hybrid(let key)? = chosen.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        return try HybridPublicKey(type: self.type, keyID: self.id, version: chosen.number, rawRepresentation: key.publicKeyBytes)
    }

    /// Encrypts `plaintext` to the primary version's public key, as a sender holding only
    /// ``hybridPublicKey(version:)`` would.
    /// - Parameters:
    ///   - plaintext: The data to protect.
    ///   - context: Context bound to the message; the same is needed to decrypt.
    public func hybridEncrypt<Plaintext: DataProtocol, Context: DataProtocol>(_ plaintext: Plaintext, context: Context) throws -> Data {
        try self.hybridPublicKey().encrypt(plaintext, context: context)
    }

    /// Decrypts a message made by ``HybridPublicKey/encrypt(_:context:)`` for any usable version.
    ///
    /// The message is `header ‖ enc ‖ ct` (``HybridPublicKey``): the header names the key and
    /// version, the rest is HPKE's (RFC 9180) base mode with `info` = header ‖ context.
    /// - Throws: ``BulwarkError/Code/unknownKey`` for another key's message,
    ///   ``BulwarkError/Code/authenticationFailed`` for an altered message or a wrong context,
    ///   the version errors for a version that may not decrypt.
    public func hybridDecrypt<Context: DataProtocol>(_ message: Data, context: Context) throws -> Data {
        try self.requirePurpose(.hybridEncryption, for: "decrypt a hybrid message")
        let header = try EnvelopeHeader(parsing: Array(message.prefix(EnvelopeHeader.tagLength)), length: EnvelopeHeader.tagLength)
        try self.requireOwnership(of: header)
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        guard case .hybrid(let key)? = version.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        let encLength = HybridSuite.encapsulatedKeyLength(self.type)
        let body = message.dropFirst(EnvelopeHeader.tagLength)
        // An AEAD tag (16 bytes) follows the encapsulated key even for an empty plaintext.
        guard body.count >= encLength + 16 else {
            throw BulwarkError(.authenticationFailed, "the hybrid message is too short")
        }
        let enc = Data(body.prefix(encLength))
        let ciphertext = Data(body.dropFirst(encLength))
        let info = HybridSuite.info(header: header.bytes(includingContextCheck: false), context: Data(context))
        return try key.open(encapsulatedKey: enc, ciphertext: ciphertext, info: info)
    }

    /// Decrypts a message made with no context.
    public func hybridDecrypt(_ message: Data) throws -> Data {
        try self.hybridDecrypt(message, context: Data())
    }
}
