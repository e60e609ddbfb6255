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
    /// The ciphersuite of a hybrid key type.
    static func ciphersuite(_ type: KeyType) -> HPKE.Ciphersuite {
        switch type {
        case .hpkeP256: return .P256_SHA256_AES_GCM_256
        case .hpkeXWing: return .XWingMLKEM768X25519_SHA256_AES_GCM_256
        default: return HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_256)
        }
    }

    /// The length of HPKE's encapsulated key for a hybrid key type.
    static func encapsulatedKeyLength(_ type: KeyType) -> Int {
        switch type {
        case .hpkeP256: return 65
        case .hpkeXWing: return 1120
        default: return 32
        }
    }

    /// The length of a serialised public key for a hybrid key type.
    static func publicKeyLength(_ type: KeyType) -> Int {
        switch type {
        case .hpkeP256: return 65
        case .hpkeXWing: return 1216
        default: return 32
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
