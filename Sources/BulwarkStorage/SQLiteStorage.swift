import Bulwark
import CBulwarkSQLite
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded store: one SQLite database file (mode 0600), written in WAL mode with
/// `synchronous=FULL`, so a committed change survives a crash or power loss.
///
/// Writers take SQLite's write lock up front (`BEGIN IMMEDIATE`) so two processes sharing the
/// file never interleave a read-modify-write; readers are never blocked. Calls are short and run
/// on the caller's thread under one connection lock.
public final class SQLiteStorage: StorageBackend {
    struct Connection: ~Copyable {
        let handle: OpaquePointer
        deinit { sqlite3_close_v2(self.handle) }
    }

    let connection: Mutex<Connection>
    /// The database file.
    public let path: String
    /// Where the store is.
    public var location: String { "sqlite:" + self.path }

    /// The schema, one migration per version; applied in order, each in its own transaction.
    static let migrations: [(version: Int, sql: String)] = [
        (1, """
            CREATE TABLE bulwark_entries (path TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, updated_at INTEGER NOT NULL);
            """),
        (2, """
            CREATE TABLE bulwark_changes (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL);
            INSERT INTO bulwark_changes (id, sequence) VALUES (1, 0);
            """),
        (3, """
            CREATE TABLE bulwark_tokens (
                id INTEGER PRIMARY KEY, transformation TEXT NOT NULL, token_id BLOB NOT NULL, value_id BLOB, sealed BLOB NOT NULL,
                expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL);
            CREATE UNIQUE INDEX bulwark_tokens_token ON bulwark_tokens (token_id, transformation);
            CREATE UNIQUE INDEX bulwark_tokens_value ON bulwark_tokens (value_id, transformation) WHERE value_id IS NOT NULL;
            CREATE INDEX bulwark_tokens_expiry ON bulwark_tokens (expires_at) WHERE expires_at > 0;
            """),
    ]

    /// Opens (creating when absent, mode 0600) the database at `path`.
    /// - Throws: ``BulwarkError/Code/storageFailure`` or ``BulwarkError/Code/ioFailure``.
    public init(path: String) throws {
        self.path = path
        // Create the file ourselves so it is private from the first byte.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open the database \(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw BulwarkError(.storageFailure, "cannot open the database \(path): \(message)")
        }
        self.connection = Mutex(Connection(handle: handle))
        try self.connection.withLock { connection in
            sqlite3_busy_timeout(connection.handle, 10_000)
            try Self.execute(
                connection.handle,
                // A 64 MiB page cache, memory-mapped reads and checkpoints every ~40 MB of WAL: the token
                // table's random keys touch pages all over, and frequent checkpoints rewrite them again.
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=10000;")
        }
    }

    static func error(_ handle: OpaquePointer, _ what: String) -> BulwarkError {
        BulwarkError(.storageFailure, "\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    static func execute(_ handle: OpaquePointer, _ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw BulwarkError(.storageFailure, "database statement failed: \(text)")
        }
    }

    /// A prepared statement, finalised when it goes out of scope.
    struct Statement: ~Copyable {
        let pointer: OpaquePointer
        let handle: OpaquePointer

        init(_ handle: OpaquePointer, _ sql: String) throws {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw SQLiteStorage.error(handle, "cannot prepare a statement")
            }
            self.pointer = statement
            self.handle = handle
        }

        deinit { sqlite3_finalize(self.pointer) }

        func bind(_ index: Int32, _ text: String) {
            sqlite3_bind_text(self.pointer, index, text, -1, cbulwark_sqlite_transient())
        }

        func bind(_ index: Int32, _ bytes: [UInt8]) {
            bytes.withUnsafeBytes { raw in
                _ = sqlite3_bind_blob(self.pointer, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), cbulwark_sqlite_transient())
            }
        }

        func bind(_ index: Int32, _ value: Int64) {
            sqlite3_bind_int64(self.pointer, index, value)
        }

        /// Steps once: true when a row is available.
        func step() throws -> Bool {
            switch sqlite3_step(self.pointer) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw SQLiteStorage.error(self.handle, "database statement failed")
            }
        }

        func text(_ column: Int32) -> String {
            sqlite3_column_text(self.pointer, column).map { String(cString: $0) } ?? ""
        }

        func blob(_ column: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(self.pointer, column))
            guard count > 0, let base = sqlite3_column_blob(self.pointer, column) else { return [] }
            return Array(UnsafeRawBufferPointer(start: base, count: count))
        }

        func integer(_ column: Int32) -> Int64 {
            sqlite3_column_int64(self.pointer, column)
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    func transaction<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try self.connection.withLock { connection in
            let handle = connection.handle
            try Self.execute(handle, "BEGIN IMMEDIATE")
            do {
                let result = try body(handle)
                try Self.execute(handle, "COMMIT")
                return result
            } catch {
                try? Self.execute(handle, "ROLLBACK")
                throw error
            }
        }
    }

    private static func currentVersion(_ handle: OpaquePointer) throws -> Int {
        try Self.execute(handle, "CREATE TABLE IF NOT EXISTS bulwark_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let statement = try Statement(handle, "SELECT COALESCE(MAX(version), 0) FROM bulwark_migrations")
        _ = try statement.step()
        return Int(statement.integer(0))
    }

    @discardableResult
    public func migrate() async throws -> [Int] {
        try self.transaction { handle in
            let current = try Self.currentVersion(handle)
            guard current <= Self.migrations.last?.version ?? 0 else {
                throw BulwarkError(.storageFailure, "the database schema (version \(current)) is newer than this bulwark understands")
            }
            var applied: [Int] = []
            for migration in Self.migrations where migration.version > current {
                try Self.execute(handle, migration.sql)
                let record = try Statement(handle, "INSERT INTO bulwark_migrations (version, applied_at) VALUES (?1, ?2)")
                record.bind(1, Int64(migration.version))
                record.bind(2, Int64(time(nil)))
                _ = try record.step()
                applied.append(migration.version)
            }
            return applied
        }
    }

    public func schemaVersion() async throws -> Int {
        try self.connection.withLock { try Self.currentVersion($0.handle) }
    }

    public func read(_ path: String) async throws -> [UInt8]? {
        try self.connection.withLock { connection in
            let statement = try Statement(connection.handle, "SELECT value FROM bulwark_entries WHERE path = ?1")
            statement.bind(1, path)
            return try statement.step() ? statement.blob(0) : nil
        }
    }

    public func list(prefix: String) async throws -> [(path: String, value: [UInt8])] {
        try self.connection.withLock { connection in
            let statement = try Statement(
                connection.handle, "SELECT path, value FROM bulwark_entries WHERE substr(path, 1, ?2) = ?1 ORDER BY path")
            statement.bind(1, prefix)
            statement.bind(2, Int64(prefix.utf8.count))
            var rows: [(path: String, value: [UInt8])] = []
            while try statement.step() { rows.append((statement.text(0), statement.blob(1))) }
            return rows
        }
    }

    public func update<Result: Sendable>(
        _ path: String, _ body: @escaping @Sendable ([UInt8]?) throws -> (StorageWrite, Result)
    ) async throws -> Result {
        try await self.update([path]) { current in
            let (write, result) = try body(current[0])
            return ([write], result)
        }
    }

    public func update<Result: Sendable>(
        _ paths: [String], _ body: @escaping @Sendable ([[UInt8]?]) throws -> ([StorageWrite], Result)
    ) async throws -> Result {
        try self.transaction { handle in
            var current: [[UInt8]?] = []
            for path in paths {
                let select = try Statement(handle, "SELECT value FROM bulwark_entries WHERE path = ?1")
                select.bind(1, path)
                current.append(try select.step() ? select.blob(0) : nil)
            }
            let (writes, result) = try body(current)
            var announce = false
            for (path, write) in zip(paths, writes) {
                switch write {
                case .keep:
                    continue
                case .put(let bytes):
                    let upsert = try Statement(
                        handle,
                        "INSERT INTO bulwark_entries (path, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                    )
                    upsert.bind(1, path)
                    upsert.bind(2, bytes)
                    upsert.bind(3, Int64(time(nil)))
                    _ = try upsert.step()
                case .delete:
                    let delete = try Statement(handle, "DELETE FROM bulwark_entries WHERE path = ?1")
                    delete.bind(1, path)
                    _ = try delete.step()
                }
                if !path.hasPrefix(StoragePaths.unannounced) { announce = true }
            }
            if announce {
                try Self.execute(handle, "UPDATE bulwark_changes SET sequence = sequence + 1 WHERE id = 1")
            }
            return result
        }
    }

    public func changeSequence() async throws -> Int64 {
        try self.connection.withLock { connection in
            let statement = try Statement(connection.handle, "SELECT sequence FROM bulwark_changes WHERE id = 1")
            return try statement.step() ? statement.integer(0) : 0
        }
    }
}
