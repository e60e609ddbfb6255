import Crypto
import Foundation

/// The HPKE (RFC 9180) parameters of each hybrid key type, and the message format.
///
/// A message is `header ‖ enc ‖ ct`: the 10-byte envelope header (format, algorithm, key id,
/// version), HPKE's encapsulated key (32 bytes for X25519, 65 for P-256, 1,120 for X-Wing) and
/// the HPKE base-mode ciphertext of the plaintext with empty associated data. HPKE's `info` is
/// the header followed by the caller's context, as Tink binds its `contextInfo`: the key, version
/// and algorithm, and the context, are all authenticated, and a peer holding only
/// `enc ‖ ct` (Python `cryptography`'s single-shot HPKE, say) opens it with that `info`.
enum HybridSuite {
    /// The KEM families of the hybrid key types.
    enum KEM: Sendable {
        case x25519, p256, xwing
    }

    /// The KEM of a hybrid key type. Exhaustive, so that a new key type must be placed here;
    /// callers check the purpose first (a type that is not hybrid is X25519's, never asked).
    static func kem(_ type: KeyType) -> KEM {
        switch type {
        case .hpkeX25519, .hpkeX25519ChaCha20Poly1305: return .x25519
        case .hpkeP256, .hpkeP256ChaCha20Poly1305: return .p256
        case .hpkeXWing, .hpkeXWingChaCha20Poly1305: return .xwing
        case .aes256GCM, .aes128GCM, .chacha20Poly1305, .aes256SIV, .hmacSHA256, .hmacSHA512, .ed25519, .ecdsaP256, .ecdsaP384, .ecdsaP521,
            .mlDSA65, .mlDSA87, .rsa2048, .rsa3072, .rsa4096, .ageX25519:
            return .x25519
        }
    }

    /// Whether a hybrid key type seals with ChaCha20-Poly1305 (otherwise AES-256-GCM).
    /// Exhaustive, as ``kem(_:)``.
    static func usesChaCha20Poly1305(_ type: KeyType) -> Bool {
        switch type {
        case .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305: return true
        case .hpkeX25519, .hpkeP256, .hpkeXWing: return false
        case .aes256GCM, .aes128GCM, .chacha20Poly1305, .aes256SIV, .hmacSHA256, .hmacSHA512, .ed25519, .ecdsaP256, .ecdsaP384, .ecdsaP521,
            .mlDSA65, .mlDSA87, .rsa2048, .rsa3072, .rsa4096, .ageX25519:
            return false
        }
    }

    /// The ciphersuite of a hybrid key type: its KEM, HKDF-SHA256, and its AEAD.
    static func ciphersuite(_ type: KeyType) -> HPKE.Ciphersuite {
        let aead: HPKE.AEAD = Self.usesChaCha20Poly1305(type) ? .chaChaPoly : .AES_GCM_256
        switch Self.kem(type) {
        case .p256: return HPKE.Ciphersuite(kem: .P256_HKDF_SHA256, kdf: .HKDF_SHA256, aead: aead)
        case .xwing: return HPKE.Ciphersuite(kem: .XWingMLKEM768X25519, kdf: .HKDF_SHA256, aead: aead)
        case .x25519: return HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: aead)
        }
    }

    /// The AEAD of the segments of a stream to a hybrid key: the key type's own.
    static func segmentAEAD(_ type: KeyType) -> AEADAlgorithm {
        Self.usesChaCha20Poly1305(type) ? .chacha20Poly1305 : .aes256GCM
    }

    /// The length of HPKE's encapsulated key for a hybrid key type.
    static func encapsulatedKeyLength(_ type: KeyType) -> Int {
        switch Self.kem(type) {
        case .p256: return 65
        case .xwing: return 1120
        case .x25519: return 32
        }
    }

    /// The length of a serialised public key for a hybrid key type.
    static func publicKeyLength(_ type: KeyType) -> Int {
        switch Self.kem(type) {
        case .p256: return 65
        case .xwing: return 1216
        case .x25519: return 32
        }
    }

    /// A public key usable in HPKE's auth mode (a Diffie-Hellman KEM's).
    enum AuthenticationKey {
        case x25519(Curve25519.KeyAgreement.PublicKey)
        case p256(P256.KeyAgreement.PublicKey)
    }

    /// `key` as the other party of an auth-mode message under a `type` key: the two must share
    /// a KEM (their AEADs may differ: the recipient's is used), and the KEM must be
    /// Diffie-Hellman (RFC 9180 §5.1.3 defines AuthEncap for DHKEMs only; X-Wing has none).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` otherwise.
    static func authenticationKey(_ key: HybridPublicKey, for type: KeyType) throws -> AuthenticationKey {
        guard Self.kem(key.type) == Self.kem(type) else {
            throw BulwarkError(.invalidArgument, "a \(key.type) key and a \(type) key cannot be used together: their KEMs differ")
        }
        switch key.parsed {
        case .x25519(let key): return .x25519(key)
        case .p256(let key): return .p256(key)
        case .xwing: throw BulwarkError(.invalidArgument, "X-Wing has no authenticated mode (HPKE's auth mode needs a Diffie-Hellman KEM)")
        }
    }

    /// The X25519 points of small order (libsodium's list; each refused by Python
    /// `cryptography`'s X25519 as well): 0, 1, the two points of order 8, p - 1, p and p + 1,
    /// little-endian. With any of them the Diffie-Hellman result is all zeros, which RFC 9180
    /// §7.1.4 requires to be refused: the HPKE key would then depend on public values only.
    private static let smallOrderX25519: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
         0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00],
        [0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
         0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57],
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
        [0xee] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
    ]

    /// Whether a 32-byte X25519 u-coordinate is a point of small order (the top bit is ignored,
    /// as X25519 ignores it: RFC 7748 §5).
    static func isSmallOrderX25519(_ bytes: Data) -> Bool {
        guard bytes.count == 32 else { return true }
        var masked = [UInt8](bytes)
        masked[31] &= 0x7F
        return Self.smallOrderX25519.contains(masked)
    }

    /// Whether a 32-byte X25519 public key is in canonical form: top bit clear and u < p
    /// (2^255 - 19). A sender hashes the recipient's key as given, the recipient its own
    /// canonical form: a non-canonical key would make messages nobody can open.
    static func isCanonicalX25519(_ bytes: Data) -> Bool {
        let u = [UInt8](bytes)
        guard u.count == 32, u[31] & 0x80 == 0 else { return false }
        // u >= p only when bytes 1-30 are 0xff, byte 31 is 0x7f and byte 0 is at least 0xed.
        let atLeastP = u[31] == 0x7F && u[1...30].allSatisfy { $0 == 0xFF } && u[0] >= 0xED
        return !atLeastP
    }

    /// HPKE's `info` for a message: the header, then the context.
    static func info(header: [UInt8], context: Data) -> Data {
        var info = Data(header)
        info.append(context)
        return info
    }
}
