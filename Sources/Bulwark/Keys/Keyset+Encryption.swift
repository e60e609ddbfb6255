public import Foundation

extension Keyset {
    /// Encrypts `plaintext` with the primary version, bound to `context`.
    ///
    /// The nonce is generated inside. The result is a binary envelope (see `docs/FORMAT.md`);
    /// ``EnvelopeText`` turns it into text.
    /// - Parameters:
    ///   - plaintext: The data to protect.
    ///   - context: Associated data (for example table, column and row id). Decryption must
    ///     give the same bytes. Pass an empty value only when there truly is no context.
    /// - Returns: The envelope.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an encryption key.
    public func encrypt<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context
    ) throws -> Data {
        try self.requirePurpose(.encryption, for: "encrypt (use an aes256-gcm or chacha20-poly1305 key)")
        return try self.seal(plaintext, context: context)
    }

    /// Decrypts an envelope made by ``encrypt(_:context:)`` with any usable version of this key.
    /// - Parameters:
    ///   - envelope: The binary envelope.
    ///   - context: The context given at encryption.
    /// - Returns: The plaintext.
    /// - Throws: ``BulwarkError`` with code `unknownKey`, `unknownKeyVersion`, `keyVersionDisabled`,
    ///   `keyVersionDestroyed`, `keyVersionBelowMinimum`, `wrongContext`, `authenticationFailed`
    ///   or `invalidFormat`.
    public func decrypt<Envelope: DataProtocol, Context: DataProtocol>(
        _ envelope: Envelope, context: Context
    ) throws -> Data {
        try self.requirePurpose(.encryption, for: "decrypt (use an aes256-gcm or chacha20-poly1305 key)")
        return try self.open(envelope, context: context)
    }

    /// Encrypts deterministically: the same plaintext and context give the same envelope.
    ///
    /// Equality of plaintexts (under one key version and context) is visible to whoever sees
    /// the envelopes; use only for fields that must be found by exact match.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `aes256-siv` key.
    public func encryptDeterministically<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context
    ) throws -> Data {
        try self.requirePurpose(.deterministicEncryption, for: "encrypt deterministically (use an aes256-siv key)")
        return try self.seal(plaintext, context: context)
    }

    /// Decrypts an envelope made by ``encryptDeterministically(_:context:)``.
    /// - Throws: as ``decrypt(_:context:)``.
    public func decryptDeterministically<Envelope: DataProtocol, Context: DataProtocol>(
        _ envelope: Envelope, context: Context
    ) throws -> Data {
        try self.requirePurpose(.deterministicEncryption, for: "decrypt deterministically (use an aes256-siv key)")
        return try self.open(envelope, context: context)
    }

    private func seal<Plaintext: DataProtocol, Context: DataProtocol>(_ plaintext: Plaintext, context: Context) throws -> Data {
        let version = try self.usableVersion(self.primaryVersion, forDecryption: false)
        guard let primitive = version.primitive, let algorithm = self.type.aeadAlgorithm else {
            throw BulwarkError(.keyVersionDestroyed, "the primary version of '\(self.name)' has no key material")
        }
        return try plaintext.withContiguousBytes { plaintextBytes in
            try context.withContiguousBytes { contextBytes in
                let header = EnvelopeHeader(
                    algorithmID: algorithm.rawValue, keyID: self.id, keyVersion: version.number,
                    contextCheck: EnvelopeHeader.contextCheck(contextBytes)
                ).bytes(includingContextCheck: true)
                return try header.withUnsafeBytes { headerBytes in
                    try Envelope.seal(
                        primitive, algorithm: algorithm, header: headerBytes, context: contextBytes,
                        plaintext: plaintextBytes)
                }
            }
        }
    }

    private func open<Sealed: DataProtocol, Context: DataProtocol>(_ envelope: Sealed, context: Context) throws -> Data {
        try envelope.withContiguousBytes { sealed in
            guard let algorithm = self.type.aeadAlgorithm,
                sealed.count >= EnvelopeHeader.encryptionLength + algorithm.nonceLength + algorithm.tagLength
            else {
                throw BulwarkError(.invalidFormat, "the ciphertext is too short to be a Bulwark envelope")
            }
            let header = try EnvelopeHeader(parsing: Array(sealed[..<EnvelopeHeader.encryptionLength]), length: EnvelopeHeader.encryptionLength)
            try self.requireOwnership(of: header)
            let version = try self.usableVersion(header.keyVersion, forDecryption: true)
            guard let primitive = version.primitive else {
                throw BulwarkError(.keyVersionDestroyed, "version \(header.keyVersion) of '\(self.name)' has no key material")
            }
            return try context.withContiguousBytes { contextBytes in
                if let plaintext = try Envelope.open(primitive, algorithm: algorithm, sealed: sealed, context: contextBytes) {
                    return plaintext
                }
                if EnvelopeHeader.contextCheck(contextBytes) != header.contextCheck {
                    throw BulwarkError(.wrongContext, "the context differs from the one the data was encrypted with")
                }
                throw BulwarkError(.authenticationFailed, "the ciphertext was altered (authentication failed)")
            }
        }
    }
}

extension DataProtocol {
    /// Runs `body` over the bytes, copying only when they are not contiguous.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if self.regions.count == 1, let region = self.regions.first {
            if let result = try region.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
                return result
            }
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
