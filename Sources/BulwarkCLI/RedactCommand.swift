import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkRedaction
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bulwark redact`: the log handler's detectors as a streaming filter.
struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Remove card numbers, SSNs, e-mails, IBANs, tokens, keys and secret values from logs.",
        discussion: """
            Streams with constant memory (journalctl | bulwark redact). --config takes JSON:
            {"kinds": ["pan","ssn","email","iban","jwt","authorization","aws-key","private-key","secret-pair"],
             "email": "tag" | "mask-local-part", "secret_keys": [...], "extra_secret_keys": [...]}
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "A JSON configuration file.") var config: String?
    @Option(name: .customLong("pseudonym-key"), help: "An HMAC key in the keystore: replace values with keyed pseudonyms.")
    var pseudonymKey: String?
    @Argument(help: "Input file (default: standard input).") var input: String?
    @Argument(help: "Output file (default: standard output).") var output: String?

    struct Config: Decodable {
        var kinds: [RedactionKind]?
        var email: RedactionConfiguration.EmailStyle?
        var secret_keys: [String]?
        var extra_secret_keys: [String]?
    }

    func run() throws {
        try reportingErrors {
            var configuration = RedactionConfiguration()
            if let path = self.config {
                let parsed: Config
                do {
                    parsed = try JSONDecoder().decode(Config.self, from: try POSIXFile.readAll(path: path))
                } catch let error as BulwarkError {
                    throw error
                } catch {
                    throw BulwarkError(.invalidArgument, "the redaction config \(path) is not valid JSON of the documented shape")
                }
                configuration = RedactionConfiguration(
                    kinds: parsed.kinds.map(Set.init) ?? Set(RedactionKind.allCases), emailStyle: parsed.email ?? .tag,
                    secretKeys: Set(parsed.secret_keys ?? Array(RedactionConfiguration.defaultSecretKeys))
                        .union(parsed.extra_secret_keys ?? []))
            }
            if let name = self.pseudonymKey {
                let key = try lookUp(name, in: try self.store.keystore().load())
                _ = try Pseudonymizer(key: key)
                configuration.pseudonymKey = key
            }
            let redactor = Redactor(configuration: configuration)
            let inputFD = try openInput(self.input)
            defer { if inputFD != STDIN_FILENO { close(inputFD) } }
            try writeOutput(self.output) { outputFD in
                try Self.stream(redactor, input: inputFD, output: outputFD)
            }
        }
    }

    /// Reads 1 MiB at a time, redacts whole lines, carries a partial last line to the next chunk.
    static func stream(_ redactor: Redactor, input: Int32, output: Int32) throws {
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: 2 * chunk)
        var carried = 0
        var state = Redactor.StreamState()
        var out: [UInt8] = []
        out.reserveCapacity(2 * chunk + 4096)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try POSIXFile.readFully(input, into: UnsafeMutableRawBufferPointer(rebasing: raw[carried..<(carried + chunk)]))
            }
            let filled = carried + count
            let atEnd = count < chunk
            var cut = filled
            if !atEnd {
                // Up to the last newline; a line longer than the buffer is cut where the buffer ends.
                if let newline = buffer[..<filled].lastIndex(of: 0x0A) { cut = newline + 1 }
            }
            out.removeAll(keepingCapacity: true)
            buffer.withUnsafeBufferPointer { bytes in
                redactor.redact(UnsafeBufferPointer(rebasing: bytes[..<cut]), into: &out, state: &state)
            }
            try out.withUnsafeBytes { try POSIXFile.writeFully(output, $0) }
            if atEnd { return }
            carried = filled - cut
            if carried > 0 {
                buffer.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: $0.baseAddress! + cut, count: carried) }
            }
        }
    }
}
