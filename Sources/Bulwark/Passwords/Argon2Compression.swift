/// Argon2's compression function G (RFC 9106 §3.5-3.6) over 1 KiB blocks of 128 words.
///
/// Scalar 64-bit code: on baseline x86-64 (SSE2, no SSSE3 byte shuffles) the rotations make a
/// two-lane vector version slower than this one (measured: 30 ms against 24 ms per OWASP hash).
enum Argon2Compression {
    @inline(__always)
    static func blamka(_ x: UInt64, _ y: UInt64) -> UInt64 {
        x &+ y &+ 2 &* ((x & 0xFFFF_FFFF) &* (y & 0xFFFF_FFFF))
    }

    @inline(__always)
    static func gb(_ v: UnsafeMutablePointer<UInt64>, _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        var va = v[a], vb = v[b], vc = v[c], vd = v[d]
        va = blamka(va, vb)
        vd = (vd ^ va).rotatedRight(32)
        vc = blamka(vc, vd)
        vb = (vb ^ vc).rotatedRight(24)
        va = blamka(va, vb)
        vd = (vd ^ va).rotatedRight(16)
        vc = blamka(vc, vd)
        vb = (vb ^ vc).rotatedRight(63)
        v[a] = va
        v[b] = vb
        v[c] = vc
        v[d] = vd
    }

    /// P over the 16 words at `base + stride * k` and `base + stride * k + 1` (k = 0…7).
    @inline(__always)
    static func permute(_ v: UnsafeMutablePointer<UInt64>, base: Int, stride: Int) {
        let w = v + base
        let s = stride
        gb(w, 0, 2 * s, 4 * s, 6 * s)
        gb(w, 1, 2 * s + 1, 4 * s + 1, 6 * s + 1)
        gb(w, s, 3 * s, 5 * s, 7 * s)
        gb(w, s + 1, 3 * s + 1, 5 * s + 1, 7 * s + 1)
        gb(w, 0, 2 * s + 1, 5 * s, 7 * s + 1)
        gb(w, 1, 3 * s, 5 * s + 1, 6 * s)
        gb(w, s, 3 * s + 1, 4 * s, 6 * s + 1)
        gb(w, s + 1, 2 * s, 4 * s + 1, 7 * s)
    }

    /// `into = G(previous, reference)`, or `into ^= G(previous, reference)` when `xorInto`
    /// (Argon2 v1.3 after the first pass). `scratch` holds 128 words.
    @inline(__always)
    static func compress(
        previous: UnsafeMutablePointer<UInt64>, reference: UnsafeMutablePointer<UInt64>,
        into target: UnsafeMutablePointer<UInt64>, xorInto: Bool, scratch r: UnsafeMutablePointer<UInt64>
    ) {
        for word in 0..<128 { r[word] = previous[word] ^ reference[word] }
        // target = R (^ old target) now; P(R) is xored in at the end.
        if xorInto {
            for word in 0..<128 { target[word] ^= r[word] }
        } else {
            for word in 0..<128 { target[word] = r[word] }
        }
        for row in 0..<8 { permute(r, base: 16 * row, stride: 2) }
        for column in 0..<8 { permute(r, base: 2 * column, stride: 16) }
        for word in 0..<128 { target[word] ^= r[word] }
    }
}
