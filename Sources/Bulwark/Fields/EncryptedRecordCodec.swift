import Foundation

/// Encrypts the protected properties of `Codable` models into storable columns and back, with the
/// row context supplied once: plain Swift, no ORM.
///
/// ```swift
/// struct Patient: Codable { var id: String; var name: String; var ssn: String; var diagnosis: String }
/// let schema = try EncryptedRecordSchema(table: "patients", properties: [
///     "ssn": .encryptedWithBlindIndex(ssnIndex), "diagnosis": .encrypted])
/// let codec = EncryptedRecordCodec(schema: schema, encryptor: fields)
/// let columns = try await codec.encode(patient, rowKey: patient.id)   // → INSERT
/// let back = try await codec.decode(Patient.self, from: columns, rowKey: patient.id)
/// ```
///
/// Top-level scalars become columns as they are; nested values become JSON text. Protected
/// properties are stored as text: `bwf1:` + base64url of a format-0x03 envelope, bound to table,
/// property and row key; deterministic ones `bwd1:` + a format-0x01 AES-SIV envelope, bound to
/// table and property only, so equal values compare equal. The plaintext is a type tag and the
/// value, so any `Codable` property can be protected.
public struct EncryptedRecordCodec: Sendable {
    /// The schema.
    public let schema: EncryptedRecordSchema
    /// The envelope encryptor.
    public let encryptor: FieldEncryptor

    static let envelopePrefix = "bwf1:"
    static let deterministicPrefix = "bwd1:"

    /// Creates a codec.
    public init(schema: EncryptedRecordSchema, encryptor: FieldEncryptor) {
        self.schema = schema
        self.encryptor = encryptor
    }

    /// Encodes a model to columns, encrypting and indexing its protected properties.
    /// - Parameters:
    ///   - value: The model (a keyed container at the top level).
    ///   - rowKey: The row's primary key; every randomised ciphertext is bound to it.
    public func encode<Model: Encodable>(_ value: Model, rowKey: String) async throws -> [String: ColumnValue] {
        let encoder = ColumnEncoder()
        try value.encode(to: encoder)
        var columns = encoder.columns
        for (name, protection) in self.schema.properties {
            guard let column = columns[name] else { continue }
            let plaintext = column.plaintext
            switch protection {
            case .encrypted:
                columns[name] = try await self.sealed(plaintext, name, rowKey)
            case .encryptedWithBlindIndex(let index):
                columns[name] = try await self.sealed(plaintext, name, rowKey)
                columns[EncryptedRecordSchema.blindIndexColumn(name)] = .integer(Int64(bitPattern: try Self.indexValue(index, column)))
            case .deterministic(let key):
                let sealed = try key.encryptDeterministically(plaintext, context: self.deterministicContext(name))
                columns[name] = .text(Self.deterministicPrefix + Base64URL.encode(sealed))
            }
        }
        return columns
    }

    private func sealed(_ plaintext: [UInt8], _ name: String, _ rowKey: String) async throws -> ColumnValue {
        let context = FieldContext(table: self.schema.table, column: name, rowKey: rowKey)
        return .text(Self.envelopePrefix + Base64URL.encode(try await self.encryptor.encrypt(plaintext, context: context)))
    }

    /// Decodes columns made by ``encode(_:rowKey:)``, decrypting the protected properties.
    /// - Throws: `authenticationFailed` when a ciphertext was altered or belongs to another row or
    ///   property; `invalidFormat` for a protected column that holds no ciphertext.
    public func decode<Model: Decodable>(_ type: Model.Type, from columns: [String: ColumnValue], rowKey: String) async throws -> Model {
        var plain = columns
        for (name, protection) in self.schema.properties {
            guard let column = columns[name] else { continue }
            guard case .text(let text) = column else {
                throw BulwarkError(.invalidFormat, "protected column '\(name)' holds no ciphertext")
            }
            let plaintext: Data
            switch protection {
            case .encrypted, .encryptedWithBlindIndex:
                guard text.hasPrefix(Self.envelopePrefix), let sealed = Base64URL.decodeBytes(text.dropFirst(Self.envelopePrefix.count)) else {
                    throw BulwarkError(.invalidFormat, "protected column '\(name)' holds no field ciphertext")
                }
                let context = FieldContext(table: self.schema.table, column: name, rowKey: rowKey)
                plaintext = try await self.encryptor.decrypt(bytes: sealed, context: context)
                plain[EncryptedRecordSchema.blindIndexColumn(name)] = nil
            case .deterministic(let key):
                guard text.hasPrefix(Self.deterministicPrefix), let sealed = Base64URL.decode(text.dropFirst(Self.deterministicPrefix.count)) else {
                    throw BulwarkError(.invalidFormat, "protected column '\(name)' holds no deterministic ciphertext")
                }
                plaintext = try key.decryptDeterministically(sealed, context: self.deterministicContext(name))
            }
            plain[name] = try ColumnValue(plaintext: plaintext)
        }
        return try Model(from: ColumnDecoder(columns: plain))
    }

    /// The blind-index value to search for: rows whose `<property>_bidx` equals it are candidates.
    public func blindIndexValue<Value: Encodable>(property: String, for value: Value) throws -> Int64 {
        guard case .encryptedWithBlindIndex(let index) = self.schema.properties[property] else {
            throw BulwarkError(.invalidArgument, "property '\(property)' has no blind index")
        }
        return Int64(bitPattern: try Self.indexValue(index, try Self.column(value)))
    }

    /// The column value a deterministic property holds for `value`: match it with `WHERE column =`
    /// for exact-match lookups and joins.
    public func deterministicValue<Value: Encodable>(property: String, for value: Value) throws -> ColumnValue {
        guard case .deterministic(let key) = self.schema.properties[property] else {
            throw BulwarkError(.invalidArgument, "property '\(property)' is not deterministically encrypted")
        }
        let sealed = try key.encryptDeterministically(try Self.column(value).plaintext, context: self.deterministicContext(property))
        return .text(Self.deterministicPrefix + Base64URL.encode(sealed))
    }

    /// Deterministic ciphertexts are bound to table and column but not to the row, so that equal
    /// values in one column compare equal (their purpose, and their leakage).
    func deterministicContext(_ property: String) -> [UInt8] {
        FieldContext(table: self.schema.table, column: property, rowKey: "").encoded
    }

    /// The column a single value would occupy.
    static func column<Value: Encodable>(_ value: Value) throws -> ColumnValue {
        let encoder = ColumnEncoder()
        try SingleColumn(value: value).encode(to: encoder)
        return encoder.columns["value"] ?? .null
    }

    static func indexValue(_ index: BlindIndex, _ column: ColumnValue) throws -> UInt64 {
        if case .text(let text) = column { return try index.value(for: text) }
        return try index.value(for: String(decoding: column.plaintext, as: UTF8.self))
    }
}

/// One value under the key `value`, to learn which column it would occupy.
private struct SingleColumn<Value: Encodable>: Encodable {
    let value: Value
}
