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
}
