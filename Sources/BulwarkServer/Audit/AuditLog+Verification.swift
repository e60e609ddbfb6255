import Bulwark
import BulwarkKeystore
public import Crypto
import Foundation

/// Checking a log's chain, and the checkpoint it must reach.
extension AuditLog {
    /// Where the chain stands: what a verifier must find in it later.
    public struct Checkpoint: Sendable, Hashable, Codable {
        /// The link the next line will carry (the MAC of the last line written).
        public var next: String
        /// Lines written by this process so far (a change marker, not a position in the file).
        public var written: Int
    }

    /// The outcome of ``verify(paths:key:checkpoint:)``.
    public struct Verification: Sendable {
        /// Lines checked.
        public var lines: Int
        /// Lines chained by the unkeyed SHA-256 of earlier versions (only before the first keyed
        /// line; anyone could have recomputed them).
        public var unkeyedLines: Int
        /// Whether the checkpoint given was found on the chain.
        public var checkpointFound: Bool
    }

    /// Checks a log's chain across its files given oldest first (for example every closed segment
    /// and then the active file).
    ///
    /// Each line must carry the keyed MAC of the line before it (the first line the MAC of
    /// nothing, unless it is a segment header continuing a segment retention removed). Lines of
    /// older versions chained by unkeyed SHA-256 are accepted only before the first keyed line.
    /// - Parameters:
    ///   - paths: The files, oldest first.
    ///   - key: The audit key.
    ///   - checkpoint: A ``Checkpoint/next`` kept outside the log: the chain must pass through it,
    ///     so a tail cut off before the checkpoint is found.
    /// - Returns: What was checked.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` naming the first line that does not
    ///   chain to the one before it, or the missing checkpoint.
    public static func verify(paths: [String], key: SymmetricKey, checkpoint: String? = nil) throws -> Verification {
        let chain = HMAC<SHA256>(key: Self.chainKey(key))
        var previousLine: [UInt8]?
        var keyed = false
        var result = Verification(lines: 0, unkeyedLines: 0, checkpointFound: checkpoint == nil)
        for path in paths {
            let data = try POSIXFile.readAll(path: path)
            var lineInFile = 0
            for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) where !line.isEmpty {
                result.lines += 1
                lineInFile += 1
                let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
                let prev = object?["prev"] as? String
                let failure = BulwarkError(
                    .authenticationFailed,
                    "audit log \(URL(fileURLWithPath: path).lastPathComponent) line \(lineInFile) does not chain to the line before it (edited, inserted or deleted)")
                guard let prev else { throw failure }
                if prev == checkpoint { result.checkpointFound = true }
                // Only the very first line read may continue a segment that is no longer here.
                let continuesRemoved = previousLine == nil && object?["type"] as? String == "segment"
                if prev.hasPrefix("k1:") {
                    let expected = previousLine.map { Self.link(after: $0, chain: chain) } ?? Self.genesis(chain: chain)
                    guard Self.constantTimeEqual(prev, expected) || (continuesRemoved && prev.utf8.count == 67) else { throw failure }
                    keyed = true
                } else {
                    // The unkeyed chain of earlier versions: never after a keyed line.
                    let expected = previousLine.map { Hex.encode(SHA256.hash(data: $0)) } ?? String(repeating: "0", count: 64)
                    guard !keyed, prev == expected || (continuesRemoved && prev.utf8.count == 64) else { throw failure }
                    result.unkeyedLines += 1
                }
                previousLine = Array(line)
            }
        }
        if let checkpoint, !result.checkpointFound {
            let end = previousLine.map { Self.link(after: $0, chain: chain) } ?? Self.genesis(chain: chain)
            result.checkpointFound = Self.constantTimeEqual(end, checkpoint)
        }
        guard result.checkpointFound else {
            throw BulwarkError(
                .authenticationFailed,
                "the audit log does not reach its last checkpoint: lines were cut from its end (or the log was replaced)")
        }
        return result
    }

    /// Whether `key` is the key of the log's chain: its first keyed link verifies under it (true
    /// for a log with no keyed line). Reads only up to that link.
    public static func isKeyed(paths: [String], by key: SymmetricKey) throws -> Bool {
        let chain = HMAC<SHA256>(key: Self.chainKey(key))
        var previousLine: [UInt8]?
        for path in paths {
            for line in try POSIXFile.readAll(path: path).split(separator: 0x0A) {
                let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
                if let prev = object?["prev"] as? String, prev.hasPrefix("k1:") {
                    if let previousLine { return Self.constantTimeEqual(prev, Self.link(after: previousLine, chain: chain)) }
                    if object?["type"] as? String != "segment" { return Self.constantTimeEqual(prev, Self.genesis(chain: chain)) }
                }
                previousLine = Array(line)
            }
        }
        return true
    }

    /// Compares two MAC texts in time independent of where they differ.
    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
