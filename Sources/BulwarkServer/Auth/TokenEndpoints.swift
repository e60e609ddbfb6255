import Bulwark
import HTTPTypes

/// Vault's token endpoints at `auth/token/` (see `AuthStore+Tokens.swift`). The `-self` ones need
/// only the token itself, as Vault's default policy grants them.
enum TokenEndpoints {
    /// Token properties written in clear in the audit log (never a token or an accessor: those
    /// are always hashed, see ``AuditLog/credentials``).
    static let properties: Set<String> = [
        "policies", "ttl", "explicit_max_ttl", "period", "num_uses", "renewable", "no_parent", "no_default_policy", "type", "increment",
    ]

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] =
        [("auth/token/create", false), ("auth/token/create-orphan", true)].map { path, orphan in
            Endpoint(path, .write, fields: Fields.tokenCreate, auditClear: properties, label: path, .json { routes, call in
                let mayOrphan = routes.auth.allows(call.principal, path: "auth/token/create", capability: "update", needsSudo: true)
                return try await routes.auth.createToken(call.body, creator: call.principal, privileges: .init(mayOrphan: mayOrphan), orphan: orphan)
            })
        }
        + [("auth/token/revoke", false), ("auth/token/revoke-orphan", true)].map { path, orphaning in
            Endpoint(path, .write, access: orphaning ? .sudo : .policy, fields: ["token"], label: path, status: .noContent, .json { routes, call in
                try await routes.auth.revoke(token: try TransitRoutes.text(call.body, "token"), orphaningChildren: orphaning)
                return nil
            })
        }
        + [
            Endpoint("auth/token/revoke-accessor", .write, fields: ["accessor"], label: "auth/token/revoke-accessor", status: .noContent, .json { routes, call in
                try await routes.auth.revoke(accessor: try TransitRoutes.text(call.body, "accessor"))
                return nil
            }),
            Endpoint("auth/token/revoke-self", .write, access: .token, label: "auth/token/revoke-self", status: .noContent, .json { routes, call in
                try await routes.auth.revoke(token: call.token)
                return nil
            }),
            Endpoint("auth/token/lookup", .write, fields: ["token"], label: "auth/token/lookup", .json { routes, call in
                try routes.auth.lookup(token: try TransitRoutes.text(call.body, "token"))
            }),
            Endpoint("auth/token/lookup-accessor", .write, fields: ["accessor"], label: "auth/token/lookup-accessor", .json { routes, call in
                try routes.auth.lookup(accessor: try TransitRoutes.text(call.body, "accessor"))
            }),
            Endpoint("auth/token/renew-self", .write, access: .token, fields: ["increment"], auditClear: properties, label: "auth/token/renew-self",
                .json { routes, call in
                    guard case .token(let hash, _) = call.principal, !hash.hasPrefix("cert:") else { throw BulwarkError(.invalidArgument, "lease is not renewable") }
                    return try await routes.auth.renew(hash: hash, increment: call.body["increment"])
                }),
            Endpoint("auth/token/renew", .write, fields: ["token", "increment"], auditClear: properties, label: "auth/token/renew", .json { routes, call in
                guard case .token(let hash, _) = routes.auth.principal(try TransitRoutes.text(call.body, "token")) else {
                    throw BulwarkError(.invalidArgument, "lease is not renewable")
                }
                return try await routes.auth.renew(hash: hash, increment: call.body["increment"])
            }),
            Endpoint("auth/token/lookup-self", .readOrWrite, access: .token, label: "auth/token/lookup-self", .json { routes, call in
                routes.auth.lookup(call.principal, id: call.token)
            }),
            Endpoint("auth/token/accessors", .list, access: .sudo, label: "auth/token/accessors", .json { routes, _ in routes.auth.accessors() }),
        ]
}

extension TransitRoutes {
    /// A required, non-empty string field.
    static func text(_ body: [String: Any], _ field: String) throws -> String {
        guard let value = body[field] as? String, !value.isEmpty else { throw BulwarkError(.invalidArgument, "missing \(field)") }
        return value
    }
}
