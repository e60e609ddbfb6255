import Crypto
import Foundation
import BulwarkTestSupport
import Testing

@testable import BulwarkServer

/// The typed decoding of single-item requests: on every body it takes, the same values as
/// `JSONSerialization` (the general path's decoder), and the same audit text for each value;
/// everything outside its subset is left to the general path.
@Suite struct FlatJSONObjectTests {
    private static func decode(_ text: String) -> FlatJSONObject? {
        Array(text.utf8).withUnsafeBytes { FlatJSONObject($0) }
    }

    @Test func takesTheCommonShapes() throws {
        let object = try #require(Self.decode(#" {"plaintext":"aGk=", "key_version" : 12,"flag":true,"none":null,"n":-3}"#))
        #expect(object.fields.map(\.name) == ["plaintext", "key_version", "flag", "none", "n"])
        #expect(object["plaintext"] == .string("aGk="))
        #expect(object["key_version"] == .integer(12))
        #expect(object["flag"] == .boolean(true))
        #expect(object["none"] == .null)
        #expect(object["n"] == .integer(-3))
        #expect(object["absent"] == nil)
        #expect(Self.decode(#"{"a":999999999999999999,"b":-999999999999999999}"#)?["b"] == .integer(-999_999_999_999_999_999))
        #expect(Self.decode("{}")?.fields.isEmpty == true)
        #expect(Self.decode("\r\n{ }\t")?.fields.isEmpty == true)
    }

    @Test(arguments: [
        "", "[]", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}", "{\"a\":1}x", "{\"a\":1}{}",
        // Outside the subset (the general decoder's, which may take them).
        "{\"a\":\"\\u0041\"}", "{\"a\":\"caf\u{e9}\"}", "{\"a\":{}}", "{\"a\":[]}", "{\"a\":1.0}", "{\"a\":1e3}", "{\"a\":-0}",
        "{\"a\":01}", "{\"a\":1234567890123456789}", "{\"a\":9999999999999999999}", "{\"a\":-99999999999999999999999}", "{\"a\":1,\"a\":2}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":\"\u{1}\"}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}", "{'a':1}", "{\"a\":+1}", "{\"a\":-}",
    ])
    func leavesEverythingElse(_ body: String) {
        #expect(Self.decode(body) == nil, "\(body)")
    }

    @Test func batches() throws {
        func batch(_ text: String, maximum: Int = 10) -> [FlatJSONObject]? {
            Array(text.utf8).withUnsafeBytes { FlatJSONObject.batch($0, maximumItems: maximum) }
        }
        let items = try #require(batch(#" { "batch_input" : [ {"plaintext":"aGk="} ,{ }, {"key_version":2} ] } "#))
        #expect(items.map(\.fields.count) == [1, 0, 1] && items[2]["key_version"] == .integer(2))
        for refused in [
            #"{"batch_input":[]}"#, #"{"batch_input":[{"a":1},]}"#, #"{"batch_input":[1]}"#, #"{"batch_input":[{"a":[]}]}"#,
            #"{"batch_input":[{}],"key_version":1}"#, #"{"key_version":1,"batch_input":[{}]}"#, #"{"batch_input":{}}"#,
            #"{"batch_input":[{}]}x"#, #"{"batch_input":[{"a":1]}"#, #"{"batch_input":[{}]"#, #"{"batch":[{}]}"#,
        ] {
            #expect(batch(refused) == nil, "\(refused)")
        }
        #expect(batch(#"{"batch_input":[{},{},{}]}"#, maximum: 3)?.count == 3)
        #expect(batch(#"{"batch_input":[{},{},{},{}]}"#, maximum: 3) == nil, "over the most items: the general path refuses it")
    }

    /// Batches mutated at random: whenever the typed decoder takes one, JSONSerialization reads
    /// the same items with the same fields and values.
    @Test func batchesAgreeWithJSONSerialization() throws {
        let pieces = [#"{"plaintext":"aGk="}"#, "{}", #"{"key_version":1,"associated_data":null}"#, #"{"x":true}"#, "1", "[]", #""a""#]
        let glue = [" ", ",", "[", "]", "{", "}", #"\""#, ":", "", "0"]
        var generator = SplitMix64(seed: 7)
        var taken = 0
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 4)
            var text = #"{"batch_input":["# + (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined(separator: ",") + "]}"
            for _ in 0..<Int(generator.next() % 2) {
                var scalars = Array(text.unicodeScalars)
                let position = Int(generator.next() % UInt64(scalars.count + 1))
                if generator.next() % 2 == 0 {
                    scalars.insert(contentsOf: glue[Int(generator.next() % UInt64(glue.count))].unicodeScalars, at: position)
                } else if position < scalars.count {
                    scalars.remove(at: position)
                }
                text = String(String.UnicodeScalarView(scalars))
            }
            guard let typed = Array(text.utf8).withUnsafeBytes({ FlatJSONObject.batch($0, maximumItems: 100) }) else { continue }
            taken += 1
            let general = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            let items = general?["batch_input"] as? [[String: Any]]
            #expect(general?.count == 1 && items?.count == typed.count, "\(text)")
            for (item, other) in zip(typed, items ?? []) {
                #expect(Set(other.keys) == Set(item.fields.map(\.name)), "\(text)")
                for (name, value) in item.fields {
                    switch value {
                    case .string(let string): #expect(other[name] as? String == string, "\(text)")
                    case .integer(let number): #expect((other[name] as? NSNumber)?.int64Value == Int64(number), "\(text)")
                    case .boolean(let flag): #expect(other[name].map(RequestValues.isBoolean) == true && other[name] as? Bool == flag, "\(text)")
                    case .null: #expect(other[name] is NSNull, "\(text)")
                    }
                }
            }
        }
        #expect(taken > 2_000)
    }

    /// Bodies made from JSON pieces and mutated at random (a fixed seed): whenever the typed decoder
    /// takes one, `JSONSerialization` reads the same fields with the same values, and the audit
    /// writes each value as it writes the general decoder's.
    @Test func agreesWithJSONSerialization() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flat-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let audit = try AuditLog(path: directory.appendingPathComponent("audit.log").path, key: SymmetricKey(size: .bits256), synchronous: false)
        let names = ["\"plaintext\"", "\"key_version\"", "\"associated_data\"", "\"bits\"", "\"x\"", "\"\"", "\"a b\"", "\"token\""]
        let values = [
            "\"aGk=\"", "\"\"", "\"vault:v1:AAAA\"", "0", "1", "-7", "42", "999999999999999999", "1.5", "1e2", "true", "false", "null",
            "\"caf\u{e9}\"", "\"\\n\"", "{}", "[]", "-0", "00", "\"\\\"\"",
        ]
        let glue = [" ", "\n", "\t", "\r", ",", ":", "{", "}", "\"", "x", "", "-", "0", "\\"]
        var generator = SplitMix64(seed: 20_261_201)
        var taken = 0
        for _ in 0..<30_000 {
            var text = "{"
            for index in 0..<Int(generator.next() % 5) {
                if index > 0 { text += "," }
                text += names[Int(generator.next() % UInt64(names.count))] + ":" + values[Int(generator.next() % UInt64(values.count))]
            }
            text += "}"
            var bytes = Array(text.utf8)
            // Mutations: insertions of JSON pieces, deletions, byte changes.
            for _ in 0..<Int(generator.next() % 3) {
                let position = Int(generator.next() % UInt64(bytes.count + 1))
                switch generator.next() % 3 {
                case 0: bytes.insert(contentsOf: glue[Int(generator.next() % UInt64(glue.count))].utf8, at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = UInt8(truncatingIfNeeded: generator.next()) }
                }
            }
            let typed = bytes.withUnsafeBytes { FlatJSONObject($0) }
            let general = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            guard let typed else { continue }
            taken += 1
            let body = String(decoding: bytes, as: UTF8.self)
            guard let general else {
                Issue.record("typed decoding took a body JSONSerialization refuses: \(body)")
                continue
            }
            #expect(Set(general.keys) == Set(typed.fields.map(\.name)) && general.count == typed.fields.count, "\(body)")
            for (name, value) in typed.fields {
                guard let other = general[name] else { continue }
                switch value {
                case .string(let text): #expect(other as? String == text, "\(body)")
                case .integer(let number):
                    #expect(!RequestValues.isBoolean(other) && (other as? NSNumber)?.int64Value == Int64(number), "\(body)")
                    let kind = (other as? NSNumber).map { String(cString: $0.objCType) } ?? "?"
                    #expect(kind != "d" && kind != "f", "\(body): an integer, not a double")
                case .boolean(let flag): #expect(RequestValues.isBoolean(other) && other as? Bool == flag, "\(body)")
                case .null: #expect(other is NSNull, "\(body)")
                }
                var typedText: [UInt8] = []
                var generalText: [UInt8] = []
                audit.writeRedacted(value, key: name, into: &typedText)
                audit.writeRedacted(other, key: name, into: &generalText)
                #expect(typedText == generalText, "\(body): the audit writes \(name) alike")
            }
        }
        #expect(taken > 5_000, "the generator reaches the typed subset often")
    }
}
