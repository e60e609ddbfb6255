/// An item's result of a Transform operation: what the operation gives (one or two fields), or
/// the item's error in a batch, with the item's `reference` given back.
struct TransformResult: Encodable, Sendable {
    /// `encode`: the encoded value or token.
    var encodedValue: String?
    /// `encode` with a generated tweak: the tweak, base64.
    var tweak: String?
    /// `decode`: the value.
    var decodedValue: String?
    /// `validate`: whether the token is stored and unexpired.
    var valid: Bool?
    /// `tokenized`: whether the value has an unexpired token.
    var tokenized: Bool?
    /// `revoke`: the token is gone.
    var revoked: Bool?
    /// `metadata`: the token, its expiry and metadata (both written, `null` when none).
    var token: TokenDetails?
    /// A batch item's error.
    var error: String?
    /// The item's `reference`, when it had one.
    var reference: String?

    /// What `metadata` tells of a token.
    struct TokenDetails: Sendable {
        /// The token.
        var value: String
        /// When it expires (ISO 8601), nil for never.
        var expirationTime: String?
        /// Its metadata, nil for none.
        var metadata: RawJSON?
    }

    enum CodingKeys: String, CodingKey {
        case tweak, valid, tokenized, revoked, error, reference, value, metadata
        case encodedValue = "encoded_value"
        case decodedValue = "decoded_value"
        case expirationTime = "expiration_time"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.encodedValue, forKey: .encodedValue)
        try container.encodeIfPresent(self.tweak, forKey: .tweak)
        try container.encodeIfPresent(self.decodedValue, forKey: .decodedValue)
        try container.encodeIfPresent(self.valid, forKey: .valid)
        try container.encodeIfPresent(self.tokenized, forKey: .tokenized)
        try container.encodeIfPresent(self.revoked, forKey: .revoked)
        if let token = self.token {
            try container.encode(token.value, forKey: .value)
            try container.encode(token.expirationTime, forKey: .expirationTime)
            try container.encode(token.metadata, forKey: .metadata)
        }
        try container.encodeIfPresent(self.error, forKey: .error)
        try container.encodeIfPresent(self.reference, forKey: .reference)
    }
}

/// A Transform operation's answer: one result, or `batch_results` in the order of `batch_input`.
enum TransformAnswer: Encodable, Sendable {
    /// A single call's result.
    case single(TransformResult)
    /// A batch's results, each with its error or its `reference`.
    case batch([TransformResult])

    /// The single call's result, or nil.
    var result: TransformResult? {
        if case .single(let result) = self { return result }
        return nil
    }

    /// A batch's results, or nil.
    var items: [TransformResult]? {
        if case .batch(let items) = self { return items }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case batchResults = "batch_results"
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .single(let result): try result.encode(to: encoder)
        case .batch(let items):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .batchResults)
        }
    }
}
