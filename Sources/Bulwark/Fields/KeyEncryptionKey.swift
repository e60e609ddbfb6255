public import Crypto
public import Foundation

/// A key-encryption key held elsewhere (the local keystore, a `bulwark server`, a cloud KMS) that
/// wraps and unwraps data keys. Applications never see it, only the data keys it hands out.
public protocol KeyEncryptionKeyProvider: Sendable {
    /// Makes a fresh 256-bit data key and returns it with its wrapped (encrypted) form.
    func generateDataKey() async throws -> (key: SymmetricKey, wrapped: Data)
    /// Recovers a data key from its wrapped form.
    func unwrapDataKey(_ wrapped: Data) async throws -> SymmetricKey
}

/// A ``KeyEncryptionKeyProvider`` backed by an encryption ``Keyset`` (for example one loaded from
/// the local keystore). Data keys are wrapped as Bulwark envelopes bound to the context
/// `"bulwark data key v1"`, so rotating the keyset keeps old wrapped keys readable.
public struct LocalKeyEncryptionKey: KeyEncryptionKeyProvider {
    /// The key-encryption keyset.
    public let keyset: Keyset
    static let context = Array("bulwark data key v1".utf8)

    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless `keyset` is an encryption key;
    ///   `invalidArgument` for a derived one (it needs a context per operation).
    public init(keyset: Keyset) throws {
        guard keyset.purpose == .encryption else {
            throw BulwarkError(.wrongPurpose, "a key-encryption key must be an encryption key")
        }
        try keyset.requireUnderived("wrap data keys")
        self.keyset = keyset
    }

    /// Makes and wraps a fresh data key.
    public func generateDataKey() async throws -> (key: SymmetricKey, wrapped: Data) {
        var bytes = SecureRandom.bytes(32)
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let wrapped = try self.keyset.encrypt(bytes, context: Self.context)
        return (SymmetricKey(data: bytes), wrapped)
    }

    /// Unwraps a data key.
    public func unwrapDataKey(_ wrapped: Data) async throws -> SymmetricKey {
        var bytes = try self.keyset.decrypt(wrapped, context: Self.context)
        defer { bytes.resetBytes(in: 0..<bytes.count) }
        guard bytes.count == 32 else {
            throw BulwarkError(.invalidFormat, "a wrapped data key must hold 32 bytes")
        }
        return SymmetricKey(data: bytes)
    }
}
