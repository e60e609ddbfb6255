import Bulwark
import BulwarkTestSupport
import Foundation
import NIOHTTP1
import Testing

@testable import BulwarkClient

/// `TransitHybridEncryptor` against a real `bulwark server --dev`: the app encrypts locally to the
/// service's `hpke-*` key, only the service decrypts, and a key the pins do not allow (rotated
/// past, substituted, of another kind) is refused before anything is encrypted to it.
@Suite("TransitHybridEncryptor: local encryption to a pinned public key of the key service", .serialized)
struct TransitHybridEncryptorTests {
    @Test("Pinned out of band, trusted on first use, rotation onto a newly pinned key, substitution refused")
    func pinnedEncryption() async throws {
        let server = try DevServer()
        defer { _ = server.stop() }
        let client = try TransitClient(address: server.url, token: server.token, caFile: server.caFile)
        do {
            try await self.exercise(client)
        } catch {
            Issue.record(error)
        }
        try await client.shutdown()
    }

    private func exercise(_ client: TransitClient) async throws {
        for type in ["hpke-x25519", "hpke-p256", "hpke-xwing"] {
            _ = try await client.call(.POST, "transit/keys/intake-\(type)", body: ["type": type])
            let encryptor = try TransitHybridEncryptor(trustingFirstUse: client, keyName: "intake-\(type)")
            let context = Data("form=card".utf8)
            let ciphertext = try await encryptor.encrypt(Data("4111 1111 1111 1111".utf8), associatedData: context)
            #expect(ciphertext.hasPrefix("vault:v1:"))
            #expect(try await client.decrypt(key: "intake-\(type)", ciphertext: ciphertext, associatedData: context) == Data("4111 1111 1111 1111".utf8))
            await #expect(throws: BulwarkError.self) {
                _ = try await client.decrypt(key: "intake-\(type)", ciphertext: ciphertext, associatedData: Data("form=other".utf8))
            }
            #expect(encryptor.currentKey?.type.rawValue == type)
        }

        // Pinned out of band: the key text an operator hands over (`bulwark_public_key`).
        let name = "intake-hpke-x25519"
        let offered = try await client.hybridPublicKeys(key: name)
        #expect(offered.count == 1)
        let v1 = try #require(offered.first)
        let pinned = try TransitHybridEncryptor(client: client, keyName: name, pinnedKeys: [try HybridPublicKey(text: v1.text)])
        let tofu = try TransitHybridEncryptor(trustingFirstUse: client, keyName: name)
        #expect(try await tofu.refresh() == v1)

        // Rotation: the pinned client stays on version 1 until version 2 is pinned.
        _ = try await client.call(.POST, "transit/keys/\(name)/rotate")
        #expect(try await pinned.refresh() == v1)
        #expect(try await pinned.encrypt(Data("x".utf8)).hasPrefix("vault:v1:"))
        let v2 = try #require(try await client.hybridPublicKeys(key: name).last)
        #expect(v2.version == 2 && v2.keyID == v1.keyID && v2 != v1)
        let both = try TransitHybridEncryptor(client: client, keyName: name, pinnedKeys: [v1, v2])
        #expect(try await both.refresh() == v2)
        let made = try await both.encrypt(Data("after rotation".utf8))
        #expect(made.hasPrefix("vault:v2:"))
        #expect(try await client.decrypt(key: name, ciphertext: made) == Data("after rotation".utf8))
        // Trusting first use, a new version is added to the pins.
        #expect(try await tofu.refresh() == v2)
        #expect(tofu.pinnedKeys == [v1, v2])
        // Once version 1 may no longer be used by senders, a client pinned to it alone stops.
        _ = try await client.call(.POST, "transit/keys/\(name)/config", body: ["min_encryption_version": 2])
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await pinned.refresh() }
        #expect(try await both.refresh() == v2)

        // The key replaced under the same name (deleted, made again): a new key id and new
        // bytes. Every pinned client refuses it, trusting-first-use ones too.
        _ = try await client.call(.POST, "transit/keys/\(name)/config", body: ["deletion_allowed": true])
        _ = try await client.call(.DELETE, "transit/keys/\(name)")
        _ = try await client.call(.POST, "transit/keys/\(name)", body: ["type": "hpke-x25519"])
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await both.refresh() }
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await tofu.refresh() }
        // A fresh client trusting first use takes the new key; the old pins never change.
        let fresh = try TransitHybridEncryptor(trustingFirstUse: client, keyName: name)
        #expect(try await fresh.refresh().keyID != v1.keyID)
        #expect(tofu.pinnedKeys == [v1, v2])

        // A key of another kind, pins that do not agree, a name that is a path.
        _ = try await client.call(.POST, "transit/keys/symmetric")
        let symmetric = try TransitHybridEncryptor(trustingFirstUse: client, keyName: "symmetric")
        await #expect(throws: BulwarkError(.wrongPurpose, "")) { try await symmetric.refresh() }
        let other = try Keyset.generate(name: "elsewhere", type: .hpkeX25519).hybridPublicKey()
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitHybridEncryptor(client: client, keyName: name, pinnedKeys: [v1, other]) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitHybridEncryptor(client: client, keyName: name, pinnedKeys: []) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitHybridEncryptor(trustingFirstUse: client, keyName: "../sys/seal") }
    }
}
