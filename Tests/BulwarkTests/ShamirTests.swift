import Foundation
import Testing

@testable import Bulwark

/// Shamir's secret sharing in Vault's format: the field arithmetic against a table-driven
/// reference, every threshold subset rebuilding the secret, and the refusals. Interoperability
/// with `pyshamir` (a port of Vault's implementation) both ways is in `Tests/Interop/seal_interop.py`.
@Suite("Shamir secret sharing (GF(2^8), Vault's share format)")
struct ShamirTests {
    /// GF(2^8) modulo 0x11B by log and exp tables of the generator 3: a second computation of
    /// the field the branch-free arithmetic must agree with.
    static let tables: (exp: [UInt8], log: [Int]) = {
        var exp = [UInt8](repeating: 0, count: 510)
        var log = [Int](repeating: 0, count: 256)
        var value = 1
        for power in 0..<255 {
            exp[power] = UInt8(value)
            exp[power + 255] = UInt8(value)
            log[value] = power
            // value * 3 = value * 2 ^ value, reduced by 0x11B.
            var doubled = value << 1
            if doubled & 0x100 != 0 { doubled ^= 0x11B }
            value = doubled ^ value
        }
        return (exp, log)
    }()

    @Test("multiply and inverse agree with log/exp tables for all 65,536 pairs; a·a⁻¹ = 1")
    func fieldArithmetic() {
        let (exp, log) = Self.tables
        for a in 0...255 {
            for b in 0...255 {
                let expected: UInt8 = (a == 0 || b == 0) ? 0 : exp[log[a] + log[b]]
                #expect(Shamir.multiply(UInt8(a), UInt8(b)) == expected)
            }
        }
        for a in 1...255 {
            #expect(Shamir.multiply(UInt8(a), Shamir.inverse(UInt8(a))) == 1)
            #expect(Shamir.inverse(UInt8(a)) == exp[(255 - log[a]) % 255])
        }
    }

    @Test("every threshold subset of the shares rebuilds the secret; shares carry distinct non-zero x coordinates")
    func everySubsetRebuilds() throws {
        let secret = SecureRandom.bytes(32)
        let shares = try Shamir.split(secret, shares: 5, threshold: 3)
        #expect(shares.count == 5 && shares.allSatisfy { $0.count == 33 })
        #expect(Set(shares.map { $0[32] }).count == 5 && !shares.contains { $0[32] == 0 })
        for i in 0..<5 {
            for j in (i + 1)..<5 {
                for k in (j + 1)..<5 {
                    #expect(try Shamir.combine([shares[k], shares[i], shares[j]]) == secret)
                }
                // Two of a 3-threshold split give some other value (any value is equally likely).
                #expect(try Shamir.combine([shares[i], shares[j]]) != secret)
            }
        }
        #expect(try Shamir.combine(shares) == secret, "more than the threshold works too")
        // The largest split, and a one-byte secret.
        let wide = try Shamir.split([0x42], shares: 255, threshold: 255)
        #expect(try Shamir.combine(wide.reversed()) == [0x42])
        #expect(Set(wide.map { $0[1] }).count == 255)
    }

    @Test("the polynomial's value at x = 0 is the secret byte (Horner's rule)")
    func evaluation() {
        #expect(Shamir.evaluate([7, 1, 2], at: 0) == 7)
        // 7 + 1·x + 2·x² at x = 2 in GF(2^8): 7 ^ 2 ^ (2·4 = 8) = 13.
        #expect(Shamir.evaluate([7, 1, 2], at: 2) == 13)
    }

    @Test("refusals: empty secret, thresholds and counts out of range, too few, ragged, duplicate or zero-x shares")
    func refusals() throws {
        let invalid = BulwarkError(.invalidArgument, "")
        #expect(throws: invalid) { try Shamir.split([], shares: 3, threshold: 2) }
        #expect(throws: invalid) { try Shamir.split([1], shares: 3, threshold: 1) }
        #expect(throws: invalid) { try Shamir.split([1], shares: 2, threshold: 3) }
        #expect(throws: invalid) { try Shamir.split([1], shares: 256, threshold: 3) }
        let shares = try Shamir.split([1, 2, 3], shares: 3, threshold: 2)
        #expect(throws: invalid) { try Shamir.combine([shares[0]]) }
        #expect(throws: invalid) { try Shamir.combine([shares[0], shares[0]]) }
        #expect(throws: invalid) { try Shamir.combine([shares[0], Array(shares[1].dropFirst())]) }
        #expect(throws: invalid) { try Shamir.combine([[1], [2]]) }
        #expect(throws: invalid) { try Shamir.combine([shares[0], [9, 9, 9, 0]]) }
        // The message never shows share bytes.
        do {
            _ = try Shamir.combine([shares[0], shares[0]])
        } catch let error as BulwarkError {
            #expect(!error.message.contains(shares[0].map { String($0) }.joined(separator: ",")))
        }
    }
}
