import Bulwark
import CBulwarkSQLite
import Foundation

/// An application's SQLite database, for the column tools (through the package's one SQLite
/// layer, ``SQLite``).
package final class SQLiteColumnDatabase: ColumnDatabase, @unchecked Sendable {
    // One connection used by one command at a time (the CLI is sequential).
    private let handle: OpaquePointer

    /// Opens the application database at `path` (which must exist).
    package init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw BulwarkError(.ioFailure, "no database at \(path)") }
        self.handle = try SQLite.open(path, flags: SQLITE_OPEN_READWRITE)
        try self.execute("PRAGMA journal_mode=WAL")
        try self.execute("PRAGMA synchronous=FULL")
    }

    package func close() async throws { SQLite.close(self.handle) }

    @discardableResult
    private func query(_ sql: String, _ parameters: [Any?] = []) throws -> [[String?]] {
        let statement = try SQLiteStatement(self.handle, sql)
        for (index, parameter) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch parameter {
            case let text as String: statement.bind(position, text)
            case let number as Int64: statement.bind(position, number)
            case let number as Int: statement.bind(position, Int64(number))
            default: statement.bindNull(position)
            }
        }
        var rows: [[String?]] = []
        while try statement.step() {
            rows.append((0..<statement.columnCount).map { column in statement.isNull(column) ? nil : statement.text(column) })
        }
        return rows
    }

    private func execute(_ sql: String) throws { try self.query(sql) }

    package func rows(table: String, column: String, key: String, notPrefixed prefix: String, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query(
            "SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(c) IS NOT NULL AND substr(\(c), 1, ?1) <> ?2 ORDER BY \(k) LIMIT ?3",
            [Int64(prefix.utf8.count), prefix, Int64(limit)]
        ).map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    package func rows(table: String, column: String, key: String, prefixed prefix: String, after afterKey: String?, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query(
            "SELECT CAST(\(k) AS TEXT) AS k, \(c) FROM \(t) WHERE substr(\(c), 1, ?1) = ?2 AND (?3 IS NULL OR CAST(\(k) AS TEXT) > ?3) ORDER BY k LIMIT ?4",
            [Int64(prefix.utf8.count), prefix, afterKey, Int64(limit)]
        ).map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    package func rows(table: String, column: String, key: String, indexColumn: String, index: Int64) async throws -> [ColumnRow] {
        let (t, c, k, i) = (
            try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key),
            try ColumnDatabaseError.identifier(indexColumn)
        )
        return try self.query("SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(i) = ?1 ORDER BY \(k)", [index])
            .map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    package func row(table: String, column: String, key: String, equals rowKey: String) async throws -> ColumnRow? {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query("SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(k) = ?1", [rowKey]).first.map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    package func count(table: String, column: String, notPrefixed prefix: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let rows = try self.query("SELECT count(*) FROM \(t) WHERE \(c) IS NOT NULL AND substr(\(c), 1, ?1) <> ?2", [Int64(prefix.utf8.count), prefix])
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    package func countValues(table: String, column: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        return Int(try self.query("SELECT count(\(c)) FROM \(t)").first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    package func ensureIndexColumn(table: String, column: String) async throws {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let columns = try self.query("SELECT name FROM pragma_table_info(?1)", [table]).compactMap { $0.first ?? nil }
        if !columns.contains(column) { try self.execute("ALTER TABLE \(t) ADD COLUMN \(c) INTEGER") }
        try self.execute("CREATE INDEX IF NOT EXISTS \(try ColumnDatabaseError.identifier(table + "_" + column + "_idx")) ON \(t) (\(c))")
    }

    package func update(
        table: String, column: String, key: String, indexColumn: String?, rows: [ColumnUpdate],
        verify: @escaping @Sendable ([ColumnRow]) async throws -> Void
    ) async throws -> Set<String> {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        let i = try indexColumn.map(ColumnDatabaseError.identifier)
        try self.execute("BEGIN IMMEDIATE")
        do {
            var written: [ColumnRow] = []
            var changed = Set<String>()
            for row in rows {
                // `IS` compares NULLs too; RETURNING reads back what was written.
                let back: [[String?]]
                if let i {
                    back = try self.query(
                        "UPDATE \(t) SET \(c) = ?1, \(i) = ?2 WHERE \(k) = ?3 AND \(c) IS ?4 RETURNING \(c)",
                        [row.value, row.index, row.key, row.previous])
                } else {
                    back = try self.query(
                        "UPDATE \(t) SET \(c) = ?1 WHERE \(k) = ?2 AND \(c) IS ?3 RETURNING \(c)", [row.value, row.key, row.previous])
                }
                if let first = back.first {
                    written.append(ColumnRow(key: row.key, value: first.first ?? nil))
                } else {
                    changed.insert(row.key)
                }
            }
            try await verify(written)
            try self.execute("COMMIT")
            return changed
        } catch {
            try? self.execute("ROLLBACK")
            throw error
        }
    }

    package func setting(_ name: String) async throws -> String? {
        try self.execute("CREATE TABLE IF NOT EXISTS bulwark_column_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return try self.query("SELECT value FROM bulwark_column_settings WHERE name = ?1", [name]).first?.first ?? nil
    }

    package func setSetting(_ name: String, _ value: String) async throws {
        try self.execute("CREATE TABLE IF NOT EXISTS bulwark_column_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        try self.query("INSERT INTO bulwark_column_settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value", [name, value])
    }
}
