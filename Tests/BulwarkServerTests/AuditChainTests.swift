import Crypto
import Foundation
import Testing

@testable import BulwarkServer

/// The audit chain is keyed: an editor without the key cannot recompute it, and a cut tail is
/// found against the checkpoint.
@Suite struct AuditChainTests {
    private let key = SymmetricKey(size: .bits256)

    private func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("chain-\(UUID().uuidString).log").path
    }

    private func lines(_ path: String) throws -> [String] {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    private func write(_ lines: [String], to path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }

    private func fill(_ audit: AuditLog, _ count: Int) throws {
        for index in 0..<count { try audit.append(["type": "request", "path": "/v1/transit/encrypt/k\(index)", "method": "POST"]) }
    }

    /// What an editor without the key can do: rewrite a line and recompute every later link, with
    /// the unkeyed SHA-256 of earlier versions or with a key of their own.
    @Test func anEditorCannotRecomputeTheChain() throws {
        let path = self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try self.fill(try AuditLog(path: path, key: self.key), 5)
        #expect(try AuditLog.verify(paths: [path], key: self.key).lines == 5)
        #expect(try AuditLog.isKeyed(paths: [path], by: self.key))
        #expect(try !AuditLog.isKeyed(paths: [path], by: SymmetricKey(size: .bits256)))
        var lines = try self.lines(path)
        lines[2] = lines[2].replacingOccurrences(of: "encrypt/k2", with: "decrypt/k2")
        // Recomputed without the key (unkeyed SHA-256, as before keyed chains) ...
        var unkeyed = lines
        for index in 3..<unkeyed.count {
            let link = SHA256.hash(data: Data(unkeyed[index - 1].utf8)).map { String(format: "%02x", $0) }.joined()
            unkeyed[index] = unkeyed[index].replacing(#/"prev":"[^"]*"/#, with: "\"prev\":\"\(link)\"")
        }
        try self.write(unkeyed, to: path)
        #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key) }
        // ... or with another key.
        let other = HMAC<SHA256>(key: AuditLog.chainKey(SymmetricKey(size: .bits256)))
        var rekeyed = lines
        for index in 3..<rekeyed.count {
            rekeyed[index] = rekeyed[index].replacing(
                #/"prev":"[^"]*"/#, with: "\"prev\":\"\(AuditLog.link(after: Data(rekeyed[index - 1].utf8), chain: other))\"")
        }
        try self.write(rekeyed, to: path)
        let error = #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key) }
        #expect("\(error.map { String(describing: $0) } ?? "")".contains("line 4"))
    }

    /// Lines cut from the end leave a chain that verifies on its own: the checkpoint finds it.
    @Test func aCutTailIsFoundAgainstTheCheckpoint() throws {
        let path = self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = try AuditLog(path: path, key: self.key)
        try self.fill(audit, 6)
        let checkpoint = audit.checkpoint
        #expect(checkpoint.written == 6)
        try self.fill(audit, 2)
        // Later lines are fine: the chain passes through the checkpoint.
        #expect(try AuditLog.verify(paths: [path], key: self.key, checkpoint: checkpoint.next).checkpointFound)
        try self.write(Array(try self.lines(path).prefix(5)), to: path)
        #expect(try AuditLog.verify(paths: [path], key: self.key).lines == 5)
        #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key, checkpoint: checkpoint.next) }
        // Emptied and restarted: the new log's genesis is not the checkpoint either.
        try Data().write(to: URL(fileURLWithPath: path))
        try self.fill(try AuditLog(path: path, key: self.key), 1)
        #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key, checkpoint: checkpoint.next) }
    }

    /// A head cut off (not at a segment boundary) does not verify: the first line must carry the
    /// genesis link.
    @Test func aCutHeadIsFound() throws {
        let path = self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try self.fill(try AuditLog(path: path, key: self.key), 4)
        try self.write(Array(try self.lines(path).dropFirst(2)), to: path)
        #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key) }
    }

    /// A log written by an earlier version (unkeyed SHA-256 chain) is continued with keyed links;
    /// unkeyed links after the first keyed one are refused.
    @Test func anOlderUnkeyedLogContinuesKeyed() throws {
        let path = self.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var old: [String] = []
        var previous = String(repeating: "0", count: 64)
        for index in 0..<3 {
            let line = #"{"type":"request","path":"/v1/old/\#(index)","time":1,"prev":"\#(previous)"}"#
            old.append(line)
            previous = SHA256.hash(data: Data(line.utf8)).map { String(format: "%02x", $0) }.joined()
        }
        try self.write(old, to: path)
        try self.fill(try AuditLog(path: path, key: self.key), 2)
        let result = try AuditLog.verify(paths: [path], key: self.key)
        #expect(result.lines == 5 && result.unkeyedLines == 3)
        var lines = try self.lines(path)
        lines.append(#"{"type":"request","time":1,"prev":"\#(SHA256.hash(data: Data(lines[4].utf8)).map { String(format: "%02x", $0) }.joined())"}"#)
        try self.write(lines, to: path)
        #expect(throws: (any Error).self) { try AuditLog.verify(paths: [path], key: self.key) }
    }

    /// Segments: the chain runs across a rotation.
    @Test func theChainRunsAcrossSegments() throws {
        let path = self.path()
        defer {
            for segment in AuditLog.segments(of: path) { try? FileManager.default.removeItem(atPath: segment.path) }
            try? FileManager.default.removeItem(atPath: path)
        }
        let audit = try AuditLog(path: path, key: self.key)
        try self.fill(audit, 2)
        try audit.rotate()
        try self.fill(audit, 2)
        let files = AuditLog.segments(of: path).map(\.path) + [path]
        #expect(try AuditLog.verify(paths: files, key: self.key, checkpoint: audit.checkpoint.next).lines == 5)
        // Retention removed the first segment: the rest still verifies from its header.
        #expect(try AuditLog.verify(paths: [path], key: self.key).lines == 3)
    }
}
