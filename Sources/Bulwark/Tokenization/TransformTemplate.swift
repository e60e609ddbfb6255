import Foundation

/// Which parts of a value a transformation changes: a regular expression whose capture groups
/// select the characters transformed, the alphabet they are drawn from, and optional formats for
/// the encoded and decoded output, as Vault's Transform templates.
///
/// The pattern must match the whole value (it is anchored). Characters outside the groups are kept
/// as they are, so `4111-1111-1111-1111` keeps its dashes; with `encode_format` (`$1-$2-$3-$4`)
/// the output is built from the transformed groups instead.
public struct TransformTemplate: @unchecked Sendable {
    /// The regular expression as written (ICU syntax, close to Go's RE2 for the usual patterns).
    public let pattern: String
    /// The alphabet of the transformed characters.
    public let alphabet: FPEAlphabet
    /// How encoded output is laid out (`$1`…`$9`, `${10}`…), or nil to replace the groups in place.
    public let encodeFormat: String?
    /// Named layouts for decoded output, chosen with `decode_format`.
    public let decodeFormats: [String: String]
    // Shared between threads read-only; every match is bounded in time (BoundedRegex).
    private let regex: BoundedRegex

    /// Creates a template.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the pattern is too long, does not
    ///   compile or has no capture group.
    public init(pattern: String, alphabet: FPEAlphabet, encodeFormat: String? = nil, decodeFormats: [String: String] = [:]) throws {
        let regex = try BoundedRegex(anchoring: pattern)
        guard regex.groupCount >= 1 else {
            throw BulwarkError(.invalidArgument, "the template pattern needs at least one capture group")
        }
        self.pattern = pattern
        self.alphabet = alphabet
        self.encodeFormat = encodeFormat?.isEmpty == true ? nil : encodeFormat
        self.decodeFormats = decodeFormats
        self.regex = regex
    }

    /// Runs `body` (one request's work) with one time budget for all the template matches it
    /// makes (a second in all), on top of each match's own bound: past it, every further match
    /// fails at once with ``BulwarkError/Code/invalidArgument``. A service calls this per request
    /// so that a batch of values chosen to match slowly cannot hold a thread for minutes.
    public static func withMatchingBudget<T>(_ body: () async throws -> T) async throws -> T {
        try await BoundedRegex.withRequestBudget(body)
    }

    /// The capture groups of `value` (an empty one at the end for a group that took no part), or
    /// nil when the pattern does not match all of it.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when matching is abandoned at its time
    ///   bound (a pattern that backtracks catastrophically on this value).
    public func groups(of value: String) throws -> [Substring]? {
        guard let ranges = try self.regex.groups(of: value) else { return nil }
        return ranges.map { range in range.map { value[$0] } ?? value[value.endIndex...] }
    }

    /// Applies `body` to the numerals of all groups together (in order) and lays the result out:
    /// by `format` when given, else in place of the groups.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the value does not match the template
    ///   or has a character outside the alphabet in a group; whatever `body` throws.
    public func transform(_ value: String, format: String? = nil, _ body: (inout [Int]) throws -> Void) throws -> String {
        guard let groups = try self.groups(of: value) else {
            throw BulwarkError(.invalidArgument, "the value does not match the transformation's template")
        }
        var numerals: [Int] = []
        var lengths: [Int] = []
        for group in groups {
            var count = 0
            for scalar in group.unicodeScalars {
                guard let numeral = self.alphabet.lookup(scalar) else {
                    throw BulwarkError(.invalidArgument, "the value has a character outside the template's alphabet")
                }
                numerals.append(numeral)
                count += 1
            }
            lengths.append(count)
        }
        try body(&numerals)
        var transformed: [String] = []
        var offset = 0
        for length in lengths {
            transformed.append(FF1.string(of: Array(numerals[offset..<(offset + length)]), alphabet: self.alphabet))
            offset += length
        }
        if let format {
            return Self.render(format, groups: transformed)
        }
        return Self.replace(groups, in: value, with: transformed)
    }

    /// `value` with each group replaced by its new text.
    static func replace(_ groups: [Substring], in value: String, with replacements: [String]) -> String {
        var out = ""
        var cursor = value.startIndex
        for (group, replacement) in zip(groups, replacements) where group.startIndex >= cursor {
            out += value[cursor..<group.startIndex]
            out += replacement
            cursor = group.endIndex
        }
        out += value[cursor...]
        return out
    }

    /// Replaces `$n` and `${n}` in `format` with group `n` (1-based).
    public static func render(_ format: String, groups: [String]) -> String {
        var out = ""
        let characters = Array(format)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "$", index + 1 < characters.count else {
                out.append(character)
                index += 1
                continue
            }
            var digits = ""
            var next = index + 1
            if characters[next] == "{" {
                next += 1
                while next < characters.count, characters[next].isASCII, characters[next].isNumber {
                    digits.append(characters[next])
                    next += 1
                }
                if next < characters.count, characters[next] == "}" { next += 1 } else { digits = "" }
            } else {
                while next < characters.count, characters[next].isASCII, characters[next].isNumber, digits.count < 1 {
                    digits.append(characters[next])
                    next += 1
                }
            }
            if let number = Int(digits), number >= 1, number <= groups.count {
                out += groups[number - 1]
                index = next
            } else {
                out.append(character)
                index += 1
            }
        }
        return out
    }
}

extension TransformTemplate {
    /// A template written in this file: known to compile, so it is made without `try`.
    private static func builtin(_ pattern: String) -> TransformTemplate {
        guard let template = try? TransformTemplate(pattern: pattern, alphabet: .numeric) else {
            preconditionFailure("a builtin template does not compile")
        }
        return template
    }

    /// Vault's `builtin/creditcardnumber`: 13 to 19 digits, optionally grouped by dashes or spaces.
    public static let creditCardNumber = builtin(#"(\d{4})[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{1,7})"#)
    /// Vault's `builtin/socialsecuritynumber`: `123-45-6789`, `123 45 6789` or `123456789`.
    public static let socialSecurityNumber = builtin(#"(\d{3})[- ]?(\d{2})[- ]?(\d{4})"#)
}
