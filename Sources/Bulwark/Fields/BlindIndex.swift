import Foundation

/// A blind index: a keyed, truncated HMAC of a normalised value, stored beside an encrypted
/// field so it can be searched by equality without decrypting (as CipherSweet does).
///
/// Truncation is deliberate: with `bits` chosen by ``BlindIndexPlanner`` each index value matches
/// several rows, so the index alone does not reveal which rows share a plaintext. A lookup returns
/// candidate rows, which the caller decrypts and filters. The index key must be a `mac` key kept
/// apart from the encryption keys; the index name is hashed in, so indexes sharing a key differ.
public struct BlindIndex: Sendable {
    /// How values are normalised before hashing.
    public enum Normalization: Sendable {
        /// As given.
        case none
        /// Only the digits (SSNs, phone and card numbers).
        case digitsOnly
        /// Trimmed and lower-cased (e-mail addresses, names).
        case caseInsensitive
        /// Your own function.
        case custom(@Sendable (String) -> String)

        func apply(_ value: String) -> String {
            switch self {
            case .none: return value
            case .digitsOnly: return value.filter { $0.isASCII && $0.isNumber }
            case .caseInsensitive: return value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            case .custom(let function): return function(value)
            }
        }
    }

    /// The index name (part of the HMAC input).
    public let name: String
    /// The HMAC key.
    public let key: Keyset
    /// Bits kept (1 to 64).
    public let bits: Int
    /// The normalisation.
    public let normalization: Normalization

    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless `key` is a MAC key;
    ///   `invalidArgument` for bits outside 1-64.
    public init(name: String, key: Keyset, bits: Int, normalization: Normalization = .none) throws {
        guard key.purpose == .mac else { throw BulwarkError(.wrongPurpose, "a blind-index key must be an HMAC key") }
        guard (1...64).contains(bits) else { throw BulwarkError(.invalidArgument, "a blind index keeps 1-64 bits") }
        self.name = name
        self.key = key
        self.bits = bits
        self.normalization = normalization
    }

    /// The index value of one field value.
    public func value(for plaintext: String) throws -> UInt64 {
        try self.value(parts: [plaintext])
    }

    /// A compound index value over several values (for example last four of an SSN and the birth
    /// year); each part is normalised and length-prefixed.
    public func value(parts: [String]) throws -> UInt64 {
        var input = Array(self.name.utf8) + [0]
        for part in parts {
            let bytes = Array(self.normalization.apply(part).utf8)
            input.appendBigEndian(UInt32(bytes.count))
            input += bytes
        }
        let tag = try self.key.rawMAC(version: self.key.primaryVersion, message: input)
        let top = tag.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return self.bits == 64 ? top : top >> UInt64(64 - self.bits)
    }
}

/// Chooses blind-index sizes and states what they leak.
public enum BlindIndexPlanner {
    /// Bits so that each index value is shared by about `candidates` rows out of `rows`
    /// (at least 1 bit, at most 32).
    public static func recommendedBits(rows: Int, candidates: Double = 8) -> Int {
        guard rows > 1, candidates >= 1 else { return 1 }
        let bits = Int(floor(log2(Double(rows) / candidates)))
        return min(32, max(1, bits))
    }

    /// The expected number of rows an index value matches among `rows` rows that are not the
    /// searched value (false positives the caller filters out after decrypting).
    public static func expectedFalsePositives(rows: Int, bits: Int) -> Double {
        Double(max(0, rows - 1)) / pow(2, Double(bits))
    }
}
