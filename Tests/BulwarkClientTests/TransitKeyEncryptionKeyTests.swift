import Bulwark
import BulwarkClient
import BulwarkTestSupport
import Foundation
import Testing

/// Field encryption whose key-encryption key stays in `bulwark server`.
@Suite("TransitKeyEncryptionKey: field data keys wrapped by the key service over TLS", .serialized)
struct TransitKeyEncryptionKeyTests {
    @Test("Fields encrypt and decrypt with data keys from the key service; the cache keeps it off the per-row path", arguments: StorageKind.allCases)
    func fieldsThroughTheService(storage: StorageKind) async throws {
        let server = try DevServer(storage: storage)
        let client = try TransitClient(address: server.url, token: server.token, caFile: server.caFile)
        let created = try server.cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' -X POST \(server.url)/v1/transit/keys/fields-kek")
        #expect(created.text == "204")
        let provider = TransitKeyEncryptionKey(client: client, keyName: "fields-kek")
        let stored = try await roundTripFields(through: provider)
        let reader = FieldEncryptor(keyEncryptionKey: provider)
        // Bound to its row: moved elsewhere, it fails.
        await #expect(throws: BulwarkError(.authenticationFailed, "")) {
            _ = try await reader.decrypt(stored[0].1, context: stored[1].0)
        }
        // A token without access cannot get data keys.
        let outsiderClient = try TransitClient(address: server.url, token: "not-a-token", caFile: server.caFile)
        let outsider = TransitKeyEncryptionKey(client: outsiderClient, keyName: "fields-kek")
        await #expect(throws: (any Error).self) { _ = try await outsider.generateDataKey() }
        try await outsiderClient.shutdown()
        try await client.shutdown()
        #expect(server.stop() == 0)
        let log = try String(contentsOfFile: server.cli.home + "/audit.log", encoding: .utf8)
        #expect(log.contains("/v1/transit/datakey/plaintext/fields-kek") && !log.contains("diagnosis 1"))
    }
}
