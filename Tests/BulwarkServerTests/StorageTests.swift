import Bulwark
import BulwarkKeystore
@testable import BulwarkServer
import Crypto
import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

@Suite("Key service storage (SQLite and PostgreSQL)", .serialized)
struct StorageTests {
    @Test("The database holds no key bytes and no token; a wrong master key and a moved row are refused", arguments: StorageKind.allCases)
    func sealedAtRest(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let store = try await place.open()
        let backend = try await TransitBackend.open(store: store)
        try await backend.createKey("orders", .init(exportable: true))
        try await backend.createKey("other")
        let token = try await TransitServer.initialize(store: store, rootToken: nil)
        let keyset = try #require(try await store.keysets()["orders"])
        let raw = try keyset.exportRawKeyMaterial(version: 1, access: .token)
        let bytes = try place.rawBytes()
        #expect(bytes.range(of: Data("transit/keys/orders".utf8)) != nil, "the scan sees the stored rows")
        #expect(bytes.range(of: raw) == nil && bytes.range(of: Data(raw.base64EncodedString().utf8)) == nil)
        #expect(bytes.range(of: Data(token.utf8)) == nil)
        // A second initialisation is refused.
        await #expect(throws: BulwarkError(.alreadyInitialized, "")) {
            _ = try await TransitServer.initialize(store: store, rootToken: nil)
        }
        // Another master key: refused before anything is read.
        let wrong = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        await #expect(throws: BulwarkError(.wrongMasterKey, "")) { _ = try await place.open(key: wrong) }
        // A sealed row copied to another key's path is refused.
        let sealedOrders = try #require(try await store.backend.read("transit/keys/orders"))
        try await store.backend.update("transit/keys/other") { _ in (.put(sealedOrders), ()) }
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.keysets() }
    }

    @Test(
        "A database writer without the master key cannot roll an entry back, delete one or bring a revoked token back unnoticed (manifest)",
        arguments: StorageKind.allCases)
    func manifest(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let store = try await place.open()
        let backend = try await TransitBackend.open(store: store)
        try await backend.createKey("orders")
        _ = try await TransitServer.initialize(store: store, rootToken: "root-token-for-the-manifest-test")
        let auth = try await AuthStore.open(store: store)
        let made = try await auth.createToken(TokenCreation(), creator: .root)
        let token = try #require(made.auth.clientToken)
        #expect(try await store.snapshot().mismatchedBuckets == 0)
        let raw = { (path: String) async throws -> [UInt8] in try #require(try await store.backend.read(path)) }
        let put = { (path: String, bytes: [UInt8]?) async throws in
            try await store.backend.update(path) { _ in (bytes.map { .put($0) } ?? .delete, ()) }
        }

        // Rolled back: the key's version-1 entry put back over version 2.
        let before = try await raw("transit/keys/orders")
        try await backend.rotateKey("orders")
        let after = try await raw("transit/keys/orders")
        try await put("transit/keys/orders", before)
        var snapshot = try await store.snapshot()
        #expect(snapshot.mismatchedBuckets >= 1 && snapshot.unreadable["transit/keys/orders"]?.contains("manifest") == true)
        #expect(try await store.readableKeysets(in: snapshot).values["orders"] == nil, "a rolled-back key is not served")
        #expect(try await backend.refresh(from: snapshot) && backend.manifestMismatches >= 1)
        #expect(!backend.hasKey("orders"))
        // Put right again: everything matches and is served.
        try await put("transit/keys/orders", after)
        snapshot = try await store.snapshot()
        #expect(snapshot.mismatchedBuckets == 0 && snapshot.unreadable.isEmpty)
        #expect(try await store.readableKeysets(in: snapshot).values["orders"]?.primaryVersion == 2)

        // A revoked token brought back: its entry is not served.
        let tokenEntry = try #require(try await store.backend.list(prefix: AuthStore.tokenPrefix).first)
        try await auth.revoke(token: token)
        #expect(try await store.backend.read(tokenEntry.path) == nil)
        try await put(tokenEntry.path, tokenEntry.value)
        #expect(try await auth.reload())
        #expect(auth.principal(token) == nil, "a revoked token copied back is not accepted")
        #expect(try await store.snapshot().unreadable[tokenEntry.path] != nil)
        try await put(tokenEntry.path, nil)

        // An entry deleted outside Bulwark: its bucket no longer matches.
        try await store.updateDocument("transform/role/payments") { _ in Data("{}".utf8) }
        #expect(try await store.snapshot().mismatchedBuckets == 0)
        let payments = try await raw("transform/role/payments")
        try await put("transform/role/payments", nil)
        #expect(try await store.snapshot().mismatchedBuckets == 1)
        try await put("transform/role/payments", payments)
        #expect(try await store.snapshot().mismatchedBuckets == 0)
        // Single reads are checked too: an entry deleted outside Bulwark is not taken for absent,
        // and a rolled-back root record is not served.
        #expect(try await store.document("transform/role/payments") == Data("{}".utf8))
        try await put("transform/role/payments", nil)
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.document("transform/role/payments") }
        try await put("transform/role/payments", payments)
        let rootRecord = try await raw("sys/init")
        try await store.initialize(rootTokenHash: "another", replacing: true)
        #expect(try await store.rootTokenHash() == "another")
        try await put("sys/init", rootRecord)
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.rootTokenHash() }
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.isInitialized() }
        try await store.initialize(rootTokenHash: "another", replacing: true)
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.rootTokenHash() }
        // A manifest rolled back with it is older than the other entries: still a mismatch.
        let manifest = try await raw("sys/manifest")
        try await store.updateDocument("transform/role/other") { _ in Data("{}".utf8) }
        try await put("sys/manifest", manifest)
        #expect(try await store.snapshot().mismatchedBuckets >= 1)
        // The manifest removed: nothing covered is served, and writes are refused.
        try await put("sys/manifest", nil)
        snapshot = try await store.snapshot()
        let served = try await store.readableKeysets(in: snapshot)
        #expect(snapshot.mismatchedBuckets == 64 && served.values.isEmpty)
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { try await store.updateDocument("transform/role/x") { _ in Data() } }
    }

    @Test("A failed change leaves the stored key as it was", arguments: StorageKind.allCases)
    func failedUpdate(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let store = try await place.open()
        let backend = try await TransitBackend.open(store: store)
        try await backend.createKey("k")
        let before = try await store.backend.read("transit/keys/k")
        await #expect(throws: (any Error).self) {
            try await backend.configureKey("k", .init(minDecryptionVersion: 5))
        }
        #expect(try await store.backend.read("transit/keys/k") == before)
        #expect(try backend.readKey("k").minDecryptionVersion == 1)
    }

    @Test("Two nodes on one database rotating one key 100 times each end with exactly 201 versions", arguments: StorageKind.allCases)
    func rotationRace(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let first = try await TransitBackend.open(store: try await place.open())
        try await first.createKey("raced")
        let second = try await TransitBackend.open(store: try await place.open())
        // Each node encrypts after each of its rotations: every ciphertext made along the way must decrypt.
        let ciphertexts = try await withThrowingTaskGroup(of: [String].self) { group in
            for node in [first, second] {
                group.addTask {
                    var made: [String] = []
                    for _ in 0..<100 {
                        try await node.rotateKey("raced")
                        let sealed = try await node.encrypt("raced", .init(plaintext: Data("along the way".utf8).base64EncodedString()))
                        made.append(try #require(sealed.result?.ciphertext))
                    }
                    return made
                }
            }
            var all: [String] = []
            for try await made in group { all += made }
            return all
        }
        try await first.refresh()
        #expect(ciphertexts.count == 200)
        for ciphertext in ciphertexts {
            #expect(try first.decrypt("raced", .init(ciphertext: ciphertext)).result?.plaintext == Data("along the way".utf8).base64EncodedString())
        }
        #expect(try first.readKey("raced").latestVersion == 201)
        let stored = try #require(try await place.open().keysets()["raced"])
        #expect(stored.latestVersion == 201)
    }

    @Test("A refresh racing this node's own writes never puts an older key or a revoked token back", arguments: StorageKind.allCases)
    func refreshRacesLocalWrites(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(storage, cli).open()
        let backend = try await TransitBackend.open(store: store)
        _ = try await TransitServer.initialize(store: store, rootToken: "root-token-for-the-race-test")
        let auth = try await AuthStore.open(store: store)
        try await backend.createKey("race")
        let refresher = Task {
            while !Task.isCancelled {
                _ = try? await backend.refresh()
                _ = try? await auth.reload()
            }
        }
        defer { refresher.cancel() }
        for round in 0..<60 {
            try await backend.rotateKey("race")
            // Memory must show this node's write at once, whatever the refresher loaded meanwhile.
            #expect(Int(try backend.readKey("race").latestVersion) == round + 2)
            let made = try await auth.createToken(TokenCreation(policies: ["default"]), creator: .root)
            let token = try #require(made.auth.clientToken)
            try await auth.revoke(token: token)
            #expect(auth.principal(token) == nil, "a revoked token came back")
        }
    }

    @Test("Keys with auto_rotate_period rotate when due, once, even when two nodes check together", arguments: StorageKind.allCases)
    func autoRotation(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let backend = try await TransitBackend.open(store: try await place.open())
        try await backend.createKey("daily", .init(autoRotatePeriod: .seconds(86_400)))
        try await backend.createKey("never")
        let other = try await TransitBackend.open(store: try await place.open())
        #expect(try await backend.rotateDueKeys().isEmpty)
        let later = Date().addingTimeInterval(25 * 3600)
        async let one = backend.rotateDueKeys(now: later)
        async let two = other.rotateDueKeys(now: later)
        let (a, b) = try await (one, two)
        #expect((a + b) == ["daily"])
        #expect(try await backend.rotateDueKeys(now: later).isEmpty)
        try await backend.refresh()
        #expect(try backend.readKey("daily").latestVersion == 2)
        #expect(try backend.readKey("never").latestVersion == 1)
    }

    @Test("min_encryption_version, key_version on encrypt, trim and aes128-gcm96", arguments: StorageKind.allCases)
    func versionControls(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let backend = try await TransitBackend.open(store: try await place.open())
        try await backend.createKey("k")
        try await backend.rotateKey("k")
        try await backend.rotateKey("k")
        let plaintext = Data("hi".utf8).base64EncodedString()
        let old = try await backend.encrypt("k", .init(plaintext: plaintext, keyVersion: 1))
        #expect(old.result?.ciphertext.hasPrefix("vault:v1:") == true)
        try await backend.configureKey("k", .init(minEncryptionVersion: 2))
        await #expect(throws: (any Error).self) { _ = try await backend.encrypt("k", .init(plaintext: plaintext, keyVersion: 1)) }
        #expect(try backend.readKey("k").minEncryptionVersion == 2)
        // Trim needs the minimum decryption version first.
        await #expect(throws: (any Error).self) { try await backend.trimKey("k", .init(minAvailableVersion: 2)) }
        try await backend.configureKey("k", .init(minDecryptionVersion: 2))
        try await backend.trimKey("k", .init(minAvailableVersion: 2))
        #expect(try backend.readKey("k").keys.keys.sorted() == ["2", "3"])
        #expect(throws: (any Error).self) { _ = try backend.decrypt("k", .init(ciphertext: old.result?.ciphertext)) }
        try await backend.createKey("small", .init(type: "aes128-gcm96"))
        #expect(try backend.readKey("small").type == "aes128-gcm96")
        let sealed = try await backend.encrypt("small", .init(plaintext: plaintext))
        #expect(try backend.decrypt("small", .init(ciphertext: sealed.result?.ciphertext)).result?.plaintext == plaintext)
    }

    @Test("Audit values are HMAC-SHA256 under the audit key; the reused keyed state gives the same MACs as one-shot HMAC")
    func auditMAC() throws {
        let cli = try CLIRunner()
        let key = SymmetricKey(size: .bits256)
        let log = try AuditLog(path: cli.path("audit.log"), key: key)
        for value in ["", "a", "plaintext value", String(repeating: "x", count: 1000), "a"] {
            let expected = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: key).map { String(format: "%02x", $0) }.joined()
            #expect(log.mac(value) == "hmac-sha256:" + expected)
        }
    }
}
