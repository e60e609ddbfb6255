public import Foundation
import Crypto
import Synchronization

/// Envelope encryption of database fields: each value is encrypted under a data key, and the data
/// key is wrapped by a key-encryption key held elsewhere (``KeyEncryptionKeyProvider``).
///
/// Data keys are reused within a ``DataKeyCachePolicy`` so a busy service does not call the key
/// service per row; unwrapped keys are cached for decryption under the same limits. Every
/// ciphertext is bound to its ``FieldContext``. The format (`0x03`) is in `docs/FORMAT.md`:
/// `0x03 ‖ 0x01 ‖ wrapped-key length (2) ‖ wrapped key ‖ nonce (12) ‖ ciphertext ‖ tag (16)`,
/// with everything before the nonce plus the encoded context as associated data.
public final class FieldEncryptor: Sendable {
    /// The format byte of field envelopes.
    public static let format: UInt8 = 0x03
    private let provider: any KeyEncryptionKeyProvider
    /// The cache policy.
    public let policy: DataKeyCachePolicy

    private final class CachedKey: Sendable {
        let aead: any NonceAEAD
        let wrapped: Data
        /// `format ‖ algorithm ‖ wrapped length ‖ wrapped key`: every envelope's first bytes.
        let header: [UInt8]
        let created: ContinuousClock.Instant
        init(aead: any NonceAEAD, wrapped: Data, created: ContinuousClock.Instant) {
            self.aead = aead
            self.wrapped = wrapped
            var header: [UInt8] = [FieldEncryptor.format, AEADAlgorithm.aes256GCM.rawValue]
            header.appendBigEndian(UInt16(wrapped.count))
            header += wrapped
            self.header = header
            self.created = created
        }
    }

    private struct State {
        var current: CachedKey?
        var messages = 0
        var bytes = 0
        var unwrapped: [Data: CachedKey] = [:]
        var providerCalls = 0
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// - Parameters:
    ///   - keyEncryptionKey: Wraps and unwraps data keys.
    ///   - policy: How long data keys are reused.
    public init(keyEncryptionKey: any KeyEncryptionKeyProvider, policy: DataKeyCachePolicy = .standard) {
        self.provider = keyEncryptionKey
        self.policy = policy
    }

    /// How many times the key-encryption key has been called (generate or unwrap).
    public var keyEncryptionKeyCalls: Int { self.state.withLock { $0.providerCalls } }

    private func encryptionKey(for length: Int) async throws -> CachedKey {
        let now = self.clock.now
        let reusable = self.state.withLock { state -> CachedKey? in
            guard let current = state.current, now - current.created < self.policy.maximumAge,
                state.messages < self.policy.maximumMessages, state.bytes + length <= self.policy.maximumBytes
            else { return nil }
            state.messages += 1
            state.bytes += length
            return current
        }
        if let reusable { return reusable }
        let (key, wrapped) = try await self.provider.generateDataKey()
        guard wrapped.count <= Int(UInt16.max) else {
            throw BulwarkError(.invalidArgument, "the wrapped data key is too long")
        }
        let fresh = CachedKey(aead: try NonceAEADFactory.make(.aes256GCM, key: key), wrapped: wrapped, created: self.clock.now)
        self.state.withLock { state in
            state.providerCalls += 1
            state.current = fresh
            state.messages = 1
            state.bytes = length
            if self.policy.maximumEntries > 0 {
                if state.unwrapped.count >= self.policy.maximumEntries { state.unwrapped.removeAll() }
                state.unwrapped[wrapped] = fresh
            }
        }
        return fresh
    }

    /// The current data key when `header` names it and unwrapped keys may be cached: most reads
    /// follow writes under the current key, and this spares hashing the wrapped key.
    private func currentKey(matching header: UnsafeRawBufferPointer) -> CachedKey? {
        guard self.policy.maximumEntries > 0, let current = self.state.withLock({ $0.current }),
            self.clock.now - current.created < self.policy.maximumAge,
            current.header.withUnsafeBytes({ $0.elementsEqual(header) })
        else { return nil }
        return current
    }

    private func decryptionKey(for wrapped: Data) async throws -> CachedKey {
        let now = self.clock.now
        let cached = self.state.withLock { state -> CachedKey? in
            guard let entry = state.unwrapped[wrapped] else { return nil }
            if now - entry.created >= self.policy.maximumAge {
                state.unwrapped[wrapped] = nil
                return nil
            }
            return entry
        }
        if let cached { return cached }
        let key = try await self.provider.unwrapDataKey(wrapped)
        let entry = CachedKey(aead: try NonceAEADFactory.make(.aes256GCM, key: key), wrapped: wrapped, created: self.clock.now)
        self.state.withLock { state in
            state.providerCalls += 1
            if self.policy.maximumEntries > 0 {
                if state.unwrapped.count >= self.policy.maximumEntries { state.unwrapped.removeAll() }
                state.unwrapped[wrapped] = entry
            }
        }
        return entry
    }

    /// Encrypts a field value bound to where it lives.
    /// - Returns: The binary field envelope.
    public func encrypt<Value: DataProtocol>(_ value: Value, context: FieldContext) async throws -> Data {
        let plaintext = Array(value)
        let key = try await self.encryptionKey(for: plaintext.count)
        let header = key.header
        let aad = context.encoded
        var out = Data(count: header.count + 12 + plaintext.count + 16)
        try out.withUnsafeMutableBytes { buffer in
            buffer.copyBytes(from: header)
            let nonce = UnsafeMutableRawBufferPointer(rebasing: buffer[header.count..<(header.count + 12)])
            SecureRandom.fill(nonce)
            try header.withUnsafeBytes { headerBytes in
                try aad.withUnsafeBytes { aadBytes in
                    try plaintext.withUnsafeBytes { plaintextBytes in
                        try key.aead.seal(
                            nonce: UnsafeRawBufferPointer(nonce), aad: headerBytes, aad2: aadBytes, plaintext: plaintextBytes,
                            output: UnsafeMutableRawBufferPointer(rebasing: buffer[(header.count + 12)...]))
                    }
                }
            }
        }
        return out
    }

    /// The version of the local key-encryption key (``LocalKeyEncryptionKey``) whose wrapped data
    /// key a field envelope carries, read from the authenticated envelope header of that wrapped
    /// key; nil when the envelope is not a field envelope or the wrapping is not a Bulwark envelope.
    /// Used to find rows still under an old version after a rotation.
    public static func keyEncryptionKeyVersion<Envelope: DataProtocol>(of envelope: Envelope) -> UInt32? {
        let sealed = Array(envelope)
        guard sealed.count >= 4 + EnvelopeHeader.encryptionLength, sealed[0] == Self.format else { return nil }
        let wrappedLength = Int(sealed.readBigEndianUInt16(at: 2))
        guard sealed.count >= 4 + wrappedLength, wrappedLength >= EnvelopeHeader.encryptionLength,
            let header = try? EnvelopeHeader(peeking: sealed[4..<(4 + wrappedLength)])
        else { return nil }
        return header.keyVersion
    }

    /// Decrypts a field envelope made by ``encrypt(_:context:)``.
    /// - Throws: `invalidFormat`, `authenticationFailed` (altered, or moved to another row or
    ///   column), or the key-encryption key's errors (for example a destroyed version).
    public func decrypt<Envelope: DataProtocol>(_ envelope: Envelope, context: FieldContext) async throws -> Data {
        if let bytes = envelope as? [UInt8] { return try await self.decrypt(bytes: bytes, context: context) }
        return try await self.decrypt(bytes: Array(envelope), context: context)
    }

    func decrypt(bytes sealed: [UInt8], context: FieldContext) async throws -> Data {
        guard sealed.count >= 4 + 12 + 16, sealed[0] == Self.format, sealed[1] == AEADAlgorithm.aes256GCM.rawValue else {
            throw BulwarkError(.invalidFormat, "not a Bulwark field envelope")
        }
        let wrappedLength = Int(sealed.readBigEndianUInt16(at: 2))
        let headerLength = 4 + wrappedLength
        guard sealed.count >= headerLength + 12 + 16 else {
            throw BulwarkError(.invalidFormat, "the field envelope is truncated")
        }
        let current = sealed.withUnsafeBytes { self.currentKey(matching: UnsafeRawBufferPointer(rebasing: $0[..<headerLength])) }
        let key: CachedKey
        if let current {
            key = current
        } else {
            key = try await self.decryptionKey(for: Data(sealed[4..<headerLength]))
        }
        let aad = context.encoded
        var plaintext = Data(count: sealed.count - headerLength - 12 - 16)
        let ok = try sealed.withUnsafeBytes { bytes in
            try aad.withUnsafeBytes { aadBytes in
                try plaintext.withUnsafeMutableBytes { output in
                    try key.aead.open(
                        nonce: UnsafeRawBufferPointer(rebasing: bytes[headerLength..<(headerLength + 12)]),
                        aad: UnsafeRawBufferPointer(rebasing: bytes[..<headerLength]), aad2: aadBytes,
                        ciphertextAndTag: UnsafeRawBufferPointer(rebasing: bytes[(headerLength + 12)...]), output: output)
                }
            }
        }
        guard ok else {
            throw BulwarkError(.authenticationFailed, "the field was altered or belongs to another row or column")
        }
        return plaintext
    }
}
