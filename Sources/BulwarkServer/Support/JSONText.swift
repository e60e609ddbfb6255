import Foundation

/// A fast JSON writer for the `[String: Any]` values the API passes around (strings, integers,
/// doubles, booleans, `NSNull`, arrays, objects, and the `NSNumber`s `JSONSerialization`
/// produces). Foundation's writer spends most of a request's time on bridging and dynamic casts;
/// this one writes straight into a byte array.
enum JSONText {
    /// Appends `value` as JSON to `out`.
    ///
    /// Checks run from the cheapest and commonest (native strings, objects, arrays, exact
    /// scalar types) to the bridged ones: testing a native value against a class such as
    /// `NSNull` first would bridge it to Foundation on every call.
    static func write(_ value: Any?, into out: inout [UInt8]) {
        guard let value else {
            out.append(contentsOf: Self.null)
            return
        }
        // Integers (key versions, statuses) by exact type, before the failed collection casts.
        if type(of: value) == Int.self, let number = value as? Int {
            out.append(contentsOf: String(number).utf8)
            return
        }
        switch value {
        case let text as String:
            self.write(string: text, into: &out)
            return
        case let object as [String: Any]:
            self.write(object: object, into: &out)
            return
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                self.write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
            return
        default:
            break
        }
        let type = Swift.type(of: value)
        if type == Bool.self, let flag = value as? Bool {
            out.append(contentsOf: flag ? Self.true : Self.false)
        } else if type == Int.self, let number = value as? Int {
            out.append(contentsOf: String(number).utf8)
        } else if type == Double.self, let number = value as? Double {
            self.write(double: number, into: &out)
        } else if type == Int64.self, let number = value as? Int64 {
            out.append(contentsOf: String(number).utf8)
        } else if type == UInt32.self, let number = value as? UInt32 {
            out.append(contentsOf: String(number).utf8)
        } else if let number = value as? NSNumber {
            switch String(cString: number.objCType) {
            case "c", "B": out.append(contentsOf: number.boolValue ? Self.true : Self.false)
            case "d", "f": self.write(double: number.doubleValue, into: &out)
            default: out.append(contentsOf: String(number.int64Value).utf8)
            }
        } else if value is NSNull {
            out.append(contentsOf: Self.null)
        } else {
            self.write(string: String(describing: value), into: &out)
        }
    }

    private static let null = Array("null".utf8)
    private static let `true` = Array("true".utf8)
    private static let `false` = Array("false".utf8)

    private static func write(double number: Double, into out: inout [UInt8]) {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else if number.isFinite {
            out.append(contentsOf: String(number).utf8)
        } else {
            out.append(contentsOf: Self.null)
        }
    }

    /// Appends a JSON object.
    static func write(object: [String: Any], into out: inout [UInt8]) {
        self.write(object: object, into: &out) { _, element, out in self.write(element, into: &out) }
    }

    /// Appends a JSON object whose values `element` writes (given each key).
    static func write(
        object: [String: Any], into out: inout [UInt8], element: (String, Any, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in object {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            self.write(string: key, into: &out)
            out.append(UInt8(ascii: ":"))
            element(key, value, &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends a JSON string literal, escaping quotes, backslashes and control characters.
    static func write(string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                switch byte {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                default:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, self.hexDigits[Int(byte >> 4)], self.hexDigits[Int(byte & 0x0F)]])
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `value` as JSON bytes.
    static func encode(_ value: Any?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        self.write(value, into: &out)
        return out
    }
}
