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
        if regular, let existing = try? POSIXFile.readAll(path: path), let last = existing.split(separator: 0x0A).last {
            previous = Hex.encode(SHA256.hash(data: last))
        }
        self.state = Mutex(State(fd: fd, previous: previous))
        self.key = key
    }

    deinit {
        _ = self.state.withLock { close($0.fd) }
    }

    /// Replaces sensitive values (recursively) by keyed hashes.
    func redact(_ value: Any, key name: String? = nil) -> Any {
        if let name, Self.sensitive.contains(name), !(value is [Any]), !(value is [String: Any]) {
            let text = value as? String ?? "\(value)"
            let mac = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: self.key)
            return "hmac-sha256:" + Hex.encode(mac)
        }
        if let object = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (field, element) in object { out[field] = self.redact(element, key: field) }
            return out
        }
        if let array = value as? [Any] { return array.map { self.redact($0, key: name) } }
        return value
    }

    /// Appends one entry; throws when it cannot be written (the caller then refuses the request).
    func append(_ entry: [String: Any]) throws {
        var record = self.redact(entry) as? [String: Any] ?? [:]
        record["time"] = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        try self.state.withLock { state in
            record["prev"] = state.previous
            let data = try JSONSerialization.data(withJSONObject: record)
            let line = data + Data([0x0A])
            try line.withUnsafeBytes { try POSIXFile.writeFully(state.fd, $0) }
            state.previous = Hex.encode(SHA256.hash(data: data))
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
