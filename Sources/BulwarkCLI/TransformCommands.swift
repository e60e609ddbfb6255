import ArgumentParser
import Bulwark
import BulwarkClient
import Foundation
import NIOHTTP1

/// What `bulwark tokenize` and `bulwark detokenize` share: the role, the transformation, and
/// values from the command line or standard input (one per line, sent in batches).
struct TransformOptions: ParsableArguments {
    @Option(help: "The Transform role.") var role: String
    @Option(help: "The transformation (may be omitted when the role has only one).") var transformation: String?
    @Option(help: "An FPE tweak in base64 (transformations with tweak_source=supplied).") var tweak: String?
    @Option(name: .customLong("batch-size"), help: "Values per request when reading standard input.") var batchSize = 1000
    @Flag(help: "Never show the progress line.") var quiet = false
    @Argument(help: "The value; when absent, values are read from standard input, one per line.") var value: String?

    /// Runs `operation` (`encode` or `decode`) over the values and prints one result per line, in
    /// input order. A value the server refuses prints an empty line and its error on standard
    /// error; the exit status is then 2.
    func run(_ operation: String, resultField: String, extra: [String: Any]) async throws {
        try await TransitClient.withEnvironment { client in
            try await self.run(operation, resultField: resultField, extra: extra, client: client)
        }
    }

    private func run(_ operation: String, resultField: String, extra: [String: Any], client: TransitClient) async throws {
        let path = "transform/\(operation)/\(self.role)"
        func item(_ value: String) -> [String: Any] {
            var item = extra
            item["value"] = value
            if let transformation = self.transformation { item["transformation"] = transformation }
            if let tweak = self.tweak { item["tweak"] = tweak }
            return item
        }
        if let value = self.value {
            let answer = try await client.call(.POST, path, body: item(value))
            print(answer.data[resultField] as? String ?? "")
            return
        }
        guard self.batchSize > 0, self.batchSize <= 10_000 else {
            throw BulwarkError(.invalidArgument, "--batch-size must be between 1 and 10000")
        }
        // A regular file on standard input has a known size: show a bar for large inputs.
        var info = stat()
        let regular = fstat(0, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        var lines: [String] = []
        var pending: [String] = []
        var failures = 0
        var progress: DatabaseCommand.Progress?
        if regular {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            if !self.quiet && lines.count >= 10_000 { progress = DatabaseCommand.Progress(total: lines.count, unit: "values") }
        }
        var streamed = 0
        func flush() async throws {
            guard !pending.isEmpty else { return }
            let answer = try await client.call(.POST, path, body: ["batch_input": pending.map(item)])
            let results = answer.data["batch_results"] as? [[String: Any]] ?? []
            guard results.count == pending.count else {
                throw BulwarkError(.invalidFormat, "the key service answered \(results.count) results for \(pending.count) values")
            }
            var out = ""
            for result in results {
                if let text = result[resultField] as? String {
                    out += text
                } else {
                    failures += 1
                    note("bulwark: line \(streamed + 1): \(result["error"] as? String ?? "refused")")
                }
                out += "\n"
                streamed += 1
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            if progress == nil, !self.quiet, !regular, streamed >= 10_000 {
                let stream = DatabaseCommand.Progress(total: nil, unit: "values")
                stream.advance(streamed - pending.count)
                progress = stream
            }
            progress?.advance(pending.count)
            pending.removeAll(keepingCapacity: true)
        }
        if regular {
            for line in lines {
                pending.append(line)
                if pending.count == self.batchSize { try await flush() }
            }
        } else {
            while let line = readLine(strippingNewline: true) {
                pending.append(line)
                if pending.count == self.batchSize { try await flush() }
            }
        }
        try await flush()
        progress?.advance(0, final: true)
        if failures > 0 {
            note("bulwark: \(failures) value(s) refused")
            throw ExitCode(2)
        }
    }
}

/// `bulwark tokenize`: values to tokens (or FPE ciphertexts, or masks) through the key service's
/// Transform API.
struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenise values through the key service (BULWARK_ADDR, BULWARK_TOKEN, BULWARK_CACERT); stdin line by line when no value is given.")
    @OptionGroup var options: TransformOptions
    @Option(help: "Token lifetime, e.g. 24h (tokenization transformations).") var ttl: String?

    func run() async throws {
        try await reportingClientErrors {
            var extra: [String: Any] = [:]
            if let ttl = self.ttl { extra["ttl"] = ttl }
            try await self.options.run("encode", resultField: "encoded_value", extra: extra)
        }
    }
}

/// `bulwark detokenize`: tokens back to values (needs the role's decode capability).
struct DetokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Detokenise values through the key service (needs transform/decode/<role>); stdin line by line when no value is given.")
    @OptionGroup var options: TransformOptions

    func run() async throws {
        try await reportingClientErrors {
            try await self.options.run("decode", resultField: "decoded_value", extra: [:])
        }
    }
}
