import HTTPTypes

extension Endpoint {
    /// Describes an endpoint that takes a typed request and gives a typed answer: its accepted
    /// fields are `request`'s (``EndpointRequest/fields``), or `only` those of them when one
    /// request type serves several endpoints (`hmac`, `sign` and `verify`); each call's body is
    /// decoded by ``RequestDecoder`` (unknown fields refused by name) and the answer encoded by
    /// ``AnswerEncoder``.
    convenience init<Request: EndpointRequest, Answer: Encodable & Sendable>(
        _ path: String, _ operation: Operation, access: Access = .policy, request: Request.Type, only: Set<String>? = nil,
        auditClear: Set<String> = [], label: String, keyParameter: String? = nil, fastPath: TransitFastPath.Operation? = nil,
        createsKey: Bool = false, status: HTTPResponse.Status = .ok,
        answer run: @escaping @Sendable (TransitRoutes, Call, Request) async throws -> Answer
    ) {
        precondition(only.map { $0.isSubset(of: Request.fields) } ?? true, "\(path): fields outside the request type")
        self.init(
            path, operation, access: access, fields: only ?? Request.fields, auditClear: auditClear, label: label, keyParameter: keyParameter,
            fastPath: fastPath, createsKey: createsKey, status: status, requestType: request,
            .json { routes, call in
                try AnswerEncoder.encode(try await run(routes, call, try RequestDecoder.decode(Request.self, from: call.body)))
            })
    }

    /// Describes an endpoint that takes a typed request and answers `204 No Content`.
    convenience init<Request: EndpointRequest>(
        _ path: String, _ operation: Operation, access: Access = .policy, request: Request.Type,
        auditClear: Set<String> = [], label: String, keyParameter: String? = nil, createsKey: Bool = false,
        noContent run: @escaping @Sendable (TransitRoutes, Call, Request) async throws -> Void
    ) {
        self.init(
            path, operation, access: access, fields: Request.fields, auditClear: auditClear, label: label, keyParameter: keyParameter,
            createsKey: createsKey, status: .noContent, requestType: request,
            .json { routes, call in
                try await run(routes, call, try RequestDecoder.decode(Request.self, from: call.body))
                return nil
            })
    }
}
