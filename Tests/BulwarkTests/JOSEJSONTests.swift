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
        // Nesting up to the limit reads.
        let nested = String(repeating: "{\"a\":", count: 20) + "1" + String(repeating: "}", count: 20)
        #expect(JOSEJSON.object(Data(nested.utf8)) != nil)
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
        #expect(throws: BulwarkError.self) { _ = try JWK(json: Data(#"{"kty":"oct","k":"AAAA","k":"BBBB"}"#.utf8)) }
    }
}
