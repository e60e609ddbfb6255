import Foundation

/// Programs the tests run (Python interop scripts, OpenSSL, …).
public enum TestProcess {
    /// Runs `program` with `arguments` and waits for it on a thread of its own: never on the
    /// concurrency pool, whose few threads an in-process server under test needs to answer the
    /// program (a 2-core machine has two).
    /// - Returns: Its exit status and its output (standard output and error together).
    public static func run(_ program: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try Self.runBlocking(program, arguments) })
            }
        }
    }

    /// Runs `program` with `arguments` and blocks the calling thread until it exits.
    public static func runBlocking(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
