import Bulwark
import Foundation

/// Where the key service keeps its state: `sqlite:PATH` (embedded, the default) or a
/// `postgres://` URL (several nodes).
public struct StorageURL: Sendable, Hashable, CustomStringConvertible {
    /// The kind of store.
    public enum Kind: Sendable, Hashable {
        /// An SQLite database file.
        case sqlite(path: String)
        /// A PostgreSQL database.
        case postgres(url: String)
    }

    /// The parsed location.
    public let kind: Kind

    /// Parses `sqlite:PATH` (also `sqlite://PATH`) or `postgres://…` / `postgresql://…`.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for anything else.
    public init(_ text: String) throws {
        if text.hasPrefix("sqlite://") {
            self.kind = .sqlite(path: String(text.dropFirst("sqlite://".count)))
        } else if text.hasPrefix("sqlite:") {
            self.kind = .sqlite(path: String(text.dropFirst("sqlite:".count)))
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self.kind = .postgres(url: text)
        } else {
            throw BulwarkError(.invalidArgument, "storage must be sqlite:PATH or postgres://USER@HOST:PORT/DB")
        }
        if case .sqlite(let path) = self.kind, path.isEmpty {
            throw BulwarkError(.invalidArgument, "sqlite: needs a file path")
        }
    }

    /// The URL without any password.
    public var description: String {
        switch self.kind {
        case .sqlite(let path): return "sqlite:" + path
        case .postgres(let url):
            // The credentials run to the last `@` before the query: a password holding an
            // unencoded `@`, `/` or `:` must not leave any of itself in the description.
            guard let scheme = url.range(of: "://") else { return url }
            let rest = url[scheme.upperBound...]
            let beforeQuery = rest[..<(rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex)]
            guard let at = beforeQuery.lastIndex(of: "@") else { return url }
            let user = beforeQuery[..<at].prefix { $0 != ":" && $0 != "/" }
            return String(url[..<scheme.upperBound]) + String(user) + String(url[at...])
        }
    }
}

extension StorageURL {
    /// Opens the backend this URL names (for PostgreSQL: connects and checks the server first,
    /// failing within the connect timeout).
    /// - Throws: ``BulwarkError/Code/storageFailure`` when it cannot be opened.
    public func openBackend() async throws -> any StorageBackend {
        switch self.kind {
        case .sqlite(let path):
            return try SQLiteStorage(path: path)
        case .postgres(let url):
            return try await PostgresStorage.connect(url, description: self.description)
        }
    }

    /// The directory holding the data, where a master key file must not sit.
    public var dataDirectory: String {
        switch self.kind {
        case .sqlite(let path):
            guard let slash = path.lastIndex(of: "/") else { return "." }
            return slash == path.startIndex ? "/" : String(path[..<slash])
        case .postgres:
            return "/nonexistent/bulwark-remote-store"
        }
    }
}
