import Foundation
import Testing

@testable import Bulwark

/// Loads a vector file copied into `Tests/BulwarkTests/Vectors` (see SOURCES.md there).
func vectorData(_ name: String) throws -> Data {
    let url = try #require(Bundle.module.resourceURL).appendingPathComponent("Vectors/\(name)")
    return try Data(contentsOf: url)
}

extension Data {
    init(hex: String) {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return 0
            }
        }
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(nibble(high) << 4 | nibble(low))
        }
        self.init(bytes)
    }

    var hex: String { self.map { String(format: "%02x", $0) }.joined() }
}

/// Asserts that `body` throws a ``BulwarkError`` with `code`.
func expectCode<R>(_ code: BulwarkError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) {
    do {
        _ = try body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as BulwarkError {
        #expect(error.code == code, "got \(error.code): \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected BulwarkError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Every single-bit flip of `bytes`.
func bitFlips(_ bytes: Data) -> [Data] {
    var out: [Data] = []
    for index in 0..<bytes.count {
        for bit in 0..<8 {
            var copy = bytes
            copy[copy.startIndex + index] ^= UInt8(1 << bit)
            out.append(copy)
        }
    }
    return out
}

/// Runs `tool` (found on PATH) with `arguments`, expects exit status 0, and returns its standard
/// output (its standard error goes into the failure message).
func runTool(_ tool: String, _ arguments: [String], environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(tool) failed: \(String(decoding: errors, as: UTF8.self))", sourceLocation: sourceLocation)
    return data
}
