import Bulwark
import Foundation

/// A request value kept as its JSON text rather than decoded (Transform's token `metadata`: a
/// string or an object the service stores as given and gives back). ``RequestDecoder`` writes
/// the value's JSON; ``AnswerEncoder`` writes it back as JSON, not as a string.
struct RawJSON: Codable, Sendable, Equatable {
    /// The value's JSON text.
    let text: [UInt8]

    /// A value from its JSON text.
    init(text: [UInt8]) {
        self.text = text
    }

    /// A JSON string (any other decoder than ``RequestDecoder``, which keeps objects too).
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let text = try? container.decode(String.self) else {
            throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(decoder.codingPath)) must be a string or an object")
        }
        self.text = JSONText.encode(text)
    }

    /// The value, parsed (nil when the text is not JSON).
    var value: Any? {
        try? JSONSerialization.jsonObject(with: Data(self.text), options: [.fragmentsAllowed])
    }

    /// The text as a string (any other encoder than ``AnswerEncoder``, which writes the value).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(decoding: self.text, as: UTF8.self))
    }
}
