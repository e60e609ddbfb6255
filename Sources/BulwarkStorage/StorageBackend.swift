/// What an ``StorageBackend/update(_:_:)`` body decides for the entry it read.
public enum StorageWrite: Sendable {
    /// Leave the entry as it is.
    case keep
    /// Store these (already sealed) bytes.
    case put([UInt8])
    /// Remove the entry.
    case delete
}

/// Conventions on entry paths that backends honour.
public enum StoragePaths {
    /// Entries under this prefix are a node's own bookkeeping (the audit log's checkpoint): their
    /// writes do not move the change sequence and notify no node, so writing them often costs no
    /// other node a refresh.
    public static let unannounced = "node/"
}

/// A durable store of opaque entries addressed by path, shared by every node that uses it.
///
/// Backends store bytes only: ``SealedStore`` encrypts every value under the master key before it
/// reaches a backend, so a database file, dump or backup reveals no key and no token. Backends
/// serialise writers (SQLite's `BEGIN IMMEDIATE`, a row lock in PostgreSQL), keep a change
/// sequence that moves on every commit (nodes poll it to refresh their caches) and version their
/// schema.
public protocol StorageBackend: TokenVaultStorage {
    /// Brings the schema to the current version; safe when several processes start together.
    /// - Returns: The migration versions applied by this call (empty when already current).
    @discardableResult
    func migrate() async throws -> [Int]

    /// The schema version in the store.
    func schemaVersion() async throws -> Int

    /// The entry at `path`, or nil.
    func read(_ path: String) async throws -> [UInt8]?

    /// Every entry whose path starts with `prefix`, sorted by path.
    func list(prefix: String) async throws -> [(path: String, value: [UInt8])]

    /// Reads the entry at `path` and applies what `body` decides, atomically and serialised
    /// against every other writer of the store; a throwing body changes nothing.
    func update<Result: Sendable>(
        _ path: String, _ body: @escaping @Sendable ([UInt8]?) throws -> (StorageWrite, Result)
    ) async throws -> Result

    /// Reads the entries at `paths` and applies what `body` decides for each (one write per
    /// path, in order), in one transaction serialised against every other writer.
    func update<Result: Sendable>(
        _ paths: [String], _ body: @escaping @Sendable ([[UInt8]?]) throws -> ([StorageWrite], Result)
    ) async throws -> Result

    /// A number that changes whenever any writer (in any process) commits a change.
    func changeSequence() async throws -> Int64

    /// A human-readable description of where the store is (no credentials).
    var location: String { get }

    /// A stream that yields soon after another node commits, when the backend can push changes
    /// (PostgreSQL's `LISTEN`); nil when nodes must poll ``changeSequence()``.
    func changeNotifications() -> AsyncStream<Void>?
}

extension StorageBackend {
    /// No push notifications: poll ``changeSequence()``.
    public func changeNotifications() -> AsyncStream<Void>? { nil }

    /// One path's update as a one-path `update(_ paths:_:)` (every backend's
    /// transaction for several paths serves one).
    public func update<Result: Sendable>(
        _ path: String, _ body: @escaping @Sendable ([UInt8]?) throws -> (StorageWrite, Result)
    ) async throws -> Result {
        try await self.update([path]) { current in
            let (write, result) = try body(current[0])
            return ([write], result)
        }
    }
}
