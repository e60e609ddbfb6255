import Crypto
import Foundation

/// A kind of key for ``TinkKeyset/generate(_:prefix:)`` and ``TinkKeyset/add(_:prefix:makePrimary:)``,
/// as Tink's key templates of the same names make them.
public enum TinkKeyTemplate: String, Sendable, CaseIterable {
    /// `AES128_GCM`.
    case aes128GCM = "AES128_GCM"
    /// `AES256_GCM`.
    case aes256GCM = "AES256_GCM"
    /// `AES256_SIV`.
    case aes256SIV = "AES256_SIV"
    /// `HMAC_SHA256_256BITTAG`.
    case hmacSHA256 = "HMAC_SHA256_256BITTAG"
    /// `HMAC_SHA512_512BITTAG`.
    case hmacSHA512 = "HMAC_SHA512_512BITTAG"
    /// `ED25519`.
    case ed25519 = "ED25519"
    /// `ECDSA_P256` (DER signatures).
    case ecdsaP256 = "ECDSA_P256"
    /// `DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM`.
    case hpkeX25519AES256GCM = "DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM"
    /// `X_WING_HKDF_SHA256_HKDF_SHA256_AES_256_GCM`.
    case hpkeXWingAES256GCM = "X_WING_HKDF_SHA256_HKDF_SHA256_AES_256_GCM"
}

/// Tink's output prefix for new keys.
public enum TinkOutputPrefix: Sendable {
    /// 0x01 ‖ key id: Tink's default.
    case tink
    /// No prefix (interoperates with non-Tink peers; decryption then tries every RAW key).
    case raw
}

extension TinkKeyset {
    /// A new keyset with one key, its primary.
    public static func generate(_ template: TinkKeyTemplate, prefix: TinkOutputPrefix = .tink) throws -> TinkKeyset {
        let key = try Self.makeKey(template, prefix: prefix, avoiding: [])
        return TinkKeyset(primaryID: key.id, keys: [key])
    }

    /// Adds a new key (Tink's `KeysetManager.add`), optionally as the new primary (rotation).
    /// - Returns: The new key's id.
    @discardableResult
    public mutating func add(_ template: TinkKeyTemplate, prefix: TinkOutputPrefix = .tink, makePrimary: Bool) throws -> UInt32 {
        let key = try Self.makeKey(template, prefix: prefix, avoiding: Set(self.keyIDs))
        let primitives = Set(self.keys.compactMap { Self.primitive(of: $0.material) })
        guard let primitive = Self.primitive(of: key.material), primitives.isSubset(of: [primitive]) else {
            throw BulwarkError(.invalidArgument, "a Tink keyset holds keys of one primitive: \(template.rawValue) does not fit")
        }
        self.keys.append(key)
        if makePrimary { self.primaryID = key.id }
        return key.id
    }

    /// The public keyset of a signing or HPKE keyset (Tink's `public_keyset_handle`): what
    /// verifiers and senders are given.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` when a key has no public half.
    public func publicKeyset() throws -> TinkKeyset {
        var copy = self
        copy.keys = try self.keys.map { key in
            var out = key
            switch key.material {
            case .ed25519(let privateKey):
                // Written from the private key itself, never copied from the stored message.
                out.material = .ed25519Public(privateKey.publicKey)
                out.typeURL = TinkKey.typePrefix + "Ed25519PublicKey"
                var writer = TinkProto.Writer()
                writer.bytes(2, privateKey.publicKey.rawRepresentation)
                out.value = writer.data
            case .ecdsaP256(let privateKey, let der):
                out.material = .ecdsaP256Public(privateKey.publicKey, der: der)
                out.typeURL = TinkKey.typePrefix + "EcdsaPublicKey"
                out.value = try TinkProto.Message(parsing: key.value).bytes(2)
            case .hpke(let pair):
                out.material = .hpkePublic(pair.publicKey)
                out.typeURL = TinkKey.typePrefix + "HpkePublicKey"
                out.value = try TinkProto.Message(parsing: key.value).bytes(2)
            case .ed25519Public, .ecdsaP256Public, .hpkePublic:
                break
            default:
                throw BulwarkError(.wrongPurpose, "a key of the Tink keyset has no public half")
            }
            out.materialType = 3
            return out
        }
        return copy
    }

    private static func makeKey(_ template: TinkKeyTemplate, prefix: TinkOutputPrefix, avoiding ids: Set<UInt32>) throws -> TinkKey {
        var id: UInt32
        repeat {
            id = SecureRandom.bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
        } while id == 0 || ids.contains(id)
        var writer = TinkProto.Writer()
        let typeName: String
        var materialType: UInt64 = 1
        switch template {
        case .aes128GCM, .aes256GCM:
            typeName = "AesGcmKey"
            writer.bytes(3, Data(SecureRandom.bytes(template == .aes128GCM ? 16 : 32)))
        case .aes256SIV:
            typeName = "AesSivKey"
            writer.bytes(2, Data(SecureRandom.bytes(64)))
        case .hmacSHA256, .hmacSHA512:
            typeName = "HmacKey"
            var params = TinkProto.Writer()
            params.varint(1, template == .hmacSHA256 ? TinkHash.sha256.rawValue : TinkHash.sha512.rawValue)
            params.varint(2, template == .hmacSHA256 ? 32 : 64)
            writer.bytes(2, params.data)
            // Tink's templates: 32-byte keys for HMAC-SHA-256, 64-byte keys for HMAC-SHA-512.
            writer.bytes(3, Data(SecureRandom.bytes(template == .hmacSHA256 ? 32 : 64)))
        case .ed25519:
            typeName = "Ed25519PrivateKey"
            materialType = 2
            let key = Curve25519.Signing.PrivateKey()
            var publicKey = TinkProto.Writer()
            publicKey.bytes(2, key.publicKey.rawRepresentation)
            writer.bytes(2, key.rawRepresentation)
            writer.bytes(3, publicKey.data)
        case .ecdsaP256:
            typeName = "EcdsaPrivateKey"
            materialType = 2
            let key = P256.Signing.PrivateKey()
            var params = TinkProto.Writer()
            params.varint(1, TinkHash.sha256.rawValue)
            params.varint(2, 2)  // NIST_P256
            params.varint(3, 2)  // DER
            let point = key.publicKey.x963Representation
            var publicKey = TinkProto.Writer()
            publicKey.bytes(2, params.data)
            publicKey.bytes(3, point[1...32])
            publicKey.bytes(4, point[33...64])
            writer.bytes(2, publicKey.data)
            writer.bytes(3, key.rawRepresentation)
        case .hpkeX25519AES256GCM, .hpkeXWingAES256GCM:
            typeName = "HpkePrivateKey"
            materialType = 2
            var params = TinkProto.Writer()
            params.varint(1, template == .hpkeX25519AES256GCM ? 1 : 5)
            params.varint(2, 1)
            params.varint(3, 2)
            let (publicBytes, secret): (Data, Data)
            if template == .hpkeX25519AES256GCM {
                let key = Curve25519.KeyAgreement.PrivateKey()
                (publicBytes, secret) = (key.publicKey.rawRepresentation, key.rawRepresentation)
            } else {
                let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: Data(SecureRandom.bytes(32)), publicKey: nil)
                (publicBytes, secret) = (key.publicKey.rawRepresentation, key.seedRepresentation)
            }
            var publicKey = TinkProto.Writer()
            publicKey.bytes(2, params.data)
            publicKey.bytes(3, publicBytes)
            writer.bytes(2, publicKey.data)
            writer.bytes(3, secret)
        }
        let typeURL = TinkKey.typePrefix + typeName
        return TinkKey(
            id: id, status: .enabled, prefix: prefix == .tink ? .tink : .raw, typeURL: typeURL, value: writer.data,
            materialType: materialType, material: try TinkKey.material(typeURL: typeURL, value: writer.data))
    }
}
