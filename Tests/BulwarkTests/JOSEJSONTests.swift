import Crypto
import Foundation
import Testing

@testable import Bulwark

/// The JOSE JSON reader against Foundation's `JSONSerialization` (the reader it replaced on the
/// header path): the same values for every well-formed object, refusals where JOSE asks for
/// more than RFC 8259 (repeated member names) or where the text is not JSON at all.
@Suite("JOSE JSON: strict RFC 8259 objects, repeated names refused, the same values as JSONSerialization")
struct JOSEJSONTests {
    /// Well-formed objects, including every escape, non-ASCII text, surrogate pairs, numbers
    /// of each shape, nesting and whitespace.
    static let wellFormed = [
        #"{}"#,
        #" {"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"kty":"EC","crv":"P-256","x":"a","y":"b"},"kid":"k"} "#,
        "{\n\t\"a\" : [ 1 , -2 , 3.5 , -0.25e2 , 1E3 , 0 , -0 , 12345678901234567890 ] \r}",
        #"{"esc":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20ac \ud83d\ude00","raw":"é€😀"}"#,
        #"{"t":true,"f":false,"n":null,"e":[],"o":{},"deep":[[[{"x":[1]}]]]}"#,
        #"{"p2c":210000,"p2s":"c2FsdA","crit":["b64"],"b64":false}"#,
        #"{"":"empty name","nul":"\u0000"}"#,
    ]

    @Test("Every well-formed object reads to the values JSONSerialization gives")
    func sameAsFoundation() throws {
        for text in Self.wellFormed {
            let data = Data(text.utf8)
            let ours = try #require(JOSEJSON.object(data), "\(text)")
            let foundation = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            // Written back by Foundation, both give the same bytes (types included: a boolean
            // would come out as 1, an integer as 1.0, if either reader changed it).
            let written = try JSONSerialization.data(withJSONObject: ours, options: [.sortedKeys])
            let theirs = try JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys])
            #expect(written == theirs, "\(text): \(String(decoding: written, as: UTF8.self)) vs \(String(decoding: theirs, as: UTF8.self))")
        }
        let header = try #require(JOSEJSON.object(Data(Self.wellFormed[5].utf8)))
        #expect((header["p2c"] as? NSNumber)?.intValue == 210_000 && header["p2c"] as? Int == 210_000)
        #expect(header["b64"] as? Bool == false && header["crit"] as? [String] == ["b64"])
        let escapes = try #require(JOSEJSON.object(Data(Self.wellFormed[3].utf8)))
        #expect(escapes["esc"] as? String == "\" \\ / \u{8} \u{c} \n \r \t A é € 😀")
        #expect(escapes["raw"] as? String == "é€😀")
    }

    @Test("Refused: repeated names, lone surrogates, invalid UTF-8, control characters, bad numbers and literals, trailing bytes, non-objects, nesting past the limit")
    func refusals() {
        let refused: [String] = [
            #"{"alg":"A256KW","alg":"dir"}"#,  // a repeated name (RFC 7515 §5.2)
            #"{"epk":{"x":"a","x":"b"}}"#,  // repeated inside a nested object
            #"{"a":"\ud83d"}"#, #"{"a":"\ude00"}"#, #"{"a":"\ud83d\u0041"}"#,  // lone or mismatched surrogates
            "{\"a\":\"\u{1}\"}", "{\"a\":\"line\nbreak\"}",  // raw control characters
            #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\u12g4"}"#, #"{"a":"open}"#,
            #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":1e999}"#, #"{"a":NaN}"#,
            #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":True}"#,
            #"{"a":1,}"#, #"{,"a":1}"#, #"{"a" 1}"#, #"{a:1}"#, #"{'a':1}"#, #"{"a":[1,]}"#, #"{"a":[1 2]}"#,
            #"{"a":1}x"#, #"{"a":1}{}"#, #"{"a":1"#, "", " ", "[]", #""a""#, "1", "null",
            String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40),
            "{\"a\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
        ]
        for text in refused {
            #expect(JOSEJSON.object(Data(text.utf8)) == nil, "\(text)")
        }
        // Invalid UTF-8 inside a string (a lone continuation byte, an overlong form, a cut sequence).
        for bytes: [UInt8] in [[0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xFF]] {
            let text = Data(#"{"a":""#.utf8) + Data(bytes) + Data(#""}"#.utf8)
            #expect(JOSEJSON.object(text) == nil, "\(bytes)")
        }
        // A UTF-8-encoded surrogate (ED A0 80) is not UTF-8.
        #expect(JOSEJSON.object(Data(#"{"a":""#.utf8) + Data([0xED, 0xA0, 0x80]) + Data(#""}"#.utf8)) == nil)
        // The limit exactly: 31 objects inside one another read (their innermost value is the
        // 32nd level), 32 do not.
        func nested(_ depth: Int) -> Data {
            Data((String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8)
        }
        #expect(JOSEJSON.object(nested(31)) != nil)
        #expect(JOSEJSON.object(nested(32)) == nil)
        // A NUL in a member name (a reader stopping at it would see "alg" twice); in a value it is text.
        #expect(JOSEJSON.object(Data(#"{"alg":"dir","alg\u0000":"A256KW"}"#.utf8)) == nil)
        #expect(JOSEJSON.object(Data(#"{"a":"x\u0000y"}"#.utf8))?["a"] as? String == "x\u{0}y")
    }

    @Test("A JWE whose protected header repeats a member is refused, compact and JSON; so are JWKs and JWSs")
    func repeatedMembersInTokens() throws {
        let key = JWK.generateP256(keyID: "k")
        let token = try JWE.encrypt(Data("secret".utf8), to: JWE.Recipient(key: key.publicKey, algorithm: .ecdhESA256KW), content: .a256GCM)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(Base64URL.decode(parts[0]))
        // The same header with "enc" repeated (the AAD changes too, so this could never
        // authenticate; it must be refused as malformed before any key work).
        let text = String(decoding: header, as: UTF8.self)
        let doubled = text.replacingOccurrences(of: #""enc":"A256GCM""#, with: #""enc":"A256GCM","enc":"A128CBC-HS256""#)
        #expect(doubled != text)
        let forged = ([Base64URL.encode(Data(doubled.utf8))] + parts[1...]).joined(separator: ".")
        #expect(throws: BulwarkError(.invalidFormat, "")) {
            _ = try JWE.decrypt(forged, keys: JWKSet(keys: [key]), accepting: [.ecdhESA256KW], acceptingContent: [.a256GCM, .a128CBCHS256])
        }
        #expect(try JWE.decrypt(token, keys: JWKSet(keys: [key]), accepting: [.ecdhESA256KW], acceptingContent: [.a256GCM]).plaintext == Data("secret".utf8))
        // JWKs whose members are each valid alone: only the repetition refuses them.
        let k1 = Base64URL.encode(Data(repeating: 1, count: 32)), k2 = Base64URL.encode(Data(repeating: 2, count: 32))
        #expect(try JWK(json: Data(#"{"kty":"oct","k":"\#(k1)"}"#.utf8)).keyID.isEmpty == false)
        #expect(throws: BulwarkError.self) { _ = try JWK(json: Data(#"{"kty":"oct","k":"\#(k1)","k":"\#(k2)"}"#.utf8)) }
        #expect(try JWKSet(json: Data(#"{"keys":[{"kty":"oct","k":"\#(k1)","kid":"a"}]}"#.utf8)).keys.count == 1)
        #expect(throws: BulwarkError.self) { _ = try JWKSet(json: Data(#"{"keys":[{"kty":"oct","k":"\#(k1)","kid":"a","kid":"b"}]}"#.utf8)) }
        #expect(throws: BulwarkError.self) { _ = try JWKSet(json: Data(#"{"keys":[],"keys":[{"kty":"oct","k":"\#(k1)"}]}"#.utf8)) }

        // JSON serialization: a repeated member at the top or inside a recipient's header.
        let json = String(decoding: try JWE.encryptJSON(Data("secret".utf8), to: [JWE.Recipient(key: key.publicKey, algorithm: .ecdhESA256KW)], content: .a256GCM), as: UTF8.self)
        #expect(try JWE.decryptJSON(Data(json.utf8), keys: JWKSet(keys: [key]), accepting: [.ecdhESA256KW], acceptingContent: [.a256GCM]).plaintext == Data("secret".utf8))
        for forged in [
            json.replacingOccurrences(of: #""ciphertext":"#, with: #""ciphertext":"AAAA","ciphertext":"#),
            json.replacingOccurrences(of: #""alg":"ECDH-ES+A256KW""#, with: #""alg":"ECDH-ES+A256KW","alg":"ECDH-ES""#),
        ] {
            #expect(forged != json)
            #expect(throws: BulwarkError(.invalidFormat, "")) {
                _ = try JWE.decryptJSON(Data(forged.utf8), keys: JWKSet(keys: [key]), accepting: [.ecdhESA256KW, .ecdhES], acceptingContent: [.a256GCM])
            }
        }

        // A JWS whose header repeats alg.
        let signer = JWK.generateP256(keyID: "s")
        let jws = try JWS.sign(Data("payload".utf8), key: signer, algorithm: .es256)
        let jwsParts = jws.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let jwsHeader = String(decoding: try #require(Base64URL.decode(jwsParts[0])), as: UTF8.self)
        let doubledJWS = jwsHeader.replacingOccurrences(of: #""alg":"ES256""#, with: #""alg":"ES256","alg":"none""#)
        #expect(doubledJWS != jwsHeader)
        #expect(throws: BulwarkError(.invalidFormat, "")) {
            _ = try JWS.verify(([Base64URL.encode(Data(doubledJWS.utf8))] + jwsParts[1...]).joined(separator: "."), keys: JWKSet(keys: [signer]), accepting: [.es256])
        }
    }

    @Test("Algorithm names, key types and key ids are compared byte for byte: a canonically equivalent spelling (KELVIN SIGN for K) is another name")
    func canonicalEquivalentsAreOtherNames() throws {
        #expect("A256\u{212A}W" == "A256KW")  // what Swift's == says, and why it is not used
        #expect(JOSE.ascii("A256\u{212A}W") == nil && JOSE.ascii("A256KW") == "A256KW" && JOSE.ascii(7) == nil)
        let key = JWK.generateP256(keyID: "K1")
        let keys = JWKSet(keys: [key])
        #expect(keys.key(id: "K1") != nil && keys.key(id: "\u{212A}1") == nil)
        // A JWK whose kty is spelled with KELVIN SIGN is no key type.
        let okp = #"{"kty":"O\#u{212A}P","crv":"X25519","x":"\#(Base64URL.encode(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation))"}"#
        #expect(throws: BulwarkError.self) { _ = try JWK(json: Data(okp.utf8)) }
    }

    @Test("RFC 7518 Appendix C: ECDH-ES between the published keys, and the Concat KDF's A128GCM key")
    func concatKDFAppendixC() throws {
        // Source: RFC 7518, Appendix C (Alice's ephemeral key, Bob's key, Z and the derived key).
        let alice = try JWK(json: Data(#"{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps","d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}"#.utf8))
        let bob = try JWK(json: Data(#"{"kty":"EC","crv":"P-256","x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck","d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}"#.utf8))
        let z = Data([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196])
        let epk = try #require(JOSEJSON.object(try alice.publicJSON()))
        #expect(try JWE.agree(privateKey: bob, epk: epk.filter { $0.key != "kid" }) == z)
        let key = JWE.concatKDF(z: z, keyBytes: 16, algorithmID: "A128GCM", apu: Data("Alice".utf8), apv: Data("Bob".utf8))
        #expect(key.withUnsafeBytes { Base64URL.encode(Data($0)) } == "VqqN6vgjbSBcIijNcacQGg")
    }
}
