/// What a tokenisation transformation's tokens look like.
public enum TokenFormat: Sendable, Hashable {
    /// `tok_` and 22 random base62 characters (131 bits), unrelated to the value.
    case opaque
    /// Random characters of the template's alphabet in place of the template's groups, so the
    /// token keeps the value's length and layout; `preservePrefix`/`preserveSuffix` numerals of
    /// the groups are kept; for decimal values `luhn` makes the token pass (or fail) the Luhn check.
    case formatPreserving(template: TransformTemplate, preservePrefix: Int, preserveSuffix: Int, luhn: LuhnRequirement)

    /// The Luhn property of format-preserving tokens.
    public enum LuhnRequirement: String, Sendable, Hashable {
        /// No requirement.
        case any
        /// Every token passes the Luhn check (looks like a card number to every system).
        case valid
        /// Every token fails the Luhn check, so it can never be mistaken for a real card.
        case invalid
    }

    /// Two formats are equal when their templates' patterns, alphabets and options are.
    public static func == (lhs: TokenFormat, rhs: TokenFormat) -> Bool {
        switch (lhs, rhs) {
        case (.opaque, .opaque): return true
        case let (.formatPreserving(a, p1, s1, l1), .formatPreserving(b, p2, s2, l2)):
            return a.pattern == b.pattern && a.alphabet == b.alphabet && p1 == p2 && s1 == s2 && l1 == l2
        default: return false
        }
    }

    /// Hashes the format's options.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .opaque: hasher.combine(0)
        case .formatPreserving(let template, let prefix, let suffix, let luhn):
            hasher.combine(template.pattern)
            hasher.combine(prefix)
            hasher.combine(suffix)
            hasher.combine(luhn)
        }
    }

    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A fresh random token for `value`.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when a format-preserving token cannot be
    ///   made for the value (no match, foreign characters, nothing left to randomise).
    public func token(for value: String) throws -> String {
        switch self {
        case .opaque:
            var out = Array("tok_".utf8)
            out.reserveCapacity(26)
            var pool = SecureRandom.bytes(32)
            var index = 0
            while out.count < 26 {
                if index == pool.count {
                    pool = SecureRandom.bytes(32)
                    index = 0
                }
                let byte = pool[index]
                index += 1
                // Rejection sampling keeps every character equally likely.
                if byte < 248 { out.append(Self.base62[Int(byte % 62)]) }
            }
            return String(decoding: out, as: UTF8.self)
        case .formatPreserving(let template, let prefix, let suffix, let luhn):
            return try template.transform(value) { numerals in
                let free = numerals.count - prefix - suffix
                guard free >= (luhn == .any ? 1 : 2) else {
                    throw BulwarkError(.invalidArgument, "the value is too short for this token format")
                }
                let radix = template.alphabet.radix
                for position in prefix..<(numerals.count - suffix) {
                    numerals[position] = Self.uniform(below: radix)
                }
                if luhn != .any {
                    guard radix == 10 else {
                        throw BulwarkError(.invalidArgument, "a Luhn requirement needs a decimal template")
                    }
                    // Adjust the last random digit so the whole number meets the requirement.
                    let adjustable = numerals.count - suffix - 1
                    var choices: [Int] = []
                    for digit in 0..<10 {
                        numerals[adjustable] = digit
                        if Luhn.isValid(numerals) == (luhn == .valid) { choices.append(digit) }
                    }
                    numerals[adjustable] = choices[Self.uniform(below: choices.count)]
                }
            }
        }
    }

    /// A uniform random integer in `0..<bound`.
    static func uniform(below bound: Int) -> Int {
        precondition(bound > 0)
        var generator = SystemRandomNumberGenerator()
        return Int.random(in: 0..<bound, using: &generator)
    }
}
