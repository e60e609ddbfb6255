import Bulwark
import Foundation
import Logging
import NIOCore
import NIOPosix
package import NIOSSL
package import PostgresNIO
import Synchronization

/// The shared store for several key-service nodes: PostgreSQL through postgres-nio, over TLS
/// verified as `sslmode=verify-full` by default.
///
/// Writers serialise on one row (`bulwark_changes`, whose sequence every commit advances), so
/// read-modify-writes from any number of nodes never interleave; each commit also sends
/// `NOTIFY bulwark_changes`, which other nodes `LISTEN` for. Migrations run under an advisory lock,
/// so nodes starting together apply each once. Opening fails fast: one connection is tried first,
/// with a strict check of the server certificate's name, before the pool is started.
public final class PostgresStorage: StorageBackend {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    private let url: PostgresURL
    let logger: Logger
    /// The open change streams by number (removed when a stream ends: a node that seals and
    /// unseals again asks for a new one each time).
    private let notifier = Mutex<(next: UInt64, waiters: [UInt64: AsyncStream<Void>.Continuation])>((0, [:]))
    private let listener = Mutex<Task<Void, Never>?>(nil)
    /// Where the store is (no password).
    public let location: String

    static let migrationLock: Int64 = 0x6277_6B5F_6D69_6772  // "bwk_migr"

    /// The schema, one migration per version, each statement run in order in one transaction.
    static let migrations: [(version: Int, statements: [String])] = [
        (1, ["CREATE TABLE bulwark_entries (path text PRIMARY KEY, value bytea NOT NULL, updated_at bigint NOT NULL)"]),
        (2, [
            "CREATE TABLE bulwark_changes (id integer PRIMARY KEY CHECK (id = 1), sequence bigint NOT NULL)",
            "INSERT INTO bulwark_changes (id, sequence) VALUES (1, 0)",
        ]),
        (3, [
            """
            CREATE TABLE bulwark_tokens (
                transformation text NOT NULL, token_id bytea NOT NULL, value_id bytea, sealed bytea NOT NULL,
                expires_at bigint NOT NULL, created_at bigint NOT NULL, PRIMARY KEY (token_id, transformation))
            """,
            // The hash leads each key: lookups of 1,000 ids use the index even when the planner's
            // statistics still describe a small table.
            "CREATE UNIQUE INDEX bulwark_tokens_value ON bulwark_tokens (value_id, transformation) WHERE value_id IS NOT NULL",
            "CREATE INDEX bulwark_tokens_expiry ON bulwark_tokens (expires_at) WHERE expires_at > 0",
        ]),
    ]

    private init(client: PostgresClient, url: PostgresURL, location: String, logger: Logger) {
        self.client = client
        self.url = url
        self.location = location
        self.logger = logger
        self.runner = Task { await client.run() }
    }

    deinit {
        self.runner.cancel()
        self.listener.withLock { $0?.cancel() }
    }

    /// Connects, checks the server (reachable, credentials, certificate) with one connection
    /// within the connect timeout, then starts the pool.
    /// - Throws: ``BulwarkError/Code/storageFailure`` with a message naming the cause.
    public static func connect(_ text: String, description: String) async throws -> PostgresStorage {
        let url = try PostgresURL(text)
        var quiet = Logger(label: "bulwark.storage.postgres")
        quiet.logLevel = .critical
        let logger = quiet
        let tls = try Self.tlsConfiguration(url)
        if url.sslMode == .verifyFull, let tls {
            try await PostgresCertificateCheck.verify(url: url, tls: tls)
        }
        let single = try Self.connectionConfiguration(url, tls: tls)
        try await Self.bounded(seconds: url.connectTimeout + 1, what: "connecting to PostgreSQL at \(url.host):\(url.port)") {
            let connection = try await PostgresConnection.connect(configuration: single, id: 1, logger: logger)
            defer { Task { try? await connection.close() } }
            try await connection.query("SELECT 1", logger: logger)
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: tls.map { url.sslMode == .disable ? .disable : .require($0) } ?? .disable)
        configuration.options.maximumConnections = url.poolSize
        configuration.options.connectTimeout = .seconds(Int64(url.connectTimeout))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return PostgresStorage(client: client, url: url, location: description, logger: logger)
    }

    package static func tlsConfiguration(_ url: PostgresURL) throws -> TLSConfiguration? {
        guard url.sslMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        switch url.sslMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .require, .disable: tls.certificateVerification = .none
        }
        if let root = url.rootCertificate {
            guard FileManager.default.isReadableFile(atPath: root) else {
                throw BulwarkError(.storageFailure, "cannot read sslrootcert \(root)")
            }
            tls.trustRoots = .file(root)
        }
        if let certificate = url.clientCertificate, let key = url.clientKey {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return tls
    }

    package static func connectionConfiguration(_ url: PostgresURL, tls: TLSConfiguration?) throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        if let tls {
            mode = .require(try NIOSSLContext(configuration: tls))
        } else {
            mode = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: mode)
        configuration.options.connectTimeout = .seconds(Int64(url.connectTimeout))
        return configuration
    }

    /// Runs `body`, failing with a clear message after `seconds` or on a database error.
    static func bounded(seconds: Int, what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await body()
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return false
                }
                let finished = try await group.next() ?? false
                group.cancelAll()
                guard finished else { throw BulwarkError(.storageFailure, "\(what): no answer within \(seconds) s") }
            }
        } catch let error as BulwarkError {
            throw error
        } catch let error as PSQLError {
            throw BulwarkError(.storageFailure, "\(what): \(Self.describe(error))")
        } catch {
            throw BulwarkError(.storageFailure, "\(what): \(error)")
        }
    }

    /// A PostgreSQL error in words, without the query's parameters.
    package static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if let underlying = error.underlying {
            return String(describing: underlying)
        }
        return "\(error.code)"
    }

    /// Runs one storage operation with a deadline (the pool waits for the database for ever
    /// otherwise): past `connect_timeout + 5` seconds (or `seconds`) it fails as unavailable (a 503
    /// upstream).
    func run<R: Sendable>(
        _ what: String, seconds: Int? = nil, _ body: @escaping @Sendable () async throws -> R
    ) async throws -> R {
        let seconds = seconds ?? self.url.connectTimeout + 5
        do {
            return try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw BulwarkError(.storageFailure, "\(what): PostgreSQL did not answer within \(seconds) s")
                }
                return result
            }
        } catch let error as BulwarkError {
            throw error
        } catch let error as PSQLError {
            throw BulwarkError(.storageFailure, "\(what): \(Self.describe(error))")
        } catch let error as PostgresTransactionError {
            // The body's own error (a refused change) comes back as it was thrown.
            if let inner = error.closureError as? BulwarkError { throw inner }
            if let inner = error.closureError as? PSQLError ?? error.commitError as? PSQLError ?? error.beginError as? PSQLError {
                throw BulwarkError(.storageFailure, "\(what): \(Self.describe(inner))")
            }
            if let inner = error.closureError { throw inner }
            throw BulwarkError(.storageFailure, "\(what): the transaction failed")
        }
    }

    @discardableResult
    public func migrate() async throws -> [Int] {
        // Nodes starting together wait here for each other's migrations: a longer bound.
        try await self.run("migrating the PostgreSQL schema", seconds: 120) {
            try await self.client.withConnection { connection in
                try await connection.query("SELECT pg_advisory_lock(\(Self.migrationLock))", logger: self.logger)
                do {
                    try await connection.query(
                        "CREATE TABLE IF NOT EXISTS bulwark_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)",
                        logger: self.logger)
                    var current = 0
                    for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM bulwark_migrations", logger: self.logger)
                        .decode(Int.self)
                    {
                        current = version
                    }
                    guard current <= Self.migrations.last?.version ?? 0 else {
                        throw BulwarkError(.storageFailure, "the database schema (version \(current)) is newer than this bulwark understands")
                    }
                    var applied: [Int] = []
                    for migration in Self.migrations where migration.version > current {
                        try await connection.query("BEGIN", logger: self.logger)
                        do {
                            for statement in migration.statements {
                                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                            }
                            let now = Int64(Date().timeIntervalSince1970)
                            try await connection.query(
                                "INSERT INTO bulwark_migrations (version, applied_at) VALUES (\(migration.version), \(now))", logger: self.logger)
                            try await connection.query("COMMIT", logger: self.logger)
                        } catch {
                            _ = try? await connection.query("ROLLBACK", logger: self.logger)
                            throw error
                        }
                        applied.append(migration.version)
                    }
                    try await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: self.logger)
                    return applied
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: self.logger)
                    throw error
                }
            }
        }
    }

    public func schemaVersion() async throws -> Int {
        try await self.run("reading the schema version") {
            var version = 0
            for try await value in try await self.client.query("SELECT COALESCE(MAX(version), 0) FROM bulwark_migrations", logger: self.logger)
                .decode(Int.self)
            {
                version = value
            }
            return version
        }
    }

    public func read(_ path: String) async throws -> [UInt8]? {
        try await self.run("reading \(path)") {
            var found: [UInt8]?
            for try await value in try await self.client.query("SELECT value FROM bulwark_entries WHERE path = \(path)", logger: self.logger)
                .decode(ByteBuffer.self)
            {
                found = Array(value.readableBytesView)
            }
            return found
        }
    }

    public func list(prefix: String) async throws -> [(path: String, value: [UInt8])] {
        try await self.run("listing \(prefix)") {
            var rows: [(path: String, value: [UInt8])] = []
            let query: PostgresQuery = "SELECT path, value FROM bulwark_entries WHERE left(path, length(\(prefix))) = \(prefix) ORDER BY path"
            for try await (path, value) in try await self.client.query(query, logger: self.logger).decode((String, ByteBuffer).self) {
                rows.append((path, Array(value.readableBytesView)))
            }
            return rows
        }
    }

    public func update<Result: Sendable>(
        _ paths: [String], _ body: @escaping @Sendable ([[UInt8]?]) throws -> ([StorageWrite], Result)
    ) async throws -> Result {
        try await self.run("writing \(paths.first ?? "")") {
            try await self.client.withTransaction(logger: self.logger) { connection -> Result in
                // Every writer takes this row's lock first: read-modify-writes never interleave
                // (a node's own bookkeeping, written by that node alone, takes none and announces
                // nothing). The sequence moves only when something announced is written.
                let shared = paths.contains { !$0.hasPrefix(StoragePaths.unannounced) }
                if shared {
                    try await connection.query("SELECT sequence FROM bulwark_changes WHERE id = 1 FOR UPDATE", logger: self.logger)
                }
                var current: [[UInt8]?] = []
                for path in paths {
                    var value: [UInt8]?
                    for try await row in try await connection.query(
                        "SELECT value FROM bulwark_entries WHERE path = \(path)", logger: self.logger
                    ).decode(ByteBuffer.self) {
                        value = Array(row.readableBytesView)
                    }
                    current.append(value)
                }
                let (writes, result) = try body(current)
                let announced = zip(paths, writes).contains { path, write in
                    if case .keep = write { return false }
                    return !path.hasPrefix(StoragePaths.unannounced)
                }
                let now = Int64(Date().timeIntervalSince1970)
                for (path, write) in zip(paths, writes) {
                    switch write {
                    case .keep:
                        break
                    case .put(let bytes):
                        let value = ByteBuffer(bytes: bytes)
                        try await connection.query(
                            """
                            INSERT INTO bulwark_entries (path, value, updated_at) VALUES (\(path), \(value), \(now))
                            ON CONFLICT (path) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
                            """, logger: self.logger)
                    case .delete:
                        try await connection.query("DELETE FROM bulwark_entries WHERE path = \(path)", logger: self.logger)
                    }
                }
                if announced {
                    try await connection.query("UPDATE bulwark_changes SET sequence = sequence + 1 WHERE id = 1", logger: self.logger)
                    try await connection.query("SELECT pg_notify('bulwark_changes', '')", logger: self.logger)
                }
                return result
            }
        }
    }

    public func changeSequence() async throws -> Int64 {
        try await self.run("reading the change sequence") {
            var sequence: Int64 = 0
            for try await value in try await self.client.query("SELECT sequence FROM bulwark_changes WHERE id = 1", logger: self.logger)
                .decode(Int64.self)
            {
                sequence = value
            }
            return sequence
        }
    }

    /// Yields whenever another node commits (PostgreSQL `LISTEN bulwark_changes`); the listening
    /// connection reconnects after failures.
    public func changeNotifications() -> AsyncStream<Void>? {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let number = self.notifier.withLock { state in
            state.next += 1
            state.waiters[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.notifier.withLock { $0.waiters.removeValue(forKey: number) }
        }
        self.listener.withLock { task in
            guard task == nil else { return }
            task = Task { [weak self] in
                while !Task.isCancelled {
                    guard let self else { return }
                    do {
                        try await self.client.withConnection { connection in
                            try await connection.listen(on: "bulwark_changes") { notifications in
                                for try await _ in notifications {
                                    self.notifier.withLock { for waiter in $0.waiters.values { waiter.yield() } }
                                }
                            }
                        }
                    } catch {
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
        return stream
    }
}
