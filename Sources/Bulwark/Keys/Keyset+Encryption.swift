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
    @inlinable
    public func encrypt<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context
    ) throws -> Data {
        try plaintext.withContiguousBytes { p in
            try context.withContiguousBytes { c in try self.sealBuffers(deterministic: false, plaintext: p, context: c) }
        }
    }

    /// Encrypts `plaintext` with a chosen version (Vault's `key_version`), which must be enabled and
    /// at or above ``minimumEncryptionVersion``.
    /// - Throws: ``BulwarkError/Code/keyVersionBelowMinimum``, `unknownKeyVersion`,
    ///   `keyVersionDisabled`, `keyVersionDestroyed` or `wrongPurpose`.
    public func encrypt<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context, version: UInt32
    ) throws -> Data {
        if version < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(version) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        _ = try self.usableVersionIndex(version, forDecryption: false)
        return try plaintext.withContiguousBytes { p in
            try context.withContiguousBytes { c in try self.sealBuffers(deterministic: false, version: version, plaintext: p, context: c) }
        }
    }

    /// Decrypts an envelope made by ``encrypt(_:context:)`` with any usable version of this key.
    /// - Parameters:
    ///   - envelope: The binary envelope.
    ///   - context: The context given at encryption.
    /// - Returns: The plaintext.
    /// - Throws: ``BulwarkError`` with code `unknownKey`, `unknownKeyVersion`, `keyVersionDisabled`,
    ///   `keyVersionDestroyed`, `keyVersionBelowMinimum`, `wrongContext`, `authenticationFailed`
    ///   or `invalidFormat`.
    @inlinable
    public func decrypt<Envelope: DataProtocol, Context: DataProtocol>(
        _ envelope: Envelope, context: Context
    ) throws -> Data {
        try envelope.withContiguousBytes { e in
            try context.withContiguousBytes { c in try self.openBuffers(deterministic: false, envelope: e, context: c) }
        }
    }

    /// Encrypts deterministically: the same plaintext and context give the same envelope.
    ///
    /// Equality of plaintexts (under one key version and context) is visible to whoever sees
    /// the envelopes; use only for fields that must be found by exact match.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `aes256-siv` key.
    @inlinable
    public func encryptDeterministically<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context
    ) throws -> Data {
        try plaintext.withContiguousBytes { p in
            try context.withContiguousBytes { c in try self.sealBuffers(deterministic: true, plaintext: p, context: c) }
        }
    }

    /// Decrypts an envelope made by ``encryptDeterministically(_:context:)``.
    /// - Throws: as ``decrypt(_:context:)``.
    @inlinable
    public func decryptDeterministically<Envelope: DataProtocol, Context: DataProtocol>(
        _ envelope: Envelope, context: Context
    ) throws -> Data {
        try envelope.withContiguousBytes { e in
            try context.withContiguousBytes { c in try self.openBuffers(deterministic: true, envelope: e, context: c) }
        }
    }

    @usableFromInline
    func requireEncryptionPurpose(deterministic: Bool, _ operation: String) throws {
        try self.requireUnderived(operation)
        if deterministic {
            try self.requirePurpose(.deterministicEncryption, for: "\(operation) deterministically (use an aes256-siv key)")
        } else {
            try self.requirePurpose(.encryption, for: "\(operation) (use an aes256-gcm or chacha20-poly1305 key)")
        }
    }

    @usableFromInline
    func sealBuffers(
        deterministic: Bool, version: UInt32? = nil, plaintext plaintextBytes: UnsafeRawBufferPointer, context contextBytes: UnsafeRawBufferPointer
    ) throws -> Data {
        try self.requireEncryptionPurpose(deterministic: deterministic, "encrypt")
        let primary = version ?? self.primaryVersion
        // The primary version is always enabled (disable and destroy refuse it).
        guard let primitive = self.versions[Int(primary - 1)].primitive, let algorithm = self.type.aeadAlgorithm else {
            throw BulwarkError(.keyVersionDestroyed, "the primary version of '\(self.name)' has no key material")
        }
        var header = (UInt64(0), UInt32(0))
        return try withUnsafeMutableBytes(of: &header) { raw in
            raw[0] = EnvelopeHeader.currentFormat
            raw[1] = algorithm.rawValue
            raw.storeBytes(of: self.id.bigEndian, toByteOffset: 2, as: UInt32.self)
            raw.storeBytes(of: primary.bigEndian, toByteOffset: 6, as: UInt32.self)
            raw.storeBytes(of: EnvelopeHeader.contextCheck(contextBytes).bigEndian, toByteOffset: 10, as: UInt16.self)
            return try Envelope.seal(
                primitive, algorithm: algorithm, header: UnsafeRawBufferPointer(rebasing: raw[0..<EnvelopeHeader.encryptionLength]),
                context: contextBytes, plaintext: plaintextBytes)
        }
    }

    @usableFromInline
    func openBuffers(deterministic: Bool, envelope sealed: UnsafeRawBufferPointer, context contextBytes: UnsafeRawBufferPointer) throws -> Data {
        try self.requireEncryptionPurpose(deterministic: deterministic, "decrypt")
        guard let algorithm = self.type.aeadAlgorithm,
            sealed.count >= EnvelopeHeader.encryptionLength + algorithm.nonceLength + algorithm.tagLength
        else {
            throw BulwarkError(.invalidFormat, "the ciphertext is too short to be a Bulwark envelope")
        }
        let header = try EnvelopeHeader(parsing: sealed)
        try self.requireOwnership(of: header)
        let index = try self.usableVersionIndex(header.keyVersion, forDecryption: true)
        guard let primitive = self.versions[index].primitive else {
            throw BulwarkError(.keyVersionDestroyed, "version \(header.keyVersion) of '\(self.name)' has no key material")
        }
        if let plaintext = try Envelope.open(primitive, algorithm: algorithm, sealed: sealed, context: contextBytes) {
            return plaintext
        }
        if EnvelopeHeader.contextCheck(contextBytes) != header.contextCheck {
            throw BulwarkError(.wrongContext, "the context differs from the one the data was encrypted with")
        }
        throw BulwarkError(.authenticationFailed, "the ciphertext was altered (authentication failed)")
    }
}

extension Keyset {
    /// Refuses a derived key on a path that would use the version's own key (Vault never uses
    /// a derived key's base key directly; neither does Bulwark).
    @usableFromInline
    func requireUnderived(_ operation: String) throws {
        guard !self.isDerived else {
            throw BulwarkError(.invalidArgument, "key '\(self.name)' is derived: \(operation) needs a derivation context (encrypt(_:context:derivingFrom:))")
        }
    }
}

extension DataProtocol {
    /// Runs `body` over the bytes, copying only when they are not contiguous.
    @inlinable
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        if self.regions.count == 1, let region = self.regions.first {
            if let result = try region.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
                return result
            }
        }
        return try Array(self).withUnsafeBytes(body)
    }
}
