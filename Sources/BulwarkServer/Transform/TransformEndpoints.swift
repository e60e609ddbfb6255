import Bulwark
import HTTPTypes

/// Vault's Transform engine at `transform/`: configuration (roles, transformations, templates,
/// alphabets) and encode/decode/validate/tokenized/metadata, plus `revoke`. Each path is its own
/// policy path, so `transform/decode/<role>` is granted apart from encode.
enum TransformEndpoints {
    /// Configuration names and settings: written in clear in the audit log (values, tweaks,
    /// patterns, alphabets and metadata are hashed).
    static let settings: Set<String> = [
        "type", "template", "templates", "transformation", "transformations", "tweak_source", "allowed_roles", "convergent", "max_ttl",
        "mapping_mode", "stores", "deletion_allowed", "preserve_prefix", "preserve_suffix", "luhn", "encode_format", "decode_format", "ttl",
    ]

    /// One kind of configuration object at `transform/<path>`: write, read, delete and list,
    /// under the kind the store names it by (``TransformBackend/delete(_:_:)``, ``TransformBackend/list(_:)``).
    private static func configuration<Request: EndpointRequest, Answer: Encodable & Sendable>(
        _ path: String, storeKind: String, request: Request.Type,
        write: @escaping @Sendable (TransformBackend, String, Request) async throws -> Void,
        read: @escaping @Sendable (TransformBackend, String) throws -> Answer
    ) -> [Endpoint] {
        let base = "transform/" + path
        let label = "transform/" + (path.split(separator: "/").first.map(String.init) ?? path)
        return [
            Endpoint(base + "/:name", .write, request: request, auditClear: settings, label: label, noContent: { routes, call, request in
                try await write(routes.transform, call.name, request)
            }),
            Endpoint(base + "/:name", .read, request: NoFields.self, label: label, answer: { routes, call, _ in try read(routes.transform, call.name) }),
            Endpoint(base + "/:name", .delete, request: NoFields.self, label: label, noContent: { routes, call, _ in
                try await routes.transform.delete(storeKind, call.name)
            }),
            Endpoint(base, .list, request: NoFields.self, label: label, answer: { routes, _, _ in routes.transform.list(storeKind) }),
        ]
    }

    /// Roles, transformations (any type, and each type under its own path), templates, alphabets.
    private static let configuration: [Endpoint] =
        Self.configuration("role", storeKind: "role", request: RoleWrite.self, write: { try await $0.writeRole($1, $2) }, read: { try $0.readRole($1) })
        + Self.configuration(
            "transformation", storeKind: "transformation", request: TransformationWrite.self,
            write: { try await $0.writeTransformation($1, type: nil, $2) }, read: { try $0.readTransformation($1, type: nil) })
        + Self.configuration(
            "template", storeKind: "template", request: TemplateWrite.self, write: { try await $0.writeTemplate($1, $2) }, read: { try $0.readTemplate($1) })
        + Self.configuration(
            "alphabet", storeKind: "alphabet", request: AlphabetWrite.self, write: { try await $0.writeAlphabet($1, $2) }, read: { try $0.readAlphabet($1) })
        + ["fpe", "masking", "tokenization"].flatMap { type in
            Self.configuration(
                "transformations/" + type, storeKind: type, request: TransformationWrite.self,
                write: { try await $0.writeTransformation($1, type: type, $2) }, read: { try $0.readTransformation($1, type: type) })
        }

    /// An operation with a role, its template matching bounded in time.
    private static func operation(
        _ path: String, _ run: @escaping @Sendable (TransformBackend, Endpoint.Call, TransformRequest) async throws -> TransformAnswer
    ) -> Endpoint {
        let operation = path.split(separator: "/").dropFirst().first.map(String.init) ?? path
        return Endpoint(
            path, .write, request: TransformRequest.self, only: TransformRequest.fields(operation), auditClear: settings, label: "transform/" + operation,
            answer: { routes, call, request in try await TransformTemplate.withMatchingBudget { try await run(routes.transform, call, request) } })
    }

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = Self.configuration + [
        operation("transform/encode/:name") { transform, call, request in try await transform.encode(role: call.name, request) },
        operation("transform/decode/:name") { transform, call, request in try await transform.decode(role: call.name, format: nil, request) },
        operation("transform/decode/:name/:format") { transform, call, request in
            try await transform.decode(role: call.name, format: call.parameters["format"], request)
        },
        operation("transform/validate/:name") { transform, call, request in try await transform.validate(role: call.name, request) },
        operation("transform/tokenized/:name") { transform, call, request in try await transform.tokenized(role: call.name, request) },
        operation("transform/metadata/:name") { transform, call, request in try await transform.metadata(role: call.name, request) },
        operation("transform/revoke/:name") { transform, call, request in try await transform.revoke(role: call.name, request) },
    ]
}
