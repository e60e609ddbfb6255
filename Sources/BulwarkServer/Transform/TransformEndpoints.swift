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
        _ path: String, fields: Set<String>, _ run: @escaping @Sendable (TransformBackend, Endpoint.Call) async throws -> [String: Any]
    ) -> Endpoint {
        let label = "transform/" + (path.split(separator: "/").dropFirst().first.map(String.init) ?? path)
        return Endpoint(path, .write, fields: fields, auditClear: settings, label: label, .json { routes, call in
            try await TransformTemplate.withMatchingBudget { try await run(routes.transform, call) }
        })
    }

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = Self.configuration + [
        operation("transform/encode/:name", fields: Fields.transformEncode) { transform, call in try await transform.encode(role: call.name, call.body) },
        operation("transform/decode/:name", fields: Fields.transformDecode) { transform, call in
            try await transform.decode(role: call.name, format: nil, call.body)
        },
        operation("transform/decode/:name/:format", fields: Fields.transformDecode) { transform, call in
            try await transform.decode(role: call.name, format: call.parameters["format"], call.body)
        },
        operation("transform/validate/:name", fields: Fields.transformLookup) { transform, call in try await transform.validate(role: call.name, call.body) },
        operation("transform/tokenized/:name", fields: Fields.transformLookup) { transform, call in try await transform.tokenized(role: call.name, call.body) },
        operation("transform/metadata/:name", fields: Fields.transformLookup) { transform, call in try await transform.metadata(role: call.name, call.body) },
        operation("transform/revoke/:name", fields: Fields.transformLookup) { transform, call in try await transform.revoke(role: call.name, call.body) },
    ]
}
