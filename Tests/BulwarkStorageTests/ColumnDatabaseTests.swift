import Bulwark
import BulwarkTestSupport
import CBulwarkSQLite
import Foundation
import Testing

@testable import BulwarkStorage

/// The column tools' database layer (`ColumnDatabase`) on both databases: compare-and-set
/// updates that keep an application's write, all-or-nothing batches, checked identifiers.
@Suite("Column tools' database layer (SQLite and PostgreSQL)", .serialized)
struct ColumnDatabaseTests {
    /// A database with `people(id, ssn)` holding three rows, its URL, and a way to run SQL on it as
    /// the application would (another connection).
    private func database(_ kind: StorageKind) throws -> (url: String, run: (String) throws -> Void) {
        let cli = try CLIRunner()
        // Made-up values: the end-to-end tests search PostgreSQL's statement log (shared by the
        // whole run) for their own plaintexts, so these must never be theirs.
        let seed = "CREATE TABLE people (id BIGINT PRIMARY KEY, ssn TEXT); INSERT INTO people VALUES (1, 'column-row-one'), (2, 'column-row-two'), (3, NULL);"
        switch kind {
        case .sqlite:
            let path = cli.path("app.db")
            let run: (String) throws -> Void = { sql in
                let handle = try SQLite.open(path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                defer { SQLite.close(handle) }
                try SQLite.execute(handle, sql)
            }
            try run(seed)
            return ("sqlite:" + path, run)
        case .postgres:
            let url = try PostgresFixture.makeDatabase(withPassword: true)
            let psql = url.replacingOccurrences(of: "postgres://", with: "postgresql://")
            let run: (String) throws -> Void = { sql in
                let result = try cli.shell("psql '\(psql)' -q -v ON_ERROR_STOP=1 -c \"\(sql)\"")
                #expect(result.status == 0, "\(result.stderr)")
            }
            try run(seed)
            return (url, run)
        }
    }

    @Test("A row the application changed after the tool read it keeps the application's value and is reported", arguments: StorageKind.allCases)
    func compareAndSet(kind: StorageKind) async throws {
        let (url, run) = try self.database(kind)
        try await withColumnDatabase(url) { database in
            let rows = try await database.rows(table: "people", column: "ssn", key: "id", notPrefixed: "bw1:", limit: 10)
            #expect(rows.map(\.key) == ["1", "2"])
            #expect(try await database.count(table: "people", column: "ssn", notPrefixed: "bw1:") == 2)
            // The application writes row 2 between the tool's read and its update.
            try run("UPDATE people SET ssn = 'written-by-the-application' WHERE id = 2")
            let changed = try await database.update(
                table: "people", column: "ssn", key: "id", indexColumn: nil,
                rows: rows.map { ColumnUpdate(row: $0, value: "bw1:sealed-" + $0.key, index: nil) }, verify: { written in
                    #expect(written.map(\.key) == ["1"])
                })
            #expect(changed == ["2"])
            #expect(try await database.row(table: "people", column: "ssn", key: "id", equals: "1")?.value == "bw1:sealed-1")
            #expect(try await database.row(table: "people", column: "ssn", key: "id", equals: "2")?.value == "written-by-the-application")
            #expect(try await database.row(table: "people", column: "ssn", key: "id", equals: "3")?.value == nil)
            #expect(try await database.rows(table: "people", column: "ssn", key: "id", prefixed: "bw1:", after: nil, limit: 10).map(\.key) == ["1"])
        }
    }

    @Test("A batch whose read-back check fails writes nothing, blind-index column included", arguments: StorageKind.allCases)
    func failedVerifyWritesNothing(kind: StorageKind) async throws {
        let (url, _) = try self.database(kind)
        try await withColumnDatabase(url) { database in
            try await database.ensureIndexColumn(table: "people", column: "ssn_index")
            try await database.ensureIndexColumn(table: "people", column: "ssn_index")  // idempotent
            let rows = try await database.rows(table: "people", column: "ssn", key: "id", notPrefixed: "bw1:", limit: 10)
            await #expect(throws: BulwarkError(.authenticationFailed, "")) {
                _ = try await database.update(
                    table: "people", column: "ssn", key: "id", indexColumn: "ssn_index",
                    rows: rows.map { ColumnUpdate(row: $0, value: "bw1:x" + $0.key, index: 42) },
                    verify: { _ in throw BulwarkError(.authenticationFailed, "read-back did not decrypt") })
            }
            #expect(try await database.rows(table: "people", column: "ssn", key: "id", notPrefixed: "bw1:", limit: 10).map(\.value) == rows.map(\.value))
            #expect(try await database.rows(table: "people", column: "ssn", key: "id", indexColumn: "ssn_index", index: 42).isEmpty)
            // Settings persist across connections.
            try await database.setSetting("blind-index-bits", "16")
            try await database.setSetting("blind-index-bits", "20")
        }
        #expect(try await withColumnDatabase(url) { try await $0.setting("blind-index-bits") } == "20")
    }

    @Test("Table and column names are plain identifiers: anything else is refused before any SQL runs")
    func identifiers() throws {
        #expect(try ColumnDatabaseError.identifier("people") == "\"people\"")
        #expect(try ColumnDatabaseError.identifier("_ssn2") == "\"_ssn2\"")
        for bad in ["", "2people", "people; DROP TABLE people", "ssn\"", "péople", "a-b", "a b", String(repeating: "a", count: 64)] {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(bad)") { _ = try ColumnDatabaseError.identifier(bad) }
        }
    }
}
