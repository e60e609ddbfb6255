import Bulwark
import BulwarkKeystore
public import Crypto
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The audit log: one JSON line per request and one per response, each chained to the previous
/// line by a keyed MAC (`"prev":"k1:<HMAC-SHA256 of the previous line>"` under a key derived from
/// the audit key, which lives in the sealed store), so whoever can edit the file cannot recompute
/// the chain. ``verify(paths:key:checkpoint:)`` finds an edited, inserted or deleted line, and a cut
/// tail against a ``Checkpoint`` kept elsewhere (the key service keeps one in its store).
///
/// Hash by default: every string value of a request or response, at any depth (batch items,
/// `auth` blocks, `data`, per-item errors), is replaced by `hmac-sha256:` + an HMAC under the audit
/// key unless its field is on ``nonSensitive``; tokens and accessors always are. Objects under
/// any field but the structural ones (``containers``) are hashed whole, so their field names
/// never appear either. Equal values still correlate. Error texts are hashed unless they are
/// compile-time constants (``AuditError``). When a line cannot be written the request is refused
/// (fail closed).
public final class AuditLog: Sendable {
    private struct State {
        var fd: Int32
        var previous: String
        var opened: Date
        var lines: Int
        /// Commits written so far (a commit's ticket is this count after its write).
        var commits: UInt64 = 0
    }

    /// The active log file; closed segments sit beside it as `PATH.<yyyyMMddTHHmmssZ>`.
    public let path: String

    private let state: Mutex<State>
    private let synchronous: Bool
    /// Answers waiting for a sync of the lines they need (``commit(_:then:)``), and whether the
    /// sync thread runs.
    private struct Syncing {
        var waiters: [(ticket: UInt64, done: @Sendable (Bool) -> Void)] = []
        var running = false
    }
    private let syncing = Mutex(Syncing())
    /// Syncs the log off the event loops: a sync covers every commit written before it began.
    private let syncQueue = DispatchQueue(label: "bulwark.audit.sync", qos: .userInitiated)
    let key: SymmetricKey
    private let tokenMACs = Mutex<[String: String]>([:])
    private let keyedHMAC: HMAC<SHA256>
    /// The chain's MAC state, keyed once (copied per line).
    private let chainHMAC: HMAC<SHA256>
    /// The fields whose string values are written in clear: names, types, versions, policy
    /// names, capabilities, algorithms, formats, statuses and times. Everything else is hashed.
    static let nonSensitive: Set<String> = [
        // The line itself.
        "type", "path", "method", "status", "previous_segment", "reason",
        // Keys and their configuration.
        "name", "keys", "key_version", "latest_version", "min_decryption_version", "min_encryption_version",
        "min_available_version", "auto_rotate_period", "algorithm", "hash_algorithm", "signature_algorithm",
        "marshaling_algorithm", "format", "encode_format", "decode_format", "segment",
        // Policies and token properties (never the token or its accessor).
        "policies", "token_policies", "capabilities", "ttl", "explicit_max_ttl", "period", "creation_time", "expire_time",
        // Transform configuration names.
        "transformation", "transformations", "template", "templates", "allowed_roles", "stores", "mapping_mode",
        "tweak_source", "luhn",
        // Operator tools' lines (`bulwark subject erase`, `bulwark db decrypt`, retention).
        "operation", "table", "column", "class", "count", "versions_destroyed",
    ]

    /// Fields whose number values are written in clear besides ``nonSensitive``: statuses,
    /// counts, sizes, versions and key settings.
    static let numericNonSensitive: Set<String> = [
        "bits", "bytes", "lease_duration", "num_uses", "versions_destroyed", "key_size", "server_time_utc", "unreadable_entries", "manifest_mismatches",
        "preserve_prefix", "preserve_suffix", "max_ttl",
    ]

    /// Whether a field name is a version number (the entries of a key's `keys` map).
    private static func isVersionNumber(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 10 && name.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Fields whose object values are walked (their field names written, their values redacted);
    /// an object under any other field is hashed whole.
    static let containers: Set<String> = ["request", "response", "data", "auth", "__auth", "batch_input", "batch_results", "keys"]

    /// Fields that hold credentials: always hashed, whatever else holds.
    static let credentials: Set<String> = ["token", "client_token", "accessor"]

    /// Opens (or creates) the log at `path`, continuing its chain.
    /// - Parameters:
    ///   - path: The log file (appended to, mode 0600).
    ///   - key: The HMAC key for sensitive values.
    ///   - synchronous: Sync every write to the disk before confirming it (the default): a line
    ///     the log has confirmed survives a crash or power loss. Syncs run outside the lock, and
    ///     the fast path's on a thread of their own (``commit(_:then:)``).
    public init(path: String, key: SymmetricKey, synchronous: Bool = true) throws {
        self.path = path
        self.synchronous = synchronous
        self.key = key
        self.keyedHMAC = HMAC<SHA256>(key: key)
        let chainHMAC = HMAC<SHA256>(key: Self.chainKey(key))
        self.chainHMAC = chainHMAC
        let (fd, previous, opened, needsHeader) = try Self.openActive(path: path, chain: chainHMAC)
        self.state = Mutex(State(fd: fd, previous: previous, opened: opened, lines: 0))
        if let segment = needsHeader {
            // A rotation was cut short after the rename: chain the new file to the last segment.
            try self.append(["type": "segment", "previous_segment": segment])
        }
    }

    /// The key of the chain's MAC, derived from the audit key (so the value hashes and the chain
    /// never share a key).
    static func chainKey(_ key: SymmetricKey) -> SymmetricKey {
        SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("bulwark audit chain v1".utf8), using: key))
    }

    /// The `prev` of the line after `line` (`nil`: the first line of a log).
    static func link(after line: some DataProtocol, chain: HMAC<SHA256>) -> String {
        var mac = chain
        mac.update(data: line)
        return "k1:" + Hex.encode(mac.finalize())
    }

    /// The `prev` of a log's very first line: the MAC of nothing, so a log whose head was cut off
    /// does not verify (unless it starts with a segment header, the mark of retention's removal).
    static func genesis(chain: HMAC<SHA256>) -> String {
        Self.link(after: [UInt8](), chain: chain)
    }

    /// Opens the active file and finds the link its next line carries: the MAC of its own last
    /// line, or, for an empty file, of the newest segment's last line (then a header line must be
    /// written).
    private static func openActive(path: String, chain: HMAC<SHA256>) throws -> (Int32, String, Date, String?) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open the audit log \(path): \(String(cString: strerror(errno)))")
        }
        let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        guard attributes[.type] as? FileAttributeType == .typeRegular else { return (fd, Self.genesis(chain: chain), Date(), nil) }
        let size = attributes[.size] as? Int ?? 0
        if size > 0 {
            guard let last = Self.lastLine(path: path, size: size) else {
                close(fd)
                throw BulwarkError(.ioFailure, "cannot read the end of the audit log \(path) to continue its chain")
            }
            return (fd, Self.link(after: last, chain: chain), Self.firstLineTime(path: path) ?? Date(), nil)
        }
        if let newest = Self.segments(of: path).last, let size = try? FileManager.default.attributesOfItem(atPath: newest.path)[.size] as? Int,
            size > 0, let last = Self.lastLine(path: newest.path, size: size)
        {
            return (fd, Self.link(after: last, chain: chain), Date(), URL(fileURLWithPath: newest.path).lastPathComponent)
        }
        return (fd, Self.genesis(chain: chain), Date(), nil)
    }

    /// The `time` of a log's first line.
    static func firstLineTime(path: String) -> Date? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 64 * 1024), let end = head.firstIndex(of: 0x0A),
            let object = try? JSONSerialization.jsonObject(with: head[head.startIndex..<end]) as? [String: Any],
            let time = object["time"] as? Double
        else { return nil }
        return Date(timeIntervalSince1970: time)
    }

    /// A closed segment of the log.
    public struct Segment: Sendable, Hashable {
        /// Its file.
        public let path: String
        /// When it was closed (its newest line is no later).
        public let closed: Date
    }

    static let stampFormat: Date.ISO8601FormatStyle = .iso8601.year().month().day().dateSeparator(.omitted)
        .time(includingFractionalSeconds: true).timeSeparator(.omitted).timeZone(separator: .omitted)

    /// The closed segments beside `path`, oldest first.
    public static func segments(of path: String) -> [Segment] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Segment? in
            guard name.hasPrefix(prefix), let closed = try? Date(String(name.dropFirst(prefix.count)), strategy: Self.stampFormat) else {
                return nil
            }
            return Segment(path: directory + "/" + name, closed: closed)
        }.sorted { $0.closed < $1.closed }
    }

    /// When the active file was started (or last found non-empty on opening).
    public var activeSince: Date { self.state.withLock { $0.opened } }

    /// Closes the active file as a segment `PATH.<stamp>` and starts a new one whose first line
    /// chains to the segment's last, so the chain runs across files.
    /// - Returns: The closed segment.
    @discardableResult
    public func rotate(now: Date = Date()) throws -> Segment {
        var closed = now
        while FileManager.default.fileExists(atPath: self.path + "." + closed.formatted(Self.stampFormat)) {
            closed = closed.addingTimeInterval(0.001)
        }
        let segment = Segment(path: self.path + "." + closed.formatted(Self.stampFormat), closed: closed)
        try self.state.withLock { state in
            guard rename(self.path, segment.path) == 0 else {
                throw BulwarkError(.ioFailure, "cannot rotate the audit log: \(String(cString: strerror(errno)))")
            }
            let fd = open(self.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw BulwarkError(.ioFailure, "cannot open a new audit log segment: \(String(cString: strerror(errno)))")
            }
            // What the old file holds is synced before it is closed (a sync under way holds its own
            // descriptor of it).
            if self.synchronous { _ = fdatasync(state.fd) }
            close(state.fd)
            state.fd = fd
            state.opened = now
        }
        try self.append(["type": "segment", "previous_segment": URL(fileURLWithPath: segment.path).lastPathComponent])
        return segment
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

    /// Writes `value` as JSON, hashing every string whose field is not on ``nonSensitive`` and
    /// every object outside ``containers`` (see the type's documentation).
    func writeRedacted(_ value: Any, key name: String?, into out: inout [UInt8]) {
        // Strings first: most values are, and each failed cast to a collection below costs.
        if let text = value as? String {
            self.writeRedacted(string: text, key: name, into: &out)
        } else if let object = value as? [String: Any] {
            if let name, !Self.containers.contains(name) {
                JSONText.write(string: self.mac(String(decoding: JSONText.encode(value), as: UTF8.self)), into: &out)
            } else {
                JSONText.write(object: object, into: &out) { field, element, out in self.writeRedacted(element, key: field, into: &out) }
            }
        } else if let array = value as? [Any] {
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                self.writeRedacted(element, key: name, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else if value is NSNull || RequestValues.isBoolean(value) {
            JSONText.write(value, into: &out)
        } else if value is Int || value is Double {
            // A number is data too (a card number sent as a JSON number): hashed unless its field is
            // allowlisted or it is a version map's entry (field "1", "2", …).
            var text: [UInt8] = []
            JSONText.write(value, into: &text)
            self.writeRedacted(number: text, key: name, into: &out)
        } else {
            // Anything else (a number type JSON does not produce, say) is hashed as text.
            self.writeMAC(String(describing: value), into: &out)
        }
    }

    /// Writes a string value as ``writeRedacted(_:key:into:)`` does: a credential's keyed hash,
    /// an allowlisted field's text, or any other field's keyed hash.
    func writeRedacted(string text: String, key name: String?, into out: inout [UInt8]) {
        if let name, Self.credentials.contains(name) {
            JSONText.write(string: self.tokenMAC(text), into: &out)
        } else if let name, Self.nonSensitive.contains(name) {
            JSONText.write(string: text, into: &out)
        } else {
            self.writeMAC(text, into: &out)
        }
    }

    /// Writes a number (given as its JSON text) as ``writeRedacted(_:key:into:)`` does: in clear
    /// for an allowlisted field or a version map's entry (field "1", "2", …), else its keyed hash
    /// (a card number sent as a JSON number is data too).
    private func writeRedacted(number text: [UInt8], key name: String?, into out: inout [UInt8]) {
        if let name, Self.nonSensitive.contains(name) || Self.numericNonSensitive.contains(name) || Self.isVersionNumber(name) {
            out.append(contentsOf: text)
        } else {
            self.writeMAC(String(decoding: text, as: UTF8.self), into: &out)
        }
    }

    /// Writes a decoded scalar as ``writeRedacted(_:key:into:)`` writes the same value.
    func writeRedacted(_ value: FlatJSONObject.Value, key name: String, into out: inout [UInt8]) {
        switch value {
        case .string(let text): self.writeRedacted(string: text, key: name, into: &out)
        case .integer(let number): self.writeRedacted(number: Array(String(number).utf8), key: name, into: &out)
        case .boolean(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        }
    }

    /// Writes an object of decoded scalars, each value as ``writeRedacted(_:key:into:)`` would.
    func writeRedacted(fields: some Sequence<(name: String, value: FlatJSONObject.Value)>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, value) in fields {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONText.write(string: name, into: &out)
            out.append(UInt8(ascii: ":"))
            self.writeRedacted(value, key: name, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Writes a bounded line for a request refused before authentication (a malformed target, an
    /// unsupported method, a missing or unknown token): the method if it is one the service
    /// knows, the first 96 bytes of the target's path (never its query) and the keyed hash of all of it, the status and a
    /// constant reason. Such lines cannot be made long, whatever the caller sends.
    /// - Returns: False when the line could not be written.
    @discardableResult
    func refusal(method: String, target: String, status: Int, reason: StaticString, token: String? = nil) -> Bool {
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line.append(contentsOf: #"{"type":"refusal","method":"#.utf8)
        JSONText.write(string: Self.knownMethods.contains(method) ? method : "other", into: &line)
        line.append(contentsOf: #","path":"#.utf8)
        let path = target.utf8.prefix { $0 != UInt8(ascii: "?") }.prefix(96)
        JSONText.write(string: String(decoding: path, as: UTF8.self), into: &line)
        line.append(contentsOf: #","path_hmac":"#.utf8)
        self.writeMAC(target, into: &line)
        if let token {
            line.append(contentsOf: #","token":"#.utf8)
            JSONText.write(string: self.tokenMAC(token), into: &line)
        }
        line.append(contentsOf: #","status":"#.utf8)
        line.append(contentsOf: String(status).utf8)
        line.append(contentsOf: #","reason":"#.utf8)
        JSONText.write(string: reason.description, into: &line)
        line.append(UInt8(ascii: ","))
        Self.endLine(&line)
        do {
            try self.commit([line])
            return true
        } catch {
            return false
        }
    }

    private static let knownMethods: Set<String> = ["GET", "PUT", "POST", "DELETE", "LIST", "HEAD", "OPTIONS", "PATCH"]

    /// Tokens recur on every request: their keyed hashes are remembered (a bounded table).
    private func tokenMAC(_ token: String) -> String {
        // Only token-sized strings are remembered: a caller sending huge junk tokens fills nothing.
        guard token.utf8.count <= 128 else { return self.mac(token) }
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
        var out: [UInt8] = []
        out.reserveCapacity(78)
        self.writeMAC(value, into: &out)
        return String(decoding: out.dropFirst().dropLast(), as: UTF8.self)
    }

    private static let macPrefix = Array(#""hmac-sha256:"#.utf8)

    /// Appends `"hmac-sha256:<hex>"` (a JSON string, quotes included) for `value`.
    func writeMAC(_ value: String, into out: inout [UInt8]) {
        var text = value
        var hmac = self.keyedHMAC
        text.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        out.append(contentsOf: Self.macPrefix)
        let code = hmac.finalize()
        code.withUnsafeBytes { bytes in
            // 64 hex digits and the closing quote, written into the reserved space at once.
            let start = out.count
            out.append(contentsOf: repeatElement(UInt8(ascii: "\""), count: 65))
            out.withUnsafeMutableBufferPointer { buffer in
                for (index, byte) in bytes.enumerated() {
                    buffer[start + 2 * index] = Hex.digits[Int(byte >> 4)]
                    buffer[start + 2 * index + 1] = Hex.digits[Int(byte & 0x0F)]
                }
            }
        }
    }

    /// Appends one entry; throws when it cannot be written (the caller then refuses the request).
    ///
    /// The line is built outside the lock; only chaining (`"prev"`), hashing and the write hold it.
    public func append(_ entry: [String: Any]) throws {
        try self.append(entry, error: nil)
    }

    /// Appends one entry with an error text (see ``AuditError``).
    func append(_ entry: [String: Any], error: AuditError?) throws {
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
        if let error {
            line.append(contentsOf: #""error":"#.utf8)
            self.write(error, into: &line)
            line.append(UInt8(ascii: ","))
        }
        Self.endLine(&line)
        try self.commit([line])
    }

    /// The lines of a request's entry and its response's entry, not yet chained: ``commit(_:)``
    /// writes them (with other exchanges' lines, in one write).
    ///
    /// For operations whose only effect is their answer (encrypt, decrypt): the answer leaves
    /// only after both lines are written, so the log is as fail-closed as with a write before the
    /// operation. The lines are the ones ``append(_:)`` would write for
    /// `["type": "request", …, "request": request]` and
    /// `["type": "response", …, "status": status, "response": response, "error": error]`.
    func exchangeLines(
        path: String, method: String, token: String, request: [String: Any], status: Int, response: [String: Any], error: AuditError?
    ) -> [[UInt8]] {
        self.exchangeLines(
            path: path, method: method, token: token, status: status, error: error,
            request: { self.writeRedacted(request, key: "request", into: &$0) },
            response: { self.writeRedacted(response, key: "response", into: &$0) })
    }

    /// The lines of an exchange whose request and response objects `request` and `response`
    /// write (redacted as ``writeRedacted(_:key:into:)`` redacts them).
    func exchangeLines(
        path: String, method: String, token: String, status: Int, error: AuditError?,
        request: (inout [UInt8]) -> Void, response: (inout [UInt8]) -> Void
    ) -> [[UInt8]] {
        var first = self.lineStart(type: "request", path: path, method: method, token: token)
        first.append(contentsOf: #""request":"#.utf8)
        request(&first)
        first.append(UInt8(ascii: ","))
        Self.endLine(&first)
        var second = self.lineStart(type: "response", path: path, method: method, token: token)
        second.append(contentsOf: #""status":"#.utf8)
        second.append(contentsOf: String(status).utf8)
        second.append(contentsOf: #","response":"#.utf8)
        response(&second)
        second.append(UInt8(ascii: ","))
        if let error {
            second.append(contentsOf: #""error":"#.utf8)
            self.write(error, into: &second)
            second.append(UInt8(ascii: ","))
        }
        Self.endLine(&second)
        return [first, second]
    }

    /// `{"type":…,"path":…,"method":…,"token":…,` with the token as its keyed hash.
    private func lineStart(type: String, path: String, method: String, token: String) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(512)
        line.append(contentsOf: #"{"type":"#.utf8)
        JSONText.write(string: type, into: &line)
        line.append(contentsOf: #","path":"#.utf8)
        JSONText.write(string: path, into: &line)
        line.append(contentsOf: #","method":"#.utf8)
        JSONText.write(string: method, into: &line)
        line.append(contentsOf: #","token":"#.utf8)
        JSONText.write(string: self.tokenMAC(token), into: &line)
        line.append(UInt8(ascii: ","))
        return line
    }

    /// Writes an error text: a constant as it is, any other text as its keyed hash.
    func write(_ error: AuditError, into out: inout [UInt8]) {
        switch error {
        case .fixed(let text): JSONText.write(string: text.description, into: &out)
        case .text(let text): self.writeMAC(text, into: &out)
        }
    }

    /// Appends the `time` field and the opening of `prev`, which ``commit(_:)`` completes.
    private static func endLine(_ line: inout [UInt8]) {
        line.append(contentsOf: #""time":"#.utf8)
        JSONText.write((Date().timeIntervalSince1970 * 1000).rounded() / 1000, into: &line)
        line.append(contentsOf: #","prev":""#.utf8)
    }

    /// Chains the lines (each ends open at `"prev":"`, as ``exchangeLines(path:method:token:request:status:response:error:)``
    /// makes them) to the log, writes them all with one system call and syncs them to the disk
    /// before returning. The lock covers chaining and the write only: writers on other threads
    /// go on while this one waits for the disk.
    func commit(_ lines: [[UInt8]]) throws {
        guard let (_, fd) = try self.write(lines, keepDescriptor: self.synchronous), self.synchronous else { return }
        defer { close(fd) }
        guard Self.sync(fd) else {
            throw BulwarkError(.ioFailure, "cannot sync the audit log: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes the lines as ``commit(_:)`` does, without waiting for the disk here: `done` runs
    /// (on the log's sync thread) once a sync that began after the write has finished, with
    /// whether the lines are durable. Syncs are shared: one covers every commit written before it
    /// (group commit), and no event loop waits for the disk.
    func commit(_ lines: [[UInt8]], then done: @escaping @Sendable (Bool) -> Void) {
        let ticket: UInt64
        do {
            guard let (written, _) = try self.write(lines, keepDescriptor: false) else { return done(true) }
            ticket = written
        } catch {
            return done(false)
        }
        guard self.synchronous else { return done(true) }
        let start = self.syncing.withLock { syncing -> Bool in
            syncing.waiters.append((ticket, done))
            guard !syncing.running else { return false }
            syncing.running = true
            return true
        }
        if start { self.syncQueue.async { self.syncWaiters() } }
    }

    /// Syncs until no commit waits: each round syncs what was written when it began and answers
    /// the commits it covers.
    private func syncWaiters() {
        while true {
            let (covered, fd) = self.state.withLock { ($0.commits, dup($0.fd)) }
            let synced = fd >= 0 && Self.sync(fd)
            if fd >= 0 { close(fd) }
            let (ready, more) = self.syncing.withLock { syncing -> ([(ticket: UInt64, done: @Sendable (Bool) -> Void)], Bool) in
                let ready = syncing.waiters.filter { $0.ticket <= covered }
                syncing.waiters.removeAll { $0.ticket <= covered }
                if syncing.waiters.isEmpty { syncing.running = false }
                return (ready, !syncing.waiters.isEmpty)
            }
            for waiter in ready { waiter.done(synced) }
            if !more { return }
        }
    }

    /// Syncs a descriptor's data; a device that cannot sync (a pipe, /dev/null) is not a failure.
    private static func sync(_ fd: Int32) -> Bool {
        fdatasync(fd) == 0 || errno == EINVAL || errno == EROFS
    }

    /// Chains and writes the lines under the lock.
    /// - Returns: The commit's ticket and, if asked, a duplicate of the descriptor written to
    ///   (the caller closes it); nil for no lines.
    private func write(_ lines: [[UInt8]], keepDescriptor: Bool) throws -> (UInt64, Int32)? {
        guard !lines.isEmpty else { return nil }
        return try self.state.withLock { state in
            var out: [UInt8] = []
            out.reserveCapacity(lines.reduce(0) { $0 + $1.count + 71 })
            var previous = state.previous
            for line in lines {
                let start = out.count
                out.append(contentsOf: line)
                out.append(contentsOf: previous.utf8)
                out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: "}")])
                previous = out.withUnsafeBytes { Self.link(after: UnsafeRawBufferPointer(rebasing: $0[start...]), chain: self.chainHMAC) }
                out.append(0x0A)
            }
            try out.withUnsafeBytes { try POSIXFile.writeFully(state.fd, $0) }
            state.previous = previous
            state.lines += lines.count
            state.commits &+= 1
            let fd = keepDescriptor ? dup(state.fd) : -1
            if keepDescriptor, fd < 0 {
                throw BulwarkError(.ioFailure, "cannot sync the audit log: \(String(cString: strerror(errno)))")
            }
            return (state.commits, fd)
        }
    }

    /// Where the chain stands: what a verifier must find in it later.
    public struct Checkpoint: Sendable, Hashable, Codable {
        /// The link the next line will carry (the MAC of the last line written).
        public var next: String
        /// Lines written by this process so far (a change marker, not a position in the file).
        public var written: Int
    }

    /// The chain's current end, to be kept where an editor of the log cannot reach it (the key
    /// service writes it to its sealed store every second and at shutdown).
    public var checkpoint: Checkpoint {
        self.state.withLock { Checkpoint(next: $0.previous, written: $0.lines) }
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

/// The error text of an audit line. A compile-time constant cannot quote a request, so it is
/// written as it is; any other text (a backend's message, which may quote input) is hashed.
enum AuditError: Sendable {
    /// A constant message, written in clear.
    case fixed(StaticString)
    /// Any other message, written as its keyed hash.
    case text(String)
}
