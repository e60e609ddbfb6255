import Bulwark
import BulwarkStorage
import CBulwarkSQLite
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// One row of a column being worked on: its key (as text) and value.
struct ColumnRow: Sendable {
    let key: String
    let value: String?
    /// The row's version as the database keeps it (PostgreSQL's `xmin`), for compare-and-set
    /// without sending the value back (a bound value would reach the statement log); nil where
    /// the value itself is compared (SQLite, in process).
    var version: String? = nil
}

/// A new value for one row, written only while the row is still as the tool read it.
struct ColumnUpdate: Sendable {
    /// The row's key, as text.
    let key: String
    /// The value to write.
    let value: String
    /// The blind-index value to write with it, if any.
    let index: Int64?
    /// The value the tool read (and transformed): the row must still hold it.
    let previous: String?
    /// The row's version when read (``ColumnRow/version``), where the database has one.
    let version: String?

    /// The update of a row read as `row`.
    init(row: ColumnRow, value: String, index: Int64?) {
        self.key = row.key
        self.value = value
        self.index = index
        self.previous = row.value
        self.version = row.version
    }
}

/// What the column tools need from an application database (PostgreSQL or SQLite). Table and
/// column names are checked identifiers; values always travel as bound parameters.
protocol ColumnDatabase: Sendable {
    /// Rows whose value does not yet start with `prefix` (plaintext, or NULL excluded), by key.
    func rows(table: String, column: String, key: String, notPrefixed prefix: String, limit: Int) async throws -> [ColumnRow]
    /// Rows whose value starts with `prefix`, after `afterKey` (text order of keys), by key.
    func rows(table: String, column: String, key: String, prefixed prefix: String, after afterKey: String?, limit: Int) async throws -> [ColumnRow]
    /// Rows whose `indexColumn` equals `index`.
    func rows(table: String, column: String, key: String, indexColumn: String, index: Int64) async throws -> [ColumnRow]
    /// The row whose key (as text) is `rowKey`.
    func row(table: String, column: String, key: String, equals rowKey: String) async throws -> ColumnRow?
    /// How many rows `rows(…notPrefixed:…)` will return in all.
    func count(table: String, column: String, notPrefixed prefix: String) async throws -> Int
    /// How many rows hold a value at all.
    func countValues(table: String, column: String) async throws -> Int
    /// Adds a nullable integer column when it is missing.
    func ensureIndexColumn(table: String, column: String) async throws
    /// Writes new values (and index values) for rows, all or nothing, after `verify` accepts what
    /// was written (read back inside the transaction). Compare-and-set: a row is written only
    /// while it still holds `previous`, the value the tool read; a row the application changed
    /// meanwhile keeps the application's value.
    /// - Returns: The keys of the rows left alone because they had changed.
    func update(
        table: String, column: String, key: String, indexColumn: String?, rows: [ColumnUpdate],
        verify: @escaping @Sendable ([ColumnRow]) async throws -> Void
    ) async throws -> Set<String>
    /// A small key-value table for the tools' own settings (blind-index bits).
    func setting(_ name: String) async throws -> String?
    func setSetting(_ name: String, _ value: String) async throws
    func close() async throws
}

enum ColumnDatabaseError {
    static func identifier(_ name: String) throws -> String {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)),
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }), name.count <= 63
        else {
            throw BulwarkError(.invalidArgument, "\"\(name)\" is not a plain SQL identifier (letters, digits, _)")
        }
        return "\"" + name + "\""
    }
}

/// Runs `body` with the database open, closing it however `body` ends.
func withColumnDatabase<R>(_ url: String, _ body: (any ColumnDatabase) async throws -> R) async throws -> R {
    let database = try await openColumnDatabase(url)
    do {
        let result = try await body(database)
        try await database.close()
        return result
    } catch {
        try? await database.close()
        throw error
    }
}

/// Opens `sqlite:PATH` or `postgres://…` (TLS rules as the key service's storage).
func openColumnDatabase(_ url: String) async throws -> any ColumnDatabase {
    if url.hasPrefix("sqlite:") {
        return try SQLiteColumnDatabase(path: String(url.dropFirst(url.hasPrefix("sqlite://") ? 9 : 7)))
    }
    return try await PostgresColumnDatabase.connect(url)
}

// MARK: - SQLite

final class SQLiteColumnDatabase: ColumnDatabase, @unchecked Sendable {
    // One connection used by one command at a time (the CLI is sequential).
    private let handle: OpaquePointer

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw BulwarkError(.ioFailure, "no database at \(path)") }
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let handle else {
            throw BulwarkError(.storageFailure, "cannot open \(path)")
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 10_000)
        try self.execute("PRAGMA journal_mode=WAL")
        try self.execute("PRAGMA synchronous=FULL")
    }

    func close() async throws { sqlite3_close_v2(self.handle) }

    private func fail(_ what: String) -> BulwarkError {
        BulwarkError(.storageFailure, "\(what): \(String(cString: sqlite3_errmsg(self.handle)))")
    }

    @discardableResult
    private func query(_ sql: String, _ parameters: [Any?] = []) throws -> [[String?]] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(self.handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw self.fail("SQL") }
        defer { sqlite3_finalize(statement) }
        for (index, parameter) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch parameter {
            case let text as String: sqlite3_bind_text(statement, position, text, -1, cbulwark_sqlite_transient())
            case let number as Int64: sqlite3_bind_int64(statement, position, number)
            case let number as Int: sqlite3_bind_int64(statement, position, Int64(number))
            default: sqlite3_bind_null(statement, position)
            }
        }
        var rows: [[String?]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw self.fail("SQL") }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : String(cString: sqlite3_column_text(statement, column))
            })
        }
        return rows
    }

    private func execute(_ sql: String) throws { try self.query(sql) }

    func rows(table: String, column: String, key: String, notPrefixed prefix: String, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query(
            "SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(c) IS NOT NULL AND substr(\(c), 1, ?1) <> ?2 ORDER BY \(k) LIMIT ?3",
            [Int64(prefix.utf8.count), prefix, Int64(limit)]
        ).map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    func rows(table: String, column: String, key: String, prefixed prefix: String, after afterKey: String?, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query(
            "SELECT CAST(\(k) AS TEXT) AS k, \(c) FROM \(t) WHERE substr(\(c), 1, ?1) = ?2 AND (?3 IS NULL OR CAST(\(k) AS TEXT) > ?3) ORDER BY k LIMIT ?4",
            [Int64(prefix.utf8.count), prefix, afterKey, Int64(limit)]
        ).map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    func rows(table: String, column: String, key: String, indexColumn: String, index: Int64) async throws -> [ColumnRow] {
        let (t, c, k, i) = (
            try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key),
            try ColumnDatabaseError.identifier(indexColumn)
        )
        return try self.query("SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(i) = ?1 ORDER BY \(k)", [index])
            .map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    func row(table: String, column: String, key: String, equals rowKey: String) async throws -> ColumnRow? {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        return try self.query("SELECT CAST(\(k) AS TEXT), \(c) FROM \(t) WHERE \(k) = ?1", [rowKey]).first.map { ColumnRow(key: $0[0] ?? "", value: $0[1]) }
    }

    func count(table: String, column: String, notPrefixed prefix: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let rows = try self.query("SELECT count(*) FROM \(t) WHERE \(c) IS NOT NULL AND substr(\(c), 1, ?1) <> ?2", [Int64(prefix.utf8.count), prefix])
        return Int(rows.first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func countValues(table: String, column: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        return Int(try self.query("SELECT count(\(c)) FROM \(t)").first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    func ensureIndexColumn(table: String, column: String) async throws {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let columns = try self.query("SELECT name FROM pragma_table_info(?1)", [table]).compactMap { $0.first ?? nil }
        if !columns.contains(column) { try self.execute("ALTER TABLE \(t) ADD COLUMN \(c) INTEGER") }
        try self.execute("CREATE INDEX IF NOT EXISTS \(try ColumnDatabaseError.identifier(table + "_" + column + "_idx")) ON \(t) (\(c))")
    }

    func update(
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

    func setting(_ name: String) async throws -> String? {
        try self.execute("CREATE TABLE IF NOT EXISTS bulwark_column_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        return try self.query("SELECT value FROM bulwark_column_settings WHERE name = ?1", [name]).first?.first ?? nil
    }

    func setSetting(_ name: String, _ value: String) async throws {
        try self.execute("CREATE TABLE IF NOT EXISTS bulwark_column_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        try self.query("INSERT INTO bulwark_column_settings (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value", [name, value])
    }
}

// MARK: - PostgreSQL

final class PostgresColumnDatabase: ColumnDatabase {
    private let connection: PostgresConnection
    private let logger: Logger
    private let keyTypes = Mutex<[String: String]>([:])

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static func connect(_ text: String) async throws -> PostgresColumnDatabase {
        let url = try PostgresURL(text)
        var logger = Logger(label: "bulwark.db")
        logger.logLevel = .critical
        let tls = try PostgresStorage.tlsConfiguration(url)
        if url.sslMode == .verifyFull, let tls { try await PostgresCertificateCheck.verify(url: url, tls: tls) }
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try PostgresStorage.connectionConfiguration(url, tls: tls), id: 1, logger: logger)
            return PostgresColumnDatabase(connection: connection, logger: logger)
        } catch let error as PSQLError {
            throw BulwarkError(.storageFailure, "connecting to PostgreSQL: \(PostgresStorage.describe(error))")
        }
    }

    func close() async throws { try await self.connection.close() }

    private func run<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw BulwarkError(.storageFailure, "PostgreSQL: \(PostgresStorage.describe(error))")
        }
    }

    private func fetch(_ query: PostgresQuery) async throws -> [ColumnRow] {
        try await self.run {
            var rows: [ColumnRow] = []
            for try await (key, value, version) in try await self.connection.query(query, logger: self.logger).decode((String, String?, String).self) {
                rows.append(ColumnRow(key: key, value: value, version: version))
            }
            return rows
        }
    }

    func rows(table: String, column: String, key: String, notPrefixed prefix: String, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text AS row_key, \(c), xmin::text FROM \(t) WHERE \(c) IS NOT NULL AND left(\(c), $1) <> $2 ORDER BY \(t).\(k) LIMIT $3")
        query.binds.append(Int32(prefix.count))
        query.binds.append(prefix)
        query.binds.append(limit)
        return try await self.fetch(query)
    }

    func rows(table: String, column: String, key: String, prefixed prefix: String, after afterKey: String?, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        var query = PostgresQuery(
            unsafeSQL: "SELECT \(k)::text AS k, \(c), xmin::text FROM \(t) WHERE left(\(c), $1) = $2 AND ($3::text IS NULL OR \(k)::text > $3::text) ORDER BY k LIMIT $4")
        query.binds.append(Int32(prefix.count))
        query.binds.append(prefix)
        query.binds.append(afterKey)
        query.binds.append(limit)
        return try await self.fetch(query)
    }

    func rows(table: String, column: String, key: String, indexColumn: String, index: Int64) async throws -> [ColumnRow] {
        let (t, c, k, i) = (
            try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key),
            try ColumnDatabaseError.identifier(indexColumn)
        )
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text AS row_key, \(c), xmin::text FROM \(t) WHERE \(i) = $1 ORDER BY \(t).\(k)")
        query.binds.append(index)
        return try await self.fetch(query)
    }

    func row(table: String, column: String, key: String, equals rowKey: String) async throws -> ColumnRow? {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        let keyType = try await self.keyType(table: table, key: key)
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text, \(c), xmin::text FROM \(t) WHERE \(k) = $1::\(keyType)")
        query.binds.append(rowKey)
        return try await self.fetch(query).first
    }

    func count(table: String, column: String, notPrefixed prefix: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        var query = PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(t) WHERE \(c) IS NOT NULL AND left(\(c), $1) <> $2")
        query.binds.append(Int32(prefix.count))
        query.binds.append(prefix)
        return try await self.run {
            var total = 0
            for try await value in try await self.connection.query(query, logger: self.logger).decode(Int.self) { total = value }
            return total
        }
    }

    func countValues(table: String, column: String) async throws -> Int {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        return try await self.run {
            var total = 0
            for try await value in try await self.connection.query(PostgresQuery(unsafeSQL: "SELECT count(\(c)) FROM \(t)"), logger: self.logger)
                .decode(Int.self)
            {
                total = value
            }
            return total
        }
    }

    func ensureIndexColumn(table: String, column: String) async throws {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let index = try ColumnDatabaseError.identifier(table + "_" + column + "_idx")
        try await self.run {
            try await self.connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(t) ADD COLUMN IF NOT EXISTS \(c) bigint"), logger: self.logger)
            try await self.connection.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(index) ON \(t) (\(c))"), logger: self.logger)
        }
    }

    func update(
        table: String, column: String, key: String, indexColumn: String?, rows: [ColumnUpdate],
        verify: @escaping @Sendable ([ColumnRow]) async throws -> Void
    ) async throws -> Set<String> {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        let i = try indexColumn.map(ColumnDatabaseError.identifier)
        // One statement per batch: arrays of keys, values, index values and the row versions read,
        // joined on the key's text; a row is written only while no one has updated it since.
        let set = i.map { "\(c) = v.value, \($0) = v.idx" } ?? "\(c) = v.value"
        // The key's own type, so the join uses its index (keys travel as text).
        let keyType = try await self.keyType(table: table, key: key)
        var query = PostgresQuery(unsafeSQL: """
            UPDATE \(t) SET \(set) FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS v(key, value, idx, version)
            WHERE \(t).\(k) = v.key::\(keyType) AND \(t).xmin = v.version::xid
            RETURNING \(t).\(k)::text, \(t).\(c)
            """)
        query.binds.append(rows.map(\.key))
        query.binds.append(rows.map(\.value))
        query.binds.append(rows.map { $0.index ?? 0 })
        // The row's version, not its value: a bound value would reach the statement log.
        query.binds.append(rows.map { $0.version ?? "0" })
        let written = try await self.writeVerified(query, verify: verify)
        return Set(rows.map(\.key)).subtracting(written)
    }

    /// Runs an `UPDATE … RETURNING key, value` in a transaction that commits only when `verify`
    /// accepts the rows as written.
    /// - Returns: The keys of the rows written.
    @discardableResult
    private func writeVerified(_ query: PostgresQuery, verify: @escaping @Sendable ([ColumnRow]) async throws -> Void) async throws -> Set<String> {
        let logger = self.logger
        return try await self.run { () -> Set<String> in
            try await self.connection.query("BEGIN", logger: logger)
            do {
                var written: [ColumnRow] = []
                for try await (key, value) in try await self.connection.query(query, logger: logger).decode((String, String?).self) {
                    written.append(ColumnRow(key: key, value: value))
                }
                try await verify(written)
                try await self.connection.query("COMMIT", logger: logger)
                return Set(written.map(\.key))
            } catch {
                _ = try? await self.connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    // MARK: pgcrypto migration

    /// Hands the pgcrypto key to this session through `COPY … FROM STDIN` into a temporary table:
    /// COPY data is never written to the statement log (a bound parameter would be, in full, with
    /// `log_statement = all`), and the table vanishes with the session.
    func loadPgcryptoKey(_ key: String) async throws {
        let hex = key.utf8.map { String(format: "%02x", $0) }.joined()
        try await self.run {
            try await self.connection.query("CREATE TEMPORARY TABLE bulwark_pgcrypto_key (k text NOT NULL)", logger: self.logger)
            try await self.connection.copyFrom(table: "bulwark_pgcrypto_key", logger: self.logger) { writer in
                try await writer.write(ByteBuffer(string: hex + "\n"))
            }
        }
    }

    /// The SQL type of a column.
    func columnType(table: String, column: String) async throws -> String {
        try await self.run {
            var type = ""
            for try await value in try await self.connection.query(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \(table)::regclass AND attname = \(column)",
                logger: self.logger
            ).decode(String.self) {
                type = value
            }
            return type
        }
    }

    /// Rows still holding `pgp_sym_encrypt` output (bytea), decrypted inside PostgreSQL with the
    /// session's key.
    func pgcryptoRows(table: String, column: String, key: String, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        var query = PostgresQuery(unsafeSQL: """
            SELECT \(k)::text AS row_key, pgp_sym_decrypt(\(c), (SELECT convert_from(decode(k, 'hex'), 'UTF8') FROM bulwark_pgcrypto_key)), xmin::text
            FROM \(t) WHERE \(c) IS NOT NULL AND substring(\(c) from 1 for 5) <> convert_to('bwf1:', 'UTF8') ORDER BY \(t).\(k) LIMIT $1
            """)
        query.binds.append(limit)
        return try await self.fetch(query)
    }

    /// Writes Bulwark ciphertext (as UTF-8 bytes) over pgcrypto values, all or nothing, verified;
    /// compare-and-set on the row's version, as ``update(table:column:key:indexColumn:rows:verify:)``.
    /// - Returns: The keys of the rows left alone because they had changed.
    func replacePgcrypto(
        table: String, column: String, key: String, rows: [ColumnUpdate],
        verify: @escaping @Sendable ([ColumnRow]) async throws -> Void
    ) async throws -> Set<String> {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        let keyType = try await self.keyType(table: table, key: key)
        var query = PostgresQuery(unsafeSQL: """
            UPDATE \(t) SET \(c) = convert_to(v.value, 'UTF8') FROM unnest($1::text[], $2::text[], $3::text[]) AS v(key, value, version)
            WHERE \(t).\(k) = v.key::\(keyType) AND \(t).xmin = v.version::xid RETURNING \(t).\(k)::text, convert_from(\(t).\(c), 'UTF8')
            """)
        query.binds.append(rows.map(\.key))
        query.binds.append(rows.map(\.value))
        query.binds.append(rows.map { $0.version ?? "0" })
        let written = try await self.writeVerified(query, verify: verify)
        return Set(rows.map(\.key)).subtracting(written)
    }

    /// Turns a fully migrated bytea column into text (its values are `bwf1:` text already).
    func convertToText(table: String, column: String) async throws {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        _ = try await self.run {
            try await self.connection.query(
                PostgresQuery(unsafeSQL: "ALTER TABLE \(t) ALTER COLUMN \(c) TYPE text USING convert_from(\(c), 'UTF8')"), logger: self.logger)
        }
    }

    /// The SQL type of `table.key` (checked to be a plain type name), looked up once per key.
    private func keyType(table: String, key: String) async throws -> String {
        if let known = self.keyTypes.withLock({ $0[table + "." + key] }) { return known }
        let type = try await self.columnType(table: table, column: key)
        guard !type.isEmpty else { throw BulwarkError(.invalidArgument, "\(table) has no column \(key)") }
        guard type.allSatisfy({ $0.isLetter || $0.isNumber || " ()_,".contains($0) }) else {
            throw BulwarkError(.invalidArgument, "unsupported key column type \(type)")
        }
        self.keyTypes.withLock { $0[table + "." + key] = type }
        return type
    }

    func setting(_ name: String) async throws -> String? {
        try await self.run {
            try await self.connection.query(
                "CREATE TABLE IF NOT EXISTS bulwark_column_settings (name text PRIMARY KEY, value text NOT NULL)", logger: self.logger)
            var found: String?
            for try await value in try await self.connection.query(
                "SELECT value FROM bulwark_column_settings WHERE name = \(name)", logger: self.logger
            ).decode(String.self) {
                found = value
            }
            return found
        }
    }

    func setSetting(_ name: String, _ value: String) async throws {
        try await self.run {
            try await self.connection.query(
                "CREATE TABLE IF NOT EXISTS bulwark_column_settings (name text PRIMARY KEY, value text NOT NULL)", logger: self.logger)
            try await self.connection.query(
                "INSERT INTO bulwark_column_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                logger: self.logger)
        }
    }
}
