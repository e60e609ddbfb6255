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
        deinit { SQLite.close(self.handle) }
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
        let handle = try SQLite.open(path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX)
        self.connection = Mutex(Connection(handle: handle))
        try self.connection.withLock { connection in
            try SQLite.execute(
                connection.handle,
                // A 64 MiB page cache, memory-mapped reads and checkpoints every ~40 MB of WAL: the token
                // table's random keys touch pages all over, and frequent checkpoints rewrite them again.
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=10000;")
        }
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when it throws.
    func transaction<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try self.connection.withLock { connection in
            let handle = connection.handle
            try SQLite.execute(handle, "BEGIN IMMEDIATE")
            do {
                let result = try body(handle)
                try SQLite.execute(handle, "COMMIT")
                return result
            } catch {
                try? SQLite.execute(handle, "ROLLBACK")
                throw error
            }
        }
    }

    private static func currentVersion(_ handle: OpaquePointer) throws -> Int {
        try SQLite.execute(handle, "CREATE TABLE IF NOT EXISTS bulwark_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let statement = try SQLiteStatement(handle, "SELECT COALESCE(MAX(version), 0) FROM bulwark_migrations")
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
                try SQLite.execute(handle, migration.sql)
                let record = try SQLiteStatement(handle, "INSERT INTO bulwark_migrations (version, applied_at) VALUES (?1, ?2)")
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
            let statement = try SQLiteStatement(connection.handle, "SELECT value FROM bulwark_entries WHERE path = ?1")
            statement.bind(1, path)
            return try statement.step() ? statement.blob(0) : nil
        }
    }

    public func list(prefix: String) async throws -> [(path: String, value: [UInt8])] {
        try self.connection.withLock { connection in
            let statement = try SQLiteStatement(
                connection.handle, "SELECT path, value FROM bulwark_entries WHERE substr(path, 1, ?2) = ?1 ORDER BY path")
            statement.bind(1, prefix)
            statement.bind(2, Int64(prefix.utf8.count))
            var rows: [(path: String, value: [UInt8])] = []
            while try statement.step() { rows.append((statement.text(0), statement.blob(1))) }
            return rows
        }
    }

    public func update<Result: Sendable>(
        _ paths: [String], _ body: @escaping @Sendable ([[UInt8]?]) throws -> ([StorageWrite], Result)
    ) async throws -> Result {
        try self.transaction { handle in
            var current: [[UInt8]?] = []
            for path in paths {
                let select = try SQLiteStatement(handle, "SELECT value FROM bulwark_entries WHERE path = ?1")
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
                    let upsert = try SQLiteStatement(
                        handle,
                        "INSERT INTO bulwark_entries (path, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                    )
                    upsert.bind(1, path)
                    upsert.bind(2, bytes)
                    upsert.bind(3, Int64(time(nil)))
                    _ = try upsert.step()
                case .delete:
                    let delete = try SQLiteStatement(handle, "DELETE FROM bulwark_entries WHERE path = ?1")
                    delete.bind(1, path)
                    _ = try delete.step()
                }
                if !path.hasPrefix(StoragePaths.unannounced) { announce = true }
            }
            if announce {
                try SQLite.execute(handle, "UPDATE bulwark_changes SET sequence = sequence + 1 WHERE id = 1")
            }
            return result
        }
    }

    public func changeSequence() async throws -> Int64 {
        try self.connection.withLock { connection in
            let statement = try SQLiteStatement(connection.handle, "SELECT sequence FROM bulwark_changes WHERE id = 1")
            return try statement.step() ? statement.integer(0) : 0
        }
    }
}
