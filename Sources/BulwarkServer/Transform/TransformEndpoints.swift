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

    /// One kind of configuration object: its path, its kind in the store, its fields, and how
    /// it is written and read.
    private struct ConfigurationKind {
        /// The path under `transform/`.
        let path: String
        /// The kind as the store names it (``TransformBackend/delete(_:_:)``, ``TransformBackend/list(_:)``).
        let storeKind: String
        /// The fields a write accepts.
        let fields: Set<String>
        /// Writes one object.
        let write: @Sendable (TransformBackend, String, [String: Any]) async throws -> Void
        /// Reads one object.
        let read: @Sendable (TransformBackend, String) throws -> [String: Any]
    }

    /// Roles, transformations (any type, and each type under its own path), templates, alphabets.
    private static let kinds: [ConfigurationKind] = [
        ConfigurationKind(path: "role", storeKind: "role", fields: Fields.transformRole,
            write: { transform, name, body in try await transform.writeRole(name, body) }, read: { transform, name in try transform.readRole(name) }),
        ConfigurationKind(path: "transformation", storeKind: "transformation", fields: Fields.transformation,
            write: { transform, name, body in try await transform.writeTransformation(name, type: nil, body) },
            read: { transform, name in try transform.readTransformation(name, type: nil) }),
        ConfigurationKind(path: "template", storeKind: "template", fields: Fields.transformTemplate,
            write: { transform, name, body in try await transform.writeTemplate(name, body) },
            read: { transform, name in try transform.readTemplate(name) }),
        ConfigurationKind(path: "alphabet", storeKind: "alphabet", fields: ["alphabet"],
            write: { transform, name, body in try await transform.writeAlphabet(name, body) },
            read: { transform, name in try transform.readAlphabet(name) }),
    ] + ["fpe", "masking", "tokenization"].map { type in
        ConfigurationKind(path: "transformations/" + type, storeKind: type, fields: Fields.transformation,
            write: { transform, name, body in try await transform.writeTransformation(name, type: type, body) },
            read: { transform, name in try transform.readTransformation(name, type: type) })
    }

    /// Configuration objects: write, read, delete, list.
    private static let configuration: [Endpoint] = kinds.flatMap { entry -> [Endpoint] in
        let base = "transform/" + entry.path
        let label = "transform/" + (entry.path.split(separator: "/").first.map(String.init) ?? entry.path)
        return [
            Endpoint(base + "/:name", .write, fields: entry.fields, auditClear: settings, label: label, status: .noContent, .json { routes, call in
                try await entry.write(routes.transform, call.name, call.body)
                return nil
            }),
            Endpoint(base + "/:name", .read, label: label, .json { routes, call in try entry.read(routes.transform, call.name) }),
            Endpoint(base + "/:name", .delete, label: label, status: .noContent, .json { routes, call in
                try await routes.transform.delete(entry.storeKind, call.name)
                return nil
            }),
            Endpoint(base, .list, label: label, .json { routes, _ in routes.transform.list(entry.storeKind) }),
        ]
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
