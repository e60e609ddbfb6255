public import Bulwark
public import Crypto
public import Foundation

/// A ``KeyEncryptionKeyProvider`` whose key-encryption key never leaves a key service: data keys
/// come from its Transit `datakey` endpoint and are unwrapped by its `decrypt` endpoint, over
/// verified TLS. With ``FieldEncryptor``'s data-key cache a busy service calls it once per cache
/// period, not once per row.
public struct TransitKeyEncryptionKey: KeyEncryptionKeyProvider {
    /// The Transit client.
    public let client: TransitClient
    /// The key-encryption key's name in the service.
    public let keyName: String
    static let associatedData = Data("bulwark data key v1".utf8)

    /// - Parameters:
    ///   - client: A client of the key service.
    ///   - keyName: The Transit key that wraps data keys (an aes256-gcm96 key).
    public init(client: TransitClient, keyName: String) {
        self.client = client
        self.keyName = keyName
    }

    /// Asks the key service for a fresh 256-bit data key and its wrapped form.
    public func generateDataKey() async throws -> (key: SymmetricKey, wrapped: Data) {
        var (plaintext, ciphertext) = try await self.client.dataKey(key: self.keyName, associatedData: Self.associatedData)
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        return (SymmetricKey(data: plaintext), Data(ciphertext.utf8))
    }

    /// Asks the key service to unwrap a data key.
    public func unwrapDataKey(_ wrapped: Data) async throws -> SymmetricKey {
        var plaintext = try await self.client.decrypt(
            key: self.keyName, ciphertext: String(decoding: wrapped, as: UTF8.self), associatedData: Self.associatedData)
        defer { plaintext.resetBytes(in: 0..<plaintext.count) }
        guard plaintext.count == 32 else { throw BulwarkError(.invalidFormat, "the unwrapped data key is not 256 bits") }
        return SymmetricKey(data: plaintext)
    }
}
