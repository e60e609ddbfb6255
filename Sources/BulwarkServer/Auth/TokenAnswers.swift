/// An answer that goes in Vault's `auth` block rather than `data` (token creation and renewal).
struct AuthAnswer: Encodable, Sendable {
    /// What the block holds.
    let auth: TokenAuth

    enum CodingKeys: String, CodingKey {
        /// The key ``TransitRoutes`` moves into the envelope's `auth`.
        case auth = "__auth"
    }
}

/// Vault's `auth` block: a new token (creation) or a renewed one (renewal: no token, no orphan
/// or use count).
struct TokenAuth: Encodable, Sendable {
    /// The token itself; `null` on renewal.
    let clientToken: String?
    /// Its accessor.
    let accessor: String
    /// Its policies.
    let policies: [String]
    /// Its life left, in seconds.
    let leaseDuration: Int
    /// Whether it may be renewed.
    let renewable: Bool
    /// Its metadata.
    let metadata: [String: String]
    /// Whether it has no parent (creation only).
    let orphan: Bool?
    /// Its uses left (creation only; 0: unlimited).
    let numUses: Int?

    enum CodingKeys: String, CodingKey {
        case accessor, policies, renewable, metadata, orphan
        case clientToken = "client_token"
        case tokenPolicies = "token_policies"
        case leaseDuration = "lease_duration"
        case numUses = "num_uses"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.clientToken, forKey: .clientToken)  // null on renewal, as Vault writes it
        try container.encode(self.accessor, forKey: .accessor)
        try container.encode(self.policies, forKey: .policies)
        try container.encode(self.policies, forKey: .tokenPolicies)
        try container.encode(self.leaseDuration, forKey: .leaseDuration)
        try container.encode(self.renewable, forKey: .renewable)
        try container.encode(self.metadata, forKey: .metadata)
        try container.encodeIfPresent(self.orphan, forKey: .orphan)
        try container.encodeIfPresent(self.numUses, forKey: .numUses)
    }
}

/// Vault's lookup answer (`lookup`, `lookup-self`, `lookup-accessor`).
struct TokenDescription: Encodable, Sendable {
    /// Its policies.
    var policies: [String]
    /// `root`, or `token-` and the name given at creation.
    var displayName: String
    /// Seconds left (0: no expiry).
    var ttl: Int
    /// When it expires (ISO 8601), `null` when never.
    var expireTime: String?
    /// Its accessor ("" for root).
    var accessor: String
    /// Whether it has no parent.
    var orphan: Bool
    /// Uses left (0: unlimited).
    var numUses: Int
    /// Whether it may be renewed.
    var renewable: Bool
    /// Vault's token path.
    var path: String
    /// The token itself: written (possibly `null`) only when ``writesID``.
    var id: String?
    /// Whether the answer has an `id` field (lookup and lookup-self).
    var writesID: Bool
    /// What only a stored token has (root has none of it).
    var details: Details?

    /// A stored token's creation, limits and metadata.
    struct Details: Sendable {
        /// Unix seconds.
        var creationTime: Int
        /// The TTL it was made with, in seconds.
        var creationTTL: Int
        /// When it was made (ISO 8601).
        var issueTime: String
        /// Its hard limit in seconds after creation (0: none).
        var explicitMaxTTL: Int
        /// A periodic token's period in seconds (0: none).
        var period: Int
        /// Its metadata.
        var meta: [String: String]
    }

    enum CodingKeys: String, CodingKey {
        case policies, ttl, accessor, orphan, renewable, type, path, id, period, meta
        case displayName = "display_name"
        case expireTime = "expire_time"
        case numUses = "num_uses"
        case creationTime = "creation_time"
        case creationTTL = "creation_ttl"
        case issueTime = "issue_time"
        case explicitMaxTTL = "explicit_max_ttl"
        case entityID = "entity_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.policies, forKey: .policies)
        try container.encode(self.displayName, forKey: .displayName)
        try container.encode(self.ttl, forKey: .ttl)
        try container.encode(self.expireTime, forKey: .expireTime)
        try container.encode(self.accessor, forKey: .accessor)
        try container.encode(self.orphan, forKey: .orphan)
        try container.encode(self.numUses, forKey: .numUses)
        try container.encode(self.renewable, forKey: .renewable)
        try container.encode("service", forKey: .type)
        try container.encode(self.path, forKey: .path)
        if self.writesID { try container.encode(self.id, forKey: .id) }
        if let details = self.details {
            try container.encode(details.creationTime, forKey: .creationTime)
            try container.encode(details.creationTTL, forKey: .creationTTL)
            try container.encode(details.issueTime, forKey: .issueTime)
            try container.encode(details.explicitMaxTTL, forKey: .explicitMaxTTL)
            try container.encode(details.period, forKey: .period)
            try container.encode(details.meta, forKey: .meta)
            try container.encode("", forKey: .entityID)
        }
    }
}
