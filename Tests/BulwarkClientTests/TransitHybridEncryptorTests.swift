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
        // Trusting first use, a new version is not trusted by itself: listed until pinned.
        #expect(try await tofu.refresh() == v1)
        #expect(tofu.newerUnpinnedKeys == [v2])
        try tofu.pin(v2)
        #expect(try await tofu.refresh() == v2)
        #expect(tofu.pinnedKeys == [v1, v2] && tofu.newerUnpinnedKeys.isEmpty)
        #expect(throws: BulwarkError(.invalidArgument, "")) { try tofu.pin(try Keyset.generate(name: "elsewhere", type: .hpkeX25519).hybridPublicKey()) }
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

    @Test("A lying key service (a forged new version, changed bytes, versions withheld) never gets a message encrypted to a key that is not pinned")
    func lyingService() async throws {
        let cli = try CLIRunner()
        let port = try TestPorts.free()
        let answerFile = cli.path("answer.json")
        // A plain HTTP server on loopback answering every GET with the file's JSON (the test
        // rewrites it between calls): the key service as an attacker after TLS would answer.
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = open(sys.argv[2], "rb").read()
                    self.send_response(200); self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """
        let process = try TransitClientTests.startServer(script, in: cli, port: port, arguments: [answerFile])
        defer { TransitClientTests.stop(process) }
        var real = try Keyset.generate(name: "intake", type: .hpkeX25519)
        let v1 = try real.hybridPublicKey()
        try real.rotate()
        let v2 = try real.hybridPublicKey(version: 2)
        let attacker = try Keyset.generate(name: "attacker", type: .hpkeX25519).hybridPublicKey()
        let forged2 = try HybridPublicKey(type: .hpkeX25519, keyID: real.id, version: 2, rawRepresentation: attacker.rawRepresentation)
        let forged1 = try HybridPublicKey(type: .hpkeX25519, keyID: real.id, version: 1, rawRepresentation: attacker.rawRepresentation)
        func serve(_ keys: [HybridPublicKey]) throws {
            var versions: [String: Any] = [:]
            for key in keys {
                versions[String(key.version)] = [
                    "creation_time": "2026-12-01T00:00:00Z", "name": "DHKEM(X25519, HKDF-SHA256)", "certificate_chain": "",
                    "public_key": key.rawRepresentation.base64EncodedString(), "bulwark_public_key": key.text,
                ]
            }
            let answer: [String: Any] = ["data": ["name": "intake", "type": "hpke-x25519", "keys": versions]]
            try JSONSerialization.data(withJSONObject: answer).write(to: URL(fileURLWithPath: answerFile))
        }
        let client = try TransitClient(address: "http://127.0.0.1:\(port)", token: "t")
        defer { Task { try? await client.shutdown() } }

        // Trust on first use: a "new version" that appears later is not used by itself.
        try serve([v1])
        let tofu = try TransitHybridEncryptor(trustingFirstUse: client, keyName: "intake")
        #expect(try await tofu.refresh() == v1)
        try serve([v1, forged2])
        #expect(try await tofu.refresh() == v1)
        #expect(tofu.newerUnpinnedKeys == [forged2])
        let sealed = try await tofu.encrypt(Data("card".utf8))
        #expect(sealed.hasPrefix("vault:v1:"))
        let message = try #require(Data(base64Encoded: String(sealed.dropFirst("vault:v1:".count))))
        #expect(try real.hybridDecrypt(message, context: Data()) == Data("card".utf8))
        // A pinned version with other bytes: refused, whichever mode.
        try serve([forged1, v2])
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await tofu.refresh() }
        let pinned = try TransitHybridEncryptor(client: client, keyName: "intake", pinnedKeys: [v1, v2])
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await pinned.refresh() }
        #expect(pinned.currentKey == nil)
        // Withholding the newest version does not move a client back to an older one.
        try serve([v1, v2])
        #expect(try await pinned.refresh() == v2)
        try serve([v1])
        await #expect(throws: BulwarkError(.pinMismatch, "")) { try await pinned.refresh() }
        #expect(pinned.currentKey == v2)
        // Versions of two keys in one answer, or a key of another kind: malformed.
        try serve([v1, try HybridPublicKey(type: .hpkeX25519, keyID: attacker.keyID, version: 3, rawRepresentation: attacker.rawRepresentation)])
        await #expect(throws: BulwarkError(.invalidFormat, "")) { try await pinned.refresh() }
    }
}
