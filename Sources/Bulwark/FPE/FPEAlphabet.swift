/// The characters a format-preserving transformation works over: the numerals of FF1's radix.
///
/// The position of a character in the alphabet is its numeral, so `"0123456789"` gives radix 10 and
/// the numeral of `"7"` is 7. Alphabets hold between 2 and 65,536 distinct Unicode scalars, as
/// SP 800-38G allows radix 2...2^16.
public struct FPEAlphabet: Sendable, Hashable {
    /// The characters in numeral order.
    public let scalars: [Unicode.Scalar]
    private let asciiIndex: [Int16]
    private let otherIndex: [Unicode.Scalar: Int]

    /// The radix (number of characters).
    public var radix: Int { self.scalars.count }

    /// Creates an alphabet from its characters in numeral order.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for fewer than 2 characters, more than 65,536
    ///   or a repeated character.
    public init(_ characters: String) throws {
        let scalars = Array(characters.unicodeScalars)
        guard scalars.count >= 2, scalars.count <= 65_536 else {
            throw BulwarkError(.invalidArgument, "an alphabet needs between 2 and 65536 characters (has \(scalars.count))")
        }
        var ascii = [Int16](repeating: -1, count: 128)
        var other: [Unicode.Scalar: Int] = [:]
        for (numeral, scalar) in scalars.enumerated() {
            if scalar.value < 128 {
                guard ascii[Int(scalar.value)] < 0 else {
                    throw BulwarkError(.invalidArgument, "the alphabet repeats a character")
                }
                ascii[Int(scalar.value)] = Int16(numeral)
            } else {
                guard other.updateValue(numeral, forKey: scalar) == nil else {
                    throw BulwarkError(.invalidArgument, "the alphabet repeats a character")
                }
            }
        }
        self.scalars = scalars
        self.asciiIndex = ascii
        self.otherIndex = other
    }

    /// The numeral of `scalar`, or `nil` when it is not in the alphabet.
    @inlinable
    public func numeral(of scalar: Unicode.Scalar) -> Int? {
        self.lookup(scalar)
    }

    @usableFromInline
    func lookup(_ scalar: Unicode.Scalar) -> Int? {
        if scalar.value < 128 {
            let numeral = self.asciiIndex[Int(scalar.value)]
            return numeral < 0 ? nil : Int(numeral)
        }
        return self.otherIndex[scalar]
    }

    /// Whether every character of `text` is in the alphabet.
    public func contains(allOf text: Substring) -> Bool {
        text.unicodeScalars.allSatisfy { self.lookup($0) != nil }
    }

    /// Two alphabets are equal when they hold the same characters in the same order.
    public static func == (lhs: FPEAlphabet, rhs: FPEAlphabet) -> Bool { lhs.scalars == rhs.scalars }

    /// Hashes the characters.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.scalars.map(\.value)) }
}

extension FPEAlphabet {
    /// An alphabet written in this file: known to be valid, so it is made without `try`.
    private static func builtin(_ characters: String) -> FPEAlphabet {
        guard let alphabet = try? FPEAlphabet(characters) else { preconditionFailure("a builtin alphabet is invalid") }
        return alphabet
    }

    /// `0123456789`
    public static let numeric = builtin("0123456789")
    /// `a`–`z`
    public static let alphaLower = builtin("abcdefghijklmnopqrstuvwxyz")
    /// `A`–`Z`
    public static let alphaUpper = builtin("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    /// `0`–`9` then `a`–`z` (the order of NIST's radix-36 samples).
    public static let alphanumericLower = builtin("0123456789abcdefghijklmnopqrstuvwxyz")
    /// `0`–`9` then `A`–`Z`.
    public static let alphanumericUpper = builtin("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    /// `0`–`9`, `a`–`z`, `A`–`Z`.
    public static let alphanumeric = builtin("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
}
