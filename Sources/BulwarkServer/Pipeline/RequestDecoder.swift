import Bulwark
import Foundation

/// Decodes a request body, already parsed into JSON objects, into an ``EndpointRequest`` with
/// Vault's rules for request fields:
/// - a field the type does not declare is refused by name (`unknown field "plaintxt"`), at the
///   top level and in every nested object whose keys are an enumerable set (batch items);
/// - a batch item's own `batch_input` is passed over (a batch is one level, as in Vault);
/// - JSON `null` is the same as absent;
/// - a string is a JSON string, a boolean `true` or `false` (not a number, not a string);
/// - an integer is a JSON integer, an integral number or a decimal string (Vault's weak
///   decoding), range-checked against the Swift type;
/// - a ``RawJSON`` is a string or an object, kept as its JSON text;
/// - a `Duration` is seconds (a number or a decimal string) or number-and-unit parts (`"24h"`,
///   `"1h30m"`), at most ``RequestValues/maximumSeconds``, zero meaning "off".
///
/// Every refusal is a ``BulwarkError`` (`invalidArgument`) naming the field and never quoting
/// its value, so no secret a caller sent in the wrong place is echoed back.
package enum RequestDecoder {
    /// Decodes `body` as `Request`.
    /// - Throws: ``BulwarkError`` (`invalidArgument`) naming the first offending field.
    package static func decode<Request: EndpointRequest>(_ type: Request.Type, from body: [String: Any]) throws -> Request {
        if let unknown = body.keys.filter({ !Request.fields.contains($0) && $0 != "name" }).min() {
            throw BulwarkError(.invalidArgument, "unknown field \"\(unknown)\"")
        }
        do {
            return try Request(from: BodyDecoder(value: body, codingPath: []))
        } catch let error as BulwarkError {
            throw error
        } catch {
            // Only a type's own `init(from:)` throws anything else; its text may quote input.
            throw BulwarkError(.invalidArgument, "malformed request")
        }
    }

    /// The JSON names of `keys`' cases, when it is an enumerable set of coding keys.
    static func names(of keys: (some CodingKey).Type) -> Set<String>? {
        guard let enumerable = keys as? any CaseIterable.Type else { return nil }
        return Self.caseNames(enumerable)
    }

    private static func caseNames<Keys: CaseIterable>(_ keys: Keys.Type) -> Set<String> {
        Set(Keys.allCases.compactMap { ($0 as? any CodingKey)?.stringValue })
    }

    /// The field a coding path names, for messages: its last key (`plaintext`, also in a batch
    /// item), or a list's item by index (`policies[1]`).
    static func field(_ path: some BidirectionalCollection<any CodingKey>) -> String {
        guard let last = path.last else { return "body" }
        guard last is IndexKey, let index = last.intValue else { return last.stringValue }
        return "\(Self.field(path.dropLast()))[\(index)]"
    }

    /// Converts one JSON value to `type`, with the rules above.
    static func convert<T: Decodable>(_ raw: Any, to type: T.Type, path: [any CodingKey]) throws -> T {
        let field = Self.field(path)
        if raw is NSNull { throw BulwarkError(.invalidArgument, "missing \(field)") }
        switch type {
        case is String.Type:
            guard let text = try RequestValues.string(raw, field: field) else { break }
            return text as! T
        case is Bool.Type:
            guard let flag = try RequestValues.boolean(raw, field: field) else { break }
            return flag as! T
        case is RawJSON.Type:
            guard raw is String || raw is [String: Any] else { throw BulwarkError(.invalidArgument, "\(field) must be a string or an object") }
            return RawJSON(text: JSONText.encode(raw)) as! T
        case is Duration.Type:
            return (try RequestValues.duration(raw, field: field) ?? .zero) as! T
        case let integer as any FixedWidthInteger.Type:
            return try Self.integer(raw, as: integer, field: field) as! T
        case is Double.Type:
            guard !RequestValues.isBoolean(raw), let number = raw as? NSNumber, number.doubleValue.isFinite else {
                throw BulwarkError(.invalidArgument, "\(field) must be a number")
            }
            return number.doubleValue as! T
        case is Float.Type:
            return Float(try Self.convert(raw, to: Double.self, path: path)) as! T
        default:
            return try T(from: BodyDecoder(value: raw, codingPath: path))
        }
        throw BulwarkError(.invalidArgument, "missing \(field)")
    }

    private static func integer<I: FixedWidthInteger>(_ raw: Any, as type: I.Type, field: String) throws -> I {
        let minimum = Int(clamping: I.min)
        let maximum = Int(clamping: I.max)
        guard let value = try? RequestValues.integer(raw, field: field, in: minimum...maximum), let exact = I(exactly: value) else {
            throw BulwarkError(.invalidArgument, I.self == Int.self ? "\(field) must be an integer" : "\(field) must be an integer from \(minimum) to \(maximum)")
        }
        return exact
    }
}

/// The `Decoder` over one parsed JSON value.
private struct BodyDecoder: Decoder {
    let value: Any
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let object = self.value as? [String: Any] else {
            throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(self.codingPath)) must be an object")
        }
        // The top level was checked against the endpoint's fields; a nested object of a request
        // type (a batch item) is checked against the type's, and its own `batch_input` is passed
        // over, as Vault does (a batch is one level). A dictionary's keys are data, kept as given.
        guard !self.codingPath.isEmpty, let allowed = RequestDecoder.names(of: Key.self) else {
            return KeyedDecodingContainer(KeyedBody<Key>(object: object, codingPath: self.codingPath))
        }
        let fields = object.filter { $0.key != "batch_input" }
        if let unknown = fields.keys.filter({ !allowed.contains($0) && $0 != "name" }).min() {
            throw BulwarkError(.invalidArgument, "unknown field \"\(unknown)\"")
        }
        return KeyedDecodingContainer(KeyedBody<Key>(object: fields, codingPath: self.codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let list = self.value as? [Any] else {
            throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(self.codingPath)) must be a list")
        }
        return UnkeyedBody(list: list, codingPath: self.codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleBody(value: self.value, codingPath: self.codingPath)
    }
}

/// A JSON object's fields.
private struct KeyedBody<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: Any]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { self.object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { self.object[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = self.object[key.stringValue] else { return true }
        return value is NSNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try self.value(type, key) }

    private func value<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        guard let raw = self.object[key.stringValue] else {
            throw BulwarkError(.invalidArgument, "missing \(key.stringValue)")
        }
        return try RequestDecoder.convert(raw, to: type, path: self.codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try self.value(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try self.value(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try self.value(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try self.value(type, key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try self.value(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try self.value(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try self.value(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try self.value(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try self.value(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try self.value(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try self.value(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try self.value(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try self.value(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try self.value(type, key) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try BodyDecoder(value: self.object[key.stringValue] ?? NSNull(), codingPath: self.codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try BodyDecoder(value: self.object[key.stringValue] ?? NSNull(), codingPath: self.codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { BodyDecoder(value: self.object, codingPath: self.codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        BodyDecoder(value: self.object[key.stringValue] ?? NSNull(), codingPath: self.codingPath + [key])
    }
}

/// An index into a JSON list, for coding paths.
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(self.intValue ?? 0) }
    init(_ index: Int) { self.intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A JSON list's items, in order.
private struct UnkeyedBody: UnkeyedDecodingContainer {
    let list: [Any]
    let codingPath: [any CodingKey]
    private(set) var currentIndex = 0

    init(list: [Any], codingPath: [any CodingKey]) {
        self.list = list
        self.codingPath = codingPath
    }

    var count: Int? { self.list.count }
    var isAtEnd: Bool { self.currentIndex >= self.list.count }

    private var path: [any CodingKey] { self.codingPath + [IndexKey(self.currentIndex)] }

    private func current() throws -> Any {
        guard !self.isAtEnd else { throw BulwarkError(.invalidArgument, "\(RequestDecoder.field(self.codingPath)) has too few items") }
        return self.list[self.currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard try self.current() is NSNull else { return false }
        self.currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.next(type) }

    private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try RequestDecoder.convert(try self.current(), to: type, path: self.path)
        self.currentIndex += 1
        return value
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try self.next(type) }
    mutating func decode(_ type: String.Type) throws -> String { try self.next(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try self.next(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try self.next(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try self.next(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try self.next(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try self.next(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try self.next(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try self.next(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try self.next(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try self.next(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try self.next(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try self.next(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try self.next(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try BodyDecoder(value: try self.current(), codingPath: self.path).container(keyedBy: type)
        self.currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try BodyDecoder(value: try self.current(), codingPath: self.path).unkeyedContainer()
        self.currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = BodyDecoder(value: try self.current(), codingPath: self.path)
        self.currentIndex += 1
        return decoder
    }
}

/// One JSON value.
private struct SingleBody: SingleValueDecodingContainer {
    let value: Any
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { self.value is NSNull }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.read(type) }

    private func read<T: Decodable>(_ type: T.Type) throws -> T {
        try RequestDecoder.convert(self.value, to: type, path: self.codingPath)
    }

    func decode(_ type: Bool.Type) throws -> Bool { try self.read(type) }
    func decode(_ type: String.Type) throws -> String { try self.read(type) }
    func decode(_ type: Double.Type) throws -> Double { try self.read(type) }
    func decode(_ type: Float.Type) throws -> Float { try self.read(type) }
    func decode(_ type: Int.Type) throws -> Int { try self.read(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try self.read(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try self.read(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try self.read(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try self.read(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try self.read(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try self.read(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try self.read(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try self.read(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try self.read(type) }
}
