public import Bulwark
public import Crypto
public import Foundation

/// A ``KeyEncryptionKeyProvider`` whose key-encryption key is an AWS KMS key that never leaves
/// KMS: data keys come from `GenerateDataKey` and are unwrapped by `Decrypt`, each bound to an
/// encryption context (KMS's associated data, written to CloudTrail with every use).
///
/// With ``FieldEncryptor``'s data-key cache in front, a busy service calls KMS once per cache
/// period, not once per row. The context always holds `bulwark` = `data key v1`; give the table or
/// field it protects in `context` so that a wrapped key copied to another place does not open there.
public struct AWSKMSKeyEncryptionKey: KeyEncryptionKeyProvider {
    /// The KMS client.
    public let client: AWSKMSClient
    /// The KMS key (id, ARN or alias) that wraps data keys.
    public let keyID: String
    /// The encryption context every data key is bound to.
    public let context: [String: String]

    /// - Parameters:
    ///   - client: A KMS client.
    ///   - keyID: The symmetric KMS key that wraps data keys.
    ///   - context: What the data keys protect (`["table": "patients"]`), added to the context.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when `context` sets the reserved `bulwark` entry.
    public init(client: AWSKMSClient, keyID: String, context: [String: String] = [:]) throws {
        guard context["bulwark"] == nil else {
            throw BulwarkError(.invalidArgument, "the encryption context entry `bulwark` is Bulwark's own")
        }
        self.client = client
        self.keyID = keyID
        self.context = context.merging(["bulwark": "data key v1"]) { _, own in own }
    }

    /// Asks KMS for a fresh 256-bit data key and its wrapped form (KMS's ciphertext blob).
    public func generateDataKey() async throws -> (key: SymmetricKey, wrapped: Data) {
        var (plaintext, ciphertext) = try await self.client.generateDataKey(keyID: self.keyID, context: self.context)
        defer { plaintext.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        return (SymmetricKey(data: plaintext), Data(ciphertext))
    }

    /// Asks KMS to unwrap a data key (with this key and context only).
    public func unwrapDataKey(_ wrapped: Data) async throws -> SymmetricKey {
        var plaintext = try await self.client.decrypt(keyID: self.keyID, ciphertext: Array(wrapped), context: self.context)
        defer { plaintext.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        guard plaintext.count == 32 else { throw BulwarkError(.invalidFormat, "the unwrapped data key is not 256 bits") }
        return SymmetricKey(data: plaintext)
    }
}
