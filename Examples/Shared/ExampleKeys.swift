public import Bulwark
import BulwarkKeystore
import Foundation

/// The examples' record: an SSN (encrypted, blind-indexed), a diagnosis (encrypted), a name.
public struct Patient: Codable, Sendable {
    public var id: Int64
    public var name: String
    public var ssn: String
    public var diagnosis: String

    /// Creates a patient.
    public init(id: Int64, name: String, ssn: String, diagnosis: String) {
        self.id = id
        self.name = name
        self.ssn = ssn
        self.diagnosis = diagnosis
    }
}

/// The examples' keys, from the sealed keystore in `$BULWARK_HOME` (made on first use): an
/// encryption key that wraps field data keys and a separate HMAC key for the blind index.
public struct ExampleKeys: Sendable {
    /// Wraps field data keys.
    public let keyEncryptionKey: Keyset
    /// The SSN blind index's HMAC key.
    public let indexKey: Keyset

    /// Loads (or makes) the keys.
    public static func load() throws -> ExampleKeys {
        guard let source = MasterKeySource.fromEnvironment() else {
            throw BulwarkError(.missingMasterKey, "set BULWARK_MASTER_KEY (bulwark master-key generate)")
        }
        let keystore = FileKeystore(directory: FileKeystore.defaultDirectory(), masterKey: source)
        return try keystore.update { contents in
            func key(_ name: String, _ type: KeyType) throws -> Keyset {
                if let existing = contents.keysets[name] { return existing }
                let made = try Keyset.generate(name: name, type: type)
                contents.keysets[name] = made
                return made
            }
            return ExampleKeys(keyEncryptionKey: try key("patients-kek", .aes256GCM), indexKey: try key("patients-ssn-index", .hmacSHA256))
        }
    }

    /// Names are stored as they are; SSNs encrypted with a digits-only blind index; diagnoses encrypted.
    public func codec(table: String) throws -> EncryptedRecordCodec {
        let index = try BlindIndex(
            name: "\(table).ssn", key: self.indexKey, bits: BlindIndexPlanner.recommendedBits(rows: 1_000_000), normalization: .digitsOnly)
        let schema = try EncryptedRecordSchema(table: table, properties: ["ssn": .encryptedWithBlindIndex(index), "diagnosis": .encrypted])
        return EncryptedRecordCodec(
            schema: schema, encryptor: FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: self.keyEncryptionKey)))
    }

    /// Three patients.
    public static let samples = [
        Patient(id: 1, name: "Jane Roe", ssn: "078-05-1120", diagnosis: "J45.909 asthma"),
        Patient(id: 2, name: "John Doe", ssn: "219-09-9999", diagnosis: "E11.9 type 2 diabetes"),
        Patient(id: 3, name: "Mary Major", ssn: "457-55-5462", diagnosis: "I10 hypertension"),
    ]
}

extension [String: ColumnValue] {
    /// A text column's value (encrypted columns are text).
    public func text(_ name: String) -> String {
        if case .text(let value) = self[name] { return value }
        return ""
    }
}
