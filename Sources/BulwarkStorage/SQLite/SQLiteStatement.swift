import CBulwarkSQLite

/// A prepared SQLite statement (``SQLite``), finalised when it goes out of scope. Parameters are
/// numbered from 1, columns from 0; text and blobs are copied when bound.
package struct SQLiteStatement: ~Copyable {
    let pointer: OpaquePointer
    let handle: OpaquePointer

    /// Prepares `sql` on `handle`.
    package init(_ handle: OpaquePointer, _ sql: String) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLite.error(handle, "cannot prepare a statement")
        }
        self.pointer = statement
        self.handle = handle
    }

    deinit { sqlite3_finalize(self.pointer) }

    /// Makes the statement ready to run again (its bindings are kept until rebound).
    package func reset() {
        sqlite3_reset(self.pointer)
    }

    /// Binds text.
    package func bind(_ index: Int32, _ text: String) {
        sqlite3_bind_text(self.pointer, index, text, -1, cbulwark_sqlite_transient())
    }

    /// Binds a blob.
    package func bind(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(self.pointer, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), cbulwark_sqlite_transient())
        }
    }

    /// Binds an integer.
    package func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(self.pointer, index, value)
    }

    /// Binds SQL `NULL`.
    package func bindNull(_ index: Int32) {
        sqlite3_bind_null(self.pointer, index)
    }

    /// Steps once: true when a row is available.
    package func step() throws -> Bool {
        switch sqlite3_step(self.pointer) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLite.error(self.handle, "database statement failed")
        }
    }

    /// The number of columns of a row.
    package var columnCount: Int32 { sqlite3_column_count(self.pointer) }

    /// Whether a column of the current row is `NULL`.
    package func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(self.pointer, column) == SQLITE_NULL
    }

    /// A column as text (`""` for `NULL`).
    package func text(_ column: Int32) -> String {
        sqlite3_column_text(self.pointer, column).map { String(cString: $0) } ?? ""
    }

    /// A column as a blob.
    package func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(self.pointer, column))
        guard count > 0, let base = sqlite3_column_blob(self.pointer, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A column as an integer.
    package func integer(_ column: Int32) -> Int64 {
        sqlite3_column_int64(self.pointer, column)
    }
}
