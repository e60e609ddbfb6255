/// A key that never leaves an HSM or a cloud KMS and wraps a store's unseal key (Vault's
/// auto-unseal seals: `awskms`, `pkcs11`).
///
/// The wrapper only encrypts and decrypts the 32-byte unseal key, bound to an encryption context;
/// the store's master key stays wrapped by the unseal key as under a Shamir seal, so moving between
/// seals rewraps one small key and never re-encrypts the store. Implementations must refuse a
/// ciphertext made with another context.
public protocol SealKeyWrapper: Sendable {
    /// The seal's kind, as stored in the record and shown by `sys/seal-status`.
    var kind: SealConfiguration.Kind { get }
    /// The wrapping key's name in the HSM or KMS (a KMS key id or ARN, a PKCS#11 label).
    var keyID: String { get }
    /// Encrypts `key` (32 bytes) bound to `context`.
    /// - Returns: What the record keeps.
    func wrap(_ key: [UInt8], context: [String: String]) async throws -> [UInt8]
    /// Decrypts what ``wrap(_:context:)`` made, with the same `context`.
    /// - Throws: When the HSM or KMS refuses it (another key or context, unreachable, disabled).
    func unwrap(_ wrapped: [UInt8], context: [String: String]) async throws -> [UInt8]
}
