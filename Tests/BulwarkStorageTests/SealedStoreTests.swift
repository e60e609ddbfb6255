import Bulwark
import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

/// `SealedStore` against a database writer without the master key: every entry sealed, bound to
/// its path and version, the set tied together by a sealed manifest.
@Suite("SealedStore: sealed entries, path binding and the manifest (SQLite and PostgreSQL)", .serialized)
struct SealedStoreTests {
    @Test("Documents round-trip; the database holds no plaintext; another master key is refused before anything is read", arguments: StorageKind.allCases)
    func sealedAtRest(kind: StorageKind) async throws {
        let place = try TestStore(kind, try CLIRunner())
        let store = try await place.open()
        let secret = Data("patient 4711: diagnosis C34.1".utf8)
        try await store.updateDocument("sys/policy/clinic") { current in
            #expect(current == nil)
            return secret
        }
        #expect(try await store.document("sys/policy/clinic") == secret)
        #expect(try await store.documents(prefix: "sys/policy/") == ["sys/policy/clinic": secret])
        let bytes = try place.rawBytes()
        #expect(bytes.range(of: Data("sys/policy/clinic".utf8)) != nil, "the scan sees the stored rows")
        #expect(bytes.range(of: secret) == nil && bytes.range(of: Data(secret.base64EncodedString().utf8)) == nil)
        let wrong = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        await #expect(throws: BulwarkError(.wrongMasterKey, "")) { _ = try await place.open(key: wrong) }
        // A nil answer deletes.
        try await store.updateDocument("sys/policy/clinic") { _ in nil }
        #expect(try await store.document("sys/policy/clinic") == nil)
        #expect(try await store.snapshot().mismatchedBuckets == 0)
    }

    @Test("An entry copied to another path, an entry rolled back, and an entry deleted outside Bulwark are each refused and reported", arguments: StorageKind.allCases)
    func tamperingIsRefused(kind: StorageKind) async throws {
        let place = try TestStore(kind, try CLIRunner())
        let store = try await place.open()
        for name in ["a", "b"] {
            try await store.updateDocument("sys/policy/" + name) { _ in Data("v1 \(name)".utf8) }
        }
        #expect(try await store.snapshot().unreadable.isEmpty)

        // Moved: b's sealed bytes written at a's path.
        let sealedB = try #require(try await store.backend.read("sys/policy/b"))
        let sealedA = try #require(try await store.backend.read("sys/policy/a"))
        try await store.backend.update("sys/policy/a") { _ in (.put(sealedB), ()) }
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) { _ = try await store.document("sys/policy/a") }
        #expect(try await store.snapshot().unreadable["sys/policy/a"] != nil)
        try await store.backend.update("sys/policy/a") { _ in (.put(sealedA), ()) }
        #expect(try await store.snapshot().unreadable.isEmpty)

        // Rolled back: a written again (version 2), then its version-1 bytes put back.
        try await store.updateDocument("sys/policy/a") { _ in Data("v2 a".utf8) }
        try await store.backend.update("sys/policy/a") { _ in (.put(sealedA), ()) }
        let rolledBack = try await store.snapshot()
        #expect(rolledBack.mismatchedBuckets >= 1)
        #expect(rolledBack.unreadable["sys/policy/a"]?.contains("manifest") == true)
        // The reason names the defect, never the contents.
        #expect(rolledBack.unreadable.values.allSatisfy { !$0.contains("v1 a") && !$0.contains("v2 a") })
        // A later write through Bulwark does not make the rolled-back part whole again.
        try await store.updateDocument("sys/policy/a") { _ in Data("v3 a".utf8) }
        #expect(try await store.snapshot().mismatchedBuckets >= 1)

        // Deleted outside Bulwark: b's row removed.
        let fresh = try TestStore(kind, try CLIRunner())
        let other = try await fresh.open()
        try await other.updateDocument("sys/policy/b") { _ in Data("b".utf8) }
        try await other.backend.update("sys/policy/b") { _ in (.delete, ()) }
        #expect(try await other.snapshot().mismatchedBuckets >= 1)

        // The manifest itself deleted: nothing covered is served, and no write lands.
        try await other.updateDocument("sys/policy/c") { _ in Data("c".utf8) }
        try await other.backend.update("sys/manifest") { _ in (.delete, ()) }
        let noManifest = try await other.snapshot()
        #expect(noManifest.unreadable["sys/policy/c"] != nil)
        await #expect(throws: BulwarkError(.keystoreCorrupted, "")) {
            try await other.updateDocument("sys/policy/d") { _ in Data("d".utf8) }
        }
    }

    @Test("Writers through two handles (two nodes) keep the manifest whole: 2 x 20 writes to 10 documents", arguments: StorageKind.allCases)
    func concurrentWritesKeepTheManifest(kind: StorageKind) async throws {
        let place = try TestStore(kind, try CLIRunner())
        let first = try await place.open()
        let second = try await place.open()
        try await withTaskExecutorPreference(DedicatedTaskExecutor.shared) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (node, store) in [first, second].enumerated() {
                    group.addTask {
                        for write in 0..<20 {
                            try await store.updateDocument("sys/policy/p\(write % 10)") { _ in Data("node \(node) write \(write)".utf8) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let snapshot = try await first.snapshot()
        #expect(snapshot.unreadable.isEmpty && snapshot.mismatchedBuckets == 0)
        #expect(try await second.documents(prefix: "sys/policy/").count == 10)
    }
}
