public import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `bulwark` binary (or a shell) with files for standard input and output.
public struct CLIRunner: Sendable {
    /// A finished process: exit status and output.
    public struct Result: Sendable {
        /// The exit status (128 + the signal for a killed process).
        public let status: Int32
        /// Standard output.
        public let stdout: Data
        /// Standard error.
        public let stderr: String
        /// Standard output as text.
        public var text: String { String(decoding: self.stdout, as: UTF8.self) }
    }

    /// `BULWARK_HOME` of the processes it runs.
    public let home: String
    /// The environment of the processes it runs.
    public let environment: [String: String]
    /// A fresh directory of its own.
    public let scratch: String

    /// The `bulwark` executable under test.
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["BULWARK_CLI"] { return path }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("bulwark").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/bulwark").path
    }

    /// A runner with a fresh directory and master key.
    public init(extra: [String: String] = [:]) throws {
        var template = Array((NSTemporaryDirectory() + "/bulwark-cli-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.scratch = String(cString: try #require(made))
        self.home = self.scratch + "/home"
        var environment = ProcessInfo.processInfo.environment
        environment["BULWARK_HOME"] = self.home
        environment["BULWARK_MASTER_KEY"] = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        environment["BULWARK_PASSPHRASE"] = nil
        environment["BULWARK_MASTER_KEY_FILE"] = nil
        for (key, value) in extra { environment[key] = value }
        self.environment = environment
    }

    /// A path in the runner's directory.
    public func path(_ name: String) -> String { self.scratch + "/" + name }

    /// Runs `bulwark arguments…`.
    @discardableResult
    public func bulwark(_ arguments: [String], stdin: String? = nil, env: [String: String] = [:]) throws -> Result {
        try self.spawn([Self.binary] + arguments, stdin: stdin, env: env)
    }

    /// Runs `sh -c script` with `$BULWARK` set to the binary.
    @discardableResult
    public func shell(_ script: String, env: [String: String] = [:]) throws -> Result {
        try self.spawn(["/bin/sh", "-c", script], stdin: nil, env: env.merging(["BULWARK": Self.binary]) { $1 })
    }

    /// ``shell(_:env:)`` on a thread of its own, awaited: a long script never holds one of the
    /// concurrency pool's few threads (on two cores there are two, and other tests' database
    /// clients and in-process servers resume on them).
    public func shellDetached(_ script: String, env: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try self.shell(script, env: env) }) }
        }
    }

    /// Runs `argv` with files for its input and output, waiting for it with `waitpid`.
    public func spawn(_ argv: [String], stdin: String?, env: [String: String]) throws -> Result {
        let id = UUID().uuidString
        let outPath = self.path("stdout-\(id)"), errPath = self.path("stderr-\(id)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Children start with default signal handling and nothing blocked, whatever the test
        // runner's thread had (a shell's `wait` needs SIGCHLD).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let merged = self.environment.merging(env) { $1 }
        let envStrings = merged.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = envStrings.map { strdup($0) } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        // Never wait for "any child" (pid 0) when nothing was started.
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let out = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        unlink(outPath)
        unlink(errPath)
        return Result(status: exit, stdout: out, stderr: err)
    }
}
