import Crypto
import Foundation

/// One key of a ``TinkKeyset``: Tink's metadata and, for the key types Bulwark reads, the key.
struct TinkKey: Sendable {
    /// Tink's `OutputPrefixType`.
    enum Prefix: UInt64, Sendable {
        case tink = 1, legacy = 2, raw = 3, crunchy = 4
        var name: String {
            switch self {
            case .tink: "TINK"
            case .legacy: "LEGACY"
            case .raw: "RAW"
            case .crunchy: "CRUNCHY"
            }
        }
    }

    /// Tink's `KeyStatusType`.
    enum Status: UInt64, Sendable {
        case enabled = 1, disabled = 2, destroyed = 3
        var name: String {
            switch self {
            case .enabled: "ENABLED"
            case .disabled: "DISABLED"
            case .destroyed: "DESTROYED"
            }
        }
    }

    /// The key itself, for the types Bulwark reads (others are carried over unread).
    enum Material: Sendable {
        case aesGCM(SymmetricKey)
        case aesSIV(AESSIV)
        case hmac(SymmetricKey, hash: TinkHash, tagSize: Int)
        case ed25519(Curve25519.Signing.PrivateKey)
        case ed25519Public(Curve25519.Signing.PublicKey)
        case ecdsaP256(P256.Signing.PrivateKey, der: Bool)
        case ecdsaP256Public(P256.Signing.PublicKey, der: Bool)
        case hpke(TinkHPKE)
        case hpkePublic(TinkHPKE.PublicKey)
        case unread
    }

    var id: UInt32
    var status: Status
    var prefix: Prefix
    /// Tink's `KeyData`: the type URL, the serialized key message, the material type.
    var typeURL: String
    var value: Data
    var materialType: UInt64
    var material: Material

    /// The bytes in front of each ciphertext, tag or signature: 0x01 ‖ id (TINK), 0x00 ‖ id
    /// (LEGACY, CRUNCHY), nothing (RAW).
    var outputPrefix: Data {
        var bytes: [UInt8]
        switch self.prefix {
        case .raw: return Data()
        case .tink: bytes = [0x01]
        case .legacy, .crunchy: bytes = [0x00]
        }
        bytes.appendBigEndian(self.id)
        return Data(bytes)
    }

    /// What MACs and signatures cover: LEGACY keys append a zero byte to the data.
    func signedData(_ data: Data) -> Data {
        self.prefix == .legacy ? data + Data([0]) : data
    }

    static let typePrefix = "type.googleapis.com/google.crypto.tink."

    /// Reads the key message of `typeURL` (unknown types are kept unread).
    static func material(typeURL: String, value: Data) throws -> Material {
        do {
            return try Self.parseMaterial(typeURL: typeURL, value: value)
        } catch let error as BulwarkError {
            throw error
        } catch {
            // swift-crypto's refusals (a key of the wrong length, a point off the curve).
            throw BulwarkError(.invalidFormat, "a Tink key message holds a key that is not valid")
        }
    }

    private static func parseMaterial(typeURL: String, value: Data) throws -> Material {
        guard typeURL.hasPrefix(Self.typePrefix) else { return .unread }
        let message = try TinkProto.Message(parsing: value)
        guard message.varint(1) == 0 else { throw BulwarkError(.invalidFormat, "a Tink key has an unknown version") }
        switch typeURL.dropFirst(Self.typePrefix.count) {
        case "AesGcmKey":
            let key = message.bytes(3)
            guard key.count == 16 || key.count == 32 else { throw BulwarkError(.invalidFormat, "a Tink AES-GCM key is 16 or 32 bytes") }
            return .aesGCM(SymmetricKey(data: key))
        case "AesSivKey":
            let key = message.bytes(2)
            guard key.count == 64 else { throw BulwarkError(.invalidFormat, "a Tink AES-SIV key is 64 bytes") }
            return .aesSIV(try AESSIV(key: SymmetricKey(data: key)))
        case "HmacKey":
            let params = try TinkProto.Message(parsing: message.bytes(2))
            let key = message.bytes(3)
            guard let hash = TinkHash(rawValue: params.varint(1)) else {
                throw BulwarkError(.invalidFormat, "a Tink HMAC key uses a hash Bulwark does not (only SHA-256, SHA-384, SHA-512)")
            }
            let tagSize = Int(clamping: params.varint(2))
            guard key.count >= 16, (10...hash.digestLength).contains(tagSize) else { throw BulwarkError(.invalidFormat, "a Tink HMAC key or tag size is out of range") }
            return .hmac(SymmetricKey(data: key), hash: hash, tagSize: tagSize)
        case "Ed25519PrivateKey":
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: message.bytes(2))
            let publicKey = try TinkProto.Message(parsing: message.bytes(3))
            guard publicKey.varint(1) == 0, publicKey.bytes(2) == key.publicKey.rawRepresentation else {
                throw BulwarkError(.invalidFormat, "a Tink Ed25519 key's public half does not match its private key")
            }
            return .ed25519(key)
        case "Ed25519PublicKey":
            return .ed25519Public(try Curve25519.Signing.PublicKey(rawRepresentation: message.bytes(2)))
        case "EcdsaPrivateKey":
            let (publicKey, der) = try Self.ecdsaPublic(try TinkProto.Message(parsing: message.bytes(2)))
            let key = try P256.Signing.PrivateKey(rawRepresentation: try Self.fixed(message.bytes(3), 32))
            guard key.publicKey.rawRepresentation == publicKey.rawRepresentation else {
                throw BulwarkError(.invalidFormat, "a Tink ECDSA key's public half does not match its private key")
            }
            return .ecdsaP256(key, der: der)
        case "EcdsaPublicKey":
            let (publicKey, der) = try Self.ecdsaPublic(message)
            return .ecdsaP256Public(publicKey, der: der)
        case "HpkePrivateKey":
            return .hpke(try TinkHPKE(privateKey: message))
        case "HpkePublicKey":
            return .hpkePublic(try TinkHPKE.PublicKey(message))
        default:
            return .unread
        }
    }

    /// An `EcdsaPublicKey` message: NIST P-256 with SHA-256 only; DER or IEEE P1363 signatures.
    private static func ecdsaPublic(_ message: TinkProto.Message) throws -> (P256.Signing.PublicKey, der: Bool) {
        let params = try TinkProto.Message(parsing: message.bytes(2))
        guard params.varint(1) == TinkHash.sha256.rawValue, params.varint(2) == 2 else {
            throw BulwarkError(.invalidFormat, "only Tink ECDSA keys on NIST P-256 with SHA-256 are read")
        }
        guard let encoding = [1: false, 2: true][params.varint(3)] else { throw BulwarkError(.invalidFormat, "a Tink ECDSA key has no signature encoding") }
        let point = Data([0x04]) + (try Self.fixed(message.bytes(3), 32)) + (try Self.fixed(message.bytes(4), 32))
        return (try P256.Signing.PublicKey(x963Representation: point), encoding)
    }

    /// A big-endian integer as exactly `length` bytes (Tink writes them as signed big integers,
    /// sometimes with a leading zero).
    static func fixed(_ bytes: Data, _ length: Int) throws -> Data {
        let trimmed = bytes.drop { $0 == 0 }
        guard trimmed.count <= length else { throw BulwarkError(.invalidFormat, "a Tink key integer is too long") }
        return Data(count: length - trimmed.count) + trimmed
    }
}

/// The HMAC hashes Tink keys name that Bulwark computes (`HashType`; SHA-1 and SHA-224 are not read).
enum TinkHash: UInt64, Sendable {
    case sha384 = 2, sha256 = 3, sha512 = 4

    var digestLength: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    func mac(_ data: Data, key: SymmetricKey) -> Data {
        switch self {
        case .sha256: Data(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha384: Data(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case .sha512: Data(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }
}
