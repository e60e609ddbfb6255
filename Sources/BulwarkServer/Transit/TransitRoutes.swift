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
    /// The endpoints served: routes, policy requirements, audit allowlist, fast-path matching.
    let endpoints: Endpoints

    /// Registers every endpoint of the table: one route per method of its operation.
    func register(on router: Router<TransitRequestContext>) {
        for endpoint in self.endpoints.endpoints {
            for method in endpoint.operation.methods {
                router.on(RouterPath(stringLiteral: "v1/" + endpoint.path), method: method) { request, context in
                    try await self.serve(endpoint, request, context)
                }
            }
        }
    }

    /// The largest body an endpoint anyone may call reads (`sys/unseal`: one share).
    static let openBodyLimit = 4096

    /// The JSON object body of a request to an endpoint anyone may call (empty when there is none).
    /// - Throws: ``TransitError`` 413 over ``openBodyLimit``, 400 for anything but a JSON object.
    static func openBody(_ request: Request) async throws -> [String: Any] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.openBodyLimit)
        } catch {
            throw TransitError(413, "the request body is too large")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw TransitError.badRequest("failed to parse JSON input")
        }
        return parsed
    }

    /// Serves one request for `endpoint`, by its handler's kind.
    private func serve(_ endpoint: Endpoint, _ request: Request, _ context: TransitRequestContext) async throws -> Response {
        switch endpoint.handler {
        case .open(let answer):
            // Only `.anyone` endpoints have an open handler (``Endpoint/init`` checks). Vault
            // answers these `sys/` paths with the object itself, not inside its envelope.
            do {
                let body = endpoint.operation == .write ? try await Self.openBody(request) : [:]
                return Self.raw(endpoint.status, try answer(self, body)).response
            } catch {
                return Self.error(TransitError(error)).response
            }
        case .document(let contentType, let body):
            return await self.document(request, context, contentType: contentType) { body(self) }
        case .json(let run):
            let names = endpoint.parameterNames
            return try await self.handle(request, context, endpoint) { principal, token, body in
                var parameters: [String: String] = [:]
                for name in names { parameters[name] = context.parameters.get(name) }
                return try await run(self, Endpoint.Call(principal: principal, token: token, parameters: parameters, body: body))
            }
        }
    }

    /// Serves one request and records its metrics.
    func handle(
        _ request: Request, _ context: TransitRequestContext, _ endpoint: Endpoint,
        _ operation: (AuthStore.Principal, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Response {
        let start = ContinuousClock.now
        let reply = try await self.serve(request, context, endpoint, operation)
        let key = endpoint.keyParameter.flatMap { context.parameters.get($0) }
        self.record(endpoint.label, key: key, status: reply.status, since: start)
        return reply.response
    }

    /// A `GET` that answers a document rather than Vault's JSON envelope (metrics text, the
    /// OpenAPI document): the same target check and admission as every other endpoint (`read` on
    /// its path; a limited-use token's use counted), no list form.
    private func document(
        _ request: Request, _ context: TransitRequestContext, contentType: String, _ body: () -> ByteBuffer
    ) async -> Response {
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

    /// Counts a served request in the metrics: its latency, and a key operation when it succeeded.
    func record(_ label: String, key: String?, status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let code = Int(status.code)
        self.metrics.request(label, status: code, nanoseconds: nanoseconds)
        if let key, (200..<300).contains(code) { self.metrics.keyOperation(key, label) }
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
        else { return Endpoints.anyMethods }
        return self.endpoints.allow(path: target.path)
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
            guard self.endpoints.isKnown(target.path) else { return Self.error(TransitError(404, "unsupported path")).response }
            return Self.error(TransitError(405, "unsupported operation")).response
        }
    }

    /// One request through the router: the steps of ``admit(path:method:token:clientSubject:capabilities:selfService:)``,
    /// ``begin(_:body:fields:)`` and ``finish(_:status:_:)``, with the body collected and the
    /// operation awaited in between. (``TransitFastPath`` runs the same steps synchronously.)
    func serve(
        _ request: Request, _ context: TransitRequestContext, _ endpoint: Endpoint,
        _ operation: (AuthStore.Principal, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Reply {
        let (parsed, admission) = self.admit(request, context, selfService: endpoint.access == .token)
        guard let target = parsed else { return admission.refusal ?? Self.error(TransitError.permissionDenied) }
        let call: Call
        switch admission {
        case .refused(let reply): return reply
        case .admitted(let admitted): call = admitted
        }
        guard endpoint.operation.listing.accepts(target) else {
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
            let limit = endpoint.batchable ? self.options.maximumBodyBytes : min(self.options.maximumBodyBytes, self.options.maximumSingleBodyBytes)
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            return self.tooLarge(call)
        }
        let body: [String: Any]
        switch self.begin(call, body: buffer, fields: endpoint.fields) {
        case .refused(let reply): return reply
        case .ready(let parsed): body = parsed
        }
        do {
            return self.finish(call, status: endpoint.status, .success(try await operation(call.principal, call.token, body)))
        } catch {
            return self.finish(call, status: endpoint.status, .failure(error))
        }
    }
}
