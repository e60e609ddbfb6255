import Bulwark
import Foundation

/// One row of a column being worked on: its key (as text) and value.
package struct ColumnRow: Sendable {
    package let key: String
    package let value: String?
    /// The row's version as the database keeps it (PostgreSQL's `xmin`), for compare-and-set
    /// without sending the value back (a bound value would reach the statement log); nil where
    /// the value itself is compared (SQLite, in process).
    package var version: String? = nil
}

/// A new value for one row, written only while the row is still as the tool read it.
package struct ColumnUpdate: Sendable {
    /// The row's key, as text.
    package let key: String
    /// The value to write.
    package let value: String
    /// The blind-index value to write with it, if any.
    package let index: Int64?
    /// The value the tool read (and transformed): the row must still hold it.
    package let previous: String?
    /// The row's version when read (``ColumnRow/version``), where the database has one.
    package let version: String?

    /// The update of a row read as `row`.
    package init(row: ColumnRow, value: String, index: Int64?) {
        self.key = row.key
        self.value = value
        self.index = index
        self.previous = row.value
        self.version = row.version
    }
}

/// What the column tools need from an application database (PostgreSQL or SQLite). Table and
/// column names are checked identifiers; values always travel as bound parameters.
package protocol ColumnDatabase: Sendable {
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

package enum ColumnDatabaseError {
    package static func identifier(_ name: String) throws -> String {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && CharacterSet.letters.contains(first)),
            name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }), name.count <= 63
        else {
            throw BulwarkError(.invalidArgument, "\"\(name)\" is not a plain SQL identifier (letters, digits, _)")
        }
        return "\"" + name + "\""
    }
}

/// Runs `body` with the database open, closing it however `body` ends.
package func withColumnDatabase<R>(_ url: String, _ body: (any ColumnDatabase) async throws -> R) async throws -> R {
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
package func openColumnDatabase(_ url: String) async throws -> any ColumnDatabase {
    if url.hasPrefix("sqlite:") {
        return try SQLiteColumnDatabase(path: String(url.dropFirst(url.hasPrefix("sqlite://") ? 9 : 7)))
    }
    return try await PostgresColumnDatabase.connect(url)
}
