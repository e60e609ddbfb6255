/// Bech32 (BIP 173) as age uses it: no length limit on the data part, one case throughout, the
/// checksum over the lowercase string. Only encodes keys; there is no secret-dependent branching
/// beyond the character table lookups (the encodings are of public keys and of identities, which
/// are written to files anyway).
enum Bech32 {
    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let generator: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for i in 0..<5 where (top >> i) & 1 == 1 { checksum ^= Self.generator[i] }
        }
        return checksum
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Regroups bits (8 to 5 with padding when encoding; 5 to 8 without, refusing non-zero
    /// padding, when decoding).
    private static func convert(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0, bits = 0
        var out: [UInt8] = []
        let maximum = (1 << to) - 1
        for value in data {
            guard Int(value) >> from == 0 else { return nil }
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                out.append(UInt8((accumulator >> bits) & maximum))
            }
        }
        if pad {
            if bits > 0 { out.append(UInt8((accumulator << (to - bits)) & maximum)) }
        } else if bits >= from || (accumulator << (to - bits)) & maximum != 0 {
            return nil
        }
        return out
    }

    /// `hrp` (lowercase) + `1` + data + checksum, lowercase.
    static func encode(hrp: String, data: [UInt8]) -> String {
        let prefix = Array(hrp.lowercased().utf8)
        let values = Self.convert(data, from: 8, to: 5, pad: true) ?? []
        let checksum = Self.polymod(Self.expand(prefix) + values + [0, 0, 0, 0, 0, 0]) ^ 1
        let check = (0..<6).map { UInt8((checksum >> (5 * (5 - $0))) & 31) }
        return String(decoding: prefix + [UInt8(ascii: "1")] + (values + check).map { Self.alphabet[Int($0)] }, as: UTF8.self)
    }

    /// The human-readable part (lowercase) and the data, or nil when the string is not valid
    /// Bech32 (mixed case, a character outside the alphabet, a wrong checksum, bad padding).
    static func decode(_ text: String) -> (hrp: String, data: [UInt8])? {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ (33...126).contains($0) }) else { return nil }
        let hasLower = bytes.contains { (97...122).contains($0) }, hasUpper = bytes.contains { (65...90).contains($0) }
        guard !(hasLower && hasUpper), let separator = bytes.lastIndex(of: UInt8(ascii: "1")), separator >= 1,
            bytes.count - separator - 1 >= 6
        else { return nil }
        let lower = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        let hrp = Array(lower[..<separator])
        var values: [UInt8] = []
        for character in lower[(separator + 1)...] {
            guard let index = Self.alphabet.firstIndex(of: character) else { return nil }
            values.append(UInt8(index))
        }
        guard Self.polymod(Self.expand(hrp) + values) == 1,
            let data = Self.convert(Array(values.dropLast(6)), from: 5, to: 8, pad: false)
        else { return nil }
        return (String(decoding: hrp, as: UTF8.self), data)
    }
}
