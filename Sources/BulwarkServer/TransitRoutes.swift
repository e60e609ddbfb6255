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
    let metrics: ServerMetrics
    let exportMetrics: (@Sendable () -> String)?
    let retention: RetentionJob

    func register(on router: Router<TransitRequestContext>) {
        router.get("v1/sys/health") { _, _ in
            Self.json(.ok, [
                "initialized": true, "sealed": false, "standby": false, "version": "bulwark-0.1",
                "server_time_utc": Int(Date().timeIntervalSince1970),
            ])
        }
        router.get("v1/sys/metrics") { request, context in
            let presented = Self.token(request)
            guard let presented, let principal = self.auth.principal(presented),
                self.auth.allows(principal, path: "sys/metrics", capabilities: ["read"])
            else {
                return self.audited(request.uri.path, request, presented, [:], Self.error(TransitError.permissionDenied), status: 403, error: "permission denied")
            }
            var headers = Self.headers()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = self.exportMetrics?() ?? ""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        self.post(router, "v1/sys/retention", named: false, fields: ["dry_run"]) { _, body in
            let report = try await self.retention.run(dryRun: body["dry_run"] as? Bool ?? false)
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
        self.route(router, "v1/transit/keys", method: HTTPRequest.Method("LIST")!, named: false) { _, _ in self.backend.listKeys() }
        router.get("v1/transit/keys") { request, context in
            try await self.handle(request, context, named: false) { _, _, _, _ in self.backend.listKeys() }
        }
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
        self.post(router, "v1/transit/rewrap/:name", fields: Fields.rewrap) { name, body in try self.backend.rewrap(name, body) }
        self.post(router, "v1/transit/datakey/plaintext/:name", fields: Fields.dataKey) { name, body in
            try self.backend.dataKey(name, plaintext: true, body)
        }
        self.post(router, "v1/transit/datakey/wrapped/:name", fields: Fields.dataKey) { name, body in
            try self.backend.dataKey(name, plaintext: false, body)
        }
        for suffix in ["", "/:algorithm"] {
            self.post(router, RouterPath(stringLiteral: "v1/transit/hmac/:name" + suffix), fields: Fields.hmac) { name, body in
                try self.backend.hmac(name, body)
            }
            self.post(router, RouterPath(stringLiteral: "v1/transit/sign/:name" + suffix), fields: Fields.sign) { name, body in
                try self.backend.sign(name, body)
            }
            self.post(router, RouterPath(stringLiteral: "v1/transit/verify/:name" + suffix), fields: Fields.verify) { name, body in
                try self.backend.verify(name, body)
            }
        }
        self.post(router, "v1/transit/random", named: false, fields: Fields.random) { _, body in try self.backend.random(body, bytes: nil) }
        self.post(router, "v1/transit/random/:name", fields: Fields.random) { name, body in try self.backend.random(body, bytes: Int(name)) }
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
            self.route(router, RouterPath(stringLiteral: prefix), method: .get, named: false) { _, _ in self.auth.listPolicies() }
        }
        for method in [HTTPRequest.Method.post, .put] {
            router.on("v1/auth/token/create", method: method) { request, context in
                try await self.handle(request, context, named: false, fields: Fields.tokenCreate) { principal, _, _, body in
                    try await self.auth.createToken(body, creator: principal)
                }
            }
            router.on("v1/auth/token/revoke", method: method) { request, context in
                try await self.handle(request, context, named: false, status: .noContent, fields: ["token"]) { _, _, _, body in
                    guard let token = body["token"] as? String else { throw TransitError.badRequest("missing token") }
                    try await self.auth.revoke(token: token)
                    return nil
                }
            }
            router.on("v1/auth/token/revoke-self", method: method) { request, context in
                try await self.handle(request, context, named: false, status: .noContent, selfService: true) { _, token, _, _ in
                    try await self.auth.revoke(token: token)
                    return nil
                }
            }
        }
        router.get("v1/auth/token/lookup-self") { request, context in
            try await self.handle(request, context, named: false, selfService: true) { principal, _, _, _ in self.auth.lookup(principal) }
        }
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
        status: HTTPResponse.Status = .ok, fields: Set<String> = [], _ operation: @escaping Operation
    ) {
        router.on(path, method: method) { request, context in
            try await self.handle(request, context, named: named, status: status, fields: fields) { _, _, name, body in
                try await operation(name, body)
            }
        }
    }

    /// Serves one request and records its metrics.
    func handle(
        _ request: Request, _ context: TransitRequestContext, named: Bool = true, status: HTTPResponse.Status = .ok,
        selfService: Bool = false, fields: Set<String> = [],
        _ operation: (AuthStore.Principal, String, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await self.serve(request, context, named: named, status: status, selfService: selfService, fields: fields, operation)
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let (label, key) = Self.operation(request.uri.path, method: request.method.rawValue)
        let code = Int(response.status.code)
        self.metrics.request(label, status: code, nanoseconds: nanoseconds)
        if let key, (200..<300).contains(code) { self.metrics.keyOperation(key, label) }
        return response
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

    func serve(
        _ request: Request, _ context: TransitRequestContext, named: Bool, status: HTTPResponse.Status,
        selfService: Bool, fields: Set<String>,
        _ operation: (AuthStore.Principal, String, String, [String: Any]) async throws -> [String: Any]?
    ) async throws -> Response {
        let path = request.uri.path
        var presented = Self.token(request)
        var certificatePrincipal: AuthStore.Principal?
        if presented == nil, let subject = context.clientSubject {
            let policies = self.options.clientPolicies[subject.distinguishedName] ?? subject.commonName.flatMap { self.options.clientPolicies[$0] }
            if let policies {
                certificatePrincipal = self.auth.certificatePrincipal(subject.distinguishedName, policies: policies)
                presented = "cert:" + subject.distinguishedName
            }
        }
        guard let presented, let principal = certificatePrincipal ?? self.auth.principal(presented),
            selfService || self.auth.allows(principal, path: Self.aclPath(path), capabilities: Self.capabilities(request))
        else {
            return self.audited(path, request, presented, [:], Self.error(TransitError.permissionDenied), status: 403, error: "permission denied")
        }
        if let limiter = self.limiter, !limiter.admit(presented) {
            return self.audited(path, request, presented, [:], Self.error(TransitError(429, "rate limit exceeded for this token")), status: 429, error: "rate limited")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: self.options.maximumBodyBytes)
        } catch {
            return self.audited(path, request, presented, [:], Self.error(TransitError(413, "request body too large")), status: 413, error: "request body too large")
        }
        var body: [String: Any] = [:]
        if buffer.readableBytes > 0 {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
                return self.audited(path, request, presented, [:], Self.error(.badRequest("failed to parse JSON input")), status: 400, error: "malformed JSON")
            }
            body = parsed
        }
        if let problem = Fields.check(body, allowed: fields) {
            return self.audited(path, request, presented, [:], Self.error(.badRequest(problem)), status: 400, error: problem)
        }
        let name = named ? (context.parameters.get("name") ?? "") : ""
        // Fail closed: no request is served unless it was written to the audit log first.
        do {
            try self.audit.append(["type": "request", "path": path, "method": request.method.rawValue, "token": presented, "request": body])
        } catch {
            self.metrics.auditFailure()
            return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
        }
        do {
            let data = try await operation(principal, presented, name, body)
            return self.audited(path, request, presented, data ?? [:], Self.json(status, data), status: Int(status.code), error: nil)
        } catch {
            let failure = TransitBackend.clientError(error)
            return self.audited(path, request, presented, [:], Self.error(failure), status: failure.status, error: failure.message)
        }
    }

    /// Writes the response entry; if that fails the response becomes a 500 (fail closed).
    func audited(_ path: String, _ request: Request, _ token: String?, _ data: [String: Any], _ response: Response, status: Int, error: String?) -> Response {
        var entry: [String: Any] = ["type": "response", "path": path, "method": request.method.rawValue, "status": status, "response": data]
        if let token { entry["token"] = token }
        if let error { entry["error"] = error }
        do {
            try self.audit.append(entry)
        } catch {
            self.metrics.auditFailure()
            return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
        }
        return response
    }

    static func token(_ request: Request) -> String? {
        if let token = request.headers[HTTPField.Name("X-Vault-Token")!] { return token }
        if let bearer = request.headers[.authorization], bearer.hasPrefix("Bearer ") { return String(bearer.dropFirst(7)) }
        return nil
    }

    /// The policy path of a request: the URL path without `/v1/`.
    static func aclPath(_ path: String) -> String {
        path.hasPrefix("/v1/") ? String(path.dropFirst(4)) : path
    }

    /// The capabilities that allow a request (any one suffices).
    static func capabilities(_ request: Request) -> [String] {
        switch request.method {
        case .get:
            return request.uri.queryParameters.get("list") == "true" ? ["list"] : ["read"]
        case .delete:
            return ["delete"]
        case .post, .put:
            let parts = aclPath(request.uri.path).split(separator: "/")
            // Creating a key may be granted by "create"; every other write needs "update".
            return parts.count == 3 && parts[0] == "transit" && parts[1] == "keys" ? ["create", "update"] : ["update"]
        default:
            return request.method.rawValue == "LIST" ? ["list"] : ["sudo"]
        }
    }

    static func headers() -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=63072000; includeSubDomains"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'"
        return headers
    }

    static func json(_ status: HTTPResponse.Status, _ data: [String: Any]?) -> Response {
        guard var data else { return Response(status: status == .ok ? .noContent : status, headers: Self.headers()) }
        let auth = data.removeValue(forKey: "__auth")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(384)
        bytes.append(contentsOf: #"{"request_id":""#.utf8)
        bytes.append(contentsOf: Self.requestID().utf8)
        bytes.append(contentsOf: #"","lease_id":"","renewable":false,"lease_duration":0,"wrap_info":null,"warnings":null,"data":"#.utf8)
        JSONText.write(auth == nil ? data : nil, into: &bytes)
        bytes.append(contentsOf: #","auth":"#.utf8)
        JSONText.write(auth, into: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return Response(status: status, headers: Self.headers(), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A random UUID-shaped request id (version 4 layout).
    static func requestID() -> String {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Hex.encode(bytes)
        let characters = Array(hex.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, character) in characters.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(character)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func error(_ error: TransitError) -> Response {
        let bytes = JSONText.encode(["errors": [error.message]])
        return Response(status: .init(code: error.status), headers: Self.headers(), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
