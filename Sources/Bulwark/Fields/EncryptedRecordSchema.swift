/// Which properties of a `Codable` model are protected, and how.
public struct EncryptedRecordSchema: Sendable {
    /// The protection of one property.
    public enum Protection: Sendable {
        /// Envelope-encrypted (randomised) with the record's ``FieldEncryptor``.
        case encrypted
        /// Envelope-encrypted, plus a blind index stored as `<property>_bidx`.
        case encryptedWithBlindIndex(BlindIndex)
        /// Deterministically encrypted (AES-SIV) with this key, for exact-match joins; equal values
        /// in the same column give equal ciphertexts.
        case deterministic(Keyset)
    }

    /// The table (part of every field's context).
    public let table: String
    /// The protected properties by coding key; the rest are stored as they are.
    public let properties: [String: Protection]

    /// - Throws: ``BulwarkError/Code/wrongPurpose`` when a deterministic key is not an
    ///   `aes256-siv` key.
    public init(table: String, properties: [String: Protection]) throws {
        for (name, protection) in properties {
            if case .deterministic(let key) = protection, key.purpose != .deterministicEncryption {
                throw BulwarkError(.wrongPurpose, "property '\(name)' needs an aes256-siv key for deterministic encryption")
            }
        }
        self.table = table
        self.properties = properties
    }

    /// The column holding a property's blind index.
    public static func blindIndexColumn(_ property: String) -> String { property + "_bidx" }
}

/// A stored column value: what a row looks like once its protected properties are encrypted.
public enum ColumnValue: Sendable, Hashable {
    /// SQL NULL / JSON null.
    case null
    /// A boolean.
    case bool(Bool)
    /// An integer.
    case integer(Int64)
    /// A floating-point number.
    case double(Double)
    /// Text: plain strings, JSON of nested values, and the text form of ciphertexts.
    case text(String)
}
