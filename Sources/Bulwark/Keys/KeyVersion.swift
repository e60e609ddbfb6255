import Crypto
public import Foundation

/// Public, secret-free facts about one key version.
public struct KeyVersionInfo: Sendable, Hashable, CustomStringConvertible {
    /// The version number, from 1.
    public let version: UInt32
    /// Whether the version is enabled, disabled or destroyed.
    public let status: KeyStatus
    /// When the version was created.
    public let createdAt: Date

    /// The version, status and creation time; never key bytes.
    public var description: String { "v\(self.version) \(self.status) created \(self.createdAt)" }
}

/// One version of a key: its status and (unless destroyed) its material and ready primitives.
struct KeyVersion: Sendable {
    let number: UInt32
    var status: KeyStatus
    let createdAt: Date
    private(set) var material: KeyMaterial?
    private(set) var primitive: KeyPrimitive?

    init(number: UInt32, status: KeyStatus, createdAt: Date, material: KeyMaterial?, type: KeyType) throws {
        self.number = number
        self.status = material == nil ? .destroyed : status
        self.createdAt = createdAt
        self.material = material
        self.primitive = try material.map { try KeyPrimitive(type: type, material: $0) }
    }

    var info: KeyVersionInfo { KeyVersionInfo(version: self.number, status: self.status, createdAt: self.createdAt) }

    /// Erases the material: the version can never be used again.
    mutating func destroy() {
        self.material = nil
        self.primitive = nil
        self.status = .destroyed
    }
}

/// The ready-to-use primitive for a version, built once so that each operation skips setup.
enum KeyPrimitive: Sendable {
    case nonceAEAD(any NonceAEAD)
    case siv(AESSIV)
    case hmac(SymmetricKey, sha512: Bool)
    case ed25519(Curve25519.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case hybrid(HybridPrivateKey)
    case age(AgeIdentity)
    case signer(SigningPrivateKey)

    init(type: KeyType, material: KeyMaterial) throws {
        switch (type, material) {
        case (.aes256GCM, .symmetric(let key)):
            self = .nonceAEAD(try NonceAEADFactory.make(.aes256GCM, key: key))
        case (.aes128GCM, .symmetric(let key)):
            self = .nonceAEAD(try NonceAEADFactory.make(.aes128GCM, key: key))
        case (.chacha20Poly1305, .symmetric(let key)):
            self = .nonceAEAD(try NonceAEADFactory.make(.chacha20Poly1305, key: key))
        case (.aes256SIV, .symmetric(let key)):
            self = .siv(try AESSIV(key: key))
        case (.hmacSHA256, .symmetric(let key)):
            self = .hmac(key, sha512: false)
        case (.hmacSHA512, .symmetric(let key)):
            self = .hmac(key, sha512: true)
        case (.ed25519, .ed25519(let key)):
            self = .ed25519(key)
        case (.ecdsaP256, .p256(let key)):
            self = .p256(key)
        case (_, .hybrid(let key)) where type.purpose == .hybridEncryption && key.type == type:
            self = .hybrid(key)
        case (.ageX25519, .age(let identity)):
            self = .age(identity)
        case (_, .signer(let key)) where key.type == type:
            self = .signer(key)
        default:
            throw BulwarkError(.invalidFormat, "key material does not match the key type \(type)")
        }
    }
}
