public import Testing

/// Where a test keeps the key service's state.
public enum StorageKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// An SQLite file (dev mode's default).
    case sqlite
    /// A fresh database on the test PostgreSQL cluster.
    case postgres

    /// The name a parameterised test shows.
    public var testDescription: String { self.rawValue }

    /// `--storage` arguments for a server (none for dev mode's SQLite default).
    public func serverArguments() throws -> [String] {
        switch self {
        case .sqlite: return []
        case .postgres: return ["--storage", try PostgresFixture.makeDatabase()]
        }
    }

    /// The environment the server process needs.
    public var environment: [String: String] {
        self == .postgres ? PostgresFixture.environment : [:]
    }
}
