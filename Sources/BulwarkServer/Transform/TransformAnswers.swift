/// `GET transform/role/:name`.
struct RoleDescription: Encodable, Sendable {
    /// The transformations the role may use.
    let transformations: [String]
}

/// `GET transform/template/:name`.
struct TemplateDescription: Encodable, Sendable {
    /// `regex`.
    let type: String
    /// The pattern.
    let pattern: String
    /// The alphabet's name.
    let alphabet: String
    /// The encode format, when set.
    let encodeFormat: String?
    /// The decode formats (left out when none).
    let decodeFormats: [String: String]?

    enum CodingKeys: String, CodingKey {
        case type, pattern, alphabet
        case encodeFormat = "encode_format"
        case decodeFormats = "decode_formats"
    }
}

/// `GET transform/alphabet/:name`.
struct AlphabetDescription: Encodable, Sendable {
    /// The characters.
    let alphabet: String
}

/// `GET transform/transformation/:name`: the settings of its type (the key never).
struct TransformationDescription: Encodable, Sendable {
    /// `fpe`, `masking` or `tokenization`.
    let type: String
    /// The roles that may use it.
    let allowedRoles: [String]
    /// Its templates.
    let templates: [String]
    /// FPE only.
    var tweakSource: String?
    /// Masking only.
    var maskingCharacter: String?
    /// Tokenisation only.
    var tokenization: Tokenization?

    /// A tokenisation's settings.
    struct Tokenization: Sendable {
        var convergent: Bool
        var maxTTL: Int
        var mappingMode: String
        var stores: [String]
        var deletionAllowed: Bool
        var preservePrefix: Int
        var preserveSuffix: Int
        var luhn: String
    }

    enum CodingKeys: String, CodingKey {
        case type, templates, convergent, stores, luhn
        case allowedRoles = "allowed_roles"
        case tweakSource = "tweak_source"
        case maskingCharacter = "masking_character"
        case maxTTL = "max_ttl"
        case mappingMode = "mapping_mode"
        case deletionAllowed = "deletion_allowed"
        case tokenFormat = "token_format"
        case preservePrefix = "preserve_prefix"
        case preserveSuffix = "preserve_suffix"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.type, forKey: .type)
        try container.encode(self.allowedRoles, forKey: .allowedRoles)
        try container.encode(self.templates, forKey: .templates)
        try container.encodeIfPresent(self.tweakSource, forKey: .tweakSource)
        try container.encodeIfPresent(self.maskingCharacter, forKey: .maskingCharacter)
        guard let tokenization = self.tokenization else { return }
        try container.encode(tokenization.convergent, forKey: .convergent)
        try container.encode(tokenization.maxTTL, forKey: .maxTTL)
        try container.encode(tokenization.mappingMode, forKey: .mappingMode)
        try container.encode(tokenization.stores, forKey: .stores)
        try container.encode(tokenization.deletionAllowed, forKey: .deletionAllowed)
        try container.encode(self.templates.isEmpty ? "opaque" : "format-preserving", forKey: .tokenFormat)
        try container.encode(tokenization.preservePrefix, forKey: .preservePrefix)
        try container.encode(tokenization.preserveSuffix, forKey: .preserveSuffix)
        try container.encode(tokenization.luhn, forKey: .luhn)
    }
}
