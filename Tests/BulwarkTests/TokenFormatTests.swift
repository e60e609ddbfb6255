import Foundation
import Testing

@testable import Bulwark

@Suite("Token formats, templates and masking")
struct TokenFormatTests {
    @Test("opaque tokens: tok_ and 22 base62 characters, all distinct")
    func opaque() throws {
        var seen = Set<String>()
        let base62 = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        for _ in 0..<10_000 {
            let token = try TokenFormat.opaque.token(for: "4111111111111111")
            #expect(token.hasPrefix("tok_") && token.count == 26 && token.dropFirst(4).allSatisfy { base62.contains($0) })
            seen.insert(token)
        }
        #expect(seen.count == 10_000)
    }

    @Test("A template that backtracks catastrophically is abandoned at its bound, not matched for years; groups still come out right")
    func boundedMatching() throws {
        // 2^40 paths through (\d+)+ before it can fail on the final x: unbounded, this never ends.
        let evil = try TransformTemplate(pattern: #"(\d+)+"#, alphabet: .numeric)
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try evil.groups(of: String(repeating: "1", count: 40) + "x") }
        #expect(try evil.groups(of: "12345")?.map(String.init) == ["12345"])
        #expect(try evil.groups(of: "12a45") == nil)
        let alternation = try TransformTemplate(pattern: #"((?:1|11)*)x"#, alphabet: .numeric)
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try alternation.groups(of: String(repeating: "1", count: 60) + "y") }
        // Groups by UTF-16 offsets map back to the right characters past non-BMP ones.
        let wide = try TransformTemplate(pattern: #"😀+-(\d{4})"#, alphabet: .numeric)
        #expect(try wide.groups(of: "😀😀-1234")?.map(String.init) == ["1234"])
        // An optional group that took no part is an empty group at the end.
        let optional = try TransformTemplate(pattern: #"(\d{2})(?:-(\d{2}))?"#, alphabet: .numeric)
        #expect(try optional.groups(of: "12")?.map(String.init) == ["12", ""])
        #expect(try TransformTemplate.creditCardNumber.groups(of: "4111-1111-1111-1111")?.map(String.init) == ["4111", "1111", "1111", "1111"])
        #expect(throws: BulwarkError(.invalidArgument, "")) { try TransformTemplate(pattern: String(repeating: "(1)", count: 700), alphabet: .numeric) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { try TransformTemplate(pattern: "(1", alphabet: .numeric) }
    }

    @Test("card tokens keep BIN, last four and separators, and are Luhn-valid or Luhn-invalid as asked", arguments: [
        TokenFormat.LuhnRequirement.valid, .invalid, .any,
    ])
    func cards(luhn: TokenFormat.LuhnRequirement) throws {
        let format = TokenFormat.formatPreserving(template: .creditCardNumber, preservePrefix: 6, preserveSuffix: 4, luhn: luhn)
        var validCount = 0
        for value in ["4111111111111111", "5555-5555-5555-4444", "3782 822463 10005"] where (try? TransformTemplate.creditCardNumber.groups(of: value)) != nil {
            for _ in 0..<500 {
                let token = try format.token(for: value)
                let digits = token.filter(\.isNumber)
                let original = value.filter(\.isNumber)
                #expect(token.count == value.count)
                #expect(zip(token, value).allSatisfy { $0.isNumber == $1.isNumber && ($0.isNumber || $0 == $1) })
                #expect(digits.prefix(6) == original.prefix(6) && digits.suffix(4) == original.suffix(4))
                switch luhn {
                case .valid: #expect(Luhn.isValid(digits))
                case .invalid: #expect(!Luhn.isValid(digits))
                case .any: if Luhn.isValid(digits) { validCount += 1 }
                }
            }
        }
        if luhn == .any { #expect(validCount > 0 && validCount < 1000) }  // about one in ten
    }

    @Test("a value too short for the kept parts, or outside the template, is refused without echoing it")
    func refusals() {
        let format = TokenFormat.formatPreserving(template: .socialSecurityNumber, preservePrefix: 5, preserveSuffix: 4, luhn: .any)
        expectCode(.invalidArgument) { try format.token(for: "078-05-1120") }
        expectCode(.invalidArgument) { try TokenFormat.formatPreserving(template: .creditCardNumber, preservePrefix: 0, preserveSuffix: 0, luhn: .any).token(for: "not a card") }
        do {
            _ = try Masking.mask("078-05-11200000", template: .socialSecurityNumber)
            Issue.record("a value outside the template was masked")
        } catch {
            #expect(!"\(error)".contains("078"))
        }
    }

    @Test("masking replaces only the groups; render fills $n and ${n}")
    func maskingAndFormats() throws {
        let lastFour = try TransformTemplate(pattern: #"(\d{4})-(\d{4})-(\d{4})-\d{4}"#, alphabet: .numeric)
        #expect(try Masking.mask("4111-1111-1111-1234", template: lastFour, character: "#") == "####-####-####-1234")
        #expect(try Masking.mask("078-05-1120", template: .socialSecurityNumber) == "***-**-****")
        #expect(TransformTemplate.render("$1-$2 ${3}$4 $9 $$", groups: ["a", "b", "c", "d"]) == "a-b cd $9 $$")
        let laidOut = try TransformTemplate(
            pattern: #"(\d{4})[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{4})"#, alphabet: .numeric, encodeFormat: "$1-$2-$3-$4")
        let reversed = try laidOut.transform("4111 2222 3333 4444", format: laidOut.encodeFormat) { $0.reverse() }
        #expect(reversed == "4444-3333-2222-1114")
        expectCode(.invalidArgument) { try TransformTemplate(pattern: #"\d+"#, alphabet: .numeric) }  // no group
        expectCode(.invalidArgument) { try TransformTemplate(pattern: "(", alphabet: .numeric) }
    }
}
