import Bulwark
import Foundation

/// Integers and durations read from request bodies. Each is range-checked with overflow-checked
/// arithmetic; a value of the wrong type, out of range or too large to compute with is refused
/// with a 400 naming the field, never trapped on or silently ignored.
package enum RequestValues {
    /// The longest duration accepted anywhere (100 years): far beyond any sensible TTL or period,
    /// far below anything that overflows when added to a date in seconds or nanoseconds.
    static let maximumSeconds = 100 * 365 * 86_400

    /// An integer field: a JSON integer, an integral JSON number, or a decimal string.
    /// - Returns: nil when absent (or JSON `null`).
    /// - Throws: ``BulwarkError`` (`invalidArgument`) naming `field` when it is not an integer in `range`.
    static func integer(_ value: Any?, field: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value, !Self.isNull(value) else { return nil }
        let parsed: Int?
        switch value {
        case _ where Self.isBoolean(value): parsed = nil
        case let text as String: parsed = Int(text)
        case let number as Int: parsed = number
        case let number as Double:
            parsed = number.isFinite && number.rounded() == number && abs(number) <= 9.0e15 ? Int(number) : nil
        default: parsed = nil
        }
        guard let parsed, range.contains(parsed) else {
            throw BulwarkError(.invalidArgument, "\(field) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return parsed
    }

    /// Whether a JSON value is `true` or `false` (Foundation's JSON numbers also cast to `Bool`).
    package static func isBoolean(_ value: Any) -> Bool {
        let type = Swift.type(of: value)
        if type == Bool.self { return true }
        guard type is NSNumber.Type, let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// Whether a parsed JSON value is `null` (`NSNull`), decided by the value's exact class:
    /// `value is NSNull` on a native string, list or object bridges it (and all it holds) to
    /// Foundation to find out.
    package static func isNull(_ value: Any) -> Bool {
        Swift.type(of: value) == NSNull.self
    }

    /// A string field: nil when absent or `null`; 400 naming `field` for any other type.
    static func string(_ value: Any?, field: String) throws -> String? {
        guard let value, !Self.isNull(value) else { return nil }
        guard let text = value as? String else { throw BulwarkError(.invalidArgument, "\(field) must be a string") }
        return text
    }

    /// A boolean field: nil when absent or `null`; 400 naming `field` for any other type (a
    /// number or a string is not taken for a boolean).
    static func boolean(_ value: Any?, field: String) throws -> Bool? {
        guard let value, !Self.isNull(value) else { return nil }
        guard Self.isBoolean(value), let flag = value as? Bool else { throw BulwarkError(.invalidArgument, "\(field) must be true or false") }
        return flag
    }

    /// A Vault duration field: seconds as a number or decimal string, or a string of
    /// number-and-unit parts (`"90s"`, `"30m"`, `"24h"`, `"7d"`, `"1h30m"`).
    /// - Returns: nil when absent, `null` or zero (zero turns the setting off, as in Vault).
    /// - Throws: ``BulwarkError`` (`invalidArgument`) naming `field` when malformed, negative or over
    ///   ``maximumSeconds``.
    static func duration(_ value: Any?, field: String) throws -> Duration? {
        guard let value, !Self.isNull(value) else { return nil }
        let seconds: Int?
        switch value {
        case let text as String: seconds = Self.seconds(text)
        default: seconds = try? Self.integer(value, field: field, in: 0...Self.maximumSeconds)
        }
        guard let seconds, (0...Self.maximumSeconds).contains(seconds) else {
            throw BulwarkError(.invalidArgument, "\(field) must be a duration from 0 to \(Self.maximumSeconds / 86_400 / 365) years (e.g. 3600, \"90s\", \"24h\", \"7d\")")
        }
        return seconds == 0 ? nil : .seconds(seconds)
    }

    /// Parses `"300"` or number-and-unit parts with overflow-checked arithmetic; nil when
    /// malformed or beyond ``maximumSeconds``.
    static func seconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        if bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let value = Int(text), value <= Self.maximumSeconds else { return nil }
            return value
        }
        var total = 0
        var number: Int?
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (times, overflowTimes) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (next, overflowPlus) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                guard !overflowTimes, !overflowPlus, next <= Self.maximumSeconds else { return nil }
                number = next
                continue
            }
            let factor: Int
            switch byte {
            case UInt8(ascii: "s"): factor = 1
            case UInt8(ascii: "m"): factor = 60
            case UInt8(ascii: "h"): factor = 3600
            case UInt8(ascii: "d"): factor = 86_400
            default: return nil
            }
            guard let count = number else { return nil }
            let (part, overflowTimes) = count.multipliedReportingOverflow(by: factor)
            let (sum, overflowPlus) = total.addingReportingOverflow(part)
            guard !overflowTimes, !overflowPlus, sum <= Self.maximumSeconds else { return nil }
            total = sum
            number = nil
        }
        return number == nil ? total : nil
    }
}
