import HTTPTypes
import Hummingbird

extension Fields {
    static let tokenCreate: Set<String> = [
        "policies", "ttl", "display_name", "meta", "metadata", "no_parent", "renewable", "explicit_max_ttl", "num_uses", "period",
        "no_default_policy", "type", "lease",
    ]
}

extension TransitRoutes {
    /// Vault's token endpoints at `/v1/auth/token/` (see `AuthStore+Tokens.swift`). The `-self`
    /// ones need only the token itself, as Vault's default policy grants them.
    func registerTokens(on router: Router<TransitRequestContext>) {
        for method in [HTTPRequest.Method.post, .put] {
            for (path, orphan) in [("v1/auth/token/create", false), ("v1/auth/token/create-orphan", true)] {
                router.on(RouterPath(stringLiteral: path), method: method) { request, context in
                    try await self.handle(request, context, named: false, fields: Fields.tokenCreate) { principal, _, _, body in
                        let mayOrphan = self.auth.allows(principal, path: "auth/token/create", capability: "update", needsSudo: true)
                        return try await self.auth.createToken(body, creator: principal, privileges: .init(mayOrphan: mayOrphan), orphan: orphan)
                    }
                }
            }
            for (path, orphaning) in [("v1/auth/token/revoke", false), ("v1/auth/token/revoke-orphan", true)] {
                router.on(RouterPath(stringLiteral: path), method: method) { request, context in
                    try await self.handle(request, context, named: false, status: .noContent, fields: ["token"]) { _, _, _, body in
                        guard let token = body["token"] as? String, !token.isEmpty else { throw TransitError.badRequest("missing token") }
                        try await self.auth.revoke(token: token, orphaningChildren: orphaning)
                        return nil
                    }
                }
            }
            router.on("v1/auth/token/revoke-accessor", method: method) { request, context in
                try await self.handle(request, context, named: false, status: .noContent, fields: ["accessor"]) { _, _, _, body in
                    try await self.auth.revoke(accessor: try Self.text(body, "accessor"))
                    return nil
                }
            }
            router.on("v1/auth/token/revoke-self", method: method) { request, context in
                try await self.handle(request, context, named: false, status: .noContent, selfService: true) { _, token, _, _ in
                    try await self.auth.revoke(token: token)
                    return nil
                }
            }
            router.on("v1/auth/token/lookup", method: method) { request, context in
                try await self.handle(request, context, named: false, fields: ["token"]) { _, _, _, body in
                    try self.auth.lookup(token: try Self.text(body, "token"))
                }
            }
            router.on("v1/auth/token/lookup-accessor", method: method) { request, context in
                try await self.handle(request, context, named: false, fields: ["accessor"]) { _, _, _, body in
                    try self.auth.lookup(accessor: try Self.text(body, "accessor"))
                }
            }
            router.on("v1/auth/token/renew-self", method: method) { request, context in
                try await self.handle(request, context, named: false, selfService: true, fields: ["increment"]) { principal, _, _, body in
                    guard case .token(let hash, _) = principal, !hash.hasPrefix("cert:") else { throw TransitError.badRequest("lease is not renewable") }
                    return try await self.auth.renew(hash: hash, increment: body["increment"])
                }
            }
            router.on("v1/auth/token/renew", method: method) { request, context in
                try await self.handle(request, context, named: false, fields: ["token", "increment"]) { _, _, _, body in
                    guard case .token(let hash, _) = self.auth.principal(try Self.text(body, "token")) else {
                        throw TransitError.badRequest("lease is not renewable")
                    }
                    return try await self.auth.renew(hash: hash, increment: body["increment"])
                }
            }
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("v1/auth/token/lookup-self", method: method) { request, context in
                try await self.handle(request, context, named: false, selfService: true) { principal, token, _, _ in
                    self.auth.lookup(principal, id: token)
                }
            }
        }
        self.route(router, "v1/auth/token/accessors", method: .get, named: false, listing: .only) { _, _ in self.auth.accessors() }
    }

    /// A required, non-empty string field.
    static func text(_ body: [String: Any], _ field: String) throws -> String {
        guard let value = body[field] as? String, !value.isEmpty else { throw TransitError.badRequest("missing \(field)") }
        return value
    }
}
