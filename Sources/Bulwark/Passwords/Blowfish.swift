/// Blowfish's key schedule and block function, as bcrypt's EksBlowfish uses them.
///
/// The 1042-word state (P-array then four S-boxes) lives in one allocation, read through an
/// unsafe pointer so the inner loop has no bounds checks; it is cleared before release.
struct Blowfish {
    let state: UnsafeMutablePointer<UInt32>

    init() {
        self.state = .allocate(capacity: 1042)
        BlowfishPi.words.withUnsafeBufferPointer { source in
            self.state.initialize(from: source.baseAddress!, count: 1042)
        }
    }

    func release() {
        self.state.update(repeating: 0, count: 1042)
        self.state.deallocate()
    }

    @inline(__always)
    func f(_ x: UInt32) -> UInt32 {
        let s = self.state + 18
        let a = s[Int(x >> 24)]
        let b = s[256 + Int((x >> 16) & 0xFF)]
        let c = s[512 + Int((x >> 8) & 0xFF)]
        let d = s[768 + Int(x & 0xFF)]
        return ((a &+ b) ^ c) &+ d
    }

    @inline(__always)
    func encrypt(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
        let p = self.state
        var l = left ^ p[0]
        var r = right
        var index = 1
        while index < 17 {
            r ^= self.f(l) ^ p[index]
            l ^= self.f(r) ^ p[index + 1]
            index += 2
        }
        return (r ^ p[17], l)
    }

    @inline(__always)
    static func word(_ bytes: UnsafePointer<UInt8>, count: Int, _ position: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = word << 8 | UInt32(bytes[position])
            position += 1
            if position == count { position = 0 }
        }
        return word
    }

    /// ExpandKey(state, salt, key): key into P, then re-encrypt the state mixing in the salt.
    func expand(key: [UInt8], salt: [UInt8]) {
        key.withUnsafeBufferPointer { keyBytes in
            salt.withUnsafeBufferPointer { saltBytes in
                var position = 0
                for index in 0..<18 {
                    self.state[index] ^= Self.word(keyBytes.baseAddress!, count: keyBytes.count, &position)
                }
                var saltPosition = 0
                var l: UInt32 = 0
                var r: UInt32 = 0
                var index = 0
                while index < 1042 {
                    l ^= Self.word(saltBytes.baseAddress!, count: saltBytes.count, &saltPosition)
                    r ^= Self.word(saltBytes.baseAddress!, count: saltBytes.count, &saltPosition)
                    (l, r) = self.encrypt(l, r)
                    self.state[index] = l
                    self.state[index + 1] = r
                    index += 2
                }
            }
        }
    }

    /// ExpandKey(state, 0, key).
    func expand(key: [UInt8]) {
        key.withUnsafeBufferPointer { keyBytes in
            var position = 0
            for index in 0..<18 {
                self.state[index] ^= Self.word(keyBytes.baseAddress!, count: keyBytes.count, &position)
            }
        }
        var l: UInt32 = 0
        var r: UInt32 = 0
        var index = 0
        while index < 1042 {
            (l, r) = self.encrypt(l, r)
            self.state[index] = l
            self.state[index + 1] = r
            index += 2
        }
    }
}
