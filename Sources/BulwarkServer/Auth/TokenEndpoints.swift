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
            Endpoint(path, .write, request: TokenCreation.self, auditClear: properties, label: path, answer: { routes, call, request in
                let mayOrphan = routes.auth.allows(call.principal, path: "auth/token/create", capability: "update", needsSudo: true)
                return try await routes.auth.createToken(request, creator: call.principal, privileges: .init(mayOrphan: mayOrphan), orphan: orphan)
            })
        }
        + [("auth/token/revoke", false), ("auth/token/revoke-orphan", true)].map { path, orphaning in
            Endpoint(path, .write, access: orphaning ? .sudo : .policy, request: TokenReference.self, label: path, noContent: { routes, _, request in
                try await routes.auth.revoke(token: try request.required(), orphaningChildren: orphaning)
            })
        }
        + [
            Endpoint("auth/token/revoke-accessor", .write, request: AccessorReference.self, label: "auth/token/revoke-accessor", noContent: { routes, _, request in
                try await routes.auth.revoke(accessor: try request.required())
            }),
            Endpoint("auth/token/revoke-self", .write, access: .token, request: NoFields.self, label: "auth/token/revoke-self", noContent: { routes, call, _ in
                try await routes.auth.revoke(token: call.token)
            }),
            Endpoint("auth/token/lookup", .write, request: TokenReference.self, label: "auth/token/lookup", answer: { routes, _, request in
                try routes.auth.lookup(token: try request.required())
            }),
            Endpoint("auth/token/lookup-accessor", .write, request: AccessorReference.self, label: "auth/token/lookup-accessor", answer: { routes, _, request in
                try routes.auth.lookup(accessor: try request.required())
            }),
            Endpoint("auth/token/renew-self", .write, access: .token, request: SelfRenewal.self, auditClear: properties, label: "auth/token/renew-self",
                answer: { routes, call, request in
                    guard case .token(let hash, _) = call.principal, !hash.hasPrefix("cert:") else { throw BulwarkError(.invalidArgument, "lease is not renewable") }
                    return try await routes.auth.renew(hash: hash, increment: request.increment)
                }),
            Endpoint("auth/token/renew", .write, request: TokenRenewal.self, auditClear: properties, label: "auth/token/renew", answer: { routes, _, request in
                guard case .token(let hash, _) = routes.auth.principal(try TokenReference.required(request.token, "token")) else {
                    throw BulwarkError(.invalidArgument, "lease is not renewable")
                }
                return try await routes.auth.renew(hash: hash, increment: request.increment)
            }),
            Endpoint("auth/token/lookup-self", .readOrWrite, access: .token, request: NoFields.self, label: "auth/token/lookup-self", answer: { routes, call, _ in
                routes.auth.lookup(call.principal, id: call.token)
            }),
            Endpoint("auth/token/accessors", .list, access: .sudo, request: NoFields.self, label: "auth/token/accessors", answer: { routes, _, _ in
                routes.auth.accessors()
            }),
        ]
}
