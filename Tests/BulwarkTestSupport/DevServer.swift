public import Foundation
import Testing

/// A `bulwark server --dev` process on a free loopback port, stopped with SIGTERM.
public final class DevServer {
    /// The runner whose home, master key and environment the server uses.
    public let cli: CLIRunner
    /// The loopback port it listens on.
    public let port: Int
    /// The dev root token.
    public let token = "dev-root-token-for-tests"
    /// The server process.
    public let process = Process()
    /// Its standard output and error.
    public let output = Pipe()
    /// The `--storage` this server was given (nil: dev mode's SQLite default).
    public let storage: String?
    /// The environment it runs with beyond the CLI runner's.
    public let environment: [String: String]

    /// Starts `bulwark server` (dev mode unless `dev` is false) and waits until it listens (30 s at most).
    public init(
        extra: [String] = [], dev: Bool = true, cli: CLIRunner? = nil, env: [String: String] = [:], port: Int? = nil,
        storage: StorageKind = .sqlite
    ) throws {
        let extra = try storage.serverArguments() + extra
        let env = storage.environment.merging(env) { $1 }
        self.storage = extra.firstIndex(of: "--storage").flatMap { $0 + 1 < extra.count ? extra[$0 + 1] : nil }
        self.environment = env
        self.cli = try cli ?? CLIRunner()
        self.port = try port ?? Self.freePort()
        self.process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        self.process.arguments = ["server", "--listen", "127.0.0.1:\(self.port)"]
            + (dev ? ["--dev", "--dev-root-token", self.token] : []) + extra
        self.process.environment = self.cli.environment.merging(env) { $1 }
        self.process.standardOutput = self.output
        self.process.standardError = self.output
        try self.process.run()
        // Ready when it says so (bounded: 30 s).
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: seen, as: UTF8.self).contains(dev ? "Root token:" : "listening on"), Date() < deadline {
            let chunk = self.output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        #expect(String(decoding: seen, as: UTF8.self).contains("listening on https://127.0.0.1:\(self.port)"))
    }

    /// `https://127.0.0.1:PORT`.
    public var url: String { "https://127.0.0.1:\(self.port)" }
    /// The dev CA that signed its certificate.
    public var caFile: String { self.cli.home + "/ca.pem" }

    /// A free loopback port.
    public static func freePort() throws -> Int { try TestPorts.free() }

    /// `bulwark audit verify` on one of this server's logs, opening its store as the server does
    /// (the chain's key and the checkpoint are there).
    public func verifyAudit(_ path: String) throws -> CLIRunner.Result {
        try self.cli.bulwark(["audit", "verify"] + (self.storage.map { ["--storage", $0] } ?? []) + [path], env: self.environment)
    }

    /// Stops it with SIGTERM and returns its exit status.
    public func stop() -> Int32 {
        self.process.terminate()
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}
