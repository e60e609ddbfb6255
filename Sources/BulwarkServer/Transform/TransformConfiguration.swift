import Bulwark
import Foundation

/// The stored configuration of the Transform engine: roles, transformations, templates and
/// alphabets, each one sealed document in the store (`transform/<kind>/<name>`).
enum TransformConfiguration {
    /// A role: the transformations its callers may use.
    struct Role: Codable, Sendable {
        var transformations: [String]
    }

    /// A template (`type` is always `regex`).
    struct Template: Codable, Sendable {
        var type: String
        var pattern: String
        var alphabet: String
        var encodeFormat: String?
        var decodeFormats: [String: String]
    }

    /// An alphabet.
    struct Alphabet: Codable, Sendable {
        var alphabet: String
    }

    /// A transformation of one of three types.
    struct Transformation: Codable, Sendable {
        var type: Kind
        var templates: [String]
        var tweakSource: String
        var maskingCharacter: String
        var allowedRoles: [String]
        /// 32 random bytes for FPE and tokenisation (the store seals it); empty for masking.
        var key: Data
        var convergent: Bool
        var maxTTL: Int
        var mappingMode: String
        var deletionAllowed: Bool
        var stores: [String]
        var preservePrefix: Int
        var preserveSuffix: Int
        var luhn: String

        enum Kind: String, Codable, Sendable {
            case fpe, masking, tokenization
        }

        /// Whether `role` may use this transformation (`allowed_roles`, with `*` globs).
        func allows(role: String) -> Bool {
            self.allowedRoles.contains { pattern in
                if pattern == "*" { return true }
                if pattern.hasSuffix("*") { return role.hasPrefix(pattern.dropLast()) }
                return pattern == role
            }
        }
    }

    static let builtinAlphabets: [String: FPEAlphabet] = [
        "builtin/numeric": .numeric, "builtin/alphalower": .alphaLower, "builtin/alphaupper": .alphaUpper,
        "builtin/alphanumericlower": .alphanumericLower, "builtin/alphanumericupper": .alphanumericUpper,
        "builtin/alphanumeric": .alphanumeric,
    ]

    static let builtinTemplates: [String: TransformTemplate] = [
        "builtin/creditcardnumber": .creditCardNumber, "builtin/socialsecuritynumber": .socialSecurityNumber,
    ]

    /// Names users may give (``Names``: letters, digits, `-`, `_` and `.`), not `builtin/…`.
    static func checkName(_ name: String) throws {
        guard Names.isValid(name) else {
            throw BulwarkError(.invalidArgument, "invalid name: use letters, digits, '-', '_' and '.'")
        }
    }
}
