import Crypto
import Foundation

/// The private key of one hybrid-encryption key version, with what HPKE (RFC 9180) needs to
/// open a message to it. Internal: reached only through ``Keyset``.
enum HybridPrivateKey: Sendable {
    case x25519(Curve25519.KeyAgreement.PrivateKey)
    case p256(P256.KeyAgreement.PrivateKey)
    case xwing(XWingMLKEM768X25519.PrivateKey)

    /// The key type this key serves.
    var type: KeyType {
        switch self {
        case .x25519: return .hpkeX25519
        case .p256: return .hpkeP256
        case .xwing: return .hpkeXWing
        }
    }

    /// A fresh key for `type` (one of the `hpke-*` types).
    static func generate(for type: KeyType) -> HybridPrivateKey {
        switch type {
        case .hpkeP256: return .p256(P256.KeyAgreement.PrivateKey())
        case .hpkeXWing:
            // The 32-byte seed is the key (X-Wing's decapsulation key); generation cannot fail
            // with a seed of the right length.
            let seed = SecureRandom.bytes(32)
            guard let key = try? XWingMLKEM768X25519.PrivateKey(seedRepresentation: seed, publicKey: nil) else {
                fatalError("X-Wing refused a 32-byte seed")
            }
            return .xwing(key)
        default: return .x25519(Curve25519.KeyAgreement.PrivateKey())
        }
    }

    /// Rebuilds a key from ``rawBytes``: the X25519 or P-256 scalar, or X-Wing's 32-byte seed.
    init(rawBytes: Data, type: KeyType) throws {
        guard rawBytes.count == 32 else { throw BulwarkError(.invalidFormat, "key material has the wrong length") }
        switch type {
        case .hpkeX25519: self = .x25519(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: rawBytes))
        case .hpkeP256: self = .p256(try P256.KeyAgreement.PrivateKey(rawRepresentation: rawBytes))
        case .hpkeXWing: self = .xwing(try XWingMLKEM768X25519.PrivateKey(seedRepresentation: rawBytes, publicKey: nil))
        default: throw BulwarkError(.invalidFormat, "key material does not match the key type \(type)")
        }
    }

    /// The secret bytes (treat as secret).
    var rawBytes: Data {
        switch self {
        case .x25519(let key): return key.rawRepresentation
        case .p256(let key): return key.rawRepresentation
        case .xwing(let key): return key.seedRepresentation
        }
    }

    /// The public key as HPKE serialises it (RFC 9180 §7.1.1: X25519 32 bytes, P-256 65 bytes
    /// uncompressed; X-Wing 1,216 bytes).
    var publicKeyBytes: Data {
        switch self {
        case .x25519(let key): return key.publicKey.rawRepresentation
        case .p256(let key): return key.publicKey.x963Representation
        case .xwing(let key): return key.publicKey.rawRepresentation
        }
    }

    /// An HPKE base-mode recipient of this key for encapsulated key `enc` under `info`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when `enc` is not one (a malformed point).
    func recipient(encapsulatedKey enc: Data, info: Data) throws -> HPKE.Recipient {
        let suite = HybridSuite.ciphersuite(self.type)
        if case .x25519 = self, HybridSuite.isSmallOrderX25519(enc) {
            // The shared secret would be all zeros (RFC 9180 §7.1.4: refused).
            throw BulwarkError(.authenticationFailed, "the encapsulated key is a point of small order: the data was altered")
        }
        do {
            switch self {
            case .x25519(let key): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            case .p256(let key): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            case .xwing(let key): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            }
        } catch {
            throw BulwarkError(.authenticationFailed, "the encapsulated key is malformed: the data was altered")
        }
    }

    /// Opens `ciphertext` sent to this key with encapsulated key `enc` under `info`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` for anything that does not open.
    func open(encapsulatedKey enc: Data, ciphertext: Data, info: Data) throws -> Data {
        var recipient = try self.recipient(encapsulatedKey: enc, info: info)
        do {
            return try recipient.open(ciphertext)
        } catch {
            throw BulwarkError(.authenticationFailed, "the hybrid ciphertext does not open: it was altered, or made for another key or context")
        }
    }
}
