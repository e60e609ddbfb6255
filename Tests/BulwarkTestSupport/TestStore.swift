import BulwarkKeystore
public import BulwarkStorage
public import Foundation
import Testing

/// A fresh store of one kind: an SQLite file in a temporary directory or a new PostgreSQL database.
public struct TestStore: Sendable {
    /// SQLite or PostgreSQL.
    public let kind: StorageKind
    /// The runner whose directory and master key it uses.
    public let cli: CLIRunner
    /// The storage URL.
    public let location: String

    /// A fresh store of `kind` (a new database for PostgreSQL).
    public init(_ kind: StorageKind, _ cli: CLIRunner) throws {
        self.kind = kind
        self.cli = cli
        self.location = kind == .sqlite ? "sqlite:" + cli.path("state.db") : try PostgresFixture.makeDatabase(withPassword: true)
    }

    /// Opens the store as one node would (each call is another connection / node).
    public func open(key: String? = nil) async throws -> SealedStore {
        let url = try StorageURL(self.location)
        return try await SealedStore.open(
            backend: try await url.openBackend(), masterKey: .base64(key ?? self.cli.environment["BULWARK_MASTER_KEY"] ?? ""),
            dataDirectory: url.dataDirectory)
    }

    /// Everything an attacker with the database (file or dump) sees.
    public func rawBytes() throws -> Data {
        if self.kind == .sqlite {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: self.cli.path("state.db")))
            if let wal = try? Data(contentsOf: URL(fileURLWithPath: self.cli.path("state.db-wal"))) { bytes += wal }
            return bytes
        }
        let dump = try self.cli.shell("pg_dump '\(self.location.replacingOccurrences(of: "postgres://", with: "postgresql://"))'")
        #expect(dump.status == 0, "\(dump.stderr)")
        return dump.stdout
    }
}
