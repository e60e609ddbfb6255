import Bulwark
import Foundation
import Testing

@testable import BulwarkServer

/// Typed requests: ``RequestDecoder`` applies Vault's rules for request fields (unknown fields
/// refused by name, `null` as absent, weak integers, durations) and never quotes a value in a
/// refusal; ``AnswerEncoder`` writes what Foundation's `JSONEncoder` writes.
@Suite struct RequestDecoderTests {
    /// A request with a batch of typed items and a nested object, for the nested rules.
    private struct Batch: EndpointRequest {
        struct Item: Decodable, Sendable {
            var plaintext: String
            var keyVersion: UInt32?

            enum CodingKeys: String, CodingKey, CaseIterable {
                case plaintext
                case keyVersion = "key_version"
            }
        }

        var batchInput: [Item]?
        var metadata: [String: String]?
        var ratio: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case metadata, ratio
            case batchInput = "batch_input"
        }
    }

    /// The message of the `BulwarkError` decoding `body` as `type` throws.
    private func refusal<R: EndpointRequest>(_ type: R.Type, _ body: [String: Any]) -> String? {
        do {
            _ = try RequestDecoder.decode(type, from: body)
            return nil
        } catch let error as BulwarkError {
            #expect(error.code == .invalidArgument)
            return error.message
        } catch {
            Issue.record("not a BulwarkError: \(error)")
            return nil
        }
    }

    /// Parses JSON text as the server does.
    private func body(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func decodesVaultValues() throws {
        let request = try RequestDecoder.decode(
            TransitBackend.KeyCreation.self,
            from: try self.body(#"{"type":"hmac","exportable":true,"auto_rotate_period":"1h30m","key_size":"32","derived":false}"#))
        #expect(request.type == "hmac" && request.exportable == true && request.derived == false)
        #expect(request.autoRotatePeriod == .seconds(5400))
        #expect(request.keySize == 32, "an integer may be a decimal string (Vault's weak decoding)")
        let numbers = try RequestDecoder.decode(
            TransitBackend.KeyConfiguration.self, from: try self.body(#"{"min_decryption_version":2.0,"auto_rotate_period":86400}"#))
        #expect(numbers.minDecryptionVersion == 2 && numbers.autoRotatePeriod == .seconds(86_400))
        #expect(try RequestDecoder.decode(TransitBackend.KeyConfiguration.self, from: ["auto_rotate_period": 0]).autoRotatePeriod == .zero)
    }

    @Test func nullIsAbsent() throws {
        let request = try RequestDecoder.decode(
            TransitBackend.KeyCreation.self, from: try self.body(#"{"type":null,"exportable":null,"auto_rotate_period":null}"#))
        #expect(request == TransitBackend.KeyCreation())
        #expect(self.refusal(TransitBackend.KeyTrim.self, try self.body(#"{"min_available_version":null}"#)) == "missing min_available_version")
        #expect(self.refusal(TransitBackend.KeyTrim.self, [:]) == "missing min_available_version")
    }

    @Test func unknownFieldsAreRefusedByName() throws {
        #expect(self.refusal(TransitBackend.KeyCreation.self, ["typ": "aes256-gcm96", "zzz": 1]) == #"unknown field "typ""#)
        #expect(self.refusal(NoFields.self, ["anything": true]) == #"unknown field "anything""#)
        #expect(throws: Never.self, "a path parameter repeated in the body is taken, as by Fields.check") {
            try RequestDecoder.decode(NoFields.self, from: ["name": "k"])
        }
        // In batch items too.
        let item = try self.body(#"{"batch_input":[{"plaintext":"aGk="},{"plaintext":"aGk=","nonce":"AAAA"}]}"#)
        #expect(self.refusal(Batch.self, item) == #"unknown field "nonce""#)
        // A batch item's own batch_input is passed over, whatever it holds (Vault ignores it).
        let nested = try RequestDecoder.decode(Batch.self, from: try self.body(#"{"batch_input":[{"plaintext":"aGk=","batch_input":"x"}]}"#))
        #expect(nested.batchInput?.count == 1)
        let encrypt = try RequestDecoder.decode(
            TransitBackend.EncryptRequest.self, from: try self.body(#"{"batch_input":[{"plaintext":"aGk=","batch_input":[{"zzz":1}]}]}"#))
        #expect(encrypt.batchInput?.first?.batchInput == nil)
        // A Transform ttl is read where it is used: a bad one decodes and fails its own item.
        let ttl = try RequestDecoder.decode(TransformRequest.self, from: try self.body(#"{"batch_input":[{"value":"1","ttl":"abc"},{"value":"2","ttl":"24h"}]}"#))
        #expect(throws: BulwarkError.self) { try ttl.batchInput?[0].ttl?.duration(field: "ttl") }
        #expect(try ttl.batchInput?[1].ttl?.duration(field: "ttl") == .seconds(86_400))
        // A dictionary's keys are data, not fields.
        let metadata = try RequestDecoder.decode(Batch.self, from: try self.body(#"{"metadata":{"any":"thing"}}"#))
        #expect(metadata.metadata == ["any": "thing"])
        let named = try RequestDecoder.decode(Batch.self, from: try self.body(#"{"metadata":{"batch_input":"kept"}}"#))
        #expect(named.metadata == ["batch_input": "kept"], "a data key named like a field is data")
    }

    @Test func wrongTypesAreRefusedByName() throws {
        let cases: [(String, String)] = [
            (#"{"exportable":"true"}"#, "exportable must be true or false"),
            (#"{"exportable":1}"#, "exportable must be true or false"),
            (#"{"type":7}"#, "type must be a string"),
            (#"{"type":{"k":"v"}}"#, "type must be a string"),
            (#"{"key_size":1.5}"#, "key_size must be an integer"),
            (#"{"key_size":true}"#, "key_size must be an integer"),
            (#"{"key_size":"0x20"}"#, "key_size must be an integer"),
            (#"{"key_size":99999999999999999999}"#, "key_size must be an integer"),
        ]
        for (text, message) in cases {
            #expect(self.refusal(TransitBackend.KeyCreation.self, try self.body(text)) == message, "\(text)")
        }
        #expect(self.refusal(TransitBackend.KeyConfiguration.self, ["min_decryption_version": -1]) == "min_decryption_version must be an integer from 0 to 4294967295")
        #expect(self.refusal(TransitBackend.KeyConfiguration.self, ["min_encryption_version": 1 << 32]) == "min_encryption_version must be an integer from 0 to 4294967295")
        #expect(self.refusal(TransitBackend.KeyCreation.self, ["auto_rotate_period": "999999999999999999d"])?.hasPrefix("auto_rotate_period must be a duration") == true)
        #expect(self.refusal(TransitBackend.KeyCreation.self, ["auto_rotate_period": "-5s"])?.hasPrefix("auto_rotate_period must be a duration") == true)
        #expect(self.refusal(Batch.self, try self.body(#"{"batch_input":{"plaintext":"aGk="}}"#)) == "batch_input must be a list")
        #expect(self.refusal(Batch.self, try self.body(#"{"batch_input":["x"]}"#)) == "batch_input[0] must be an object")
        #expect(self.refusal(Batch.self, try self.body(#"{"batch_input":[{"plaintext":"aGk=","key_version":"v1"}]}"#)) == "key_version must be an integer from 0 to 4294967295")
        #expect(self.refusal(Batch.self, try self.body(#"{"batch_input":[{}]}"#)) == "missing plaintext")
        #expect(self.refusal(TokenCreation.self, try self.body(#"{"policies":["a",7]}"#)) == "policies[1] must be a string")
        #expect(self.refusal(TokenCreation.self, try self.body(#"{"meta":{"a":1}}"#)) == "a must be a string")
        #expect(self.refusal(Batch.self, try self.body(#"{"ratio":"0.5"}"#)) == "ratio must be a number")
        #expect(try RequestDecoder.decode(Batch.self, from: try self.body(#"{"ratio":0.5}"#)).ratio == 0.5)
    }

    @Test func refusalsNeverQuoteValues() throws {
        let secret = "4111111111111111-never-echoed"
        let bodies: [[String: Any]] = [
            ["type": ["nested": secret]], ["exportable": secret], ["key_size": secret], ["auto_rotate_period": secret],
            [secret: "an unknown field named by a secret is named, the value is not"],
        ]
        for body in bodies {
            let message = self.refusal(TransitBackend.KeyCreation.self, body) ?? ""
            #expect(!message.isEmpty && (body.keys.first == secret || !message.contains(secret)), "\(message)")
            #expect(!message.contains("an unknown field named"))
        }
    }

    /// An answer with every shape the encoder handles.
    private struct Answer: Encodable {
        struct Item: Encodable {
            let ciphertext: String
            let keyVersion: UInt32
            let error: String?

            enum CodingKeys: String, CodingKey {
                case ciphertext, error
                case keyVersion = "key_version"
            }
        }

        let name: String
        let flag: Bool
        let count: Int
        let ratio: Double
        let big: UInt64
        let items: [Item]
        let versions: [String: Int]
        let nested: [[String]]
        let absent: String?
    }

    @Test func answersAreWhatJSONEncoderWrites() throws {
        let answer = Answer(
            name: "k\u{0}\"é", flag: true, count: -3, ratio: 0.25, big: UInt64(Int64.max) + 1,
            items: [.init(ciphertext: "vault:v1:AAAA", keyVersion: 4_000_000_000, error: nil), .init(ciphertext: "", keyVersion: 1, error: "bad")],
            versions: ["1": 1_700_000_000, "2": 1_700_000_001], nested: [[], ["a", "b"]], absent: nil)
        var written: [UInt8] = []
        JSONText.write(try AnswerEncoder.encode(answer), into: &written)
        let ours = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        let foundation = try JSONSerialization.jsonObject(with: JSONEncoder().encode(answer)) as? NSDictionary
        #expect(ours != nil && ours == foundation, "\(String(decoding: written, as: UTF8.self))")
        #expect(!String(decoding: written, as: UTF8.self).contains("absent"), "a nil optional is left out")
    }

    @Test func keyDescriptionIsVaultsShape() throws {
        let description = TransitBackend.KeyDescription(
            name: "k", type: "aes256-gcm96", keys: ["1": 1_700_000_000], latestVersion: 1, minDecryptionVersion: 1, minEncryptionVersion: 0,
            deletionAllowed: false, exportable: false, supportsEncryption: true, supportsDecryption: true, supportsDerivation: false,
            supportsSigning: false, derived: false, autoRotatePeriod: .seconds(86_400))
        let object = try AnswerEncoder.encode(description)
        #expect(object["auto_rotate_period"] as? Int == 86_400, "a duration is whole seconds, as Vault writes it")
        #expect(object["latest_version"] as? Int == 1 && object["deletion_allowed"] as? Bool == false)
        #expect((object["keys"] as? [String: Any])?["1"] as? Int == 1_700_000_000)
        // A version with a public half is Vault's object (`bulwark_public_key` only for hpke keys).
        let entry = TransitBackend.KeyVersionEntry.publicKey(.init(
            creationTime: "2026-12-01T00:00:00.000Z", name: "ed25519", publicKey: "AAAA", certificateChain: "", bulwarkPublicKey: nil))
        let signing = try AnswerEncoder.encode(TransitBackend.KeyDescription(
            name: "s", type: "ed25519", keys: ["1": entry], latestVersion: 1, minDecryptionVersion: 1, minEncryptionVersion: 0,
            deletionAllowed: false, exportable: false, supportsEncryption: false, supportsDecryption: false, supportsDerivation: false,
            supportsSigning: true, derived: false, autoRotatePeriod: .zero))
        let version = (signing["keys"] as? [String: Any])?["1"] as? [String: Any]
        #expect(Set(version?.keys.map { $0 } ?? []) == ["creation_time", "name", "public_key", "certificate_chain"])
        #expect(Set(object.keys) == [
            "name", "type", "keys", "latest_version", "min_decryption_version", "min_encryption_version", "deletion_allowed", "exportable",
            "supports_encryption", "supports_decryption", "supports_derivation", "supports_signing", "derived", "auto_rotate_period",
            "soft_deleted",
        ])
    }

    @Test func typedEndpointsTakeTheirFieldsFromTheirRequestTypes() {
        let table = Endpoints()
        let write = table.endpoints.first { $0.path == "transit/keys/:name" && $0.operation == .write }
        #expect(write?.fields == TransitBackend.KeyCreation.fields)
        #expect(TransitBackend.KeyCreation.fields == [
            "type", "exportable", "auto_rotate_period", "allow_plaintext_backup", "derived", "convergent_encryption", "key_size",
        ])
        let config = table.endpoints.first { $0.path == "transit/keys/:name/config" }
        #expect(config?.fields == TransitBackend.KeyConfiguration.fields)
        #expect(table.endpoints.first { $0.path == "transit/keys/:name/rotate" }?.fields == [])
    }

    @Test func rawJSONKeepsMetadataAsGiven() throws {
        let request = try RequestDecoder.decode(
            TransformRequest.self, from: try self.body(#"{"batch_input":[{"value":"v","metadata":{"b":[1,true,null],"a":"x"}},{"value":"w","metadata":"text"}]}"#))
        let items = try #require(request.batchInput)
        let object = try #require(items[0].metadata?.value as? [String: Any])
        #expect(object["a"] as? String == "x" && (object["b"] as? [Any])?.count == 3)
        #expect(items[1].metadata?.value as? String == "text")
        #expect(self.refusal(TransformRequest.self, ["metadata": 5]) == "metadata must be a string or an object")
        #expect(self.refusal(TransformRequest.self, ["metadata": [1]]) == "metadata must be a string or an object")
        // Written back as JSON, not as a string of JSON.
        let answer = TransformResult(token: .init(value: "tok", expirationTime: nil, metadata: items[0].metadata))
        let encoded = try AnswerEncoder.encode(answer)
        #expect((encoded["metadata"] as? [String: Any])?["a"] as? String == "x")
        #expect(encoded["expiration_time"] is NSNull, "a token with no expiry says so with null, as Vault does")
        let bare = try AnswerEncoder.encode(TransformResult(token: .init(value: "tok", expirationTime: nil, metadata: nil)))
        #expect(bare["metadata"] is NSNull && bare.count == 3)
    }

    @Test func tokenAnswersWriteVaultsNulls() throws {
        let renewal = try AnswerEncoder.encode(AuthAnswer(auth: TokenAuth(
            clientToken: nil, accessor: "acc", policies: ["p"], leaseDuration: 60, renewable: true, metadata: [:], orphan: nil, numUses: nil)))
        let auth = try #require(renewal["__auth"] as? [String: Any])
        #expect(auth["client_token"] is NSNull && auth["orphan"] == nil && auth["token_policies"] as? [String] == ["p"])
        let root = try AnswerEncoder.encode(TokenDescription(
            policies: ["root"], displayName: "root", ttl: 0, expireTime: nil, accessor: "", orphan: true, numUses: 0, renewable: false,
            path: "auth/token/root", id: nil, writesID: true, details: nil))
        #expect(root["id"] is NSNull && root["expire_time"] is NSNull && root["creation_time"] == nil)
    }

    @Test func batchedAnswersCarryPerItemErrors() throws {
        let answer = TransitBackend.Batched<TransitBackend.Plaintext>.batch([.success(.init(plaintext: "aGk=")), .failure("cipher: message authentication failed")])
        let object = try AnswerEncoder.encode(answer)
        let results = try #require(object["batch_results"] as? [[String: Any]])
        #expect(results.count == 2 && results[0]["plaintext"] as? String == "aGk=" && results[1]["error"] as? String == "cipher: message authentication failed")
        #expect(try AnswerEncoder.encode(TransitBackend.Batched.single(TransitBackend.Plaintext(plaintext: "aGk=")))["plaintext"] as? String == "aGk=")
    }

    /// An answer whose encoding opens containers by hand: nested objects and lists, a single
    /// value in a list, a field written twice and a super encoder.
    private struct HandWritten: Encodable {
        enum Keys: String, CodingKey { case outer, list, twice, `super`, after }
        enum Inner: String, CodingKey { case a, b }

        func encode(to encoder: any Encoder) throws {
            var top = encoder.container(keyedBy: Keys.self)
            var outer = top.nestedContainer(keyedBy: Inner.self, forKey: .outer)
            try outer.encode(1, forKey: .a)
            var list = top.nestedUnkeyedContainer(forKey: .list)
            try list.encode("first")
            var inner = list.nestedContainer(keyedBy: Inner.self)
            try inner.encode(true, forKey: .b)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode(2.5)
            try list.encodeNil()
            try outer.encode("late", forKey: .b)
            try top.encode("one", forKey: .twice)
            try top.encode("two", forKey: .twice)
            var single = top.superEncoder().singleValueContainer()
            try single.encode(7)
            try top.encode(UInt8(9), forKey: .after)
        }
    }

    @Test func handWrittenContainersAreWhatJSONEncoderWrites() throws {
        var written: [UInt8] = []
        JSONText.write(try AnswerEncoder.encode(HandWritten()), into: &written)
        let ours = try JSONSerialization.jsonObject(with: Data(written)) as? NSDictionary
        let foundation = try JSONSerialization.jsonObject(with: JSONEncoder().encode(HandWritten())) as? NSDictionary
        #expect(ours != nil && ours == foundation, "\(String(decoding: written, as: UTF8.self))")
    }

    /// A request with lists in lists, for item names in messages.
    private struct Grid: EndpointRequest {
        var grid: [[String]]?
        var batchInput: [Batch.Item]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case grid
            case batchInput = "batch_input"
        }
    }

    @Test func messagesNameItemsAtEveryDepth() throws {
        #expect(self.refusal(Grid.self, try self.body(#"{"grid":[["a"],["b",3]]}"#)) == "grid[1][1] must be a string")
        #expect(self.refusal(Grid.self, try self.body(#"{"grid":[["a"],"b"]}"#)) == "grid[1] must be a list")
        #expect(self.refusal(Grid.self, try self.body(#"{"grid":[["a",null]]}"#)) == "missing grid[0][1]")
        #expect(self.refusal(Grid.self, try self.body(#"{"batch_input":[{"plaintext":"aGk="},{"plaintext":[1]}]}"#)) == "plaintext must be a string")
        #expect(try RequestDecoder.decode(Grid.self, from: try self.body(#"{"grid":[[],["x","y"]]}"#)).grid == [[], ["x", "y"]])
    }

    /// Writes under one key in turn: a nested object then a string, a nested list then null.
    private struct Overwritten: Encodable {
        enum Keys: String, CodingKey { case k, l }

        func encode(to encoder: any Encoder) throws {
            var top = encoder.container(keyedBy: Keys.self)
            var nested = top.nestedContainer(keyedBy: Keys.self, forKey: .k)
            try nested.encode(1, forKey: .k)
            try top.encode("later", forKey: .k)
            var list = top.nestedUnkeyedContainer(forKey: .l)
            try list.encode(1)
            try top.encodeNil(forKey: .l)
            let float: Float = 0.5
            var single = top.superEncoder().singleValueContainer()
            try single.encode(float)
        }
    }

    /// Switches one encoder from a list to an object and back.
    private struct Switching: Encodable {
        enum Keys: String, CodingKey { case k }

        func encode(to encoder: any Encoder) throws {
            var list = encoder.unkeyedContainer()
            _ = list.nestedUnkeyedContainer()
            var object = encoder.container(keyedBy: Keys.self)
            _ = object.nestedUnkeyedContainer(forKey: .k)
            var again = encoder.unkeyedContainer()
            try again.encode("last")
        }
    }

    @Test func theLastWriteToAKeyWins() throws {
        let ours = try AnswerEncoder.encode(Overwritten())
        let foundation = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Overwritten())) as? [String: Any]
        #expect(ours["k"] as? String == "later" && ours["l"] is NSNull && ours["super"] as? Double == 0.5)
        #expect(foundation?["k"] as? String == "later" && foundation?["l"] is NSNull && foundation?["super"] as? Double == 0.5)
        let wrapped = try AnswerEncoder.encode(["x": Switching()])
        #expect(wrapped["x"] as? [String] == ["last"], "an encoder switching containers keeps the last, and does not trap")
    }
}
