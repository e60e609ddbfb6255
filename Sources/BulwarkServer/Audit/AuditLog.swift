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
/// key unless its field is on ``nonSensitive`` or an endpoint's list of non-sensitive fields; tokens and accessors always are. Objects under
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
    /// The fields whose values are written in clear: ``nonSensitive`` and the endpoints' own.
    let clear: Set<String>
    let tokenMACs = Mutex<[String: String]>([:])
    let keyedHMAC: HMAC<SHA256>
    /// The chain's MAC state, keyed once (copied per line).
    private let chainHMAC: HMAC<SHA256>

    /// Opens (or creates) the log at `path`, continuing its chain.
    /// - Parameters:
    ///   - path: The log file (appended to, mode 0600).
    ///   - key: The HMAC key for sensitive values.
    ///   - synchronous: Sync every write to the disk before confirming it (the default): a line
    ///     the log has confirmed survives a crash or power loss. Syncs run outside the lock, and
    ///     the fast path's on a thread of their own (``commit(_:then:)``).
    ///   - clearFields: Request fields written in clear besides ``nonSensitive`` (the key service
    ///     passes its endpoint table's: each endpoint names its non-sensitive fields).
    public init(path: String, key: SymmetricKey, synchronous: Bool = true, clearFields: Set<String> = []) throws {
        self.path = path
        self.clear = Self.nonSensitive.union(clearFields.subtracting(Self.credentials))
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

    /// The chain's current end, to be kept where an editor of the log cannot reach it (the key
    /// service writes it to its sealed store every second and at shutdown).
    public var checkpoint: Checkpoint {
        self.state.withLock { Checkpoint(next: $0.previous, written: $0.lines) }
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
}
