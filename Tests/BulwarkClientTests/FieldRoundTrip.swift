import Bulwark
import Foundation
import Testing

/// The field round trip every key-encryption key provider must pass: 250 rows written with data
/// keys reused for up to 100 rows each (three calls to the provider), read back by a fresh
/// encryptor that unwraps each data key once.
/// - Returns: The rows as stored (context, ciphertext, plaintext).
func roundTripFields(through provider: some KeyEncryptionKeyProvider) async throws -> [(FieldContext, Data, String)] {
    let writer = FieldEncryptor(keyEncryptionKey: provider, policy: try DataKeyCachePolicy(maximumMessages: 100))
    var stored: [(FieldContext, Data, String)] = []
    for row in 0..<250 {
        let context = FieldContext(table: "patients", column: "diagnosis", rowKey: String(row))
        let value = "diagnosis \(row)"
        stored.append((context, try await writer.encrypt(Data(value.utf8), context: context), value))
    }
    // 250 rows, data keys reused for up to 100 each: three calls, not 250.
    #expect(writer.keyEncryptionKeyCalls == 3)
    let reader = FieldEncryptor(keyEncryptionKey: provider)
    for (context, sealed, value) in stored {
        #expect(String(decoding: try await reader.decrypt(sealed, context: context), as: UTF8.self) == value)
    }
    #expect(reader.keyEncryptionKeyCalls == 3)
    return stored
}
