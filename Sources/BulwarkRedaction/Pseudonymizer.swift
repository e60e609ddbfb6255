public import Bulwark
public import Foundation

/// Keyed pseudonyms for analytics: the same input gives the same pseudonym under one key
/// version, and rotating the key breaks linkability on purpose.
///
/// A pseudonym is `psd<version>_` followed by the first `length` bytes of HMAC(key version,
/// input) in lowercase hex. The key must be a `mac` key (HMAC-SHA256 or HMAC-SHA512).
public struct Pseudonymizer: Sendable {
    /// The HMAC key.
    public let key: Keyset
    /// How many HMAC bytes to keep (4-32).
    public let length: Int

    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless `key` is a MAC key.
    public init(key: Keyset, length: Int = 8) throws {
        guard key.purpose == .mac else {
            throw BulwarkError(.wrongPurpose, "pseudonyms need an HMAC key")
        }
        guard (4...32).contains(length) else {
            throw BulwarkError(.invalidArgument, "a pseudonym keeps 4-32 bytes")
        }
        self.key = key
        self.length = length
    }

    /// The pseudonym of a value under the key's primary version.
    public func pseudonym<Value: DataProtocol>(for value: Value) throws -> String {
        let tag = try self.key.authenticate(value).dropFirst(10)
        return "psd\(self.key.primaryVersion)_" + tag.prefix(self.length).map { String(format: "%02x", $0) }.joined()
    }

    /// The pseudonym of a string (UTF-8).
    public func pseudonym(for value: String) throws -> String {
        try self.pseudonym(for: Data(value.utf8))
    }
}
