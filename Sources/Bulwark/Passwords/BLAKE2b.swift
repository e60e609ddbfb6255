/// BLAKE2b (RFC 7693), unkeyed, with 1-64 byte output: the hash inside Argon2.
///
/// swift-crypto has no BLAKE2, so Bulwark carries this one. It is checked against RFC 7693's
/// example, Argon2's reference vectors (which exercise it through H0 and H'), and Python's
/// `hashlib.blake2b` in the tests.
struct BLAKE2b {
    static let iv: [UInt64] = [
        0x6A09_E667_F3BC_C908, 0xBB67_AE85_84CA_A73B, 0x3C6E_F372_FE94_F82B, 0xA54F_F53A_5F1D_36F1,
        0x510E_527F_ADE6_82D1, 0x9B05_688C_2B3E_6C1F, 0x1F83_D9AB_FB41_BD6B, 0x5BE0_CD19_137E_2179,
    ]

    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    private var h: [UInt64]
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0
    private let outputLength: Int

    /// - Parameter outputLength: 1 to 64 bytes.
    init(outputLength: Int) {
        precondition((1...64).contains(outputLength))
        self.outputLength = outputLength
        self.h = Self.iv
        self.h[0] ^= 0x0101_0000 ^ UInt64(outputLength)
        self.buffer.reserveCapacity(128)
    }

    /// Absorbs bytes.
    mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            if self.buffer.count == 128 {
                self.counter &+= 128
                self.compress(final: false)
                self.buffer.removeAll(keepingCapacity: true)
            }
            self.buffer.append(byte)
        }
    }

    /// Absorbs a little-endian 32-bit integer.
    mutating func update(le32 value: UInt32) {
        self.update([UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                     UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)])
    }

    /// Returns the digest.
    mutating func finalize() -> [UInt8] {
        self.counter &+= UInt64(self.buffer.count)
        self.buffer += [UInt8](repeating: 0, count: 128 - self.buffer.count)
        self.compress(final: true)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for word in self.h {
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Array(out.prefix(self.outputLength))
    }

    private mutating func compress(final: Bool) {
        var m = [UInt64](repeating: 0, count: 16)
        for index in 0..<16 {
            var word: UInt64 = 0
            for byte in 0..<8 { word |= UInt64(self.buffer[index * 8 + byte]) << UInt64(8 * byte) }
            m[index] = word
        }
        var v = self.h + Self.iv
        v[12] ^= self.counter
        if final { v[14] = ~v[14] }
        @inline(__always) func mix(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
            v[a] = v[a] &+ v[b] &+ x
            v[d] = (v[d] ^ v[a]).rotatedRight(32)
            v[c] = v[c] &+ v[d]
            v[b] = (v[b] ^ v[c]).rotatedRight(24)
            v[a] = v[a] &+ v[b] &+ y
            v[d] = (v[d] ^ v[a]).rotatedRight(16)
            v[c] = v[c] &+ v[d]
            v[b] = (v[b] ^ v[c]).rotatedRight(63)
        }
        for round in 0..<12 {
            let s = Self.sigma[round % 10]
            mix(0, 4, 8, 12, m[s[0]], m[s[1]])
            mix(1, 5, 9, 13, m[s[2]], m[s[3]])
            mix(2, 6, 10, 14, m[s[4]], m[s[5]])
            mix(3, 7, 11, 15, m[s[6]], m[s[7]])
            mix(0, 5, 10, 15, m[s[8]], m[s[9]])
            mix(1, 6, 11, 12, m[s[10]], m[s[11]])
            mix(2, 7, 8, 13, m[s[12]], m[s[13]])
            mix(3, 4, 9, 14, m[s[14]], m[s[15]])
        }
        for index in 0..<8 { self.h[index] ^= v[index] ^ v[index + 8] }
    }

    /// One-shot digest.
    static func hash(_ bytes: [UInt8], outputLength: Int) -> [UInt8] {
        var hasher = BLAKE2b(outputLength: outputLength)
        hasher.update(bytes)
        return hasher.finalize()
    }
}

extension UInt64 {
    @inline(__always)
    func rotatedRight(_ count: UInt64) -> UInt64 {
        (self &>> count) | (self &<< (64 &- count))
    }
}
