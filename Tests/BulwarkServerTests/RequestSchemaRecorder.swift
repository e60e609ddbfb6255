import Foundation

@testable import BulwarkServer

/// Reads the JSON types a request type's fields take, by decoding it with a `Decoder` that
/// records what each field asks for instead of reading a body: `String` is `string`, an integer
/// type `integer` with its range, `Bool` `boolean`, a list `array`, a nested object or a
/// dictionary `object`, a `Duration` seconds or a string, and a type with its own `init(from:)`
/// whatever it tries in turn (``DurationText``: integer, then string).
enum RequestSchemaRecorder {
    /// One field's JSON types, and an integer's range.
    struct Field: Equatable {
        var types: Set<String>
        var range: ClosedRange<Int>?
    }

    /// The fields of `type` by JSON name.
    static func fields(of type: any EndpointRequest.Type) -> [String: Field] {
        let record = Record()
        _ = try? type.init(from: Recorder(record: record, key: nil))
        return record.fields
    }

    /// The JSON types of a type read as a field's value.
    static func field<T: Decodable>(_ type: T.Type) -> Field {
        switch type {
        case is String.Type: return Field(types: ["string"])
        case is Bool.Type: return Field(types: ["boolean"])
        case is Double.Type, is Float.Type: return Field(types: ["number"])
        case is Duration.Type: return Field(types: ["integer", "string"], range: 0...RequestValues.maximumSeconds)
        case is RawJSON.Type: return Field(types: ["string", "object"])
        case let integer as any FixedWidthInteger.Type: return Field(types: ["integer"], range: Self.range(integer))
        default:
            let record = Record()
            _ = try? T(from: Recorder(record: record, key: nil))
            return Field(types: record.shape)
        }
    }

    private static func range<I: FixedWidthInteger>(_ type: I.Type) -> ClosedRange<Int> {
        Int(clamping: I.min)...Int(clamping: I.max)
    }

    /// What one decoding asked for.
    final class Record {
        var fields: [String: Field] = [:]
        var shape: Set<String> = []
    }

    /// Stops a custom type's decoding once its attempt is recorded.
    struct Recorded: Error {}
}

/// The recording `Decoder`.
private struct Recorder: Decoder {
    let record: RequestSchemaRecorder.Record
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { self.key.map { [$0] } ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        self.record.shape.insert("object")
        return KeyedDecodingContainer(RecordingKeyed<Key>(record: self.record))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        self.record.shape.insert("array")
        return EmptyList()
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        RecordingSingle(record: self.record)
    }
}

/// Records each field asked for; absent to optional reads, a default to required ones.
private struct RecordingKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let record: RequestSchemaRecorder.Record
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { false }
    func decodeNil(forKey key: Key) throws -> Bool { true }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try self.optional(type, key) }

    // Each scalar has its own requirement, whose default would answer without recording.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try self.optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try self.optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try self.optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try self.optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try self.optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try self.optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try self.optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try self.optional(type, key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try self.required(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try self.required(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try self.required(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try self.required(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try self.required(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try self.required(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try self.required(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try self.required(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try self.required(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try self.required(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try self.required(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try self.required(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try self.required(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try self.required(type, key) }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        self.record.fields[key.stringValue] = RequestSchemaRecorder.field(type)
        return nil
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try self.required(type, key) }

    private func required<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        self.record.fields[key.stringValue] = RequestSchemaRecorder.field(type)
        // A required field gets a stand-in, so the fields after it are recorded too.
        switch type {
        case is String.Type: return "" as! T
        case is Bool.Type: return false as! T
        case is Double.Type: return 0.0 as! T
        case is Duration.Type: return Duration.zero as! T
        case let integer as any FixedWidthInteger.Type: return integer.zero as! T
        default: return try T(from: Recorder(record: RequestSchemaRecorder.Record(), key: key))
        }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw RequestSchemaRecorder.Recorded()
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw RequestSchemaRecorder.Recorded() }
    func superDecoder() throws -> any Decoder { throw RequestSchemaRecorder.Recorded() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw RequestSchemaRecorder.Recorded() }
}

/// A list with no items.
private struct EmptyList: UnkeyedDecodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    mutating func decodeNil() throws -> Bool { throw RequestSchemaRecorder.Recorded() }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { throw RequestSchemaRecorder.Recorded() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw RequestSchemaRecorder.Recorded()
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw RequestSchemaRecorder.Recorded() }
    mutating func superDecoder() throws -> any Decoder { throw RequestSchemaRecorder.Recorded() }
}

/// Records every type a custom decoding tries, then fails it so the next is tried.
private struct RecordingSingle: SingleValueDecodingContainer {
    let record: RequestSchemaRecorder.Record
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        self.record.shape.formUnion(RequestSchemaRecorder.field(type).types)
        throw RequestSchemaRecorder.Recorded()
    }
}
