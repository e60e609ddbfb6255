package import Bulwark
import CBulwarkSQLite

/// The package's one SQLite layer, over the system's libsqlite3: opening, running SQL and
/// errors here, prepared statements in ``SQLiteStatement``. The key service's store
/// (``SQLiteStorage``) and the column tools (``SQLiteColumnDatabase``) both use it. It is our
/// own rather than sqlite-nio or GRDB because the store needs `BEGIN IMMEDIATE` under one
/// connection lock on the caller's thread (no event-loop hop per call, measured on the token
/// vault's hot path) and nothing beyond these few calls.
package enum SQLite {
    /// Opens the database at `path` with `flags` (`SQLITE_OPEN_*`), waiting up to 10 s for
    /// another writer's lock.
    package static func open(_ path: String, flags: Int32) throws -> OpaquePointer {
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw BulwarkError(.storageFailure, "cannot open the database \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 10_000)
        return handle
    }

    /// Closes a database opened with ``open(_:flags:)``.
    package static func close(_ handle: OpaquePointer) {
        sqlite3_close_v2(handle)
    }

    /// The error of the last call on `handle`, as a storage failure naming `what` failed.
    package static func error(_ handle: OpaquePointer, _ what: String) -> BulwarkError {
        BulwarkError(.storageFailure, "\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// The rows the last statement on `handle` inserted, changed or deleted.
    package static func changes(_ handle: OpaquePointer) -> Int {
        Int(sqlite3_changes(handle))
    }

    /// Runs SQL without parameters or results (one or more statements).
    package static func execute(_ handle: OpaquePointer, _ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw BulwarkError(.storageFailure, "database statement failed: \(text)")
        }
    }
}
