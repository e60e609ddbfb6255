public import Bulwark
import Foundation

/// What the redactor looks for and how it replaces it.
public struct RedactionConfiguration: Sendable {
    /// How e-mail addresses are rewritten.
    public enum EmailStyle: String, Sendable, Codable {
        /// `[EMAIL]`.
        case tag
        /// The first character of the local part, then `***@` and the domain: `j***@example.com`.
        case maskLocalPart = "mask-local-part"
    }

    /// The detectors in use (all by default).
    public var kinds: Set<RedactionKind>
    /// How e-mail addresses are rewritten.
    public var emailStyle: EmailStyle
    /// Key names (case-insensitive; `-` counts as `_`) whose values are secrets, in text, JSON,
    /// URL query strings and log metadata. A key also counts when it ends in `_` plus one of them.
    public var secretKeys: Set<String>
    /// When set, replacements carry a keyed pseudonym (HMAC under this `mac` key's primary
    /// version) instead of a hint, so equal values can still be correlated.
    public var pseudonymKey: Keyset?

    /// The default secret key names.
    public static let defaultSecretKeys: Set<String> = [
        "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "access_token", "refresh_token",
        "id_token", "client_secret", "private_key", "access_key", "secret_key", "session", "session_id", "cookie",
        "authorization", "auth", "credentials", "passphrase", "pin", "cvv", "cvc",
    ]

    /// Creates a configuration; by default every detector is on.
    public init(
        kinds: Set<RedactionKind> = Set(RedactionKind.allCases), emailStyle: EmailStyle = .tag,
        secretKeys: Set<String> = RedactionConfiguration.defaultSecretKeys, pseudonymKey: Keyset? = nil
    ) {
        self.kinds = kinds
        self.emailStyle = emailStyle
        self.secretKeys = Set(secretKeys.map { $0.lowercased().replacingOccurrences(of: "-", with: "_") })
        self.pseudonymKey = pseudonymKey
    }

    /// Whether `key` names a secret.
    public func isSecretKey(_ key: String) -> Bool {
        let normalised = key.lowercased().replacingOccurrences(of: "-", with: "_")
        if self.secretKeys.contains(normalised) { return true }
        for name in self.secretKeys where name.count >= 5 && normalised.hasSuffix("_" + name) {
            return true
        }
        return false
    }
}
