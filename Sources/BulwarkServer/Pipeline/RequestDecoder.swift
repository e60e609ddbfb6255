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
        if let unknown = body.keys.filter({ Request.CodingKeys(stringValue: $0) == nil && $0 != "name" }).min() {
            throw BulwarkError(.invalidArgument, "unknown field \"\(unknown)\"")
        }
        do {
            return try Request(from: BodyDecoder(value: body, path: BodyPath(node: nil, key: nil)))
        } catch let error as BulwarkError {
            throw error
        } catch {
            // Only a type's own `init(from:)` throws anything else; its text may quote input.
            throw BulwarkError(.invalidArgument, "malformed request")
        }
    }

    /// The field a coding path names, for messages: its last key (`plaintext`, also in a batch
    /// item), or a list's item by index (`policies[1]`).
    static func field(_ path: some BidirectionalCollection<any CodingKey>) -> String {
        guard let last = path.last else { return "body" }
        guard last is IndexKey, let index = last.intValue else { return last.stringValue }
        return "\(Self.field(path.dropLast()))[\(index)]"
    }

    /// Converts one JSON value to `type`, with the rules above.
    ///
    /// A field's place (and so its name) is built only for a message or a nested type, and
    /// `null` is recognised by its exact class: testing a native string, list or object against
    /// Foundation's `NSNull` with `is` would bridge it (and everything it holds) to Foundation.
    static func convert<T: Decodable>(_ raw: Any, to type: T.Type, at place: @autoclosure () -> BodyPath) throws -> T {
        // The commonest case, a string field holding a string, before any other test.
        if T.self == String.self, let text = raw as? String { return text as! T }
        if RequestValues.isNull(raw) { throw BulwarkError(.invalidArgument, "missing \(place().field)") }
        switch type {
        case is String.Type:
            guard let text = try RequestValues.string(raw, field: place().field) else { break }
            return text as! T
        case is Bool.Type:
            guard let flag = try RequestValues.boolean(raw, field: place().field) else { break }
            return flag as! T
        case is RawJSON.Type:
            guard raw is String || raw is [String: Any] else { throw BulwarkError(.invalidArgument, "\(place().field) must be a string or an object") }
            return RawJSON(text: JSONText.encode(raw)) as! T
        case is Duration.Type:
            return (try RequestValues.duration(raw, field: place().field) ?? .zero) as! T
        case let integer as any FixedWidthInteger.Type:
            return try Self.integer(raw, as: integer, field: place().field) as! T
        case is Double.Type:
            guard !RequestValues.isBoolean(raw), let number = raw as? NSNumber, number.doubleValue.isFinite else {
                throw BulwarkError(.invalidArgument, "\(place().field) must be a number")
            }
            return number.doubleValue as! T
        case is Float.Type:
            return Float(try Self.convert(raw, to: Double.self, at: place())) as! T
        default:
            return try T(from: BodyDecoder(value: raw, path: place()))
        }
        throw BulwarkError(.invalidArgument, "missing \(place().field)")
    }

    private static func integer<I: FixedWidthInteger>(_ raw: Any, as type: I.Type, field: @autoclosure () -> String) throws -> I {
        let minimum = Int(clamping: I.min)
        let maximum = Int(clamping: I.max)
        guard let value = try? RequestValues.integer(raw, field: "", in: minimum...maximum), let exact = I(exactly: value) else {
            let field = field()
            throw BulwarkError(.invalidArgument, I.self == Int.self ? "\(field) must be an integer" : "\(field) must be an integer from \(minimum) to \(maximum)")
        }
        return exact
    }
}

/// Where a value sits in the body: the container it is in (a chain of nodes, one per nested
/// object or list) and its key there. A field's coding path is built from it only when asked
/// for, so reading a field allocates nothing for its path.
struct BodyPath {
    /// A nested container's place: its parent's, and its key there.
    final class Node {
        let parent: Node?
        let key: any CodingKey

        init(parent: Node?, key: any CodingKey) {
            self.parent = parent
            self.key = key
        }
    }

    /// The container holding the value (nil: the body itself).
    let node: Node?
    /// The value's key in its container (nil: the body itself).
    let key: (any CodingKey)?

    /// The value's place as a container of further values.
    var asNode: Node? { self.key.map { Node(parent: self.node, key: $0) } ?? self.node }

    /// The coding path, outermost key first.
    var keys: [any CodingKey] {
        var keys: [any CodingKey] = self.key.map { [$0] } ?? []
        var node = self.node
        while let current = node {
            keys.append(current.key)
            node = current.parent
        }
        return keys.reversed()
    }

    /// Whether this is the body itself.
    var isRoot: Bool { self.node == nil && self.key == nil }

    /// The field's name for messages (see ``RequestDecoder/field(_:)``).
    var field: String {
        guard let key = self.key else { return RequestDecoder.field(self.keys) }
        guard key is IndexKey, let index = key.intValue else { return key.stringValue }
        return "\(BodyPath(node: self.node?.parent, key: self.node?.key).field)[\(index)]"
    }
}

/// The `Decoder` over one parsed JSON value.
private struct BodyDecoder: Decoder {
    let value: Any
    let path: BodyPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let object = self.value as? [String: Any] else {
            throw BulwarkError(.invalidArgument, "\(self.path.field) must be an object")
        }
        // The top level was checked against the endpoint's fields; a nested object of a request
        // type (a batch item, whose coding keys are a closed set) is checked against the type's,
        // and its own `batch_input` is passed over, as Vault does (a batch is one level). A
        // dictionary's keys are data, kept as given: its key type takes any name, which is how it
        // is told apart here (a request type's keys refuse a name no field has; asking costs a
        // string switch, where a `CaseIterable` conformance check costs a runtime lookup per item).
        guard !self.path.isRoot, Key(stringValue: Self.noFieldName) == nil else {
            return KeyedDecodingContainer(KeyedBody<Key>(object: object, place: self.path, skipsBatchInput: false))
        }
        var unknown: String?
        for name in object.keys where Key(stringValue: name) == nil && name != "name" && name != "batch_input" {
            if unknown.map({ name < $0 }) ?? true { unknown = name }
        }
        if let unknown { throw BulwarkError(.invalidArgument, "unknown field \"\(unknown)\"") }
        return KeyedDecodingContainer(KeyedBody<Key>(object: object, place: self.path, skipsBatchInput: true))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard let list = self.value as? [Any] else {
            throw BulwarkError(.invalidArgument, "\(self.path.field) must be a list")
        }
        return UnkeyedBody(list: list, node: self.path.asNode)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleBody(value: self.value, path: self.path)
    }

    /// A name no request type has a field for.
    private static let noFieldName = "\u{0}"
}

/// A JSON object's fields.
private struct KeyedBody<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: Any]
    /// The object's place in the body (made a node only when a field's place is needed: a
    /// message, a nested value).
    let place: BodyPath
    /// Whether the object's `batch_input` reads as absent (a batch item's).
    let skipsBatchInput: Bool

    var codingPath: [any CodingKey] { self.place.keys }

    /// The place of the field `key`.
    private func at(_ key: Key) -> BodyPath { BodyPath(node: self.place.asNode, key: key) }

    var allKeys: [Key] { self.object.keys.compactMap { self.skipsBatchInput && $0 == "batch_input" ? nil : Key(stringValue: $0) } }

    /// The raw value of `key`, nil when absent.
    private func raw(_ key: Key) -> Any? {
        let name = key.stringValue
        if self.skipsBatchInput, name == "batch_input" { return nil }
        return self.object[name]
    }

    func contains(_ key: Key) -> Bool { self.raw(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = self.raw(key) else { return true }
        return RequestValues.isNull(value)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try self.value(type, key) }

    private func value<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        guard let raw = self.raw(key) else {
            throw BulwarkError(.invalidArgument, "missing \(key.stringValue)")
        }
        return try RequestDecoder.convert(raw, to: type, at: self.at(key))
    }

    /// An optional field in one lookup: absent and `null` are nil.
    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        guard let raw = self.raw(key), !RequestValues.isNull(raw) else { return nil }
        return try RequestDecoder.convert(raw, to: type, at: self.at(key))
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

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try self.optional(type, key) }
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

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try BodyDecoder(value: self.raw(key) ?? NSNull(), path: self.at(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try BodyDecoder(value: self.raw(key) ?? NSNull(), path: self.at(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let object = self.skipsBatchInput ? self.object.filter { $0.key != "batch_input" } : self.object
        return BodyDecoder(value: object, path: self.place)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        BodyDecoder(value: self.raw(key) ?? NSNull(), path: self.at(key))
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
    /// The list's place in the body.
    let node: BodyPath.Node?
    private(set) var currentIndex = 0

    init(list: [Any], node: BodyPath.Node?) {
        self.list = list
        self.node = node
    }

    var codingPath: [any CodingKey] { BodyPath(node: self.node, key: nil).keys }

    var count: Int? { self.list.count }
    var isAtEnd: Bool { self.currentIndex >= self.list.count }

    private var path: BodyPath { BodyPath(node: self.node, key: IndexKey(self.currentIndex)) }

    private func current() throws -> Any {
        guard !self.isAtEnd else { throw BulwarkError(.invalidArgument, "\(BodyPath(node: self.node, key: nil).field) has too few items") }
        return self.list[self.currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard RequestValues.isNull(try self.current()) else { return false }
        self.currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.next(type) }

    private mutating func next<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try RequestDecoder.convert(try self.current(), to: type, at: self.path)
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
        let container = try BodyDecoder(value: try self.current(), path: self.path).container(keyedBy: type)
        self.currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let container = try BodyDecoder(value: try self.current(), path: self.path).unkeyedContainer()
        self.currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = BodyDecoder(value: try self.current(), path: self.path)
        self.currentIndex += 1
        return decoder
    }
}

/// One JSON value.
private struct SingleBody: SingleValueDecodingContainer {
    let value: Any
    let path: BodyPath

    var codingPath: [any CodingKey] { self.path.keys }

    func decodeNil() -> Bool { RequestValues.isNull(self.value) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.read(type) }

    private func read<T: Decodable>(_ type: T.Type) throws -> T {
        try RequestDecoder.convert(self.value, to: type, at: self.path)
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
