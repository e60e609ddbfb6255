import Bulwark
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The routes of the Transit API and their plumbing: token check, body limits, JSON in and out,
/// Vault's response envelope and error shape, security headers.
struct TransitRoutes: Sendable {
    let backend: TransitBackend
    let transform: TransformBackend
    let options: TransitServer.Options
    let audit: AuditLog
    let auth: AuthStore
    let limiter: RateLimiter?
    /// Refused unauthenticated requests per client address (see
    /// ``TransitServer/Options/unauthenticatedRate``).
    let anonymousLimiter: RateLimiter?
    let metrics: ServerMetrics
    let exportMetrics: (@Sendable () -> String)?
    let retention: RetentionJob

    func register(on router: Router<TransitRequestContext>) {
        router.get("v1/sys/health") { _, _ in
            // Degraded: some store entries cannot be read and are skipped (see the server's log).
            let unreadable = StoreRefreshService.unreadable(backend: self.backend, transform: self.transform, auth: self.auth).count
            let mismatches = self.backend.manifestMismatches
            return Self.json(.ok, [
                "initialized": true, "sealed": false, "standby": false, "version": "bulwark-0.1",
                "server_time_utc": Int(Date().timeIntervalSince1970), "degraded": unreadable > 0 || mismatches > 0,
                "unreadable_entries": unreadable, "manifest_mismatches": mismatches,
            ]).response
        }
        self.document(router, "v1/sys/metrics", contentType: "text/plain; version=0.0.4; charset=utf-8") {
            ByteBuffer(string: self.exportMetrics?() ?? "")
        }
        // The API's own description, as Vault serves its own (a token with `read` on the path).
        self.document(router, "v1/sys/internal/specs/openapi", contentType: "application/json") {
            ByteBuffer(string: OpenAPIDocument.json)
        }
        self.post(router, "v1/sys/retention", named: false, fields: ["dry_run"]) { _, body in
            // Only a real `false` (or no field) runs the job for real.
            let report = try await self.retention.run(dryRun: try RequestValues.boolean(body["dry_run"], field: "dry_run") ?? false)
            return report.json
        }
        self.post(router, "v1/sys/audit/rotate", named: false, fields: []) { _, _ in
            let segment = try self.audit.rotate()
            return ["segment": URL(fileURLWithPath: segment.path).lastPathComponent]
        }
        self.post(router, "v1/transit/keys/:name", status: .noContent, fields: Fields.createKey) { name, body in
            try await self.backend.createKey(name, body)
            return nil
        }
        self.route(router, "v1/transit/keys/:name", method: .get) { name, _ in try self.backend.readKey(name) }
        self.route(router, "v1/transit/keys/:name", method: .delete, status: .noContent) { name, _ in
            try await self.backend.deleteKey(name)
            return nil
        }
        self.route(router, "v1/transit/keys", method: .get, named: false, listing: .only) { _, _ in self.backend.listKeys() }
        self.post(router, "v1/transit/keys/:name/config", status: .noContent, fields: Fields.config) { name, body in
            try await self.backend.configureKey(name, body)
            return nil
        }
        self.post(router, "v1/transit/keys/:name/rotate", status: .noContent, fields: []) { name, _ in
            try await self.backend.rotateKey(name)
            return nil
        }
        self.post(router, "v1/transit/keys/:name/trim", status: .noContent, fields: ["min_available_version"]) { name, body in
            try await self.backend.trimKey(name, body)
            return nil
        }
        self.post(router, "v1/transit/encrypt/:name", fields: Fields.encrypt) { name, body in try await self.backend.encrypt(name, body) }
        self.post(router, "v1/transit/decrypt/:name", fields: Fields.decrypt) { name, body in try self.backend.decrypt(name, body) }
        self.post(router, "v1/transit/rewrap/:name", fields: Fields.rewrap) { name, body in try await self.backend.rewrap(name, body) }
        self.post(router, "v1/transit/datakey/plaintext/:name", fields: Fields.dataKey) { name, body in
            try await self.backend.dataKey(name, plaintext: true, body)
        }
        self.post(router, "v1/transit/datakey/wrapped/:name", fields: Fields.dataKey) { name, body in
            try await self.backend.dataKey(name, plaintext: false, body)
        }
        // Each with an optional algorithm segment (`hmac/:name/sha2-256`), which must agree with the key.
        let algorithmOperations: [(String, Set<String>, @Sendable (String, String?, [String: Any]) throws -> [String: Any])] = [
            ("hmac", Fields.hmac, { name, algorithm, body in try self.backend.hmac(name, body, algorithm: algorithm) }),
            ("sign", Fields.sign, { name, algorithm, body in try self.backend.sign(name, body, algorithm: algorithm) }),
            ("verify", Fields.verify, { name, algorithm, body in try self.backend.verify(name, body, algorithm: algorithm) }),
        ]
        for (operation, fields, run) in algorithmOperations {
            self.post(router, RouterPath(stringLiteral: "v1/transit/\(operation)/:name"), fields: fields) { name, body in try run(name, nil, body) }
            for method in [HTTPRequest.Method.post, .put] {
                router.on(RouterPath(stringLiteral: "v1/transit/\(operation)/:name/:algorithm"), method: method) { request, context in
                    let algorithm = context.parameters.get("algorithm")
                    return try await self.handle(request, context, fields: fields) { _, _, name, body in try run(name, algorithm, body) }
                }
            }
        }
        self.post(router, "v1/transit/random", named: false, fields: Fields.random) { _, body in try self.backend.random(body, bytes: nil) }
        self.post(router, "v1/transit/random/:name", fields: Fields.random) { name, body in
            // The path names a byte count or nothing else (Vault answers 400 too).
            guard let count = Int(name) else { throw TransitError.badRequest("bytes in the path must be a number") }
            return try self.backend.random(body, bytes: count)
        }
        self.post(router, "v1/transit/hash", named: false, fields: Fields.hash) { _, body in try self.backend.hash(body, algorithm: nil) }
        self.post(router, "v1/transit/hash/:name", fields: Fields.hash) { name, body in try self.backend.hash(body, algorithm: name) }
        for prefix in ["v1/sys/policy", "v1/sys/policies/acl"] {
            self.post(router, RouterPath(stringLiteral: prefix + "/:name"), status: .noContent, fields: ["policy", "rules", "name"]) { name, body in
                try await self.auth.writePolicy(name, body)
                return nil
            }
            self.route(router, RouterPath(stringLiteral: prefix + "/:name"), method: .get) { name, _ in try self.auth.readPolicy(name) }
            self.route(router, RouterPath(stringLiteral: prefix + "/:name"), method: .delete, status: .noContent) { name, _ in
                try await self.auth.deletePolicy(name)
                return nil
            }
            // Vault answers a read of sys/policy with the list, and lists sys/policies/acl.
            self.route(router, RouterPath(stringLiteral: prefix), method: .get, named: false, listing: prefix == "v1/sys/policy" ? .either : .only) { _, _ in
                self.auth.listPolicies()
            }
        }
        self.registerTokens(on: router)
        self.registerTransform(on: router)
    }

    typealias Operation = @Sendable (String, [String: Any]) async throws -> [String: Any]?

    func post(
        _ router: Router<TransitRequestContext>, _ path: RouterPath, named: Bool = true, status: HTTPResponse.Status = .ok,
        fields: Set<String>, _ operation: @escaping Operation
    ) {
        self.route(router, path, method: .post, named: named, status: status, fields: fields, operation)
        self.route(router, path, method: .put, named: named, status: status, fields: fields, operation)
    }

    func route(
        _ router: Router<TransitRequestContext>, _ path: RouterPath, method: HTTPRequest.Method, named: Bool = true,
        status: HTTPResponse.Status = .ok, fields: Set<String> = [], listing: Listing = .never, _ operation: @escaping Operation
    ) {
        router.on(path, method: method) { request, context in
            try await self.handle(request, context, named: named, status: status, fields: fields, listing: listing) { _, _, name, body in
                try await operation(name, body)
            }
        }
    }

    /// Whether an endpoint answers list requests (`LIST`, `GET ?list=true`), other requests, or both.
    enum Listing {
        case never
        case only
        case either

        func accepts(_ target: RequestTarget) -> Bool {
            switch self {
            case .never: !target.listing
            case .only: target.listing
            case .either: true
            }
        }
    }

    /// Serves one request and records its metrics.
    func handle(
        _ request: Request, _ context: TransitRequestContext, named: Bool = true, status: HTTPResponse.Status = .ok,
        selfService: Bool = false, fields: Set<String> = [], listing: Listing = .never,
        _ operation: (AuthStore.Principal, String, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Response {
        let start = ContinuousClock.now
        let reply = try await self.serve(
            request, context, named: named, status: status, selfService: selfService, fields: fields, listing: listing, operation)
        let (label, key) = Self.operation(request.uri.path, method: request.method.rawValue)
        self.record(label, key: key, status: reply.status, since: start)
        return reply.response
    }

    /// A `GET` that answers a document rather than Vault's JSON envelope (metrics text, the
    /// OpenAPI document): the same target check and admission as every other endpoint (`read` on
    /// its path; a limited-use token's use counted), no list form.
    private func document(
        _ router: Router<TransitRequestContext>, _ path: String, contentType: String, _ body: @escaping @Sendable () -> ByteBuffer
    ) {
        router.get(RouterPath(path)) { request, context in
            let (target, admission) = self.admit(request, context, selfService: false)
            guard let target else { return admission.refusal?.response ?? Self.error(TransitError.permissionDenied).response }
            if case .refused(let reply) = admission { return reply.response }
            guard !target.listing else { return Self.error(TransitError(405, "unsupported operation")).response }
            if case .admitted(let call) = admission, case .token(let hash, let record) = call.principal, record.usesLeft != nil {
                do { try await self.auth.consumeUse(hash: hash) } catch { return Self.error(TransitError.permissionDenied).response }
            }
            var headers = Self.headers()
            headers[.contentType] = contentType
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body()))
        }
    }

    /// Counts a served request in the metrics: its latency, and a key operation when it succeeded.
    func record(_ label: String, key: String?, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let code = Int(status.code)
        self.metrics.request(label, status: code, nanoseconds: nanoseconds)
        if let key, (200..<300).contains(code) { self.metrics.keyOperation(key, label) }
    }

    /// A low-cardinality operation name for metrics (`transit/encrypt`, `transit/keys/rotate`,
    /// `sys/policy`, …) and the key it used, if any.
    static func operation(_ path: String, method: String) -> (String, String?) {
        let parts = aclPath(path).split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return (parts.first ?? "unknown", nil) }
        switch (parts[0], parts[1]) {
        case ("transit", "keys"):
            if parts.count == 2 { return ("transit/keys/list", nil) }
            if parts.count == 3 { return ("transit/keys/" + method.lowercased(), parts[2]) }
            return ("transit/keys/" + parts[3], parts[2])
        case ("transit", "datakey"):
            return ("transit/datakey", parts.count > 3 ? parts[3] : nil)
        case ("transit", "random"), ("transit", "hash"):
            return ("transit/" + parts[1], nil)
        case ("transit", _):
            return ("transit/" + parts[1], parts.count > 2 ? parts[2] : nil)
        case ("auth", _):
            return (parts.prefix(3).joined(separator: "/"), nil)
        default:
            return (parts[0] + "/" + parts[1], nil)
        }
    }

    /// The router's first two steps for a request: its target through ``RequestTarget/parse(method:target:)``
    /// (nil, with the refusal as the admission, when another spelling is refused), then
    /// ``admit(target:token:clientSubject:client:selfService:)``. Every router handler starts here.
    func admit(_ request: Request, _ context: TransitRequestContext, selfService: Bool) -> (RequestTarget?, Admission) {
        let target: RequestTarget
        do {
            target = try RequestTarget.parse(method: request.method.rawValue, target: request.uri.description)
        } catch {
            return (nil, .refused(self.refusedTarget(error, method: request.method.rawValue, target: request.uri.description)))
        }
        let admission = self.admit(
            target: target, token: Self.token(request.headers), clientSubject: context.clientSubject, client: context.clientAddress,
            selfService: selfService)
        return (target, admission)
    }

    /// The `Allow` header of a 405 answer to `request`: for a caller with a valid token, the
    /// methods of its path as ``RequestTarget`` reads it (the same canonical path the router and
    /// the policy check see); for anyone else every method, so that which paths exist is not
    /// told to a caller who may not know (as ``unknownRoute(_:_:)``).
    func allow(_ request: Request) -> String {
        guard let token = Self.token(request.headers), self.auth.principal(token) != nil,
            let target = try? RequestTarget.parse(method: "GET", target: request.uri.description)
        else { return APIPaths.anyMethods }
        return APIPaths.allow(path: target.path)
    }

    /// The answer for a path no route serves, as Vault answers it: a caller without a valid token
    /// is refused (403, audited with a bounded line, rate-limited per address), so that which
    /// paths exist is not told to anyone; an authenticated caller gets 404.
    func unknownRoute(_ request: Request, _ context: TransitRequestContext) -> Response {
        let (target, admission) = self.admit(request, context, selfService: true)
        guard let target else { return admission.refusal?.response ?? Self.error(TransitError.permissionDenied).response }
        switch admission {
        case .refused(let reply): return reply.response
        case .admitted:
            // A path the API has, with a method it does not take there: 405, as Vault answers.
            guard APIPaths.isKnown(target.path) else { return Self.error(TransitError(404, "unsupported path")).response }
            return Self.error(TransitError(405, "unsupported operation")).response
        }
    }

    /// One request through the router: the steps of ``admit(path:method:token:clientSubject:capabilities:selfService:)``,
    /// ``begin(_:body:fields:)`` and ``finish(_:status:_:)``, with the body collected and the
    /// operation awaited in between. (``TransitFastPath`` runs the same steps synchronously.)
    func serve(
        _ request: Request, _ context: TransitRequestContext, named: Bool, status: HTTPResponse.Status,
        selfService: Bool, fields: Set<String>, listing: Listing,
        _ operation: (AuthStore.Principal, String, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Reply {
        let (parsed, admission) = self.admit(request, context, selfService: selfService)
        guard let target = parsed else { return admission.refusal ?? Self.error(TransitError.permissionDenied) }
        let call: Call
        switch admission {
        case .refused(let reply): return reply
        case .admitted(let admitted): call = admitted
        }
        guard listing.accepts(target) else {
            return self.audited(call.path, call.method, call.token, [:], Self.error(TransitError(405, "unsupported operation")), error: .fixed("unsupported operation"))
        }
        if case .token(let hash, let record) = call.principal, record.usesLeft != nil {
            // A limited-use token: the use is counted in the store before anything is served.
            do {
                try await self.auth.consumeUse(hash: hash)
            } catch {
                return self.audited(call.path, call.method, call.token, [:], Self.error(TransitError.permissionDenied), error: .fixed("permission denied"))
            }
        }
        let buffer: ByteBuffer
        do {
            let limit = fields.contains("batch_input") ? self.options.maximumBodyBytes : min(self.options.maximumBodyBytes, self.options.maximumSingleBodyBytes)
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            return self.tooLarge(call)
        }
        let body: [String: Any]
        switch self.begin(call, body: buffer, fields: fields) {
        case .refused(let reply): return reply
        case .ready(let parsed): body = parsed
        }
        let name = named ? (context.parameters.get("name") ?? "") : ""
        do {
            return self.finish(call, status: status, .success(try await operation(call.principal, call.token, name, body)))
        } catch {
            return self.finish(call, status: status, .failure(error))
        }
    }

    /// A request that passed the token, policy and rate checks.
    struct Call {
        /// The URL path.
        let path: String
        /// The HTTP method's name, as audited.
        let method: String
        /// The presented token (or `cert:` and the client certificate's subject).
        let token: String
        /// Whom the token stands for.
        let principal: AuthStore.Principal
    }

    /// The outcome of ``admit(path:method:token:clientSubject:capabilities:selfService:)``.
    enum Admission {
        case admitted(Call)
        case refused(Reply)

        /// The refusal's answer, if refused.
        var refusal: Reply? {
            if case .refused(let reply) = self { return reply }
            return nil
        }
    }

    /// The outcome of ``begin(_:body:fields:)``.
    enum Beginning {
        case ready([String: Any])
        case refused(Reply)
    }

    /// An answer: status and JSON body (always with ``headers()``); `nil` body for 204.
    struct Reply {
        let status: HTTPResponse.Status
        let body: ByteBuffer?

        /// The Hummingbird response.
        var response: Response {
            guard let body else { return Response(status: self.status, headers: TransitRoutes.headers()) }
            return Response(status: self.status, headers: TransitRoutes.headers(), body: .init(byteBuffer: body))
        }
    }

    /// Finds the caller (token or mapped client certificate) and checks policy (the capability
    /// ``requirement(_:)`` names for the target) and rate limit. Refusals are audited.
    /// A request without a valid token is refused with a bounded audit line, or, over its
    /// address's rate (``anonymousLimiter``), with a 429 and no line.
    /// - Parameters:
    ///   - token: The token the request presents (see ``token(_:)``), if any.
    ///   - client: The client's IP address.
    func admit(target: RequestTarget, token: String?, clientSubject: ClientSubject?, client: String?, selfService: Bool) -> Admission {
        var presented = token
        var certificatePrincipal: AuthStore.Principal?
        if presented == nil, let subject = clientSubject {
            // A mapping whose key holds "=" names a full subject; any other names a common name only
            // (a certificate whose CN spells out someone else's subject gets nothing from it).
            let policies = self.options.clientPolicies[subject.distinguishedName]
                ?? subject.commonName.flatMap { name in name.contains("=") ? nil : self.options.clientPolicies[name] }
            if let policies {
                certificatePrincipal = self.auth.certificatePrincipal(subject.distinguishedName, policies: policies)
                presented = "cert:" + subject.distinguishedName
            }
        }
        guard let presented, let principal = certificatePrincipal ?? self.auth.principal(presented) else {
            if let limiter = self.anonymousLimiter, !limiter.admit(Self.addressKey(client)) {
                self.metrics.unauthenticatedDropped()
                return .refused(Self.error(TransitError(429, "too many unauthenticated requests from this address")))
            }
            guard self.audit.refusal(method: target.method, target: target.path, status: 403, reason: "permission denied", token: presented) else {
                return .refused(self.auditRefusal())
            }
            return .refused(Self.error(TransitError.permissionDenied))
        }
        if !selfService {
            let (capability, sudo) = self.requirement(target)
            guard self.auth.allows(principal, path: target.policyPath, listing: target.listing, capability: capability, needsSudo: sudo) else {
                return .refused(
                    self.audited(target.path, target.method, presented, [:], Self.error(TransitError.permissionDenied), error: .fixed("permission denied")))
            }
        }
        if let limiter = self.limiter, !limiter.admit(presented) {
            return .refused(
                self.audited(
                    target.path, target.method, presented, [:], Self.error(TransitError(429, "rate limit exceeded for this token")), error: .fixed("rate limited")))
        }
        return .admitted(Call(path: target.path, method: target.method, token: presented, principal: principal))
    }

    /// The key an unauthenticated client is limited under: its IPv4 address, or its IPv6 /64
    /// (one host holds a whole /64, and could rotate through it).
    static func addressKey(_ address: String?) -> String {
        guard let address else { return "" }
        guard address.contains(":") else { return address }
        return address.split(separator: ":", omittingEmptySubsequences: false).prefix(4).joined(separator: ":") + "::/64"
    }

    /// The answer to a request whose method or target ``RequestTarget/parse(method:target:)``
    /// refused, before authentication. Its audit line is bounded: the target is truncated and
    /// hashed, and no token is read.
    func refusedTarget(_ refusal: RequestTarget.Refusal, method: String, target: String) -> Reply {
        guard self.audit.refusal(method: method, target: target, status: refusal.status, reason: refusal.reason) else {
            return self.auditRefusal()
        }
        return Self.error(TransitError(refusal.status, refusal.reason.description))
    }

    /// The answer to a body over ``TransitServer/Options/maximumBodyBytes`` (audited).
    func tooLarge(_ call: Call) -> Reply {
        self.audited(call.path, call.method, call.token, [:], Self.error(TransitError(413, "request body too large")), error: .fixed("request body too large"))
    }

    /// Parses the JSON body, refuses unknown fields, and writes the request's audit line: no
    /// request is served unless it was written to the audit log first (fail closed).
    /// - Parameter auditNow: `false` for an operation whose only effect is its answer: its
    ///   request line is then written with the response line (``exchange(_:request:_:)``).
    func begin(_ call: Call, body buffer: ByteBuffer, fields: Set<String>, auditNow: Bool = true) -> Beginning {
        var body: [String: Any] = [:]
        if buffer.readableBytes > 0 {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
                return .refused(self.audited(call.path, call.method, call.token, [:], Self.error(.badRequest("failed to parse JSON input")), error: .fixed("malformed JSON")))
            }
            body = parsed
        }
        if let problem = Fields.check(body, allowed: fields) {
            return .refused(self.audited(call.path, call.method, call.token, [:], Self.error(.badRequest(problem)), error: .text(problem)))
        }
        guard auditNow else { return .ready(body) }
        do {
            try self.audit.append(["type": "request", "path": call.path, "method": call.method, "token": call.token, "request": body])
        } catch {
            self.metrics.auditFailure()
            return .refused(Self.error(TransitError(500, "the audit log cannot be written; request refused")))
        }
        return .ready(body)
    }

    /// Turns an operation's result into the answer and audits it.
    func finish(_ call: Call, status: HTTPResponse.Status, _ result: Result<[String: Any]?, any Error>) -> Reply {
        let (reply, data, message) = Self.answer(result, status: status)
        return self.audited(call.path, call.method, call.token, data, reply, error: message)
    }

    /// Turns the result of an operation with no effect besides its answer into the answer and
    /// the audit lines of the exchange (request and response), which must be written (see
    /// ``AuditBatch``) before the answer may leave; if they cannot be, ``auditRefusal()`` is sent.
    func exchange(_ call: Call, request: [String: Any], _ result: Result<[String: Any], any Error>) -> (Reply, [[UInt8]]) {
        let (reply, data, message) = Self.answer(result.map { $0 }, status: .ok)
        let lines = self.audit.exchangeLines(
            path: call.path, method: call.method, token: call.token, request: request, status: Int(reply.status.code), response: data,
            error: message)
        return (reply, lines)
    }

    /// The answer and audit lines of a typed exchange that succeeded (``TypedBody``): the same
    /// answer and lines ``exchange(_:request:_:)`` makes for the same request and data (fields
    /// in the order given).
    func exchange(_ call: Call, request: TypedBody, response: TypedBody) -> (Reply, [[UInt8]]) {
        let reply = Self.json(.ok, data: { response.write(into: &$0) }, auth: { $0.append(contentsOf: "null".utf8) })
        let lines = self.audit.exchangeLines(
            path: call.path, method: call.method, token: call.token, status: 200, error: nil,
            request: { request.write(into: &$0, redactedBy: self.audit) },
            response: { response.write(into: &$0, redactedBy: self.audit) })
        return (reply, lines)
    }

    /// An operation's result as the answer, the data to audit, and the error message to audit.
    private static func answer(_ result: Result<[String: Any]?, any Error>, status: HTTPResponse.Status) -> (Reply, [String: Any], AuditError?) {
        switch result {
        case .success(let data):
            return (Self.json(status, data), data ?? [:], nil)
        case .failure(let error):
            let failure = TransitBackend.clientError(error)
            return (Self.error(failure), [:], .text(failure.message))
        }
    }

    /// The answer that replaces one whose audit lines could not be written (counted).
    func auditRefusal() -> Reply {
        self.metrics.auditFailure()
        return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
    }

    /// Writes the response entry; if that fails the response becomes a 500 (fail closed).
    func audited(_ path: String, _ method: String, _ token: String?, _ data: [String: Any], _ reply: Reply, error: AuditError?) -> Reply {
        var entry: [String: Any] = ["type": "response", "path": path, "method": method, "status": Int(reply.status.code), "response": data]
        if let token { entry["token"] = token }
        do {
            try self.audit.append(entry, error: error)
        } catch {
            self.metrics.auditFailure()
            return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
        }
        return reply
    }

    static let vaultToken = HTTPField.Name("X-Vault-Token")!

    /// The token a request presents: `X-Vault-Token`, or `Authorization: Bearer`.
    /// A request that repeats either header presents no token (the fast path and the router must
    /// never read two different ones).
    static func token(_ headers: HTTPFields) -> String? {
        let tokens = headers[values: Self.vaultToken]
        let bearers = headers[values: .authorization]
        guard tokens.count <= 1, bearers.count <= 1 else { return nil }
        if let token = tokens.first { return token }
        if let bearer = bearers.first, bearer.hasPrefix("Bearer ") { return String(bearer.dropFirst(7)) }
        return nil
    }

    /// A URL path without `/v1/` (for metrics labels; the policy check uses
    /// ``RequestTarget/policyPath``).
    static func aclPath(_ path: String) -> String {
        path.hasPrefix("/v1/") ? String(path.dropFirst(4)) : path
    }

    /// The capability a request needs, as Vault maps its operation to one, and whether its path
    /// also needs `sudo`.
    ///
    /// A list request needs `list`, a read `read`, a delete `delete`, a write `update`, except an
    /// encrypt with a key that does not exist yet (Transit then creates it), which needs `create`
    /// (checked against OpenBao: writing a new key or policy needs `update`, not `create`). The
    /// audit and retention controls need `sudo` too.
    func requirement(_ target: RequestTarget) -> (capability: String, sudo: Bool) {
        let sudo = Self.sudoPaths.contains(target.path)
        if target.listing { return ("list", sudo) }
        switch target.method {
        case "GET": return ("read", sudo)
        case "DELETE": return ("delete", sudo)
        default: return (self.createsKey(target) ? "create" : "update", sudo)
        }
    }

    /// Paths that need `sudo` besides their capability, as Vault's audit-device paths do.
    static let sudoPaths: Set<String> = ["/v1/sys/audit/rotate", "/v1/sys/retention", "/v1/auth/token/accessors", "/v1/auth/token/revoke-orphan"]

    /// Whether `target` is an encrypt with a key that does not exist yet.
    private func createsKey(_ target: RequestTarget) -> Bool {
        guard target.path.hasPrefix("/v1/transit/encrypt/") else { return false }
        let name = target.path.utf8.dropFirst(20)
        return !name.contains(UInt8(ascii: "/")) && !self.backend.hasKey(String(Substring(name)))
    }

    /// The headers of every JSON answer: content type and the security headers.
    static func headers() -> HTTPFields {
        Self.standardHeaders
    }

    private static let standardHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=63072000; includeSubDomains"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'"
        return headers
    }()

    static func json(_ status: HTTPResponse.Status, _ data: [String: Any]?) -> Reply {
        guard var data else { return Reply(status: status == .ok ? .noContent : status, body: nil) }
        let auth = data.removeValue(forKey: "__auth")
        return Self.json(status, data: { JSONText.write(auth == nil ? data : nil, into: &$0) }, auth: { JSONText.write(auth, into: &$0) })
    }

    /// Vault's answer with `data` written by `data` (and `auth` by `auth`).
    static func json(_ status: HTTPResponse.Status, data: (inout [UInt8]) -> Void, auth: (inout [UInt8]) -> Void) -> Reply {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(384)
        bytes.append(contentsOf: #"{"request_id":""#.utf8)
        Self.writeRequestID(into: &bytes)
        bytes.append(contentsOf: #"","lease_id":"","renewable":false,"lease_duration":0,"wrap_info":null,"warnings":null,"data":"#.utf8)
        data(&bytes)
        bytes.append(contentsOf: #","auth":"#.utf8)
        auth(&bytes)
        bytes.append(UInt8(ascii: "}"))
        return Reply(status: status, body: ByteBuffer(bytes: bytes))
    }

    /// Appends a random UUID-shaped request id (version 4 layout).
    static func writeRequestID(into out: inout [UInt8]) {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(Hex.digits[Int(byte >> 4)])
            out.append(Hex.digits[Int(byte & 0x0F)])
        }
    }

    static func error(_ error: TransitError) -> Reply {
        Reply(status: .init(code: error.status), body: ByteBuffer(bytes: JSONText.encode(["errors": [error.message]])))
    }
}
