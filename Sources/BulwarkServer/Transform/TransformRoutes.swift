import Bulwark
import Foundation
import HTTPTypes
import Hummingbird

extension Fields {
    static let transformRole: Set<String> = ["transformations"]
    static let transformation: Set<String> = [
        "type", "template", "templates", "tweak_source", "masking_character", "allowed_roles", "convergent", "max_ttl", "mapping_mode",
        "stores", "deletion_allowed", "preserve_prefix", "preserve_suffix", "luhn",
    ]
    static let transformTemplate: Set<String> = ["type", "pattern", "alphabet", "encode_format", "decode_formats"]
    static let transformEncode: Set<String> = ["value", "transformation", "tweak", "ttl", "metadata", "reference", "batch_input"]
    static let transformDecode: Set<String> = ["value", "transformation", "tweak", "decode_format", "reference", "batch_input"]
    static let transformLookup: Set<String> = ["value", "transformation", "reference", "batch_input"]
}

/// One kind of Transform configuration object and its operations.
struct ConfigurationRoute: Sendable {
    let path: String
    let kind: String
    let fields: Set<String>
    let write: @Sendable (String, [String: Any]) async throws -> Void
    let read: @Sendable (String) throws -> [String: Any]
}

extension TransitRoutes {
    /// Vault's Transform engine at `/v1/transform/`: configuration (roles, transformations,
    /// templates, alphabets) and encode/decode/validate/tokenized/metadata, plus `revoke`. Each
    /// path is its own policy path, so `transform/decode/<role>` is granted apart from encode.
    func registerTransform(on router: Router<TransitRequestContext>) {
        let transform = self.transform
        // Configuration objects: write, read, delete, list.
        var kinds: [ConfigurationRoute] = []
        kinds.append(ConfigurationRoute(path: "role", kind: "role", fields: Fields.transformRole,
            write: { name, body in try await transform.writeRole(name, body) }, read: { name in try transform.readRole(name) }))
        kinds.append(ConfigurationRoute(path: "transformation", kind: "transformation", fields: Fields.transformation,
            write: { name, body in try await transform.writeTransformation(name, type: nil, body) },
            read: { name in try transform.readTransformation(name, type: nil) }))
        kinds.append(ConfigurationRoute(path: "template", kind: "template", fields: Fields.transformTemplate,
            write: { name, body in try await transform.writeTemplate(name, body) }, read: { name in try transform.readTemplate(name) }))
        kinds.append(ConfigurationRoute(path: "alphabet", kind: "alphabet", fields: ["alphabet"],
            write: { name, body in try await transform.writeAlphabet(name, body) }, read: { name in try transform.readAlphabet(name) }))
        for type in ["fpe", "masking", "tokenization"] {
            kinds.append(ConfigurationRoute(path: "transformations/" + type, kind: type, fields: Fields.transformation,
                write: { name, body in try await transform.writeTransformation(name, type: type, body) },
                read: { name in try transform.readTransformation(name, type: type) }))
        }
        for entry in kinds {
            let base = "v1/transform/" + entry.path
            self.post(router, RouterPath(stringLiteral: base + "/:name"), status: .noContent, fields: entry.fields) { name, body in
                try await entry.write(name, body)
                return nil
            }
            self.route(router, RouterPath(stringLiteral: base + "/:name"), method: .get) { name, _ in try entry.read(name) }
            self.route(router, RouterPath(stringLiteral: base + "/:name"), method: .delete, status: .noContent) { name, _ in
                try await transform.delete(entry.kind, name)
                return nil
            }
            self.route(router, RouterPath(stringLiteral: base), method: .get, named: false, listing: .only) { _, _ in transform.list(entry.kind) }
        }
        // Operations.
        self.post(router, "v1/transform/encode/:name", fields: Fields.transformEncode) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.encode(role: role, body) }
        }
        self.post(router, "v1/transform/decode/:name", fields: Fields.transformDecode) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.decode(role: role, format: nil, body) }
        }
        for method in [HTTPRequest.Method.post, .put] {
            router.on("v1/transform/decode/:name/:format", method: method) { request, context in
                let format = context.parameters.get("format")
                return try await self.handle(request, context, fields: Fields.transformDecode) { _, _, role, body in
                    try await TransformTemplate.withMatchingBudget { try await transform.decode(role: role, format: format, body) }
                }
            }
        }
        self.post(router, "v1/transform/validate/:name", fields: Fields.transformLookup) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.validate(role: role, body) }
        }
        self.post(router, "v1/transform/tokenized/:name", fields: Fields.transformLookup) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.tokenized(role: role, body) }
        }
        self.post(router, "v1/transform/metadata/:name", fields: Fields.transformLookup) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.metadata(role: role, body) }
        }
        self.post(router, "v1/transform/revoke/:name", fields: Fields.transformLookup) { role, body in
            try await TransformTemplate.withMatchingBudget { try await transform.revoke(role: role, body) }
        }
    }
}
