import Bulwark
import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

/// The `StorageBackend` contract, run against both backends: entries by path, atomic updates
/// serialised against every writer, a change sequence that moves on every announced commit.
@Suite("StorageBackend contract (SQLite and PostgreSQL)", .serialized)
struct StorageBackendTests {
    /// A migrated backend of `kind`, fresh.
    private func backend(_ kind: StorageKind) async throws -> (any StorageBackend, TestStore) {
        let place = try TestStore(kind, try CLIRunner())
        let backend = try await StorageURL(place.location).openBackend()
        _ = try await backend.migrate()
        return (backend, place)
    }

    @Test("Put, read, list by prefix (sorted), keep and delete", arguments: StorageKind.allCases)
    func entries(kind: StorageKind) async throws {
        let (store, _) = try await self.backend(kind)
        for path in ["b/2", "a/1", "b/1", "c"] {
            try await store.update(path) { current in
                #expect(current == nil)
                return (.put(Array(path.utf8)), ())
            }
        }
        #expect(try await store.read("a/1") == Array("a/1".utf8))
        #expect(try await store.read("a/2") == nil)
        #expect(try await store.list(prefix: "b/").map(\.path) == ["b/1", "b/2"])
        #expect(try await store.list(prefix: "b/").map(\.value) == [Array("b/1".utf8), Array("b/2".utf8)])
        #expect(try await store.list(prefix: "").count >= 4)
        // A prefix is a prefix of the path, not a pattern.
        #expect(try await store.list(prefix: "b%").isEmpty)
        #expect(try await store.list(prefix: "b_").isEmpty)
        let kept: String = try await store.update("c") { current in (.keep, String(decoding: current ?? [], as: UTF8.self)) }
        #expect(kept == "c")
        #expect(try await store.read("c") == Array("c".utf8))
        try await store.update("c") { _ in (.delete, ()) }
        #expect(try await store.read("c") == nil)
        // Deleting what is not there is no error.
        try await store.update("c") { _ in (.delete, ()) }
    }

    @Test("A body that throws changes nothing, for one path and for several", arguments: StorageKind.allCases)
    func throwingBodyChangesNothing(kind: StorageKind) async throws {
        let (store, _) = try await self.backend(kind)
        try await store.update("x") { _ in (.put([1]), ()) }
        await #expect(throws: BulwarkError(.invalidArgument, "")) {
            try await store.update("x") { _ -> (StorageWrite, Void) in throw BulwarkError(.invalidArgument, "no") }
        }
        #expect(try await store.read("x") == [1])
        // Several paths: the first write is decided, then the body throws; neither lands.
        await #expect(throws: BulwarkError(.invalidArgument, "")) {
            try await store.update(["x", "y"]) { current -> ([StorageWrite], Void) in
                _ = current
                throw BulwarkError(.invalidArgument, "no")
            }
        }
        #expect(try await store.read("x") == [1])
        #expect(try await store.read("y") == nil)
        // Several paths written together, in order, in one transaction.
        try await store.update(["x", "y"]) { current in
            #expect(current[0] == [1] && current[1] == nil)
            return ([.put([2]), .put([3])], ())
        }
        #expect(try await store.read("x") == [2])
        #expect(try await store.read("y") == [3])
    }

    @Test("Writers on two connections (two nodes) are serialised: 2 x 40 read-increment-writes end at 80", arguments: StorageKind.allCases)
    func writersAreSerialised(kind: StorageKind) async throws {
        let (first, place) = try await self.backend(kind)
        let second = try await StorageURL(place.location).openBackend()
        let total = try await withTaskExecutorPreference(DedicatedTaskExecutor.shared) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in [first, second] {
                    group.addTask {
                        for _ in 0..<40 {
                            try await store.update("counter") { current in
                                let value = current.map { Int(String(decoding: $0, as: UTF8.self)) ?? -1 } ?? 0
                                return (.put(Array(String(value + 1).utf8)), ())
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return try await first.read("counter").map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(total == "80")
    }

    @Test("The change sequence moves on every commit another node must see, not on a node's own bookkeeping", arguments: StorageKind.allCases)
    func changeSequence(kind: StorageKind) async throws {
        let (store, place) = try await self.backend(kind)
        let other = try await StorageURL(place.location).openBackend()
        let start = try await other.changeSequence()
        try await store.update("transit/keys/a") { _ in (.put([1]), ()) }
        let afterWrite = try await other.changeSequence()
        #expect(afterWrite != start)
        // A kept entry is no commit worth a refresh.
        try await store.update("transit/keys/a") { _ in (.keep, ()) }
        #expect(try await other.changeSequence() == afterWrite)
        // The audit checkpoint and other `node/` entries are written often and announce nothing.
        try await store.update(StoragePaths.unannounced + "audit-checkpoint") { _ in (.put([9]), ()) }
        #expect(try await other.changeSequence() == afterWrite)
        #expect(try await other.read(StoragePaths.unannounced + "audit-checkpoint") == [9])
        try await store.update("transit/keys/a") { _ in (.delete, ()) }
        #expect(try await other.changeSequence() != afterWrite)
    }

    @Test("The location names the store without its password", arguments: StorageKind.allCases)
    func locationHasNoPassword(kind: StorageKind) async throws {
        let (store, place) = try await self.backend(kind)
        if kind == .postgres {
            let password = try PostgresFixture.require().password
            #expect(!password.isEmpty && place.location.contains(password))
            #expect(!store.location.contains(password))
        } else {
            #expect(store.location.hasSuffix("state.db"))
        }
    }
}
