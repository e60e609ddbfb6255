import CBulwarkLibCrypto
import Crypto
import Synchronization

/// A ``NonceAEAD`` over the system's OpenSSL libcrypto that keeps the keyed contexts.
///
/// swift-crypto re-runs the AES key schedule and GHASH setup on every call; for a 32-byte field
/// that setup is most of the cost. This backend sets the key once per key version and reuses
/// the contexts (a small pool, so concurrent callers never share one), re-initialising only the
/// nonce per message. It is the only place Bulwark calls OpenSSL for AEAD, and it is checked
/// against swift-crypto and Wycheproof in the tests.
final class LibCryptoAEAD: NonceAEAD, @unchecked Sendable {
    // Safety: contexts are only touched while checked out of a pool, by one caller at a time.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let cipher: OpaquePointer
    private let key: SymmetricKey
    private struct Pools: Sendable {
        var encryptors: [Context] = []
        var decryptors: [Context] = []
    }
    private let pools = Mutex(Pools())
    private static let poolLimit = 16

    init?(_ algorithm: AEADAlgorithm, key: SymmetricKey) {
        guard let cipher = Self.cipher(algorithm, key: key) else { return nil }
        self.cipher = cipher
        self.key = key
        guard let probe = self.makeContext(encrypting: true) else { return nil }
        self.pools.withLock { $0.encryptors.append(probe) }
    }

    /// libcrypto's cipher for `algorithm`, when `key` is its length (AES-SIV has none here).
    private static func cipher(_ algorithm: AEADAlgorithm, key: SymmetricKey) -> OpaquePointer? {
        guard key.bitCount == algorithm.keyLength * 8 else { return nil }
        switch algorithm {
        case .aes256GCM: return EVP_aes_256_gcm()
        case .aes128GCM: return EVP_aes_128_gcm()
        case .chacha20Poly1305: return EVP_chacha20_poly1305()
        case .aes256SIV: return nil
        }
    }

    deinit {
        let all = self.pools.withLock { $0.encryptors + $0.decryptors }
        for context in all { EVP_CIPHER_CTX_free(context.pointer) }
    }

    private func makeContext(encrypting: Bool) -> Context? {
        Self.makeContext(cipher: self.cipher, key: self.key, encrypting: encrypting)
    }

    private static func makeContext(cipher: OpaquePointer, key: SymmetricKey, encrypting: Bool) -> Context? {
        guard let pointer = EVP_CIPHER_CTX_new() else { return nil }
        let status = key.withUnsafeBytes { keyBytes in
            EVP_CipherInit_ex(
                pointer, cipher, nil, keyBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), nil,
                encrypting ? 1 : 0)
        }
        guard status == 1 else {
            EVP_CIPHER_CTX_free(pointer)
            return nil
        }
        return Context(pointer: pointer)
    }

    private func withContext<R>(
        encrypting: Bool, _ body: (OpaquePointer) throws -> R
    ) throws -> R {
        let reused = self.pools.withLock { encrypting ? $0.encryptors.popLast() : $0.decryptors.popLast() }
        guard let context = reused ?? self.makeContext(encrypting: encrypting) else {
            throw BulwarkError(.invalidArgument, "libcrypto could not create a cipher context")
        }
        defer {
            let kept = self.pools.withLock { pools -> Bool in
                if encrypting {
                    guard pools.encryptors.count < Self.poolLimit else { return false }
                    pools.encryptors.append(context)
                } else {
                    guard pools.decryptors.count < Self.poolLimit else { return false }
                    pools.decryptors.append(context)
                }
                return true
            }
            if !kept { EVP_CIPHER_CTX_free(context.pointer) }
        }
        return try body(context.pointer)
    }

    private static func feed(_ context: OpaquePointer, aad: UnsafeRawBufferPointer) -> Bool {
        guard aad.count > 0 else { return true }
        var written: Int32 = 0
        return EVP_CipherUpdate(
            context, nil, &written, aad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(aad.count)) == 1
    }

    func seal(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(nonce.count == 12 && output.count == plaintext.count + 16)
        guard plaintext.count <= Int(Int32.max) - 16, aad.count <= Int(Int32.max), aad2.count <= Int(Int32.max) else {
            throw BulwarkError(.invalidArgument, "message too large for one AEAD call")
        }
        let ok = try self.withContext(encrypting: true) { context -> Bool in
            Self.seal(context, nonce: nonce, aad: aad, aad2: aad2, plaintext: plaintext, output: output)
        }
        guard ok else { throw BulwarkError(.invalidArgument, "libcrypto failed to seal") }
    }

    func open(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws -> Bool {
        precondition(nonce.count == 12 && output.count == ciphertextAndTag.count - 16)
        guard ciphertextAndTag.count <= Int(Int32.max), aad.count <= Int(Int32.max), aad2.count <= Int(Int32.max) else {
            throw BulwarkError(.invalidArgument, "message too large for one AEAD call")
        }
        let authentic = try self.withContext(encrypting: false) { context -> Bool in
            Self.open(context, nonce: nonce, aad: aad, aad2: aad2, ciphertextAndTag: ciphertextAndTag, output: output)
        }
        if !authentic, output.count > 0 {
            // Never leave unauthenticated plaintext behind.
            output.initializeMemory(as: UInt8.self, repeating: 0)
        }
        return authentic
    }

    /// Seals with a keyed context (the nonce set here); false when libcrypto fails.
    private static func seal(
        _ context: OpaquePointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, aad2: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), 1) == 1,
            Self.feed(context, aad: aad), Self.feed(context, aad: aad2)
        else { return false }
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        if plaintext.count > 0 {
            guard EVP_CipherUpdate(
                context, out, &written, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self),
                Int32(plaintext.count)) == 1
            else { return false }
        }
        var finalWritten: Int32 = 0
        guard EVP_CipherFinal_ex(context, out + Int(written), &finalWritten) == 1 else { return false }
        return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, out + plaintext.count) == 1
    }

    /// Opens with a keyed context (the nonce set here): whether the tag verified. The output
    /// may hold unauthenticated bytes when it did not: callers clear it.
    private static func open(
        _ context: OpaquePointer, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, aad2: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        let bodyLength = ciphertextAndTag.count - 16
        guard EVP_CipherInit_ex(context, nil, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), 0) == 1,
            Self.feed(context, aad: aad), Self.feed(context, aad: aad2)
        else { return false }
        let input = ciphertextAndTag.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        if bodyLength > 0 {
            guard EVP_CipherUpdate(
                context, output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written, input,
                Int32(bodyLength)) == 1
            else { return false }
        }
        var tag = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &tag) { $0.copyMemory(from: UnsafeRawBufferPointer(start: input + bodyLength, count: 16)) }
        guard withUnsafeMutableBytes(of: &tag, { EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, $0.baseAddress) }) == 1
        else { return false }
        var finalWritten: Int32 = 0
        let scratch = bodyLength > 0 ? output.baseAddress!.assumingMemoryBound(to: UInt8.self) + Int(written) : nil
        var sink: UInt8 = 0
        return withUnsafeMutablePointer(to: &sink) { EVP_CipherFinal_ex(context, scratch ?? $0, &finalWritten) } == 1
    }

    /// Seals one message under a key used once (a JWE content key): a context is made, used
    /// and freed, with none of swift-crypto's per-call copies.
    /// - Precondition: `output.count == plaintext.count + 16`, `nonce.count == 12`.
    static func sealOnce(
        _ algorithm: AEADAlgorithm, key: SymmetricKey, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(nonce.count == 12 && output.count == plaintext.count + 16)
        guard plaintext.count <= Int(Int32.max) - 16, aad.count <= Int(Int32.max), let cipher = Self.cipher(algorithm, key: key),
            let context = Self.makeContext(cipher: cipher, key: key, encrypting: true)
        else { throw BulwarkError(.invalidArgument, "libcrypto cannot seal this message") }
        defer { EVP_CIPHER_CTX_free(context.pointer) }
        guard Self.seal(context.pointer, nonce: nonce, aad: aad, aad2: UnsafeRawBufferPointer(start: nil, count: 0), plaintext: plaintext, output: output)
        else { throw BulwarkError(.invalidArgument, "libcrypto failed to seal") }
    }

    /// Opens one message under a key used once; false (the output cleared) when it does not
    /// authenticate.
    /// - Precondition: `output.count == ciphertextAndTag.count - 16`, `nonce.count == 12`.
    static func openOnce(
        _ algorithm: AEADAlgorithm, key: SymmetricKey, nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer
    ) throws -> Bool {
        precondition(nonce.count == 12 && output.count == ciphertextAndTag.count - 16)
        guard ciphertextAndTag.count <= Int(Int32.max), aad.count <= Int(Int32.max), let cipher = Self.cipher(algorithm, key: key),
            let context = Self.makeContext(cipher: cipher, key: key, encrypting: false)
        else { throw BulwarkError(.invalidArgument, "libcrypto cannot open this message") }
        defer { EVP_CIPHER_CTX_free(context.pointer) }
        let authentic = Self.open(
            context.pointer, nonce: nonce, aad: aad, aad2: UnsafeRawBufferPointer(start: nil, count: 0), ciphertextAndTag: ciphertextAndTag,
            output: output)
        if !authentic, output.count > 0 { output.initializeMemory(as: UInt8.self, repeating: 0) }
        return authentic
    }
}
