/// Argon2's compression function G (RFC 9106 §3.5-3.6) over 1 KiB blocks of 128 words.
///
/// The permutation P runs on pairs of words in `SIMD2<UInt64>` (SSE2) registers, as the
/// reference implementation's SSE2 code does: the four column G_B calls of a round are two
/// vector calls, and the diagonal step is the same after a lane rotation. BlaMka's
/// `2 * lo32(x) * lo32(y)` lowers to `pmuludq`; rotation by 32 is a `pshufd`. The other
/// rotations are two shifts and an OR, with a zero the optimiser cannot see XORed into one
/// half: without it LLVM recognises a rotate, which SSE2 lacks, and scalarises it (measured 30%
/// slower).
enum Argon2Compression {
    typealias Pair = SIMD2<UInt64>

    @inline(__always)
    static func blamka(_ x: Pair, _ y: Pair) -> Pair {
        let mask = Pair(repeating: 0xFFFF_FFFF)
        let product = (x & mask) &* (y & mask)
        return x &+ y &+ (product &+ product)
    }

    @inline(__always)
    static func rotr32(_ x: Pair) -> Pair {
        let words = unsafeBitCast(x, to: SIMD4<UInt32>.self)
        return unsafeBitCast(SIMD4<UInt32>(words[1], words[0], words[3], words[2]), to: Pair.self)
    }

    @inline(__always)
    static func rotr(_ x: Pair, _ count: UInt64, _ zero: Pair) -> Pair {
        ((x &>> Pair(repeating: count)) ^ zero) | (x &<< Pair(repeating: 64 - count))
    }

    @inline(__always)
    static func gb(_ a: inout Pair, _ b: inout Pair, _ c: inout Pair, _ d: inout Pair, _ zero: Pair) {
        a = blamka(a, b)
        d = rotr32(d ^ a)
        c = blamka(c, d)
        b = rotr(b ^ c, 24, zero)
        a = blamka(a, b)
        d = rotr(d ^ a, 16, zero)
        c = blamka(c, d)
        b = rotr(b ^ c, 63, zero)
    }

    /// P over 16 words stored as 8 pairs at word offsets `base + stride * k` (k = 0…7).
    @inline(__always)
    static func permute(_ v: UnsafeMutablePointer<UInt64>, base: Int, stride: Int, zero: Pair) {
        let raw = UnsafeMutableRawPointer(v)
        @inline(__always) func load(_ k: Int) -> Pair {
            raw.loadUnaligned(fromByteOffset: (base + stride * k) * 8, as: Pair.self)
        }
        @inline(__always) func store(_ k: Int, _ value: Pair) {
            raw.storeBytes(of: value, toByteOffset: (base + stride * k) * 8, as: Pair.self)
        }
        // Words: a = (0,1)(2,3), b = (4,5)(6,7), c = (8,9)(10,11), d = (12,13)(14,15).
        var a0 = load(0), a1 = load(1), b0 = load(2), b1 = load(3)
        var c0 = load(4), c1 = load(5), d0 = load(6), d1 = load(7)
        gb(&a0, &b0, &c0, &d0, zero)
        gb(&a1, &b1, &c1, &d1, zero)
        // Diagonals: (0,5,10,15) (1,6,11,12) (2,7,8,13) (3,4,9,14).
        var e0 = Pair(b0.y, b1.x), e1 = Pair(b1.y, b0.x)
        var f0 = c1, f1 = c0
        var g0 = Pair(d1.y, d0.x), g1 = Pair(d0.y, d1.x)
        gb(&a0, &e0, &f0, &g0, zero)
        gb(&a1, &e1, &f1, &g1, zero)
        store(0, a0)
        store(1, a1)
        store(2, Pair(e1.y, e0.x))
        store(3, Pair(e0.y, e1.x))
        store(4, f1)
        store(5, f0)
        store(6, Pair(g0.y, g1.x))
        store(7, Pair(g1.y, g0.x))
    }

    /// `into = G(previous, reference)`, or `into ^= G(previous, reference)` when `xorInto`
    /// (Argon2 v1.3 after the first pass). `scratch` holds 128 words; `zeroBlock` holds zeros.
    @inline(__always)
    static func compress(
        previous: UnsafeMutablePointer<UInt64>, reference: UnsafeMutablePointer<UInt64>,
        into target: UnsafeMutablePointer<UInt64>, xorInto: Bool, scratch r: UnsafeMutablePointer<UInt64>,
        zeroBlock: UnsafeMutablePointer<UInt64>
    ) {
        let zero = Pair(zeroBlock[0], zeroBlock[1])
        for word in 0..<128 { r[word] = previous[word] ^ reference[word] }
        // target = R (^ old target) now; P(R) is xored in at the end.
        if xorInto {
            for word in 0..<128 { target[word] ^= r[word] }
        } else {
            for word in 0..<128 { target[word] = r[word] }
        }
        for row in 0..<8 { permute(r, base: 16 * row, stride: 2, zero: zero) }
        for column in 0..<8 { permute(r, base: 2 * column, stride: 16, zero: zero) }
        for word in 0..<128 { target[word] ^= r[word] }
    }
}
