package import Crypto
import CryptoExtras

/// FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, Algorithms 7 and 8) over AES.
///
/// FF1 encrypts a string of numerals in radix 2...65,536 to another string of the same length in
/// the same radix, under a key and an optional public tweak. swift-crypto has no FF1, so Bulwark
/// builds it on swift-crypto's AES block permutation (`AES.permute`, used for the CBC-MAC PRF and
/// the output expansion); it is proven on NIST's published FF1 samples and against an independent
/// implementation (`Tests/Interop/ff1_reference.py`, Python integers over pyca's AES).
///
/// As the SP 800-38G revision requires, domains with fewer than one million values
/// (`radix^length < 1,000,000`) are refused, as are strings shorter than two numerals. FF3 is not
/// offered: it was withdrawn after published attacks.
///
/// FF1 is deterministic for a given key and tweak and authenticates nothing: equal inputs give equal
/// outputs, and any string in the domain "decrypts". Use it only where a value must keep its format.
public struct FF1: Sendable {
    private let key: SymmetricKey

    /// The minimum number of values in a domain (SP 800-38G Rev. 1).
    public static let minimumDomainSize = 1_000_000
    /// The longest numeral string accepted.
    public static let maximumLength = 4096
    /// The longest tweak accepted, in bytes.
    public static let maximumTweakLength = 4096

    /// Creates an FF1 cipher from raw AES key bytes.
    /// - Parameters:
    ///   - rawKey: 16, 24 or 32 bytes (Bulwark's own FPE keys are 32).
    ///   - access: ``InsecureSecretKeyAccess/token``, a greppable marker of secret access.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for another key size.
    public init(rawKey: some Collection<UInt8>, access: InsecureSecretKeyAccess) throws {
        try self.init(key: SymmetricKey(data: Array(rawKey)))
    }

    /// Creates an FF1 cipher from an AES key of 128, 192 or 256 bits.
    package init(key: SymmetricKey) throws {
        guard [128, 192, 256].contains(key.bitCount) else {
            throw BulwarkError(.invalidArgument, "FF1 needs a 128-, 192- or 256-bit AES key")
        }
        self.key = key
    }

    /// Encrypts `text`, every character of which must be in `alphabet`.
    public func encrypt(_ text: some StringProtocol, alphabet: FPEAlphabet, tweak: some Collection<UInt8> = [UInt8]()) throws -> String {
        let numerals = try Self.numerals(of: text, alphabet: alphabet)
        return Self.string(of: try self.encrypt(numerals: numerals, radix: alphabet.radix, tweak: tweak), alphabet: alphabet)
    }

    /// Decrypts `text`, every character of which must be in `alphabet`.
    public func decrypt(_ text: some StringProtocol, alphabet: FPEAlphabet, tweak: some Collection<UInt8> = [UInt8]()) throws -> String {
        let numerals = try Self.numerals(of: text, alphabet: alphabet)
        return Self.string(of: try self.decrypt(numerals: numerals, radix: alphabet.radix, tweak: tweak), alphabet: alphabet)
    }

    /// Encrypts a numeral string (each element in `0..<radix`).
    public func encrypt(numerals: [Int], radix: Int, tweak: some Collection<UInt8> = [UInt8]()) throws -> [Int] {
        try self.run(numerals: numerals, radix: radix, tweak: Array(tweak), encrypting: true)
    }

    /// Decrypts a numeral string (each element in `0..<radix`).
    public func decrypt(numerals: [Int], radix: Int, tweak: some Collection<UInt8> = [UInt8]()) throws -> [Int] {
        try self.run(numerals: numerals, radix: radix, tweak: Array(tweak), encrypting: false)
    }

    /// Whether a domain of `length` numerals in `radix` is large enough for FF1 (at least one million values).
    public static func domainIsLargeEnough(radix: Int, length: Int) -> Bool {
        guard radix >= 2, length >= 2 else { return false }
        var size = 1
        for _ in 0..<length {
            size = size.multipliedReportingOverflow(by: radix).overflow ? Int.max : size * radix
            if size >= Self.minimumDomainSize { return true }
        }
        return false
    }

    static func numerals(of text: some StringProtocol, alphabet: FPEAlphabet) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard let numeral = alphabet.lookup(scalar) else {
                throw BulwarkError(.invalidArgument, "the value has a character outside the transformation's alphabet")
            }
            out.append(numeral)
        }
        return out
    }

    static func string(of numerals: [Int], alphabet: FPEAlphabet) -> String {
        var view = String.UnicodeScalarView()
        for numeral in numerals { view.append(alphabet.scalars[numeral]) }
        return String(view)
    }

    // MARK: - The algorithm

    private func run(numerals x: [Int], radix: Int, tweak: [UInt8], encrypting: Bool) throws -> [Int] {
        let n = x.count
        guard (2...65_536).contains(radix) else {
            throw BulwarkError(.invalidArgument, "FF1 radix must be between 2 and 65536")
        }
        guard n >= 2, n <= Self.maximumLength else {
            throw BulwarkError(.invalidArgument, "FF1 needs between 2 and \(Self.maximumLength) characters (has \(n))")
        }
        guard Self.domainIsLargeEnough(radix: radix, length: n) else {
            throw BulwarkError(.invalidArgument, "the domain (\(radix)^\(n) values) is smaller than one million values, which SP 800-38G refuses")
        }
        guard tweak.count <= Self.maximumTweakLength else {
            throw BulwarkError(.invalidArgument, "the tweak is longer than \(Self.maximumTweakLength) bytes")
        }
        guard x.allSatisfy({ $0 >= 0 && $0 < radix }) else {
            throw BulwarkError(.invalidArgument, "a numeral is outside the radix")
        }
        let u = n / 2
        let v = n - u
        let b = (Self.bitLength(radix: radix, power: v) + 7) / 8
        let d = 4 * ((b + 3) / 4) + 4
        let t = tweak.count

        // P, and the CBC-MAC state after it (the same for all ten rounds).
        var p = [UInt8](repeating: 0, count: 16)
        p[0] = 1; p[1] = 2; p[2] = 1
        p[3] = UInt8(truncatingIfNeeded: radix >> 16); p[4] = UInt8(truncatingIfNeeded: radix >> 8); p[5] = UInt8(truncatingIfNeeded: radix)
        p[6] = 10; p[7] = UInt8(truncatingIfNeeded: u)
        for index in 0..<4 { p[8 + index] = UInt8(truncatingIfNeeded: n >> (24 - 8 * index)) }
        for index in 0..<4 { p[12 + index] = UInt8(truncatingIfNeeded: t >> (24 - 8 * index)) }
        try AES.permute(&p, key: self.key)
        let afterP = p

        // Q = T || 0^((-t-b-1) mod 16) || [i] || [NUM(B)]^b; its fixed prefix is built once.
        let padding = ((-t - b - 1) % 16 + 16) % 16
        var q = tweak + [UInt8](repeating: 0, count: padding + 1 + b)
        let roundIndex = t + padding
        var block = [UInt8](repeating: 0, count: 16)
        var s = [UInt8](repeating: 0, count: ((d + 15) / 16) * 16)
        var limbs: [UInt32] = []
        var numberBytes = [UInt8](repeating: 0, count: b)

        var a = Array(x[0..<u])
        var bHalf = Array(x[u..<n])
        for step in 0..<10 {
            let i = encrypting ? step : 9 - step
            // The half that feeds the PRF: B when encrypting, A when decrypting.
            let feed = encrypting ? bHalf : a
            Self.bigEndianBytes(numerals: feed, radix: radix, into: &numberBytes, limbs: &limbs)
            q[roundIndex] = UInt8(i)
            for index in 0..<b { q[roundIndex + 1 + index] = numberBytes[index] }

            // R = PRF(P || Q): CBC-MAC with a zero IV.
            block = afterP
            var offset = 0
            while offset < q.count {
                for index in 0..<16 { block[index] ^= q[offset + index] }
                try AES.permute(&block, key: self.key)
                offset += 16
            }
            // S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) || …, first d bytes.
            for index in 0..<16 { s[index] = block[index] }
            var j = 1
            while 16 * j < d {
                var extra = block
                for index in 0..<4 { extra[12 + index] ^= UInt8(truncatingIfNeeded: j >> (24 - 8 * index)) }
                try AES.permute(&extra, key: self.key)
                for index in 0..<16 { s[16 * j + index] = extra[index] }
                j += 1
            }
            let m = i % 2 == 0 ? u : v
            // y mod radix^m as m numerals (least significant first), from y = NUM(S[0..<d]).
            let yDigits = Self.lowDigits(bytes: s[0..<d], radix: radix, count: m, limbs: &limbs)
            if encrypting {
                // C = STR(NUM(A) + y mod radix^m); A = B; B = C.
                var c = a
                var carry = 0
                for position in 0..<m {
                    let index = m - 1 - position
                    var sum = c[index] + yDigits[position] + carry
                    if sum >= radix { sum -= radix; carry = 1 } else { carry = 0 }
                    c[index] = sum
                }
                a = bHalf
                bHalf = c
            } else {
                // C = STR(NUM(B) - y mod radix^m); B = A; A = C.
                var c = bHalf
                var borrow = 0
                for position in 0..<m {
                    let index = m - 1 - position
                    var difference = c[index] - yDigits[position] - borrow
                    if difference < 0 { difference += radix; borrow = 1 } else { borrow = 0 }
                    c[index] = difference
                }
                bHalf = a
                a = c
            }
        }
        return a + bHalf
    }

    /// ceil(log2(radix^power)), exactly.
    static func bitLength(radix: Int, power: Int) -> Int {
        if radix & (radix - 1) == 0 {
            return radix.trailingZeroBitCount * power
        }
        // radix^power is not a power of two: ceil(log2) is its bit length.
        var limbs: [UInt32] = [1]
        for _ in 0..<power { multiplyAdd(&limbs, radix, 0) }
        let top = limbs.last!
        return (limbs.count - 1) * 32 + (32 - top.leadingZeroBitCount)
    }

    /// limbs = limbs * factor + addend (little-endian 32-bit limbs).
    @inline(__always)
    static func multiplyAdd(_ limbs: inout [UInt32], _ factor: Int, _ addend: Int) {
        var carry = UInt64(addend)
        let f = UInt64(factor)
        for index in limbs.indices {
            let product = UInt64(limbs[index]) * f + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 { limbs.append(UInt32(carry)) }
    }

    /// [NUM_radix(numerals)]^b: the number as `into.count` big-endian bytes.
    static func bigEndianBytes(numerals: [Int], radix: Int, into bytes: inout [UInt8], limbs: inout [UInt32]) {
        limbs.removeAll(keepingCapacity: true)
        limbs.append(0)
        for numeral in numerals { multiplyAdd(&limbs, radix, numeral) }
        let count = bytes.count
        for index in 0..<count {
            let bit = 8 * index
            let limb = bit / 32
            bytes[count - 1 - index] = limb < limbs.count ? UInt8(truncatingIfNeeded: limbs[limb] >> UInt32(bit % 32)) : 0
        }
    }

    /// The `count` least significant base-`radix` digits of the big-endian number `bytes`.
    static func lowDigits(bytes: ArraySlice<UInt8>, radix: Int, count: Int, limbs: inout [UInt32]) -> [Int] {
        limbs.removeAll(keepingCapacity: true)
        // Big-endian bytes to little-endian limbs.
        let byteCount = bytes.count
        let limbCount = (byteCount + 3) / 4
        limbs.append(contentsOf: repeatElement(0, count: limbCount))
        var position = 0
        for byte in bytes.reversed() {
            limbs[position / 4] |= UInt32(byte) << UInt32(8 * (position % 4))
            position += 1
        }
        var digits = [Int](repeating: 0, count: count)
        let divisor = UInt64(radix)
        var top = limbCount - 1
        for index in 0..<count {
            while top > 0 && limbs[top] == 0 { top -= 1 }
            var remainder: UInt64 = 0
            var limb = top
            while limb >= 0 {
                let current = (remainder << 32) | UInt64(limbs[limb])
                limbs[limb] = UInt32(current / divisor)
                remainder = current % divisor
                limb -= 1
            }
            digits[index] = Int(remainder)
        }
        return digits
    }
}
