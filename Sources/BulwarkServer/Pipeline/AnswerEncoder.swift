import Foundation

/// Encodes an endpoint's `Encodable` answer into the JSON objects that ``JSONText`` writes and
/// the audit log hashes (``AuditLog``), so a typed answer is written and audited exactly as an
/// untyped one: objects, lists, strings, integers, doubles and booleans; a `nil` optional is
/// left out; a ``RawJSON`` is its value; a `Duration` is whole seconds and a `Date` seconds since 1970, as Vault writes them.
///
/// Built for batch answers of thousands of items: a scalar is stored straight into its object or
/// list (no box per value), an object or list costs one node, and coding paths are built only
/// when an encoding implementation asks for one.
package enum AnswerEncoder {
    /// `answer` as a JSON object.
    /// - Precondition: `answer` encodes as an object (a struct or a dictionary), as every answer does.
    package static func encode(_ answer: some Encodable) throws -> [String: Any] {
        guard let object = try Self.value(of: answer, at: BodyPath(node: nil, key: nil)) as? [String: Any] else {
            throw EncodingError.invalidValue(answer, .init(codingPath: [], debugDescription: "an answer is a JSON object"))
        }
        return object
    }

    /// The JSON value of `value`, with the special cases above. Scalars are told apart by their
    /// exact type (a metatype comparison), not by casts, which cost on every value.
    static func value<T: Encodable>(of value: T, at path: BodyPath) throws -> Any {
        if T.self == String.self || T.self == Int.self || T.self == Bool.self || T.self == Double.self { return value }
        if T.self == Float.self, let number = value as? Float { return Double(number) }
        if T.self == Duration.self, let duration = value as? Duration { return Int(duration.components.seconds) }
        if T.self == RawJSON.self, let json = value as? RawJSON { return json.value ?? NSNull() }
        if T.self == Date.self, let date = value as? Date { return Int(date.timeIntervalSince1970.rounded(.down)) }
        if let number = Self.integer(value) { return number }
        let node = Node()
        try value.encode(to: ValueEncoder(node: node, path: path))
        return node.resolved
    }

    /// A fixed-width integer other than `Int` as an `Int` (or a `Double` when out of its range).
    private static func integer<T>(_ value: T) -> Any? {
        switch T.self {
        case is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type, is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            guard let number = value as? any FixedWidthInteger else { return nil }
            return Int(exactly: number) ?? Double(number)
        default:
            return nil
        }
    }

    /// One value being encoded: nothing yet, a single value, an object or a list. Values of
    /// nested containers (rare: most types encode their fields as values) are kept as nodes and
    /// resolved when the value is read.
    final class Node {
        enum Shape { case empty, single, object, list }

        var shape = Shape.empty
        var single: Any = NSNull()
        var fields: [String: Any] = [:]
        var items: [Any] = []
        var nestedFields: [(String, Node)] = []
        var nestedItems: [(Int, Node)] = []

        /// Starts over as an empty value of `shape` (an encoder switching containers keeps only the last).
        func reset(to shape: Shape) {
            self.shape = shape
            self.single = NSNull()
            self.fields = [:]
            self.items = []
            self.nestedFields = []
            self.nestedItems = []
        }

        /// Sets a field's value, replacing whatever was written under its name before (the
        /// last write wins, as in Foundation's `JSONEncoder`).
        func set(_ value: Any, field name: String) {
            if !self.nestedFields.isEmpty { self.nestedFields.removeAll { $0.0 == name } }
            self.fields[name] = value
        }

        /// A node for a nested container under `name`, replacing what was written there before.
        func nested(field name: String) -> Node {
            let child = Node()
            self.set(NSNull(), field: name)
            self.nestedFields.append((name, child))
            return child
        }

        /// The plain JSON value (`NSNull` when nothing was encoded).
        var resolved: Any {
            switch self.shape {
            case .empty, .single: return self.single
            case .object:
                var fields = self.fields
                for (key, node) in self.nestedFields { fields[key] = node.resolved }
                return fields
            case .list:
                var items = self.items
                for (index, node) in self.nestedItems { items[index] = node.resolved }
                return items
            }
        }
    }
}

/// The `Encoder` writing one value into its node.
private struct ValueEncoder: Encoder {
    let node: AnswerEncoder.Node
    let path: BodyPath
    var codingPath: [any CodingKey] { self.path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if self.node.shape != .object { self.node.reset(to: .object) }
        return KeyedEncodingContainer(KeyedAnswer<Key>(node: self.node, place: self.path.asNode))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if self.node.shape != .list { self.node.reset(to: .list) }
        return UnkeyedAnswer(node: self.node, place: self.path.asNode)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleAnswer(node: self.node, path: self.path)
    }
}

/// An object's fields.
private struct KeyedAnswer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: AnswerEncoder.Node
    /// The object's place in the answer.
    let place: BodyPath.Node?

    var codingPath: [any CodingKey] { BodyPath(node: self.place, key: nil).keys }

    /// A node for a nested container under `key`.
    private func nested(_ key: Key) -> AnswerEncoder.Node { self.node.nested(field: key.stringValue) }

    mutating func encodeNil(forKey key: Key) throws { self.node.set(NSNull(), field: key.stringValue) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        self.node.set(try AnswerEncoder.value(of: value, at: BodyPath(node: self.place, key: key)), field: key.stringValue)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: self.nested(key), path: BodyPath(node: self.place, key: key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: self.nested(key), path: BodyPath(node: self.place, key: key)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(node: self.node.nested(field: "super"), path: BodyPath(node: self.place, key: nil))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: self.nested(key), path: BodyPath(node: self.place, key: key))
    }
}

/// A list's items.
private struct UnkeyedAnswer: UnkeyedEncodingContainer {
    let node: AnswerEncoder.Node
    /// The list's place in the answer.
    let place: BodyPath.Node?

    var codingPath: [any CodingKey] { BodyPath(node: self.place, key: nil).keys }
    var count: Int { self.node.items.count }

    /// A node for a nested container as the next item.
    private func nested() -> AnswerEncoder.Node {
        let child = AnswerEncoder.Node()
        self.node.nestedItems.append((self.node.items.count, child))
        self.node.items.append(NSNull())
        return child
    }

    mutating func encodeNil() throws { self.node.items.append(NSNull()) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        self.node.items.append(try AnswerEncoder.value(of: value, at: BodyPath(node: self.place, key: nil)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: self.nested(), path: BodyPath(node: self.place, key: nil)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(node: self.nested(), path: BodyPath(node: self.place, key: nil)).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(node: self.nested(), path: BodyPath(node: self.place, key: nil))
    }
}

/// One value.
private struct SingleAnswer: SingleValueEncodingContainer {
    let node: AnswerEncoder.Node
    let path: BodyPath

    var codingPath: [any CodingKey] { self.path.keys }

    mutating func encodeNil() throws {
        self.node.shape = .single
        self.node.single = NSNull()
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        self.node.shape = .single
        self.node.single = try AnswerEncoder.value(of: value, at: self.path)
    }
}
