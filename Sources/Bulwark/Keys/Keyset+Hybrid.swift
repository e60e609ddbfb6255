import Crypto
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
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key; the version
    ///   errors when the primary version may not be used.
    public func hybridEncrypt<Plaintext: DataProtocol, Context: DataProtocol>(_ plaintext: Plaintext, context: Context) throws -> Data {
        try self.hybridPublicKey().encrypt(plaintext, context: context)
    }

    /// Decrypts a message made by ``HybridPublicKey/encrypt(_:context:)`` for any usable version.
    ///
    /// The message is `header ‖ enc ‖ ct` (``HybridPublicKey``): the header names the key and
    /// version, the rest is HPKE's (RFC 9180) base mode with `info` = header ‖ context.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key;
    ///   ``BulwarkError/Code/invalidFormat`` for a message too short or not of this format;
    ///   ``BulwarkError/Code/unknownKey`` for another key's message;
    ///   ``BulwarkError/Code/authenticationFailed`` for an altered message or a wrong context;
    ///   the version errors for a version that may not decrypt.
    public func hybridDecrypt<Message: DataProtocol, Context: DataProtocol>(_ message: Message, context: Context) throws -> Data {
        try self.hybridOpen(message, context: context, sender: nil)
    }

    /// Encrypts `plaintext` to `recipient` in HPKE's auth mode (RFC 9180 §5.1.3): the message
    /// also proves that the holder of this keyset's primary version sent it, to a recipient who
    /// names this key as the sender (``hybridDecrypt(_:context:from:)``).
    ///
    /// Auth mode authenticates the sender to the recipient only: the recipient could have made
    /// the message too (no non-repudiation), and whoever holds the recipient's private key can
    /// forge any sender to it (key-compromise impersonation, RFC 9180 §9.1.1); sign what must
    /// convince a third party. Nothing in the message marks the mode: a recipient expecting a
    /// sender must call ``hybridDecrypt(_:context:from:)`` and never fall back to
    /// ``hybridDecrypt(_:context:)``, which opens what anyone with the public key made.
    /// - Parameters:
    ///   - plaintext: The data to protect.
    ///   - recipient: The recipient's public key, of the same KEM as this key (X25519 or P-256;
    ///     the AEAD may differ: the recipient's is used).
    ///   - context: Context bound to the message; the same is needed to decrypt.
    /// - Returns: A message of the same layout as ``HybridPublicKey/encrypt(_:context:)``'s, which
    ///   opens only in auth mode with this key's public key.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key;
    ///   `invalidArgument` for another KEM or X-Wing (no auth mode); the version errors.
    public func hybridEncrypt<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, to recipient: HybridPublicKey, context: Context
    ) throws -> Data {
        try self.requirePurpose(.hybridEncryption, for: "send an authenticated hybrid message")
        let version = try self.usableVersion(self.primaryVersion, forDecryption: false)
        guard case .hybrid(let key)? = version.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the primary version has no material")
        }
        return try recipient.seal(plaintext, context: context) { info in try key.sender(to: recipient, info: info) }
    }

    /// Decrypts a message made by ``hybridEncrypt(_:to:context:)`` by the holder of `sender`, for
    /// any usable version of this key. A message in base mode, or from another sender, fails.
    /// - Throws: As ``hybridDecrypt(_:context:)``, and `invalidArgument` for a sender key of
    ///   another KEM or X-Wing.
    public func hybridDecrypt<Message: DataProtocol, Context: DataProtocol>(
        _ message: Message, context: Context, from sender: HybridPublicKey
    ) throws -> Data {
        try self.hybridOpen(message, context: context, sender: sender)
    }

    private func hybridOpen<Message: DataProtocol, Context: DataProtocol>(_ message: Message, context: Context, sender: HybridPublicKey?) throws -> Data {
        try self.requirePurpose(.hybridEncryption, for: "decrypt a hybrid message")
        let message = Data(message)
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
            throw BulwarkError(.invalidFormat, "too short to be a Bulwark hybrid message")
        }
        let enc = Data(body.prefix(encLength))
        let ciphertext = Data(body.dropFirst(encLength))
        let info = HybridSuite.info(header: header.bytes(includingContextCheck: false), context: Data(context))
        return try key.open(encapsulatedKey: enc, ciphertext: ciphertext, info: info, sender: sender)
    }

    /// Starts decrypting a stream encrypted to one of this key's public keys
    /// (``HybridPublicKey/makeStreamEncryptor(context:segmentSize:)``).
    /// - Parameters:
    ///   - header: The stream's header (``StreamHeader/init(parsing:)``).
    ///   - encapsulatedKey: The ``StreamHeader/encapsulatedKeyLength`` bytes after the header.
    ///   - context: The context given at encryption.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key; `unknownKey`
    ///   for another key's stream; `invalidArgument` for an encapsulated key of the wrong length;
    ///   `authenticationFailed` for another algorithm or a malformed encapsulated key (a wrong one
    ///   fails the first segment); the version errors.
    public func makeHybridStreamDecryptor<Context: DataProtocol>(
        header: StreamHeader, encapsulatedKey: Data, context: Context
    ) throws -> StreamDecryptor {
        try self.requirePurpose(.hybridEncryption, for: "decrypt a hybrid stream")
        guard header.keyID == self.id else {
            throw BulwarkError(.unknownKey, "the stream was made for key id \(header.keyID), not for key '\(self.name)' (id \(self.id))")
        }
        guard header.algorithmID == self.type.wireID else {
            throw BulwarkError(.authenticationFailed, "the stream header names another algorithm: it was altered")
        }
        guard encapsulatedKey.count == HybridSuite.encapsulatedKeyLength(self.type) else {
            throw BulwarkError(.invalidArgument, "an encapsulated key of a \(self.type) stream has \(HybridSuite.encapsulatedKeyLength(self.type)) bytes")
        }
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        guard case .hybrid(let key)? = version.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "version \(header.keyVersion) of '\(self.name)' has no key material")
        }
        return try Data(context).withUnsafeBytes { contextBytes in
            let recipient = try key.recipient(encapsulatedKey: encapsulatedKey, info: HybridStream.info(header: header, context: contextBytes))
            let streamKey: SymmetricKey
            do {
                streamKey = try recipient.exportSecret(context: HybridStream.exporterContext, outputByteCount: 32)
            } catch {
                throw BulwarkError(.internalFailure, "HPKE could not export the stream key")
            }
            var decryptor = StreamDecryptor(
                cipher: try StreamSegmentCipher(header: header, versionKey: streamKey, context: contextBytes, segments: HybridSuite.segmentAEAD(self.type)))
            decryptor.contextMismatch = EnvelopeHeader.contextCheck(contextBytes) != header.contextCheck
            return decryptor
        }
    }
}
