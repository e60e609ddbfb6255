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

    /// HPKE's `info` for a message: the header, then the context.
    static func info(header: [UInt8], context: Data) -> Data {
        var info = Data(header)
        info.append(context)
        return info
    }
}
