import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

/// Schema migrations of both backends.
@Suite("Storage migrations (SQLite and PostgreSQL)", .serialized)
struct MigrationTests {
    @Test("Migrations are versioned, run once, and the database file is private")
    func migrations() async throws {
        let cli = try CLIRunner()
        let storage = try SQLiteStorage(path: cli.path("m.db"))
        #expect(try await storage.migrate() == [1, 2, 3])
        #expect(try await storage.migrate() == [])
        #expect(try await storage.schemaVersion() == 3)
        let mode = try FileManager.default.attributesOfItem(atPath: cli.path("m.db"))[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o077 } == 0)
        // A second connection (another node) sees the schema as current.
        #expect(try await SQLiteStorage(path: cli.path("m.db")).migrate() == [])
    }

    @Test("PostgreSQL: nodes starting together apply each migration once (advisory lock)")
    func concurrentMigrations() async throws {
        let url = try StorageURL(try PostgresFixture.makeDatabase(withPassword: true))
        // On threads of their own: the four nodes' connects must not wait for tests that block
        // the two cooperative threads in `waitpid` (their replies would miss the 30 s bound).
        let applied = try await withTaskExecutorPreference(DedicatedTaskExecutor.shared) {
            try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask { try await url.openBackend().migrate() }
                }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
        }
        #expect(applied.sorted() == [1, 2, 3])
        #expect(try await url.openBackend().schemaVersion() == 3)
    }
}
