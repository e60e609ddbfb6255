import Bulwark

/// `POST transform/encode|decode|validate|tokenized|metadata|revoke/:role`: one value, or a batch
/// of items with the same fields (Vault's Transform `path_encode.go`, `path_decode.go`, …).
/// Each operation accepts the fields ``fields(_:)`` names.
struct TransformRequest: EndpointRequest {
    /// The value to encode, or the encoded value or token to decode or look up.
    var value: String?
    /// The transformation (needed when the role has several).
    var transformation: String?
    /// FPE with a supplied tweak: the tweak, base64.
    var tweak: String?
    /// Tokenisation: the token's life (capped by the transformation's `max_ttl`; zero: unlimited),
    /// read where it is used, so a bad one is its batch item's error.
    var ttl: DurationText?
    /// Tokenisation: a string or an object kept with the token (sealed) and given back by `metadata`.
    var metadata: RawJSON?
    /// A caller's label, given back on the item's result.
    var reference: String?
    /// FPE decode: a named decode format of the template.
    var decodeFormat: String?
    /// The items of a batch.
    var batchInput: [TransformRequest]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case value, transformation, tweak, ttl, metadata, reference
        case decodeFormat = "decode_format"
        case batchInput = "batch_input"
    }

    /// The fields each operation accepts: `encode` a token's settings, `decode` a decode
    /// format, the look-ups neither.
    static func fields(_ operation: String) -> Set<String> {
        let lookup: Set<String> = ["value", "transformation", "reference", "batch_input"]
        switch operation {
        case "encode": return lookup.union(["tweak", "ttl", "metadata"])
        case "decode": return lookup.union(["tweak", "decode_format"])
        default: return lookup
        }
    }
}

/// A duration field as given (seconds, or a string such as `"24h"`), parsed where it is used
/// (``RequestValues/duration(_:field:)``) rather than when the request is decoded: in a batch, a
/// bad value is that item's error, as Vault answers, and an operation that does not use the field
/// never refuses it.
enum DurationText: Decodable, Sendable {
    /// A number of seconds.
    case seconds(Int)
    /// A string (seconds, or number-and-unit parts).
    case text(String)

    /// Decodes an integer or a string.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Int.self) {
            self = .seconds(seconds)
        } else if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(decoder.codingPath)) must be a duration (seconds, or a string such as \"24h\")")
        }
    }

    /// The duration, checked (nil when zero).
    /// - Throws: ``BulwarkError`` (`invalidArgument`) naming `field` when malformed or out of range.
    func duration(field: String) throws -> Duration? {
        switch self {
        case .seconds(let seconds): try RequestValues.duration(seconds, field: field)
        case .text(let text): try RequestValues.duration(text, field: field)
        }
    }
}
