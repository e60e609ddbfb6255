import Foundation

/// A minimal `Encoder` that turns a model's top-level properties into ``ColumnValue``s without a
/// JSON round trip: scalars are stored as they are, anything else as its JSON text.
final class ColumnEncoder: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var columns: [String: ColumnValue] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("a record must encode as a keyed container")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        preconditionFailure("a record must encode as a keyed container")
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        // Wrapped in an array so fragments (dates, UUIDs) encode; the brackets are cut off.
        let data = try JSONEncoder().encode([value])
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ColumnEncoder
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil(forKey key: Key) throws { self.encoder.columns[key.stringValue] = .null }
        mutating func encode(_ value: Bool, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .bool(value) }
        mutating func encode(_ value: String, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .text(value) }
        mutating func encode(_ value: Double, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .double(value) }
        mutating func encode(_ value: Float, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .double(Double(value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(value) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { self.encoder.columns[key.stringValue] = .integer(Int64(value)) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            // Generic code (for example a generic model) reaches here with scalars too.
            switch value {
            case let text as String: try self.encode(text, forKey: key)
            case let flag as Bool: try self.encode(flag, forKey: key)
            case let number as Int: try self.encode(number, forKey: key)
            case let number as Int64: try self.encode(number, forKey: key)
            case let number as Int32: try self.encode(number, forKey: key)
            case let number as Double: try self.encode(number, forKey: key)
            default: self.encoder.columns[key.stringValue] = .text(try ColumnEncoder.json(value))
            }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            preconditionFailure("nested containers are encoded as JSON through encode(_:forKey:)")
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("nested containers are encoded as JSON through encode(_:forKey:)")
        }
        mutating func superEncoder() -> any Encoder { self.encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { self.encoder }
    }
}

/// The `Decoder` matching ``ColumnEncoder``.
struct ColumnDecoder: Decoder {
    let columns: [String: ColumnValue]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Container<Key>(columns: self.columns))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw BulwarkError(.invalidFormat, "a record decodes from a keyed container")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw BulwarkError(.invalidFormat, "a record decodes from a keyed container")
    }

    struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let columns: [String: ColumnValue]
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { self.columns.keys.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { self.columns[key.stringValue] != nil }

        func value(_ key: Key) throws -> ColumnValue {
            guard let value = self.columns[key.stringValue] else {
                throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: [], debugDescription: "no column \(key.stringValue)"))
            }
            return value
        }

        func mismatch<T>(_ type: T.Type, _ key: Key) -> DecodingError {
            DecodingError.typeMismatch(type, DecodingError.Context(codingPath: [key], debugDescription: "column \(key.stringValue) has another type"))
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try self.value(key) { return true }
            return false
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            guard case .bool(let value) = try self.value(key) else { throw self.mismatch(type, key) }
            return value
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            guard case .text(let value) = try self.value(key) else { throw self.mismatch(type, key) }
            return value
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            switch try self.value(key) {
            case .double(let value): return value
            case .integer(let value): return Double(value)
            default: throw self.mismatch(type, key)
            }
        }

        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try self.decode(Double.self, forKey: key)) }

        func integer<T: FixedWidthInteger>(_ type: T.Type, _ key: Key) throws -> T {
            guard case .integer(let value) = try self.value(key), let exact = T(exactly: value) else { throw self.mismatch(type, key) }
            return exact
        }

        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try self.integer(type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try self.integer(type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try self.integer(type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try self.integer(type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try self.integer(type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try self.integer(type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try self.integer(type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try self.integer(type, key) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            if T.self == String.self, let value = try self.decode(String.self, forKey: key) as? T { return value }
            if T.self == Bool.self, let value = try self.decode(Bool.self, forKey: key) as? T { return value }
            if T.self == Int.self, let value = try self.decode(Int.self, forKey: key) as? T { return value }
            if T.self == Int64.self, let value = try self.decode(Int64.self, forKey: key) as? T { return value }
            if T.self == Int32.self, let value = try self.decode(Int32.self, forKey: key) as? T { return value }
            if T.self == Double.self, let value = try self.decode(Double.self, forKey: key) as? T { return value }
            guard case .text(let json) = try self.value(key) else { throw self.mismatch(type, key) }
            return try JSONDecoder().decode([T].self, from: Data(("[" + json + "]").utf8))[0]
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw BulwarkError(.invalidFormat, "nested containers decode through decode(_:forKey:)")
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw BulwarkError(.invalidFormat, "nested containers decode through decode(_:forKey:)")
        }

        func superDecoder() throws -> any Decoder { ColumnDecoder(columns: self.columns) }
        func superDecoder(forKey key: Key) throws -> any Decoder { ColumnDecoder(columns: self.columns) }
    }
}

extension ColumnValue {
    /// The plaintext of a protected column: a tag byte, then the value.
    var plaintext: [UInt8] {
        switch self {
        case .null: return [0x00]
        case .text(let text): return [0x01] + Array(text.utf8)
        case .integer(let value):
            var out: [UInt8] = [0x02]
            out.appendBigEndian(UInt64(bitPattern: value))
            return out
        case .double(let value):
            var out: [UInt8] = [0x03]
            out.appendBigEndian(value.bitPattern)
            return out
        case .bool(let value): return [0x04, value ? 1 : 0]
        }
    }

    init(plaintext bytes: Data) throws {
        let raw = Array(bytes)
        guard let tag = raw.first else { throw BulwarkError(.invalidFormat, "an empty protected value") }
        switch (tag, raw.count) {
        case (0x00, 1): self = .null
        case (0x01, _): self = .text(String(decoding: raw.dropFirst(), as: UTF8.self))
        case (0x02, 9): self = .integer(Int64(bitPattern: raw.readBigEndianUInt64(at: 1)))
        case (0x03, 9): self = .double(Double(bitPattern: raw.readBigEndianUInt64(at: 1)))
        case (0x04, 2): self = .bool(raw[1] == 1)
        default: throw BulwarkError(.invalidFormat, "a protected value with an unknown tag")
        }
    }
}
