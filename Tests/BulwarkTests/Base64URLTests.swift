import Foundation
import Testing

@testable import Bulwark

@Suite("URL-safe base64")
struct Base64URLTests {
    @Test("agrees with Foundation's base64 (URL alphabet) for every length 0-200; round-trips; refuses bad input")
    func agreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let reference = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(Base64URL.encode(bytes, padded: true) == reference)
            let unpadded = Base64URL.encode(Data(bytes))
            #expect(unpadded == reference.replacingOccurrences(of: "=", with: ""))
            #expect(Base64URL.decodeBytes(unpadded) == bytes)
            #expect(Base64URL.decode(reference) == Data(bytes))
            #expect(Base64URL.decodeBytes(Substring("x" + unpadded).dropFirst()) == bytes)
        }
        #expect(Base64URL.decode("a") == nil)          // impossible length
        #expect(Base64URL.decode("ab+c") == nil)       // not the URL alphabet
        #expect(Base64URL.decode("AB") == nil)         // non-zero leftover bits (not canonical)
        #expect(Base64URL.decode("AA") == Data([0]))
    }
}
