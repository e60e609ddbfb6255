import Bulwark
import Foundation
import Testing

@testable import BulwarkServer

/// Numbers from requests: range-checked, overflow-checked, refused with the field named.
@Suite struct RequestValuesTests {
    @Test func durations() throws {
        #expect(try RequestValues.duration("90s", field: "ttl") == .seconds(90))
        #expect(try RequestValues.duration("1h30m", field: "ttl") == .seconds(5400))
        #expect(try RequestValues.duration("7d", field: "ttl") == .seconds(604_800))
        #expect(try RequestValues.duration(3600, field: "ttl") == .seconds(3600))
        #expect(try RequestValues.duration("3600", field: "ttl") == .seconds(3600))
        #expect(try RequestValues.duration("0", field: "ttl") == nil)
        #expect(try RequestValues.duration(nil, field: "ttl") == nil)
    }

    /// The crash found on a45ba31 (`{"ttl":"999999999999999999d"}` trapped the process) and its class.
    @Test(arguments: [
        "999999999999999999d", "9223372036854775807s", "9223372036854775808", "106752d", "-5s", "-1", "h", "5x", "1.5h", "", "5s5",
        "99999999999999999999999999999999999999h", String(repeating: "9", count: 100),
    ] as [String])
    func badDurationsAreRefusedNamingTheField(_ text: String) {
        let refusal = #expect(throws: BulwarkError.self) { try RequestValues.duration(text, field: "ttl") }
        #expect(refusal.map { TransitError($0).status } == 400 && refusal?.message.contains("ttl") == true)
    }

    @Test func numericDurationsOutOfRangeAreRefused() {
        for value: Any in [Int.max, -1, 1e300, Double.infinity, true, ["1h"], 3_153_600_001] {
            #expect(throws: BulwarkError.self, "\(value)") { try RequestValues.duration(value, field: "ttl") }
        }
    }

    /// Foundation's JSON numbers, as requests carry them (0 and 1 also cast to `Bool`).
    @Test func jsonNumbers() throws {
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(#"{"zero":0,"one":1,"yes":true,"half":1.5,"big":99999999999999999999,"max":9223372036854775807}"#.utf8))
                as? [String: Any])
        #expect(try RequestValues.integer(body["zero"], field: "zero", in: 0...10) == 0)
        #expect(try RequestValues.integer(body["one"], field: "one", in: 0...10) == 1)
        #expect(try RequestValues.duration(body["zero"], field: "zero") == nil)
        for field in ["yes", "half", "big", "max"] {
            #expect(throws: BulwarkError.self, "\(field)") { try RequestValues.integer(body[field], field: field, in: 0...10) }
        }
    }

    @Test func integers() throws {
        #expect(try RequestValues.integer(5, field: "bits", in: 0...10) == 5)
        #expect(try RequestValues.integer("5", field: "bits", in: 0...10) == 5)
        #expect(try RequestValues.integer(5.0, field: "bits", in: 0...10) == 5)
        #expect(try RequestValues.integer(nil, field: "bits", in: 0...10) == nil)
        #expect(try RequestValues.integer(NSNull(), field: "bits", in: 0...10) == nil)
        for value: Any in [11, -1, 5.5, 1e300, "x", "99999999999999999999999", true, [1], Double.nan] {
            let refusal = #expect(throws: BulwarkError.self, "\(value)") { try RequestValues.integer(value, field: "bits", in: 0...10) }
            #expect(refusal?.message.contains("bits") == true)
        }
    }

    @Test func nullAndBooleansAreToldApartWithoutBridging() throws {
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(#"{"n":null,"t":true,"f":false,"one":1,"s":"true","l":[null],"o":{}}"#.utf8)) as? [String: Any])
        #expect(RequestValues.isNull(try #require(parsed["n"])))
        for name in ["t", "f", "one", "s", "l", "o"] {
            #expect(!RequestValues.isNull(try #require(parsed[name])), "\(name)")
        }
        #expect(RequestValues.isNull(NSNull()) && !RequestValues.isNull("") && !RequestValues.isNull(0))
        let yes = try #require(parsed["t"])
        let no = try #require(parsed["f"])
        #expect(RequestValues.isBoolean(yes) && RequestValues.isBoolean(no))
        #expect(RequestValues.isBoolean(true) && RequestValues.isBoolean(NSNumber(value: false)))
        for name in ["n", "one", "s", "l", "o"] {
            #expect(!RequestValues.isBoolean(try #require(parsed[name])), "\(name)")
        }
        #expect(!RequestValues.isBoolean(1) && !RequestValues.isBoolean(NSNumber(value: 1)) && !RequestValues.isBoolean("true"))
    }
}
