import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The test PostgreSQL cluster (TLS only, SCRAM, port 55432): the one `.ci/run` started (its
/// settings in `BULWARK_TEST_PG_*`), or else one started here by `scripts/test-postgres.sh` and
/// stopped when the test process exits.
public enum PostgresFixture {
    /// The cluster's address and credentials.
    public struct Server: Sendable {
        /// The host name (the certificate's).
        public let host: String
        /// The port.
        public let port: String
        /// The role tests connect as.
        public let user: String
        /// Its password (SCRAM).
        public let password: String
        /// The CA certificate that signed the server's.
        public let caFile: String
        /// The server's log (every statement is logged).
        public let log: String?
    }

    /// The repository's root.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The cluster, if one runs or could be started.
    public static let server: Server? = {
        var settings = ProcessInfo.processInfo.environment
        if settings["BULWARK_TEST_PG_HOST"] == nil {
            // posix_spawn and waitpid (Foundation's Process can miss the exit inside the test runner).
            guard let runner = try? CLIRunner(),
                let started = try? runner.shell("'\(repository)/scripts/test-postgres.sh' start < /dev/null"), started.status == 0
            else { return nil }
            let data = started.stdout
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { settings[parts[0]] = parts[1] }
            }
            // Stopped at exit only when this process started it.
            if settings["BULWARK_TEST_PG_STARTED"] == "1" {
                atexit {
                    _ = try? CLIRunner().shell("'\(PostgresFixture.repository)/scripts/test-postgres.sh' stop < /dev/null")
                }
            }
        }
        guard let host = settings["BULWARK_TEST_PG_HOST"], let port = settings["BULWARK_TEST_PG_PORT"],
            let user = settings["BULWARK_TEST_PG_USER"], let password = settings["BULWARK_TEST_PG_PASSWORD"],
            let ca = settings["BULWARK_TEST_PG_CA"]
        else { return nil }
        return Server(host: host, port: port, user: user, password: password, caFile: ca, log: settings["BULWARK_TEST_PG_LOG"])
    }()

    /// The cluster, or a recorded failure (the tests need it; `.ci/run` provides it).
    public static func require() throws -> Server {
        try #require(self.server, "no test PostgreSQL: scripts/test-postgres.sh start failed")
    }

    /// A fresh, empty database and its URL (`sslmode=verify-full`; the password goes in
    /// `PGPASSWORD`, or in the URL when `withPassword`).
    public static func makeDatabase(withPassword: Bool = false, host: String? = nil) throws -> String {
        let server = try self.require()
        let name = "bw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = "postgresql://\(server.user)@\(server.host):\(server.port)/postgres?sslmode=verify-full&sslrootcert=\(server.caFile)"
        let created = try CLIRunner().shell("psql '\(admin)' -q -c 'CREATE DATABASE \(name)'", env: ["PGPASSWORD": server.password])
        #expect(created.status == 0, "\(created.stderr)")
        let credentials = withPassword ? "\(server.user):\(server.password)" : server.user
        // A generous connect bound: SCRAM logins in a debug build on two busy cores can take seconds.
        return "postgres://\(credentials)@\(host ?? server.host):\(server.port)/\(name)?sslmode=verify-full&sslrootcert=\(server.caFile)&connect_timeout=30"
    }

    /// The environment a `bulwark` process needs to reach the cluster.
    public static var environment: [String: String] {
        (try? self.require()).map { ["PGPASSWORD": $0.password] } ?? [:]
    }
}
