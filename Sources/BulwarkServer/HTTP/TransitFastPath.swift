import Bulwark
import HTTPTypes
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves the data-plane calls applications make once per record — `POST`/`PUT`
/// `/v1/transit/encrypt/:name` and `/v1/transit/decrypt/:name` — straight from the connection's
/// pipeline, without the hops of Hummingbird's per-connection task (measured on this machine: a
/// static answer costs 24 µs of server CPU here against 46 µs through the router). It sits just
/// after SwiftNIO's HTTP/1 codec, before Hummingbird's conversion to HTTP types, and passes every
/// part it does not answer on unchanged.
///
/// The request goes through exactly the steps the router's handler takes, in
/// ``TransitRoutes``: token and policy check, rate limit, body limit, JSON and unknown-field
/// checks, the operation, the same JSON and headers. Encrypt and decrypt have no effect besides
/// their answer, so their request and response audit lines are written together, with those of
/// the other answers of the same event-loop turn (``AuditBatch``), before any of the answers
/// leaves; a failed write turns them all into refusals (fail closed). While an answer waits,
/// later requests on the connection wait behind it. Anything else — another path, a query string,
/// `Connection: close`, an `encrypt` that would create its key, or any request while an earlier
/// one on the connection is still being answered by the router (so answers stay in order) —
/// is passed on to the router untouched.
final class TransitFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The calls served here.
    /// The operations the fast path serves (an endpoint's ``Endpoint/fastPath``).
    enum Operation: String, Sendable {
        case encrypt
        case decrypt
    }

    private struct Candidate {
        let head: HTTPRequestHead
        let target: RequestTarget
        let operation: Operation
        /// The endpoint in the table: its fields and metrics label.
        let endpoint: Endpoint
        let name: String
        /// Decided on the head, before any of the body is read: the admitted call, or the
        /// (already audited) refusal to send once the body has been read past.
        let admission: TransitRoutes.Admission
        var body: ByteBuffer?

        /// The same request, now refused with `reply` (already audited).
        func refused(_ reply: TransitRoutes.Reply) -> Candidate {
            Candidate(head: self.head, target: self.target, operation: self.operation, endpoint: self.endpoint, name: self.name, admission: .refused(reply), body: nil)
        }
    }

    private enum State {
        /// Between requests.
        case idle
        /// Collecting a request this handler may answer.
        case collecting(Candidate)
        /// Passing the current request on to the router.
        case forwarding
    }

    private let routes: TransitRoutes
    private let mutualTLS: Bool
    private let batches: AuditBatches
    private var batch: AuditBatch?
    private var state = State.idle
    /// Requests passed to the router (counted from their head) whose answer has not been
    /// written yet.
    private var routerRequests = 0
    /// Answers waiting in the ``AuditBatch`` for their audit lines.
    private var waitingAnswers = 0
    /// Parts read while an answer waits: read again, in order, once it is sent.
    private var held: [NIOAny] = []
    /// The end of the client's input, seen while parts were held: passed on after them.
    private var heldInputClosed = false
    private var date = HTTPDate()
    private var flushScheduled = false

    init(routes: TransitRoutes, mutualTLS: Bool, batches: AuditBatches) {
        self.routes = routes
        self.mutualTLS = mutualTLS
        self.batches = batches
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.batch = self.batches.batch(on: context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing overtakes an answer still waiting for its audit lines.
        guard self.waitingAnswers == 0, self.held.isEmpty else {
            self.held.append(data)
            return
        }
        self.read(context: context, data: data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent, self.waitingAnswers > 0 || !self.held.isEmpty {
            self.heldInputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func read(context: ChannelHandlerContext, data: NIOAny) {
        switch (Self.unwrapInboundIn(data), self.state) {
        case (.head(let head), _):
            if self.routerRequests == 0, let candidate = self.candidate(head, context: context) {
                self.state = .collecting(candidate)
            } else {
                self.state = .forwarding
                self.routerRequests += 1
                context.fireChannelRead(data)
            }
        case (.body(var part), .collecting(var candidate)):
            // A request refused on its head is read past, never buffered.
            guard case .admitted(let call) = candidate.admission else { return }
            let size = (candidate.body?.readableBytes ?? 0) + part.readableBytes
            guard size <= self.routes.options.maximumBodyBytes else {
                // Over the limit: refused as the router refuses it (413, audited); the rest is read past.
                self.state = .collecting(candidate.refused(self.routes.tooLarge(call)))
                return
            }
            if candidate.body == nil {
                candidate.body = part
            } else {
                candidate.body!.writeBuffer(&part)
            }
            self.state = .collecting(candidate)
        case (.end, .collecting(let candidate)):
            self.state = .idle
            self.answer(candidate, context: context)
        case (.end, _):
            self.state = .idle
            context.fireChannelRead(data)
        case (.body, _):
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = Self.unwrapOutboundIn(data), self.routerRequests > 0 { self.routerRequests -= 1 }
        context.write(data, promise: promise)
    }

    /// Whether the request is one this handler serves: `POST`/`PUT` to
    /// `/v1/transit/{encrypt,decrypt}/NAME` as ``RequestTarget`` accepts it, no query, connection
    /// kept open, a declared body size within the limit, and for encrypt an existing key (Vault
    /// creates the key on first encrypt: a store write, left to the router). Such a request is
    /// admitted (token, policy, rate limit) here, on its head.
    private func candidate(_ head: HTTPRequestHead, context: ChannelHandlerContext) -> Candidate? {
        guard head.method == .POST || head.method == .PUT, head.isKeepAlive else { return nil }
        if head.headers.contains(name: "Connection") || head.headers.contains(name: "Expect") { return nil }
        if let length = head.headers.first(name: "Content-Length"), (Int(length) ?? .max) > self.routes.options.maximumBodyBytes {
            return nil
        }
        guard !head.uri.utf8.contains(UInt8(ascii: "?")), let target = try? RequestTarget.parse(method: head.method.rawValue, target: head.uri)
        else { return nil }
        // The table's fast-path endpoints (encrypt and decrypt), each a prefix and then `:name`.
        let path = target.path
        guard let (prefix, endpoint) = self.routes.endpoints.fastPaths.first(where: { path.hasPrefix($0.prefix) }),
            let operation = endpoint.fastPath
        else { return nil }
        let name = path.utf8.dropFirst(prefix.utf8.count)
        guard !name.isEmpty, !name.contains(UInt8(ascii: "/")), let name = String(name) else { return nil }
        // Vault creates the key on first encrypt (a store write), and reserving encryptions is one
        // too: both are the router's business.
        if operation == .encrypt, !self.routes.backend.canEncryptWithoutReserving(name) { return nil }
        if !self.routes.backend.fastPathMayTake(name) { return nil }
        let subject = self.mutualTLS ? ClientIdentities.shared.subject(for: context.channel) : nil
        let admission = self.routes.admit(
            target: target, token: Self.token(head.headers), clientSubject: subject, client: context.channel.remoteAddress?.ipAddress,
            selfService: false)
        // A limited-use token's use is counted in the store: the router's business.
        if case .admitted(let call) = admission, case .token(_, let record) = call.principal, record.usesLeft != nil { return nil }
        return Candidate(head: head, target: target, operation: operation, endpoint: endpoint, name: name, admission: admission, body: nil)
    }

    /// Runs the request through ``TransitRoutes``' steps and sends the answer: at once for a
    /// refusal (already audited), or once the exchange's audit lines are written.
    private func answer(_ candidate: Candidate, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        switch self.outcome(candidate, context: context) {
        case .refused(let reply):
            self.send(reply, for: candidate, since: start, context: context)
            self.flushAfterThisTick(context: context)
        case .exchange(let reply, let lines):
            guard let batch = self.batch else { return }
            self.waitingAnswers += 1
            batch.add(lines) { written in
                self.waitingAnswers -= 1
                self.send(written ? reply : self.routes.auditRefusal(), for: candidate, since: start, context: context)
                context.flush()
                self.release(context: context)
            }
        }
    }

    private func send(_ reply: TransitRoutes.Reply, for candidate: Candidate, since start: ContinuousClock.Instant, context: ChannelHandlerContext) {
        self.routes.record(candidate.endpoint.label, key: candidate.name, status: reply.status, since: start)
        self.routes.metrics.fastPathAnswer()
        var headers = Self.headers
        headers.add(name: "Content-Length", value: String(reply.body?.readableBytes ?? 0))
        headers.add(name: "Date", value: self.date.now())
        let status = HTTPResponseStatus(statusCode: Int(reply.status.code))
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: candidate.head.version, status: status, headers: headers))), promise: nil)
        if let body = reply.body { context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(Self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Reads the parts held while an answer waited, until one of them waits in turn.
    private func release(context: ChannelHandlerContext) {
        if !self.held.isEmpty {
            while self.waitingAnswers == 0, !self.held.isEmpty {
                self.read(context: context, data: self.held.removeFirst())
            }
            // Outside a read cycle: what was passed on reaches the router on read-complete.
            context.fireChannelReadComplete()
        }
        if self.heldInputClosed, self.waitingAnswers == 0, self.held.isEmpty {
            self.heldInputClosed = false
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    /// Flushes once the event loop has read every connection that was ready, as the router's
    /// tasks do: answers leave in a burst, and the client's side wakes once for several of them.
    private func flushAfterThisTick(context: ChannelHandlerContext) {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }

    private enum Outcome {
        /// Refused before the operation (token, policy, rate, JSON, fields): audited already.
        case refused(TransitRoutes.Reply)
        /// The operation's answer and the exchange's audit lines, still to be written.
        case exchange(TransitRoutes.Reply, [[UInt8]])
    }

    private func outcome(_ candidate: Candidate, context: ChannelHandlerContext) -> Outcome {
        let call: TransitRoutes.Call
        switch candidate.admission {
        case .refused(let reply): return .refused(reply)
        case .admitted(let admitted): call = admitted
        }
        if let (reply, lines) = self.typedExchange(candidate, call) {
            self.routes.metrics.typedAnswer()
            return .exchange(reply, lines)
        }
        let body: [String: Any]
        switch self.routes.begin(call, body: candidate.body ?? ByteBuffer(), fields: candidate.endpoint.fields, auditNow: false) {
        case .refused(let reply): return .refused(reply)
        case .ready(let parsed): body = parsed
        }
        let result: Result<[String: Any], any Error>
        do {
            let backend = self.routes.backend
            // The key was checked when the head arrived; one made since as a public-key (hpke,
            // RSA) key must not have its private-key work done here, on the event loop.
            guard backend.fastPathMayTake(candidate.name) else {
                throw BulwarkError(.unavailable, "the key changed while the request was read: retry")
            }
            switch candidate.operation {
            case .encrypt:
                result = .success(try AnswerEncoder.encode(try backend.encryptExisting(candidate.name, RequestDecoder.decode(TransitBackend.EncryptRequest.self, from: body))))
            case .decrypt:
                result = .success(try AnswerEncoder.encode(try backend.decrypt(candidate.name, RequestDecoder.decode(TransitBackend.DecryptRequest.self, from: body))))
            }
        } catch {
            result = .failure(error)
        }
        let (reply, lines) = self.routes.exchange(call, request: body, result)
        return .exchange(reply, lines)
    }
}

extension TransitFastPath {
    /// The fields of a single-item call taken typed (``FlatJSONObject``).
    private static let typedFields: (encrypt: Set<String>, decrypt: Set<String>) = (
        ["plaintext", "associated_data", "key_version"], ["ciphertext", "associated_data"]
    )

    /// A string field of a typed call: `.some(nil)` when absent or `null`, nil for any other type.
    private static func text(_ value: FlatJSONObject.Value?) -> String?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return .some(text)
        default: return nil
        }
    }

    /// Answers an encrypt or decrypt in its common shape (one item, or `{"batch_input":[…]}` of
    /// such items) typed, without Foundation's JSON or `[String: Any]`: the same answer and audit
    /// lines as the general steps, which take every other request — and every request that fails
    /// here, so errors (and per-item errors) are always theirs.
    private func typedExchange(_ candidate: Candidate, _ call: TransitRoutes.Call) -> (TransitRoutes.Reply, [[UInt8]])? {
        guard let body = candidate.body, body.readableBytes > 0 else { return nil }
        let items: [FlatJSONObject]
        let batch: Bool
        if let single = body.withUnsafeReadableBytes({ FlatJSONObject($0) }) {
            (items, batch) = ([single], false)
        } else if let many = body.withUnsafeReadableBytes({ FlatJSONObject.batch($0, maximumItems: TransitBackend.maximumBatch) }) {
            (items, batch) = (many, true)
        } else {
            return nil
        }
        let results: [TypedBody.Fields]
        switch candidate.operation {
        case .encrypt:
            var plain: [TransitBackend.PlainItem] = []
            plain.reserveCapacity(items.count)
            for item in items {
                guard item.only(Self.typedFields.encrypt), case .string(let plaintext)? = item["plaintext"],
                    let associatedData = Self.text(item["associated_data"])
                else { return nil }
                let keyVersion: Int?
                switch item["key_version"] {
                case nil, .null?: keyVersion = nil
                case .integer(let number)?: keyVersion = number
                default: return nil
                }
                plain.append(.init(plaintext: plaintext, associatedData: associatedData, keyVersion: keyVersion))
            }
            guard let sealed = try? self.routes.backend.encryptTyped(candidate.name, plain) else { return nil }
            results = sealed.map { [("ciphertext", .string($0.ciphertext)), ("key_version", .integer(Int($0.version)))] }
        case .decrypt:
            var sealed: [(ciphertext: String, associatedData: String?)] = []
            sealed.reserveCapacity(items.count)
            for item in items {
                guard item.only(Self.typedFields.decrypt), case .string(let ciphertext)? = item["ciphertext"],
                    let associatedData = Self.text(item["associated_data"])
                else { return nil }
                sealed.append((ciphertext, associatedData))
            }
            guard let plaintexts = try? self.routes.backend.decryptTyped(candidate.name, sealed) else { return nil }
            results = plaintexts.map { [("plaintext", .string($0))] }
        }
        if batch {
            return self.routes.exchange(
                call, request: .batch(name: "batch_input", items: items.map(\.fields)), response: .batch(name: "batch_results", items: results))
        }
        return self.routes.exchange(call, request: .fields(items[0].fields), response: .fields(results[0]))
    }

    /// ``TransitRoutes/headers()`` as SwiftNIO's HTTP/1 headers.
    static let headers = HTTPHeaders(TransitRoutes.headers().map { ($0.name.rawName, $0.value) })

    /// The token a request presents: `X-Vault-Token`, or `Authorization: Bearer` (as
    /// ``TransitRoutes/token(_:)``).
    static func token(_ headers: HTTPHeaders) -> String? {
        let tokens = headers["X-Vault-Token"]
        let bearers = headers["Authorization"]
        guard tokens.count <= 1, bearers.count <= 1 else { return nil }
        if let token = tokens.first { return token }
        if let bearer = bearers.first, bearer.hasPrefix("Bearer ") { return String(bearer.dropFirst(7)) }
        return nil
    }
}

/// The `Date` response header (RFC 9110 IMF-fixdate), formatted once per second.
struct HTTPDate {
    private var second = -1
    private var text = ""

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The current time, e.g. `Thu, 26 Nov 2026 22:25:30 GMT`.
    mutating func now() -> String {
        var now = time(nil)
        if now == self.second { return self.text }
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        self.text = "\(Self.days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(Self.months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        self.second = now
        return self.text
    }
}
