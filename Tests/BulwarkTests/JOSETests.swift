import Crypto
import Foundation
import Testing

@testable import Bulwark

/// JWS, JWE and JWK against two independent Python libraries (jwcrypto and joserfc, through
/// `Tests/Interop/jose_interop.py`), both ways, and as an attacker would send them.
@Suite("JOSE: JWS, JWE and JWK against jwcrypto and joserfc")
struct JOSETests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/jose_interop.py").path
    static let payload = Data("card 4111 1111 1111 1111 ✓".utf8)
    static let signing: [(JWS.Algorithm, String)] = [(.es256, "p256"), (.edDSA, "ed25519"), (.ps256, "rsa"), (.rs256, "rsa"), (.hs256, "oct")]
    static let encryption: [(JWE.KeyAlgorithm, String)] = [
        (.direct, "dir"), (.a256KW, "oct"), (.a256GCMKW, "oct"), (.ecdhES, "p256"), (.ecdhESA256KW, "x25519"), (.rsaOAEP256, "rsa"),
        (.pbes2HS512A256KW, "password"),
    ]

    @Test("Both ways: tokens of every algorithm made by jwcrypto and joserfc verify and decrypt here; ours verify and decrypt in both")
    func interoperates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jose-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let made = directory.appendingPathComponent("made.json").path
        _ = try runTool("python3", ["-W", "ignore", Self.script, "make", made])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: made))) as? [String: Any])
        let theirKeys = try #require(document["keys"] as? [String: [String: Any]])
        let keyset = JWKSet(keys: try theirKeys.values.map { try JWK(json: try JSONSerialization.data(withJSONObject: $0)) })
        #expect(keyset.keys.count == 7)
        var checked = 0
        for token in try #require(document["tokens"] as? [[String: Any]]) {
            let text = try #require(token["token"] as? String)
            switch token["kind"] as? String {
            case "jws":
                let (payload, _) = try JWS.verify(text, keys: keyset, accepting: Set(JWS.Algorithm.allCases))
                #expect(payload == Self.payload)
            case "jwe":
                let (plaintext, _) = try JWE.decrypt(text, keys: keyset, accepting: Set(JWE.KeyAlgorithm.allCases), acceptingContent: Set(JWE.ContentAlgorithm.allCases))
                #expect(plaintext == Self.payload, "\(token["alg"] ?? "") \(token["enc"] ?? "")")
            default:
                let (plaintext, aad) = try JWE.decryptJSON(Data(text.utf8), keys: keyset, accepting: Set(JWE.KeyAlgorithm.allCases), acceptingContent: Set(JWE.ContentAlgorithm.allCases))
                #expect(plaintext == Self.payload && aad == Data("order=42".utf8))
            }
            checked += 1
        }
        #expect(checked == 39)

        // Ours: keys made here, every algorithm, compact and general JSON.
        let keys: [String: JWK] = [
            "p256": JWK.generateP256(keyID: "p256"), "ed25519": JWK.generateEd25519(keyID: "ed25519"), "x25519": JWK.generateX25519(keyID: "x25519"),
            "rsa": try JWK.generateRSA(bits: 2048, keyID: "rsa"), "oct": try JWK.generateSymmetric(keyID: "oct"), "dir": try JWK.generateSymmetric(keyID: "dir"),
            "password": JWK(.symmetric(SymmetricKey(data: Data("correct horse battery staple".utf8))), keyID: "password"),
        ]
        var tokens: [[String: Any]] = []
        for (algorithm, name) in Self.signing {
            tokens.append(["kind": "jws", "name": "JWS \(algorithm.rawValue)", "alg": algorithm.rawValue, "token": try JWS.sign(Self.payload, key: try #require(keys[name]), algorithm: algorithm)])
        }
        for (algorithm, name) in Self.encryption {
            for content in JWE.ContentAlgorithm.allCases {
                let key = try #require(keys[name])
                let recipientKey = key.isSecret && name != "oct" && name != "dir" && name != "password" ? key.publicKey : key
                let token = try JWE.encrypt(Self.payload, to: .init(key: recipientKey, algorithm: algorithm), content: content)
                // And back here, with the private key.
                #expect(try JWE.decrypt(token, keys: JWKSet(keys: [key]), accepting: [algorithm], acceptingContent: [content]).plaintext == Self.payload)
                tokens.append(["kind": "jwe", "name": "JWE \(algorithm.rawValue) \(content.rawValue)", "token": token])
            }
        }
        let general = try JWE.encryptJSON(
            Self.payload, to: [.init(key: try #require(keys["oct"]), algorithm: .a256KW), .init(key: try #require(keys["rsa"]).publicKey, algorithm: .rsaOAEP256)],
            content: .a128CBCHS256, aad: Data("order=42".utf8))
        tokens.append(["kind": "jwe-json", "name": "JWE general JSON (A256KW + RSA-OAEP-256, aad)", "token": String(decoding: general, as: UTF8.self)])
        let ours: [String: Any] = [
            "keys": try keys.values.map { try JSONSerialization.jsonObject(with: $0.json(access: .token)) },
            "tokens": tokens,
        ]
        let answer = directory.appendingPathComponent("answer.json").path
        try JSONSerialization.data(withJSONObject: ours).write(to: URL(fileURLWithPath: answer))
        let output = String(decoding: try runTool("python3", ["-W", "ignore", Self.script, "check", answer]), as: UTF8.self)
        #expect(output.contains("all jose checks passed"), "\(output)")
        #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 2 * (5 + 14) + 1)
    }

    @Test("Refused: alg none, algorithms not accepted, HS256 with a public key (confusion), crit, zip, tampering, PBES2 counts out of range, an epk off the curve")
    func attacks() throws {
        let rsa = try JWK.generateRSA(bits: 2048, keyID: "rsa")
        let publicSet = JWKSet(keys: [rsa.publicKey])
        let token = try JWS.sign(Self.payload, key: rsa, algorithm: .rs256)
        #expect(try JWS.verify(token, keys: publicSet, accepting: [.rs256]).payload == Self.payload)
        expectCode(.authenticationFailed) { try JWS.verify(token, keys: publicSet, accepting: [.ps256]) }
        // alg none, and HS256 "signed" with the public key's JSON as the HMAC secret.
        func forge(_ header: String, _ signature: Data) -> String {
            Base64URL.encode(Data(header.utf8)) + "." + Base64URL.encode(Self.payload) + "." + Base64URL.encode(signature)
        }
        expectCode(.authenticationFailed) { try JWS.verify(forge(#"{"alg":"none","kid":"rsa"}"#, Data()), keys: publicSet, accepting: Set(JWS.Algorithm.allCases)) }
        let confusion = forge(#"{"alg":"HS256","kid":"rsa"}"#, Data())
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(confusion.split(separator: ".").prefix(2).joined(separator: ".").utf8), using: SymmetricKey(data: try rsa.publicJSON())))
        let confused = confusion.split(separator: ".").prefix(2).joined(separator: ".") + "." + Base64URL.encode(mac)
        expectCode(.authenticationFailed) { try JWS.verify(confused, keys: publicSet, accepting: Set(JWS.Algorithm.allCases)) }
        // A validly signed token with a crit member: refused for the crit alone.
        let critical = Base64URL.encode(Data(#"{"alg":"RS256","kid":"rsa","crit":["exp"],"exp":1}"#.utf8)) + "." + Base64URL.encode(Self.payload)
        let criticalToken = critical + "." + Base64URL.encode(try JWS.signature(Data(critical.utf8), key: rsa, algorithm: .rs256))
        expectCode(.authenticationFailed) { try JWS.verify(criticalToken, keys: publicSet, accepting: [.rs256]) }
        // Header members the library owns cannot be set by the caller.
        expectCode(.invalidArgument) { try JWS.sign(Self.payload, key: rsa, algorithm: .rs256, header: ["crit": "x"]) }
        // A key's use and alg bind it.
        let encOnly = try JWK(json: Data(String(decoding: try rsa.json(access: .token), as: UTF8.self).replacingOccurrences(of: "{", with: #"{"use":"enc","#).utf8))
        expectCode(.wrongPurpose) { try JWS.sign(Self.payload, key: encOnly, algorithm: .rs256) }
        expectCode(.authenticationFailed) { try JWS.verify(token, keys: JWKSet(keys: [encOnly.publicKey]), accepting: [.rs256]) }
        // HS256 keys under 32 bytes verify nothing.
        let short = JWK(.symmetric(SymmetricKey(data: Data(repeating: 7, count: 16))), keyID: "short")
        let shortInput = Base64URL.encode(Data(#"{"alg":"HS256","kid":"short"}"#.utf8)) + "." + Base64URL.encode(Self.payload)
        let shortToken = shortInput + "." + Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(shortInput.utf8), using: SymmetricKey(data: Data(repeating: 7, count: 16)))))
        expectCode(.authenticationFailed) { try JWS.verify(shortToken, keys: JWKSet(keys: [short]), accepting: [.hs256]) }
        var altered = Array(token.utf8)
        altered[altered.count - 5] = altered[altered.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        expectCode(.authenticationFailed) { try JWS.verify(String(decoding: altered, as: UTF8.self), keys: publicSet, accepting: [.rs256]) }
        expectCode(.invalidFormat) { try JWS.verify(token + "=", keys: publicSet, accepting: [.rs256]) }

        // JWE: tampering in each part, zip, a refused alg, PBES2's count, a foreign epk.
        let oct = try JWK.generateSymmetric(keyID: "oct")
        let octSet = JWKSet(keys: [oct])
        let all = Set(JWE.ContentAlgorithm.allCases)
        for content in JWE.ContentAlgorithm.allCases {
            let sealed = try JWE.encrypt(Self.payload, to: .init(key: oct, algorithm: .a256KW), content: content)
            let parts = sealed.split(separator: ".").map(String.init)
            for index in 1..<5 {
                var bytes = Base64URL.decode(parts[index]) ?? Data()
                bytes[bytes.count / 2] ^= 1
                var forged = parts
                forged[index] = Base64URL.encode(bytes)
                expectCode(.authenticationFailed) { try JWE.decrypt(forged.joined(separator: "."), keys: octSet, accepting: [.a256KW], acceptingContent: all) }
            }
            expectCode(.authenticationFailed) { try JWE.decrypt(sealed, keys: octSet, accepting: [.a256GCMKW], acceptingContent: all) }
        }
        expectCode(.invalidArgument) { try JWE.encrypt(Self.payload, to: .init(key: oct, algorithm: .a256KW), content: .a256GCM, header: ["zip": "DEF"]) }
        // A token that says zip (built by hand, validly encrypted): refused.
        let zipHeader = Base64URL.encode(Data(#"{"alg":"A256KW","enc":"A256GCM","kid":"oct","zip":"DEF"}"#.utf8))
        let cek = SymmetricKey(size: .bits256)
        let (zipIV, zipCiphertext, zipTag) = try JWE.seal(Self.payload, cek: cek, content: .a256GCM, aad: Data(zipHeader.utf8))
        let octSecret = try #require({ if case .symmetric(let key) = oct.key { return key } else { return nil } }())
        let zipped = [zipHeader, Base64URL.encode(try JWE.keyWrap(cek, with: octSecret)), Base64URL.encode(zipIV), Base64URL.encode(zipCiphertext), Base64URL.encode(zipTag)].joined(separator: ".")
        expectCode(.authenticationFailed) { try JWE.decrypt(zipped, keys: octSet, accepting: [.a256KW], acceptingContent: all) }
        let password = JWK(.symmetric(SymmetricKey(data: Data("hunter2hunter2hunter2".utf8))), keyID: "pw")
        let pbes2 = try JWE.encrypt(Self.payload, to: .init(key: password, algorithm: .pbes2HS512A256KW), content: .a256GCM)
        var header = try #require(try JSONSerialization.jsonObject(with: Base64URL.decode(pbes2.split(separator: ".")[0]) ?? Data()) as? [String: Any])
        header["p2c"] = 100_000_000
        // Straight to the key unwrap (a header edit would also break the AAD): the count is refused before any derivation.
        let wrappedKey = try #require(Base64URL.decode(pbes2.split(separator: ".")[1]))
        expectCode(.authenticationFailed) { try JWE.unwrap(header: header, encryptedKey: wrappedKey, key: password, algorithm: .pbes2HS512A256KW, content: .a256GCM) }
        header["p2c"] = JWE.pbes2Iterations
        #expect(try JWE.unwrap(header: header, encryptedKey: wrappedKey, key: password, algorithm: .pbes2HS512A256KW, content: .a256GCM).bitCount == 256)
        // A password key's kid is random, never a hash of the password.
        let anonymous = try JWK(json: Data(#"{"kty":"oct","k":"\#(Base64URL.encode(Data("hunter2hunter2hunter2".utf8)))"}"#.utf8))
        #expect(anonymous.keyID != JWK.thumbprint(JWK.publicMembers(anonymous.key)))
        expectCode(.wrongPurpose) { try anonymous.publicJSON() }
        let published = try JWKSet(keys: [anonymous, rsa]).publicJSON()
        #expect(!String(decoding: published, as: UTF8.self).contains(#""k""#))
        let p256 = JWK.generateP256(keyID: "p256")
        let agreed = try JWE.encrypt(Self.payload, to: .init(key: p256.publicKey, algorithm: .ecdhESA256KW), content: .a256GCM)
        let agreedHeader = try #require(try JSONSerialization.jsonObject(with: Base64URL.decode(agreed.split(separator: ".")[0]) ?? Data()) as? [String: Any])
        #expect(agreedHeader["epk"] != nil)
        // Straight to the agreement: an epk of the other curve (a valid X25519 point), a P-256
        // point off the curve, a private or RSA epk: all refused.
        let otherCurve = try JSONSerialization.jsonObject(with: try JWK.generateX25519().publicJSON()) as? [String: Any] ?? [:]
        var offCurve = try JSONSerialization.jsonObject(with: try JWK.generateP256().publicJSON()) as? [String: Any] ?? [:]
        offCurve["y"] = Base64URL.encode(Data(repeating: 1, count: 32))
        let withPrivate = try JSONSerialization.jsonObject(with: try JWK.generateP256().json(access: .token)) as? [String: Any] ?? [:]
        let rsaEPK = try JSONSerialization.jsonObject(with: try rsa.json(access: .token)) as? [String: Any] ?? [:]
        for epk in [otherCurve, offCurve, withPrivate, rsaEPK] {
            var clean = epk
            clean["kid"] = nil
            expectCode(.authenticationFailed) { try JWE.agree(privateKey: p256, epk: clean) }
        }
        // A P-256 JWK with short coordinates is refused.
        var shortX = try JSONSerialization.jsonObject(with: try p256.publicJSON()) as? [String: Any] ?? [:]
        shortX["x"] = Base64URL.encode(Data(repeating: 1, count: 31))
        expectCode(.invalidFormat) { try JWK(json: try JSONSerialization.data(withJSONObject: shortX)) }
        // JSON serialization: enc outside the protected header, too many recipients.
        let general = try #require(try JSONSerialization.jsonObject(with: try JWE.encryptJSON(Self.payload, to: [.init(key: oct, algorithm: .a256KW)], content: .a256GCM)) as? [String: Any])
        var unprotectedEnc = general
        unprotectedEnc["protected"] = nil
        unprotectedEnc["unprotected"] = ["enc": "A256GCM"]
        expectCode(.invalidFormat) { try JWE.decryptJSON(try JSONSerialization.data(withJSONObject: unprotectedEnc), keys: octSet, accepting: [.a256KW], acceptingContent: all) }
        var crowded = general
        crowded["recipients"] = Array(repeating: (general["recipients"] as? [[String: Any]] ?? [])[0], count: 17)
        expectCode(.invalidFormat) { try JWE.decryptJSON(try JSONSerialization.data(withJSONObject: crowded), keys: octSet, accepting: [.a256KW], acceptingContent: all) }
        #expect(try JWE.decryptJSON(try JSONSerialization.data(withJSONObject: general), keys: octSet, accepting: [.a256KW], acceptingContent: all).plaintext == Self.payload)
        // JWKs: a public key is not secret, private parts are checked against public ones.
        let reread = try JWK(json: try rsa.publicJSON())
        #expect(!rsa.publicKey.isSecret && reread.keyID == "rsa")
        var mismatched = try #require(try JSONSerialization.jsonObject(with: p256.json(access: .token)) as? [String: Any])
        mismatched["d"] = Base64URL.encode(P256.Signing.PrivateKey().rawRepresentation)
        expectCode(.invalidFormat) { try JWK(json: try JSONSerialization.data(withJSONObject: mismatched)) }
        #expect(!String(decoding: try p256.publicJSON(), as: UTF8.self).contains("\"d\""))
    }

    @Test("RFC 7520's examples: 4.1 (RS256) and 4.4 (HS256) verify, 5.3 (PBES2-HS512+A256KW, A128CBC-HS256) decrypts in all three serializations")
    func rfc7520() throws {
        let file = try #require(try JSONSerialization.jsonObject(with: try vectorData("rfc7520_jose.json")) as? [String: Any])
        let payload = Data((file["payload_4"] as? String ?? "").utf8)
        let rsa = try JWK(json: try JSONSerialization.data(withJSONObject: file["rsa_private_key_3_4"] ?? [:]))
        let mac = try JWK(json: try JSONSerialization.data(withJSONObject: file["symmetric_key_3_5"] ?? [:]))
        let keys = JWKSet(keys: [rsa.publicKey, mac])
        #expect(try JWS.verify(file["jws_compact_4_1"] as? String ?? "", keys: keys, accepting: [.rs256]).payload == payload)
        #expect(try JWS.verify(file["jws_compact_4_4"] as? String ?? "", keys: keys, accepting: [.hs256]).payload == payload)
        expectCode(.authenticationFailed) { try JWS.verify(file["jws_compact_4_4"] as? String ?? "", keys: keys, accepting: [.rs256]) }
        // RS256 is deterministic: signing the same input with the same key gives the RFC's token.
        #expect(try JWS.signature(Data((file["jws_compact_4_1"] as? String ?? "").split(separator: ".").prefix(2).joined(separator: ".").utf8), key: rsa, algorithm: .rs256)
            == Base64URL.decode((file["jws_compact_4_1"] as? String ?? "").split(separator: ".")[2]))
        let password = JWK(.symmetric(SymmetricKey(data: try #require(Data(base64Encoded: file["password_5_3"] as? String ?? "")))))
        let expected = Data((file["payload_5_3"] as? String ?? "").utf8)
        let passwordSet = JWKSet(keys: [password])
        #expect(try JWE.decrypt(file["jwe_compact_5_3"] as? String ?? "", keys: passwordSet, accepting: [.pbes2HS512A256KW], acceptingContent: [.a128CBCHS256]).plaintext == expected)
        for name in ["jwe_general_5_3", "jwe_flattened_5_3"] {
            let json = try JSONSerialization.data(withJSONObject: file[name] ?? [:])
            #expect(try JWE.decryptJSON(json, keys: passwordSet, accepting: [.pbes2HS512A256KW], acceptingContent: [.a128CBCHS256]).plaintext == expected, "\(name)")
        }
    }

    @Test("Protected headers are canonical JSON that any parser reads back exactly (escapes, non-ASCII, nesting)")
    func headerJSON() throws {
        let members: [String: Any] = [
            "typ": "a\"b\\c\n\u{01}é✓", "p2c": 210_000, "epk": ["kty": "EC", "x": "AQ"], "crit": ["exp"], "B": "upper first",
        ]
        let data = try JOSE.headerJSON(members)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix(#"{"B":"upper first","crit":["exp"],"epk":{"kty":"EC","x":"AQ"},"p2c":210000,"typ":"#))
        let back = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(back["typ"] as? String == "a\"b\\c\n\u{01}é✓" && back["p2c"] as? Int == 210_000)
        #expect((back["epk"] as? [String: String]) == ["kty": "EC", "x": "AQ"] && (back["crit"] as? [String]) == ["exp"])
    }

    @Test("RFC 7638's thumbprint example")
    func thumbprint() throws {
        // RFC 7638 §3.1: the RSA key and its SHA-256 thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        let key = try JWK(json: Data(#"{"kty":"RSA","n":"\#(n)","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#.utf8))
        #expect(JWK.thumbprint(JWK.publicMembers(key.key)) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }
}
