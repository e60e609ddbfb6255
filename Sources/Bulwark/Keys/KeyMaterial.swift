import Crypto
import Foundation

/// The secret of one key version. Internal: never printed, never `Codable`.
enum KeyMaterial: Sendable {
    case symmetric(SymmetricKey)
    case ed25519(Curve25519.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case hybrid(HybridPrivateKey)
    case age(AgeIdentity)
    case signer(SigningPrivateKey)

    /// Generates fresh material for `type`; an HMAC key `length` bytes long when given (see
    /// ``KeyType/hmacKeySizes``), its type's length otherwise.
    static func generate(for type: KeyType, length: Int? = nil) throws -> KeyMaterial {
        switch type {
        case .aes256GCM, .aes128GCM, .chacha20Poly1305, .aes256SIV, .hmacSHA256, .hmacSHA512:
            var bytes = SecureRandom.bytes(length ?? type.materialLength)
            defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            return .symmetric(SymmetricKey(data: bytes))
        case .ed25519:
            return .ed25519(Curve25519.Signing.PrivateKey())
        case .ecdsaP256:
            return .p256(P256.Signing.PrivateKey())
        case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305:
            return .hybrid(HybridPrivateKey.generate(for: type))
        case .ageX25519:
            return .age(AgeIdentity.generate())
        case .ecdsaP384, .ecdsaP521, .mlDSA65, .mlDSA87, .rsa2048, .rsa3072, .rsa4096:
            return .signer(try SigningPrivateKey.generate(for: type))
        }
    }

    /// Rebuilds material from its raw bytes; an HMAC key's must be `hmacLength` bytes when given
    /// (its key's ``Keyset/keySize``, or its type's length), any of ``KeyType/hmacKeySizes`` otherwise.
    static func fromRawBytes(_ bytes: Data, type: KeyType, hmacLength: Int? = nil) throws -> KeyMaterial {
        do {
            switch type {
            case .hmacSHA256, .hmacSHA512:
                // HMAC keys may have any of Vault's sizes (key_size).
                guard KeyType.hmacKeySizes.contains(bytes.count), hmacLength.map({ $0 == bytes.count }) ?? true else {
                    throw BulwarkError(.invalidFormat, "key material has the wrong length")
                }
                return .symmetric(SymmetricKey(data: bytes))
            case .aes256GCM, .aes128GCM, .chacha20Poly1305, .aes256SIV:
                guard bytes.count == type.materialLength else { throw BulwarkError(.invalidFormat, "key material has the wrong length") }
                return .symmetric(SymmetricKey(data: bytes))
            case .ed25519:
                return .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
            case .ecdsaP256:
                return .p256(try P256.Signing.PrivateKey(rawRepresentation: bytes))
            case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305:
                return .hybrid(try HybridPrivateKey(rawBytes: bytes, type: type))
            case .ageX25519:
                return .age(AgeIdentity(key: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)))
            case .ecdsaP384, .ecdsaP521, .mlDSA65, .mlDSA87, .rsa2048, .rsa3072, .rsa4096:
                return .signer(try SigningPrivateKey(rawBytes: bytes, type: type))
            }
        } catch let error as BulwarkError {
            throw error
        } catch {
            throw BulwarkError(.invalidFormat, "key material of a \(type) key is malformed")
        }
    }

    /// The raw secret bytes. Callers must treat the result as secret.
    var rawBytes: Data {
        switch self {
        case .symmetric(let key): return key.withUnsafeBytes { Data($0) }
        case .ed25519(let key): return key.rawRepresentation
        case .p256(let key): return key.rawRepresentation
        case .hybrid(let key): return key.rawBytes
        case .age(let identity): return identity.key.rawRepresentation
        case .signer(let key): return key.rawBytes
        }
    }
}
