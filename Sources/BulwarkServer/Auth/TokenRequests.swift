import Bulwark

/// `auth/token/create` (and `create-orphan`): the token to make (Vault's `token_store.go`).
struct TokenCreation: EndpointRequest {
    /// The policies (a child's must be a subset of its parent's; absent: the parent's).
    var policies: [String]?
    /// Its life (absent or zero: 768h); `lease` is Vault's older name.
    var ttl: Duration?
    /// Vault's older name for `ttl`.
    var lease: Duration?
    /// A hard limit on its life, renewals included.
    var explicitMaxTTL: Duration?
    /// A periodic token's period (root or `sudo` only).
    var period: Duration?
    /// Uses before it ends (0: unlimited).
    var numUses: Int?
    /// Whether it may be renewed (default true).
    var renewable: Bool?
    /// An orphan (root or `sudo` only).
    var noParent: Bool?
    /// Vault's default policy is not attached either way; accepted as a boolean.
    var noDefaultPolicy: Bool?
    /// `token-` and this, in lookups.
    var displayName: String?
    /// Names to strings kept with the token; `metadata` is the other spelling.
    var meta: [String: String]?
    /// The other spelling of `meta`.
    var metadata: [String: String]?
    /// `service` only.
    var type: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policies, ttl, lease, period, renewable, meta, metadata, type
        case explicitMaxTTL = "explicit_max_ttl"
        case numUses = "num_uses"
        case noParent = "no_parent"
        case noDefaultPolicy = "no_default_policy"
        case displayName = "display_name"
    }
}

/// `auth/token/lookup`, `revoke`, `revoke-orphan`: another token, named in the body (never in
/// the path, where it would be logged).
struct TokenReference: EndpointRequest {
    /// The token.
    var token: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case token
    }

    /// The token, refused when absent or empty.
    func required() throws -> String { try TokenReference.required(self.token, "token") }

    /// `value`, refused by name when absent or empty.
    static func required(_ value: String?, _ field: String) throws -> String {
        guard let value, !value.isEmpty else { throw BulwarkError(.invalidArgument, "missing \(field)") }
        return value
    }
}

/// `auth/token/lookup-accessor`, `revoke-accessor`: a token by its accessor.
struct AccessorReference: EndpointRequest {
    /// The accessor.
    var accessor: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accessor
    }

    /// The accessor, refused when absent or empty.
    func required() throws -> String { try TokenReference.required(self.accessor, "accessor") }
}

/// `auth/token/renew` and `renew-self`: how much longer (absent: the token's own TTL); `token`
/// for `renew` only.
struct TokenRenewal: EndpointRequest {
    /// The token to renew (`renew`).
    var token: String?
    /// The extension asked for.
    var increment: Duration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case token, increment
    }
}

/// `auth/token/renew-self`: how much longer.
struct SelfRenewal: EndpointRequest {
    /// The extension asked for.
    var increment: Duration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case increment
    }
}
