import Bulwark
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

package final class PostgresColumnDatabase: ColumnDatabase {
    private let connection: PostgresConnection
    private let logger: Logger
    private let keyTypes = Mutex<[String: String]>([:])

    private init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    package static func connect(_ text: String) async throws -> PostgresColumnDatabase {
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

    package func close() async throws { try await self.connection.close() }

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

    package func rows(table: String, column: String, key: String, notPrefixed prefix: String, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text AS row_key, \(c), xmin::text FROM \(t) WHERE \(c) IS NOT NULL AND left(\(c), $1) <> $2 ORDER BY \(t).\(k) LIMIT $3")
        query.binds.append(Int32(prefix.count))
        query.binds.append(prefix)
        query.binds.append(limit)
        return try await self.fetch(query)
    }

    package func rows(table: String, column: String, key: String, prefixed prefix: String, after afterKey: String?, limit: Int) async throws -> [ColumnRow] {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        var query = PostgresQuery(
            unsafeSQL: "SELECT \(k)::text AS k, \(c), xmin::text FROM \(t) WHERE left(\(c), $1) = $2 AND ($3::text IS NULL OR \(k)::text > $3::text) ORDER BY k LIMIT $4")
        query.binds.append(Int32(prefix.count))
        query.binds.append(prefix)
        query.binds.append(afterKey)
        query.binds.append(limit)
        return try await self.fetch(query)
    }

    package func rows(table: String, column: String, key: String, indexColumn: String, index: Int64) async throws -> [ColumnRow] {
        let (t, c, k, i) = (
            try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key),
            try ColumnDatabaseError.identifier(indexColumn)
        )
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text AS row_key, \(c), xmin::text FROM \(t) WHERE \(i) = $1 ORDER BY \(t).\(k)")
        query.binds.append(index)
        return try await self.fetch(query)
    }

    package func row(table: String, column: String, key: String, equals rowKey: String) async throws -> ColumnRow? {
        let (t, c, k) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column), try ColumnDatabaseError.identifier(key))
        let keyType = try await self.keyType(table: table, key: key)
        var query = PostgresQuery(unsafeSQL: "SELECT \(k)::text, \(c), xmin::text FROM \(t) WHERE \(k) = $1::\(keyType)")
        query.binds.append(rowKey)
        return try await self.fetch(query).first
    }

    package func count(table: String, column: String, notPrefixed prefix: String) async throws -> Int {
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

    package func countValues(table: String, column: String) async throws -> Int {
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

    package func ensureIndexColumn(table: String, column: String) async throws {
        let (t, c) = (try ColumnDatabaseError.identifier(table), try ColumnDatabaseError.identifier(column))
        let index = try ColumnDatabaseError.identifier(table + "_" + column + "_idx")
        try await self.run {
            try await self.connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(t) ADD COLUMN IF NOT EXISTS \(c) bigint"), logger: self.logger)
            try await self.connection.query(PostgresQuery(unsafeSQL: "CREATE INDEX IF NOT EXISTS \(index) ON \(t) (\(c))"), logger: self.logger)
        }
    }

    package func update(
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
    package func loadPgcryptoKey(_ key: String) async throws {
        let hex = key.utf8.map { String(format: "%02x", $0) }.joined()
        try await self.run {
            try await self.connection.query("CREATE TEMPORARY TABLE bulwark_pgcrypto_key (k text NOT NULL)", logger: self.logger)
            try await self.connection.copyFrom(table: "bulwark_pgcrypto_key", logger: self.logger) { writer in
                try await writer.write(ByteBuffer(string: hex + "\n"))
            }
        }
    }

    /// The SQL type of a column.
    package func columnType(table: String, column: String) async throws -> String {
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
    package func pgcryptoRows(table: String, column: String, key: String, limit: Int) async throws -> [ColumnRow] {
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
    package func replacePgcrypto(
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
    package func convertToText(table: String, column: String) async throws {
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

    package func setting(_ name: String) async throws -> String? {
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

    package func setSetting(_ name: String, _ value: String) async throws {
        try await self.run {
            try await self.connection.query(
                "CREATE TABLE IF NOT EXISTS bulwark_column_settings (name text PRIMARY KEY, value text NOT NULL)", logger: self.logger)
            try await self.connection.query(
                "INSERT INTO bulwark_column_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                logger: self.logger)
        }
    }
}
