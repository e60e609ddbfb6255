/// A JSON object of scalar fields, decoded without Foundation: the shape of nearly every
/// single-item data-plane request (`{"plaintext":"…","key_version":1}`), and of the items of a
/// batch (``batch(_:maximumItems:)``).
///
/// Only a strict subset of JSON is taken: an object whose field names and string values are
/// printable ASCII without escapes, whose numbers are integers of at most 18 digits, and whose
/// other values are `true`, `false` or `null`, with at most ``maximumFields`` fields, none
/// repeated. Anything else (nesting, an escape, a fraction or exponent, non-ASCII text, a repeated
/// field, malformed JSON) decodes to `nil`, and the caller hands the body to the general decoder
/// instead, so the two can never disagree about what a body means: on the subset, each value is
/// exactly what `JSONSerialization` makes of it.
package struct FlatJSONObject {
    /// A field's value.
    package enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case null
    }

    /// The most fields decoded; a larger object is left to the general decoder.
    package static let maximumFields = 8

    /// The fields in the order of the body.
    package private(set) var fields: [(name: String, value: Value)] = []

    /// Decodes `bytes`, or nil when they are outside the subset (see the type's documentation).
    package init?(_ bytes: UnsafeRawBufferPointer) {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard let fields = reader.object() else { return nil }
        reader.skipSpace()
        guard reader.atEnd else { return nil }
        self.fields = fields
    }

    private init(fields: [(name: String, value: Value)]) {
        self.fields = fields
    }

    /// The items of a body that is exactly `{"batch_input":[…]}` with 1 to `maximumItems` items,
    /// each an object of the subset; nil for any other body (the general decoder's).
    package static func batch(_ bytes: UnsafeRawBufferPointer, maximumItems: Int) -> [FlatJSONObject]? {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        reader.skipSpace()
        guard reader.string() == "batch_input" else { return nil }
        reader.skipSpace()
        guard reader.take(UInt8(ascii: ":")) else { return nil }
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "[")) else { return nil }
        var items: [FlatJSONObject] = []
        repeat {
            reader.skipSpace()
            guard items.count < maximumItems, let fields = reader.object() else { return nil }
            items.append(FlatJSONObject(fields: fields))
            reader.skipSpace()
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "]")) else { return nil }
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "}")) else { return nil }
        reader.skipSpace()
        guard reader.atEnd else { return nil }
        return items
    }

    /// The value of `name`, nil when absent.
    package subscript(name: String) -> Value? {
        self.fields.first { $0.name == name }?.value
    }

    /// Whether every field is one of `names`.
    package func only(_ names: Set<String>) -> Bool {
        self.fields.allSatisfy { names.contains($0.name) }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var atEnd: Bool { self.index == self.bytes.count }

        /// An object of the subset, from its `{` to its `}`.
        mutating func object() -> [(name: String, value: Value)]? {
            guard self.take(UInt8(ascii: "{")) else { return nil }
            var fields: [(name: String, value: Value)] = []
            self.skipSpace()
            if self.take(UInt8(ascii: "}")) { return fields }
            while true {
                self.skipSpace()
                guard let name = self.string() else { return nil }
                guard fields.count < FlatJSONObject.maximumFields, !fields.contains(where: { $0.name == name }) else { return nil }
                self.skipSpace()
                guard self.take(UInt8(ascii: ":")) else { return nil }
                self.skipSpace()
                guard let value = self.value() else { return nil }
                fields.append((name, value))
                self.skipSpace()
                if self.take(UInt8(ascii: ",")) { continue }
                guard self.take(UInt8(ascii: "}")) else { return nil }
                return fields
            }
        }

        mutating func skipSpace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        /// A string of printable ASCII without escapes.
        mutating func string() -> String? {
            guard self.take(UInt8(ascii: "\"")) else { return nil }
            let start = self.index
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
                    self.index += 1
                    return text
                }
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
                self.index += 1
            }
            return nil
        }

        mutating func value() -> Value? {
            guard self.index < self.bytes.count else { return nil }
            switch self.bytes[self.index] {
            case UInt8(ascii: "\""): return self.string().map(Value.string)
            case UInt8(ascii: "t"): return self.word("true") ? .boolean(true) : nil
            case UInt8(ascii: "f"): return self.word("false") ? .boolean(false) : nil
            case UInt8(ascii: "n"): return self.word("null") ? .null : nil
            default: return self.integer().map(Value.integer)
            }
        }

        mutating func word(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard self.bytes.count - self.index >= count else { return false }
            for offset in 0..<count where self.bytes[self.index + offset] != word.utf8Start[offset] { return false }
            self.index += count
            // `truex` is no word: the next byte must end the value.
            if self.index < self.bytes.count, !Self.endsValue(self.bytes[self.index]) { return false }
            return true
        }

        /// `-?(0|[1-9][0-9]*)` of at most 18 digits, ended by a byte that may follow a value.
        mutating func integer() -> Int? {
            var negative = false
            if self.take(UInt8(ascii: "-")) { negative = true }
            let start = self.index
            var value = 0
            while self.index < self.bytes.count, case let byte = self.bytes[self.index], byte >= 0x30, byte <= 0x39 {
                // 18 digits cannot overflow; a 19th is the general decoder's.
                guard self.index - start < 18 else { return nil }
                value = value * 10 + Int(byte - 0x30)
                self.index += 1
            }
            let digits = self.index - start
            guard digits > 0, digits == 1 || self.bytes[start] != UInt8(ascii: "0") else { return nil }
            // A fraction or an exponent (or anything else glued on) is the general decoder's.
            if self.index < self.bytes.count, !Self.endsValue(self.bytes[self.index]) { return nil }
            // `-0` may decode as a floating-point zero: the general decoder's too.
            if negative, value == 0 { return nil }
            return negative ? -value : value
        }

        static func endsValue(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): return true
            default: return false
            }
        }
    }
}
