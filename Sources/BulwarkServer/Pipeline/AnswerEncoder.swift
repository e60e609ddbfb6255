import Foundation

/// Encodes an endpoint's `Encodable` answer into the JSON objects that ``JSONText`` writes and
/// the audit log hashes (``AuditLog``), so a typed answer is written and audited exactly as an
/// untyped one: objects, lists, strings, integers, doubles and booleans; a `nil` optional is
/// left out; a ``RawJSON`` is its value; a `Duration` is whole seconds and a `Date` seconds since 1970, as Vault writes them.
package enum AnswerEncoder {
    /// `answer` as a JSON object.
    /// - Precondition: `answer` encodes as an object (a struct or a dictionary), as every answer does.
    package static func encode(_ answer: some Encodable) throws -> [String: Any] {
        let slot = Slot()
        try Self.encode(answer, into: slot, path: [])
        guard let object = Self.resolve(slot.value) as? [String: Any] else {
            throw EncodingError.invalidValue(answer, .init(codingPath: [], debugDescription: "an answer is a JSON object"))
        }
        return object
    }

    /// Encodes one value into `slot`, with the special cases above.
    static func encode(_ value: some Encodable, into slot: Slot, path: [any CodingKey]) throws {
        switch value {
        case let duration as Duration: slot.value = Int(duration.components.seconds)
        case let json as RawJSON: slot.value = json.value ?? NSNull()
        case let date as Date: slot.value = Int(date.timeIntervalSince1970.rounded(.down))
        case let text as String: slot.value = text
        case let flag as Bool: slot.value = flag
        case let number as Int: slot.value = number
        case let number as Double: slot.value = number
        case let number as any FixedWidthInteger: slot.value = Int(exactly: number) ?? Double(number)
        default: try value.encode(to: ValueEncoder(slot: slot, codingPath: path))
        }
    }

    /// Turns the boxes built while encoding into plain objects and lists.
    private static func resolve(_ value: Any?) -> Any {
        switch value {
        case let object as ObjectBox: object.fields.mapValues { Self.resolve($0.value) }
        case let list as ListBox: list.items.map { Self.resolve($0.value) }
        case let value?: value
        case nil: NSNull()
        }
    }

    /// Where one encoded value goes.
    final class Slot {
        var value: Any?
    }

    /// An object being encoded.
    fileprivate final class ObjectBox {
        var fields: [String: Slot] = [:]
    }

    /// A list being encoded.
    fileprivate final class ListBox {
        var items: [Slot] = []
    }
}

/// The `Encoder` writing one value into its slot.
private struct ValueEncoder: Encoder {
    let slot: AnswerEncoder.Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box = (self.slot.value as? AnswerEncoder.ObjectBox) ?? AnswerEncoder.ObjectBox()
        self.slot.value = box
        return KeyedEncodingContainer(KeyedAnswer<Key>(box: box, codingPath: self.codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box = (self.slot.value as? AnswerEncoder.ListBox) ?? AnswerEncoder.ListBox()
        self.slot.value = box
        return UnkeyedAnswer(box: box, codingPath: self.codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleAnswer(slot: self.slot, codingPath: self.codingPath)
    }
}

/// An object's fields.
private struct KeyedAnswer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: AnswerEncoder.ObjectBox
    let codingPath: [any CodingKey]

    private func slot(_ key: Key) -> AnswerEncoder.Slot {
        let slot = AnswerEncoder.Slot()
        self.box.fields[key.stringValue] = slot
        return slot
    }

    mutating func encodeNil(forKey key: Key) throws { self.slot(key).value = NSNull() }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try AnswerEncoder.encode(value, into: self.slot(key), path: self.codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(slot: self.slot(key), codingPath: self.codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(slot: self.slot(key), codingPath: self.codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(slot: self.slot(Key(stringValue: "super")!), codingPath: self.codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(slot: self.slot(key), codingPath: self.codingPath + [key])
    }
}

/// A list's items.
private struct UnkeyedAnswer: UnkeyedEncodingContainer {
    let box: AnswerEncoder.ListBox
    let codingPath: [any CodingKey]

    var count: Int { self.box.items.count }

    private func slot() -> AnswerEncoder.Slot {
        let slot = AnswerEncoder.Slot()
        self.box.items.append(slot)
        return slot
    }

    mutating func encodeNil() throws { self.slot().value = NSNull() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try AnswerEncoder.encode(value, into: self.slot(), path: self.codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(slot: self.slot(), codingPath: self.codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        ValueEncoder(slot: self.slot(), codingPath: self.codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        ValueEncoder(slot: self.slot(), codingPath: self.codingPath)
    }
}

/// One value.
private struct SingleAnswer: SingleValueEncodingContainer {
    let slot: AnswerEncoder.Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { self.slot.value = NSNull() }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try AnswerEncoder.encode(value, into: self.slot, path: self.codingPath)
    }
}
