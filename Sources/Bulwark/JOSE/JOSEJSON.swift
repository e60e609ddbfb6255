import Foundation

/// The JSON reader of JOSE headers, JWE JSON serializations and JWKs: RFC 8259 strictly, one
/// object at the top, values in Foundation's forms (`String`, `NSNumber`, `NSNull`, `[Any]`,
/// `[String: Any]`, as `JSONSerialization` gives them) so that callers read them the same way.
///
/// Stricter than `JSONSerialization` where JOSE asks for it: a member name repeated in one
/// object refuses the whole text (RFC 7515 §5.2 and RFC 7516 §5.2: reject, or take the last;
/// rejecting leaves no room for two readers to see two headers), as do unpaired surrogate
/// escapes, invalid UTF-8, nesting deeper than ``maximumDepth`` and anything after the object.
/// It reads a header in one pass over its bytes, with no `Data` copies.
enum JOSEJSON {
    /// The deepest nesting read, the innermost value counted: 31 objects or arrays inside one
    /// another, and their values (JOSE values are two deep at most).
    static let maximumDepth = 32

    /// The object `bytes` hold, or nil when they are not exactly one well-formed JSON object.
    static func object(_ bytes: Data) -> [String: Any]? {
        bytes.withUnsafeBytes { Self.object(UnsafeRawBufferPointer($0)) }
    }

    /// The object `bytes` hold, or nil when they are not exactly one well-formed JSON object.
    static func object(_ bytes: UnsafeRawBufferPointer) -> [String: Any]? {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        guard reader.peek == UInt8(ascii: "{"), let value = try? reader.value(depth: 0) as? [String: Any] else { return nil }
        reader.skipSpace()
        return reader.position == bytes.count ? value : nil
    }

    /// A malformed text (its details are of no use to the caller, who refuses the token).
    struct Malformed: Error {}

    /// A cursor over the text.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var peek: UInt8? { self.position < self.bytes.count ? self.bytes[self.position] : nil }

        mutating func skipSpace() {
            while let byte = self.peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { self.position += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard self.peek == byte else { throw Malformed() }
            self.position += 1
        }

        mutating func value(depth: Int) throws -> Any {
            guard depth < JOSEJSON.maximumDepth, let byte = self.peek else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "{"): return try self.object(depth: depth)
            case UInt8(ascii: "["): return try self.array(depth: depth)
            case UInt8(ascii: "\""): return try self.string()
            case UInt8(ascii: "t"): return try self.literal("true", NSNumber(value: true))
            case UInt8(ascii: "f"): return try self.literal("false", NSNumber(value: false))
            case UInt8(ascii: "n"): return try self.literal("null", NSNull())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try self.number()
            default: throw Malformed()
            }
        }

        mutating func object(depth: Int) throws -> [String: Any] {
            try self.expect(UInt8(ascii: "{"))
            var members: [String: Any] = [:]
            self.skipSpace()
            if self.peek == UInt8(ascii: "}") {
                self.position += 1
                return members
            }
            while true {
                self.skipSpace()
                let name = try self.string()
                // A NUL in a name: a reader that stops there would see another (repeated) name.
                guard !name.utf8.contains(0) else { throw Malformed() }
                self.skipSpace()
                try self.expect(UInt8(ascii: ":"))
                self.skipSpace()
                let value = try self.value(depth: depth + 1)
                // A repeated name refuses the text (never first-wins or last-wins).
                guard members.updateValue(value, forKey: name) == nil else { throw Malformed() }
                self.skipSpace()
                guard let next = self.peek else { throw Malformed() }
                self.position += 1
                if next == UInt8(ascii: "}") { return members }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        mutating func array(depth: Int) throws -> [Any] {
            try self.expect(UInt8(ascii: "["))
            var items: [Any] = []
            self.skipSpace()
            if self.peek == UInt8(ascii: "]") {
                self.position += 1
                return items
            }
            while true {
                self.skipSpace()
                items.append(try self.value(depth: depth + 1))
                self.skipSpace()
                guard let next = self.peek else { throw Malformed() }
                self.position += 1
                if next == UInt8(ascii: "]") { return items }
                guard next == UInt8(ascii: ",") else { throw Malformed() }
            }
        }

        mutating func literal(_ text: StaticString, _ value: Any) throws -> Any {
            let count = text.utf8CodeUnitCount
            guard self.position + count <= self.bytes.count else { throw Malformed() }
            for offset in 0..<count where self.bytes[self.position + offset] != text.utf8Start[offset] { throw Malformed() }
            self.position += count
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`: an integer that fits as an
        /// `Int` (or `UInt64`), anything else as a `Double` (as `JSONSerialization`).
        mutating func number() throws -> NSNumber {
            let start = self.position
            var integral = true
            if self.peek == UInt8(ascii: "-") { self.position += 1 }
            guard let first = self.peek, Self.isDigit(first) else { throw Malformed() }
            self.position += 1
            if first != UInt8(ascii: "0") { self.digits() }
            if self.peek == UInt8(ascii: ".") {
                integral = false
                self.position += 1
                guard try self.requireDigits() else { throw Malformed() }
            }
            if self.peek == UInt8(ascii: "e") || self.peek == UInt8(ascii: "E") {
                integral = false
                self.position += 1
                if self.peek == UInt8(ascii: "+") || self.peek == UInt8(ascii: "-") { self.position += 1 }
                guard try self.requireDigits() else { throw Malformed() }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.position]), as: UTF8.self)
            if integral, let exact = Int(text) { return NSNumber(value: exact) }
            if integral, let exact = UInt64(text) { return NSNumber(value: exact) }
            guard let double = Double(text), double.isFinite else { throw Malformed() }
            return NSNumber(value: double)
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func digits() {
            while let byte = self.peek, Self.isDigit(byte) { self.position += 1 }
        }

        mutating func requireDigits() throws -> Bool {
            let start = self.position
            self.digits()
            return self.position > start
        }

        /// A string: ASCII without escapes straight from the bytes; otherwise unescaped into a
        /// buffer and checked as UTF-8 (a lone surrogate escape is refused).
        mutating func string() throws -> String {
            try self.expect(UInt8(ascii: "\""))
            let start = self.position
            var plain = true
            while let byte = self.peek {
                if byte == UInt8(ascii: "\"") {
                    let body = UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.position])
                    self.position += 1
                    return String(decoding: body, as: UTF8.self)
                }
                guard byte >= 0x20, byte < 0x80, byte != UInt8(ascii: "\\") else {
                    plain = false
                    break
                }
                self.position += 1
            }
            guard !plain else { throw Malformed() }
            var out = [UInt8](UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.position]))
            while let byte = self.peek {
                self.position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else { throw Malformed() }
                    return text
                case UInt8(ascii: "\\"):
                    guard let escape = self.peek else { throw Malformed() }
                    self.position += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"): try self.unicodeEscape(into: &out)
                    default: throw Malformed()
                    }
                case 0..<0x20:
                    throw Malformed()
                default:
                    out.append(byte)
                }
            }
            throw Malformed()
        }

        /// `\uXXXX` (the `\u` read), a surrogate pair as one scalar, into UTF-8.
        mutating func unicodeEscape(into out: inout [UInt8]) throws {
            var scalar = try self.hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                try self.expect(UInt8(ascii: "\\"))
                try self.expect(UInt8(ascii: "u"))
                let low = try self.hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw Malformed() }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw Malformed()
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw Malformed() }
            out.append(contentsOf: Array(String(Character(unicode)).utf8))
        }

        mutating func hex4() throws -> UInt32 {
            guard self.position + 4 <= self.bytes.count else { throw Malformed() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Malformed()
                }
                value = value << 4 | UInt32(digit)
                self.position += 1
            }
            return value
        }
    }
}
