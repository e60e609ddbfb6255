import Bulwark
import BulwarkKeystore
public import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The audit log: one JSON line per request and one per response, each chained to the previous
/// line by SHA-256 so an edit or a deletion is detectable (``verify(path:)``).
///
/// Sensitive values (plaintexts, ciphertexts, inputs, HMACs, signatures, associated data, tokens)
/// are replaced by `hmac-sha256:` + an HMAC under the audit key, never written in clear; equal
/// values still correlate. When a line cannot be written the request is refused (fail closed).
public final class AuditLog: Sendable {
    private struct State {
        var fd: Int32
        var previous: String
    }

    private let state: Mutex<State>
    private let key: SymmetricKey
    private let tokenMACs = Mutex<[String: String]>([:])
    private let keyedHMAC: HMAC<SHA256>
    static let sensitive: Set<String> = [
        "plaintext", "ciphertext", "input", "hmac", "signature", "associated_data", "context", "token", "nonce",
        "random_bytes", "sum",
    ]

    /// Opens (or creates) the log at `path`, continuing its chain.
    /// - Parameters:
    ///   - path: The log file (appended to, mode 0600).
    ///   - key: The HMAC key for sensitive values.
    public init(path: String, key: SymmetricKey) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open the audit log \(path): \(String(cString: strerror(errno)))")
        }
        var previous = String(repeating: "0", count: 64)
        var info = stat()
        let regular = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        if regular, info.st_size > 0 {
            guard let last = Self.lastLine(path: path, size: Int(info.st_size)) else {
                close(fd)
                throw BulwarkError(.ioFailure, "cannot read the end of the audit log \(path) to continue its chain")
            }
            previous = Hex.encode(SHA256.hash(data: last))
        }
        self.state = Mutex(State(fd: fd, previous: previous))
        self.key = key
        self.keyedHMAC = HMAC<SHA256>(key: key)
    }

    /// The last complete line of a log, read from its end (a large log is not read whole).
    static func lastLine(path: String, size: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var window = 64 * 1024
        while true {
            let start = max(0, size - window)
            var buffer = [UInt8](repeating: 0, count: size - start)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
            guard count == buffer.count else { return nil }
            var end = buffer.count
            while end > 0 && buffer[end - 1] == 0x0A { end -= 1 }
            if let newline = buffer[..<end].lastIndex(of: 0x0A) { return Array(buffer[(newline + 1)..<end]) }
            if start == 0 { return end > 0 ? Array(buffer[..<end]) : nil }
            window *= 4
        }
    }

    deinit {
        _ = self.state.withLock { close($0.fd) }
    }

    /// Writes `value` as JSON with sensitive values (by field name, recursively) replaced.
    func writeRedacted(_ value: Any, key name: String?, into out: inout [UInt8]) {
        if let object = value as? [String: Any] {
            JSONText.write(object: object, into: &out) { field, element, out in self.writeRedacted(element, key: field, into: &out) }
        } else if let array = value as? [Any] {
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                self.writeRedacted(element, key: name, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else if let name, Self.sensitive.contains(name) {
            let replaced = name == "token" ? (value as? String).map(self.tokenMAC) : nil
            JSONText.write(string: replaced ?? self.mac(value as? String ?? String(describing: value)), into: &out)
        } else {
            JSONText.write(value, into: &out)
        }
    }

    /// Replaces sensitive values (recursively) by keyed hashes.
    func redact(_ value: Any, key name: String? = nil) -> Any {
        if let object = value as? [String: Any] {
            var out: [String: Any] = [:]
            out.reserveCapacity(object.count)
            for (field, element) in object { out[field] = self.redact(element, key: field) }
            return out
        }
        if let array = value as? [Any] { return array.map { self.redact($0, key: name) } }
        guard let name, Self.sensitive.contains(name) else { return value }
        if name == "token", let token = value as? String { return self.tokenMAC(token) }
        return self.mac(value as? String ?? String(describing: value))
    }

    /// Tokens recur on every request: their keyed hashes are remembered (a bounded table).
    private func tokenMAC(_ token: String) -> String {
        if let known = self.tokenMACs.withLock({ $0[token] }) { return known }
        let made = self.mac(token)
        self.tokenMACs.withLock { table in
            if table.count >= 4096 { table.removeAll(keepingCapacity: true) }
            table[token] = made
        }
        return made
    }

    /// `hmac-sha256:` and the HMAC of `value` under the audit key. The keyed HMAC state is made
    /// once and copied per value (swift-crypto's `HMAC` is a value type), which spares the key
    /// schedule on each of a batch's thousands of values.
    func mac(_ value: String) -> String {
        var text = value
        var hmac = self.keyedHMAC
        text.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        return "hmac-sha256:" + Hex.encode(hmac.finalize())
    }

    /// Appends one entry; throws when it cannot be written (the caller then refuses the request).
    ///
    /// The line is built outside the lock; only chaining (`"prev"`), hashing and the write hold it.
    func append(_ entry: [String: Any]) throws {
        // One pass: sensitive values are replaced while the line is written.
        var line: [UInt8] = []
        line.reserveCapacity(512)
        line.append(UInt8(ascii: "{"))
        for (field, value) in entry {
            JSONText.write(string: field, into: &line)
            line.append(UInt8(ascii: ":"))
            self.writeRedacted(value, key: field, into: &line)
            line.append(UInt8(ascii: ","))
        }
        line.append(contentsOf: #""time":"#.utf8)
        JSONText.write((Date().timeIntervalSince1970 * 1000).rounded() / 1000, into: &line)
        line.append(contentsOf: #","prev":""#.utf8)
        try self.state.withLock { state in
            var complete = line
            complete.append(contentsOf: state.previous.utf8)
            complete.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
            let digest = Hex.encode(SHA256.hash(data: complete))
            complete.append(0x0A)
            try complete.withUnsafeBytes { try POSIXFile.writeFully(state.fd, $0) }
            state.previous = digest
        }
    }

    /// The hashed form of a token, for logging.
    func tokenHash(_ token: String) -> String {
        (self.redact(token, key: "token") as? String) ?? ""
    }

    /// Checks a log's chain.
    /// - Returns: The number of lines.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` naming the first line that does not
    ///   chain to the one before it.
    public static func verify(path: String) throws -> Int {
        let data = try POSIXFile.readAll(path: path)
        var previous = String(repeating: "0", count: 64)
        var count = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) where !line.isEmpty {
            count += 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                object["prev"] as? String == previous
            else {
                throw BulwarkError(.authenticationFailed, "audit log line \(count) does not chain to the line before it (edited, inserted or deleted)")
            }
            previous = Hex.encode(SHA256.hash(data: line))
        }
        return count
    }
}
