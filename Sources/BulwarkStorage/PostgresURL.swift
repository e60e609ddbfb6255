import Bulwark
import Foundation

/// A `postgres://USER@HOST:PORT/DB?sslmode=…&sslrootcert=…` location, parsed as libpq users
/// expect: `sslmode` `verify-full` by default (CA and host name checked), `verify-ca`, `require`
/// (encrypted, unverified) or `disable` (only when written out); `sslrootcert`, `sslcert` and
/// `sslkey` files; the password from the URL or `PGPASSWORD` (never needed on the command line);
/// `pool_size` (default 10) and `connect_timeout` seconds (default 5).
package struct PostgresURL: Sendable {
    package enum SSLMode: String, Sendable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    package var user: String
    package var password: String?
    package var host: String
    package var port: Int
    package var database: String
    package var sslMode: SSLMode = .verifyFull
    package var rootCertificate: String?
    package var clientCertificate: String?
    package var clientKey: String?
    package var poolSize = 10
    package var connectTimeout = 5

    package init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let normalised = text.hasPrefix("postgresql://") ? "postgres://" + text.dropFirst("postgresql://".count) : text
        guard let components = URLComponents(string: normalised), components.scheme == "postgres", let host = components.host,
            !host.isEmpty
        else {
            throw BulwarkError(.invalidArgument, "a PostgreSQL URL looks like postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=ca.pem")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = components.user ?? environment["PGUSER"] ?? "postgres"
        self.password = components.password ?? environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.database = path.isEmpty ? (environment["PGDATABASE"] ?? self.user) : path
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw BulwarkError(.invalidArgument, "sslmode must be verify-full, verify-ca, require or disable (not \"\(value)\")")
                }
                self.sslMode = mode
            case "sslrootcert": self.rootCertificate = value
            case "sslcert": self.clientCertificate = value
            case "sslkey": self.clientKey = value
            case "pool_size":
                guard let size = Int(value), (1...200).contains(size) else { throw BulwarkError(.invalidArgument, "pool_size must be 1-200") }
                self.poolSize = size
            case "connect_timeout":
                guard let seconds = Int(value), (1...120).contains(seconds) else {
                    throw BulwarkError(.invalidArgument, "connect_timeout must be 1-120 seconds")
                }
                self.connectTimeout = seconds
            default:
                throw BulwarkError(.invalidArgument, "unknown PostgreSQL URL parameter \"\(item.name)\"")
            }
        }
        if (self.clientCertificate == nil) != (self.clientKey == nil) {
            throw BulwarkError(.invalidArgument, "sslcert and sslkey go together")
        }
    }

    /// Whether the host is an IP address (then the certificate must name that address).
    package var hostIsAddress: Bool {
        self.host.contains(":") || self.host.split(separator: ".").count == 4 && self.host.allSatisfy { $0.isNumber || $0 == "." }
    }
}
