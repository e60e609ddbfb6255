import Bulwark
import Foundation

/// Names given as a JSON list of strings or as one comma-separated string, as Vault takes
/// `allowed_roles`, `templates` and `transformations`.
struct NameList: Decodable, Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The names, in order, blanks dropped from a comma-separated string.
    var names: [String]

    /// The names.
    init(arrayLiteral names: String...) {
        self.names = names
    }

    /// Decodes a list of strings or a comma-separated string.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let list = try? container.decode([String].self) {
            self.names = list
        } else if let text = try? container.decode(String.self) {
            self.names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else {
            throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(decoder.codingPath)) must be a list of strings or a comma-separated string")
        }
    }
}

/// `POST transform/role/:name`: the transformations the role's callers may use.
struct RoleWrite: EndpointRequest {
    /// The transformations.
    var transformations: NameList?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case transformations
    }
}

/// `POST transform/template/:name`: a regular expression whose groups are transformed, over an alphabet.
struct TemplateWrite: EndpointRequest {
    /// `regex` (the only type).
    var type: String?
    /// The pattern; its capture groups are what is transformed.
    var pattern: String?
    /// An alphabet's name (`builtin/numeric`, or one written under `transform/alphabet/`).
    var alphabet: String?
    /// How encoded values are written back (`$1-$2`), when not in place.
    var encodeFormat: String?
    /// Named formats a decode may ask for.
    var decodeFormats: [String: String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, pattern, alphabet
        case encodeFormat = "encode_format"
        case decodeFormats = "decode_formats"
    }
}

/// `POST transform/alphabet/:name`: the characters FPE works over.
struct AlphabetWrite: EndpointRequest {
    /// The characters, each once.
    var alphabet: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case alphabet
    }
}

/// `POST transform/transformation/:name` and `transform/transformations/<type>/:name`: a
/// transformation; on an update, an absent setting keeps its value.
struct TransformationWrite: EndpointRequest {
    /// `fpe`, `masking` or `tokenization` (or the type in the path).
    var type: String?
    /// The template (one name; Vault's older field).
    var template: NameList?
    /// The templates.
    var templates: NameList?
    /// FPE: `supplied`, `generated` or `internal`.
    var tweakSource: String?
    /// Masking: the character written over the matched groups.
    var maskingCharacter: String?
    /// The roles that may use it (`*` globs).
    var allowedRoles: NameList?
    /// Tokenisation: the same value gives the same token.
    var convergent: Bool?
    /// Tokenisation: the longest life of a token (zero: unlimited).
    var maxTTL: Duration?
    /// Tokenisation: `default` only.
    var mappingMode: String?
    /// Tokenisation: `builtin/internal` only.
    var stores: NameList?
    /// Tokenisation: whether the transformation (and its tokens) may be deleted.
    var deletionAllowed: Bool?
    /// Format-preserving tokens: leading characters kept.
    var preservePrefix: Int?
    /// Format-preserving tokens: trailing characters kept.
    var preserveSuffix: Int?
    /// Format-preserving tokens: `any`, `valid` or `invalid` Luhn check digit.
    var luhn: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, template, templates, convergent, stores, luhn
        case tweakSource = "tweak_source"
        case maskingCharacter = "masking_character"
        case allowedRoles = "allowed_roles"
        case maxTTL = "max_ttl"
        case mappingMode = "mapping_mode"
        case deletionAllowed = "deletion_allowed"
        case preservePrefix = "preserve_prefix"
        case preserveSuffix = "preserve_suffix"
    }
}
