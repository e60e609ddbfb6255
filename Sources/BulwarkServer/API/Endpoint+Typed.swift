import HTTPTypes

extension Endpoint {
    /// Describes an endpoint that takes a typed request and gives a typed answer: its accepted
    /// fields are `request`'s (``EndpointRequest/fields``); each call's body is decoded by
    /// ``RequestDecoder`` (unknown fields refused by name) and the answer encoded by ``AnswerEncoder``.
    convenience init<Request: EndpointRequest, Answer: Encodable & Sendable>(
        _ path: String, _ operation: Operation, access: Access = .policy, request: Request.Type,
        auditClear: Set<String> = [], label: String, keyParameter: String? = nil, createsKey: Bool = false, status: HTTPResponse.Status = .ok,
        answer run: @escaping @Sendable (TransitRoutes, Call, Request) async throws -> Answer
    ) {
        self.init(
            path, operation, access: access, fields: Request.fields, auditClear: auditClear, label: label, keyParameter: keyParameter,
            createsKey: createsKey, status: status,
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
            createsKey: createsKey, status: .noContent,
            .json { routes, call in
                try await run(routes, call, try RequestDecoder.decode(Request.self, from: call.body))
                return nil
            })
    }
}
