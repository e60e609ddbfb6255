import Crypto
import Foundation
import Testing

@testable import Bulwark

/// Tink keysets against Python Tink (`Tests/Interop/tink_interop.py`): Tink's keysets and what
/// Tink made with them open and verify here, keysets written back and generated here (with what
/// Bulwark made, in Tink output mode) open and verify in Tink, encrypted keysets both ways.
@Suite("Tink keysets and Tink's formats, against Python Tink")
struct TinkKeysetTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/tink_interop.py").path

    /// Opens or verifies one output of `kind`.
    static func consume(_ kind: String, _ keyset: TinkKeyset, _ output: Data, plaintext: Data, ad: Data) throws {
        switch kind {
        case "aead": #expect(try keyset.decrypt(output, associatedData: ad) == plaintext)
        case "daead": #expect(try keyset.decryptDeterministically(output, associatedData: ad) == plaintext)
        case "mac": try keyset.verify(mac: output, for: plaintext)
        case "signature": try keyset.verify(signature: output, for: plaintext)
        default: #expect(try keyset.hybridDecrypt(output, contextInfo: ad) == plaintext)
        }
    }

    /// Makes one output of `kind` with the primary key.
    static func produce(_ kind: String, _ keyset: TinkKeyset, plaintext: Data, ad: Data) throws -> Data {
        switch kind {
        case "aead": try keyset.encrypt(plaintext, associatedData: ad)
        case "daead": try keyset.encryptDeterministically(plaintext, associatedData: ad)
        case "mac": try keyset.computeMAC(plaintext)
        case "signature": try keyset.sign(plaintext)
        default: try keyset.hybridEncrypt(plaintext, contextInfo: ad)
        }
    }

    static func kind(_ template: TinkKeyTemplate) -> String {
        switch template {
        case .aes128GCM, .aes256GCM: "aead"
        case .aes256SIV: "daead"
        case .hmacSHA256, .hmacSHA512: "mac"
        case .ed25519, .ecdsaP256: "signature"
        case .hpkeX25519AES256GCM, .hpkeXWingAES256GCM: "hybrid"
        }
    }

    @Test("Both ways with Python Tink: every key type, TINK, RAW and LEGACY prefixes, rotated keysets, encrypted keysets")
    func interoperates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = directory.appendingPathComponent("made.json").path
        _ = try runTool("python3", [Self.script, "make", made])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: made))) as? [String: Any])
        let plaintext = try #require(Data(base64Encoded: document["plaintext"] as? String ?? ""))
        let ad = try #require(Data(base64Encoded: document["ad"] as? String ?? ""))
        var answers: [[String: Any]] = []
        let cases = try #require(document["cases"] as? [[String: Any]])
        #expect(cases.count == 13)
        for entry in cases {
            let name = entry["name"] as? String ?? "", kind = entry["kind"] as? String ?? ""
            let keyset = try TinkKeyset(json: try JSONSerialization.data(withJSONObject: entry["keyset"] ?? [:]), access: .token)
            #expect(keyset.keyIDs.count == 2, "\(name)")
            // Tink's outputs, from the old key and from the new primary.
            for output in entry["outputs"] as? [String] ?? [] {
                try Self.consume(kind, keyset, try #require(Data(base64Encoded: output)), plaintext: plaintext, ad: ad)
            }
            // Bulwark's, with the same keyset written back, for Tink to check.
            let mine = try Self.produce(kind, keyset, plaintext: plaintext, ad: ad)
            if !name.hasSuffix("RAW") { #expect(mine.first == (name.hasSuffix("LEGACY") ? 0 : 1) && mine.dropFirst().prefix(4) == Data(withUnsafeBytes(of: keyset.primaryKeyID.bigEndian, Array.init)), "\(name)") }
            answers.append([
                "name": "tink-made " + name, "kind": kind, "outputs": [mine.base64EncodedString()],
                "keyset": try JSONSerialization.jsonObject(with: keyset.json(access: .token)),
            ])
            // Altered outputs are refused.
            var altered = mine
            altered[altered.count - 1] ^= 1
            #expect(throws: BulwarkError.self, "\(name)") { try Self.consume(kind, keyset, altered, plaintext: plaintext, ad: ad) }
        }
        // Keysets generated here, rotated, in Tink's hands.
        for template in TinkKeyTemplate.allCases {
            var keyset = try TinkKeyset.generate(template)
            let first = try Self.produce(Self.kind(template), keyset, plaintext: plaintext, ad: ad)
            try keyset.add(template, prefix: .raw, makePrimary: true)
            let second = try Self.produce(Self.kind(template), keyset, plaintext: plaintext, ad: ad)
            try Self.consume(Self.kind(template), keyset, first, plaintext: plaintext, ad: ad)
            answers.append([
                "name": "bulwark-made " + template.rawValue, "kind": Self.kind(template),
                "outputs": [first.base64EncodedString(), second.base64EncodedString()],
                "keyset": try JSONSerialization.jsonObject(with: keyset.json(access: .token)),
            ])
            // Signing keysets: the public keyset written here verifies in Tink.
            if Self.kind(template) == "signature" {
                answers.append([
                    "name": "bulwark-made public " + template.rawValue, "kind": "signature", "outputs": [second.base64EncodedString()],
                    "keyset": try JSONSerialization.jsonObject(with: keyset.publicKeyset().json(access: .token)),
                ])
            }
        }
        // Python's encrypted keyset opens here; one encrypted here opens in Python.
        let encrypted = try #require(document["encrypted"] as? [String: Any])
        let kek = try TinkKeyset(json: try JSONSerialization.data(withJSONObject: encrypted["kek"] ?? [:]), access: .token)
        let inner = try TinkKeyset(
            encryptedJSON: try JSONSerialization.data(withJSONObject: encrypted["encrypted"] ?? [:]), keyEncryptionKey: kek,
            associatedData: Data("keyset ad".utf8))
        try inner.verify(mac: try #require(Data(base64Encoded: encrypted["tag"] as? String ?? "")), for: plaintext)
        #expect(throws: BulwarkError(.authenticationFailed, "")) {
            try TinkKeyset(encryptedJSON: try JSONSerialization.data(withJSONObject: encrypted["encrypted"] ?? [:]), keyEncryptionKey: kek, associatedData: Data("other".utf8))
        }
        let myInner = try TinkKeyset.generate(.hmacSHA256)
        let mySealed = try myInner.encryptedJSON(keyEncryptionKey: kek, associatedData: Data("keyset ad".utf8))
        let innerJSON = try myInner.json(access: .token)
        #expect(!String(decoding: mySealed, as: UTF8.self).contains(String(decoding: innerJSON, as: UTF8.self)))
        let answer: [String: Any] = [
            "cases": answers,
            "encrypted": [
                "kek": try JSONSerialization.jsonObject(with: kek.json(access: .token)),
                "encrypted": try JSONSerialization.jsonObject(with: mySealed), "tag": try myInner.computeMAC(plaintext).base64EncodedString(),
            ],
        ]
        let answerPath = directory.appendingPathComponent("answer.json").path
        try JSONSerialization.data(withJSONObject: answer).write(to: URL(fileURLWithPath: answerPath))
        let checked = String(decoding: try runTool("python3", [Self.script, "check", answerPath]), as: UTF8.self)
        #expect(checked.contains("all tink checks passed"), "\(checked)")
        #expect(checked.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 13 + TinkKeyTemplate.allCases.count + 2 + 1)
    }

    @Test("Keysets: deterministic is deterministic, disabled keys are not used, unknown key types are carried over unread, malformed input is refused")
    func keysetRules() throws {
        let siv = try TinkKeyset.generate(.aes256SIV)
        #expect(try siv.encryptDeterministically(Data("x".utf8), associatedData: Data()) == siv.encryptDeterministically(Data("x".utf8), associatedData: Data()))
        // A disabled key opens nothing.
        var gcm = try TinkKeyset.generate(.aes256GCM)
        let old = try gcm.encrypt(Data("old".utf8), associatedData: Data())
        try gcm.add(.aes256GCM, makePrimary: true)
        gcm.keys[0].status = .disabled
        expectCode(.authenticationFailed) { try gcm.decrypt(old, associatedData: Data()) }
        // Another type (here AES-EAX) is kept as it is and never used.
        var json = try #require(try JSONSerialization.jsonObject(with: gcm.json(access: .token)) as? [String: Any])
        var keys = json["key"] as? [[String: Any]] ?? []
        keys.append([
            "keyData": ["typeUrl": "type.googleapis.com/google.crypto.tink.AesEaxKey", "value": "EgIIEBoQAAAAAAAAAAAAAAAAAAAAAA==", "keyMaterialType": "SYMMETRIC"],
            "status": "ENABLED", "keyId": 77, "outputPrefixType": "TINK",
        ])
        json["key"] = keys
        let mixed = try TinkKeyset(json: try JSONSerialization.data(withJSONObject: json), access: .token)
        #expect(mixed.keyIDs.last == 77)
        let mixedJSON = try mixed.json(access: .token)
        #expect(String(decoding: mixedJSON, as: UTF8.self).contains("AesEaxKey"))
        // A destroyed key as Tink writes it (no keyData) reads, and is never used.
        var withDestroyed = json
        withDestroyed["key"] = (json["key"] as? [[String: Any]] ?? []) + [["status": "DESTROYED", "keyId": 78, "outputPrefixType": "TINK"]]
        #expect(try TinkKeyset(json: try JSONSerialization.data(withJSONObject: withDestroyed), access: .token).keyIDs.last == 78)
        // As Tink: one enabled primary, one primitive per keyset.
        var twoPrimitives = try TinkKeyset.generate(.aes256GCM)
        expectCode(.invalidArgument) { try twoPrimitives.add(.hmacSHA256, makePrimary: false) }
        var disabledPrimary = json
        disabledPrimary["key"] = (json["key"] as? [[String: Any]] ?? []).map { key -> [String: Any] in
            var copy = key
            if (key["keyId"] as? Int) == Int(gcm.primaryKeyID) { copy["status"] = "DISABLED" }
            return copy
        }
        expectCode(.invalidFormat) { try TinkKeyset(json: try JSONSerialization.data(withJSONObject: disabledPrimary), access: .token) }
        var mixedPrimitives = try #require(try JSONSerialization.jsonObject(with: gcm.json(access: .token)) as? [String: Any])
        let macKeys = try #require(try JSONSerialization.jsonObject(with: TinkKeyset.generate(.hmacSHA256).json(access: .token)) as? [String: Any])
        mixedPrimitives["key"] = (mixedPrimitives["key"] as? [[String: Any]] ?? []) + (macKeys["key"] as? [[String: Any]] ?? [])
        expectCode(.invalidFormat) { try TinkKeyset(json: try JSONSerialization.data(withJSONObject: mixedPrimitives), access: .token) }
        // Keys must be whole: an Ed25519 key whose public half is another key, an HPKE X25519
        // key of small order, a singular field given twice.
        let other = Curve25519.Signing.PrivateKey()
        var ed = TinkProto.Writer()
        var edPublic = TinkProto.Writer()
        edPublic.bytes(2, other.publicKey.rawRepresentation)
        ed.bytes(2, Curve25519.Signing.PrivateKey().rawRepresentation)
        ed.bytes(3, edPublic.data)
        expectCode(.invalidFormat) { try TinkKey.material(typeURL: TinkKey.typePrefix + "Ed25519PrivateKey", value: ed.data) }
        var hpkeParams = TinkProto.Writer()
        hpkeParams.varint(1, 1)
        hpkeParams.varint(2, 1)
        hpkeParams.varint(3, 2)
        var hpkePublic = TinkProto.Writer()
        hpkePublic.bytes(2, hpkeParams.data)
        hpkePublic.bytes(3, Data(count: 32))
        expectCode(.invalidFormat) { try TinkKey.material(typeURL: TinkKey.typePrefix + "HpkePublicKey", value: hpkePublic.data) }
        expectCode(.invalidFormat) { try TinkProto.Message(parsing: Data([0x1A, 0x01, 0x00, 0x1A, 0x01, 0x00])) }
        #expect(try TinkProto.Message(parsing: Data([0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])).varint(1) == UInt64.max)
        expectCode(.invalidFormat) { try TinkProto.Message(parsing: Data([0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x02])) }
        // The primary must exist; key messages must parse; SHA-1 HMAC keys are refused.
        json["primaryKeyId"] = 5
        expectCode(.invalidFormat) { try TinkKeyset(json: try JSONSerialization.data(withJSONObject: json), access: .token) }
        expectCode(.invalidFormat) { try TinkKeyset(json: Data("{}".utf8), access: .token) }
        expectCode(.invalidFormat) { try TinkProto.Message(parsing: Data([0x0A, 0x05, 0x01])) }
        expectCode(.invalidFormat) { try TinkProto.Message(parsing: Data(repeating: 0xFF, count: 11)) }
        expectCode(.invalidFormat) { try TinkKey.material(typeURL: TinkKey.typePrefix + "HmacKey", value: Data([0x12, 0x04, 0x08, 0x01, 0x10, 0x14, 0x1A, 0x10] + [UInt8](repeating: 1, count: 16))) }
        // Operations of another kind than the primary's are refused by purpose.
        expectCode(.wrongPurpose) { try siv.encrypt(Data(), associatedData: Data()) }
        expectCode(.wrongPurpose) { try siv.sign(Data()) }
        // The public keyset verifies and encrypts, and holds no private key.
        let signer = try TinkKeyset.generate(.ecdsaP256)
        let verifier = try signer.publicKeyset()
        try verifier.verify(signature: try signer.sign(Data("m".utf8)), for: Data("m".utf8))
        expectCode(.wrongPurpose) { try verifier.sign(Data()) }
        let hpke = try TinkKeyset.generate(.hpkeXWingAES256GCM)
        let sealed = try hpke.publicKeyset().hybridEncrypt(Data("m".utf8), contextInfo: Data("c".utf8))
        #expect(try hpke.hybridDecrypt(sealed, contextInfo: Data("c".utf8)) == Data("m".utf8))
        expectCode(.authenticationFailed) { try hpke.hybridDecrypt(sealed, contextInfo: Data("d".utf8)) }
        expectCode(.authenticationFailed) { try hpke.publicKeyset().hybridDecrypt(sealed, contextInfo: Data("c".utf8)) }
    }
}
