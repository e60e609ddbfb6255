import Crypto
import Foundation

/// A Tink HPKE key (`HpkePrivateKey`): DHKEM(X25519) or X-Wing, HKDF-SHA256, and AES-128-GCM,
/// AES-256-GCM or ChaCha20-Poly1305, on swift-crypto's HPKE. Tink's hybrid ciphertext is
/// `enc ‖ ct` (after the output prefix), HPKE base mode with `info` = the context info and
/// empty associated data.
struct TinkHPKE: Sendable {
    enum Private: Sendable {
        case x25519(Curve25519.KeyAgreement.PrivateKey)
        case xwing(XWingMLKEM768X25519.PrivateKey)
    }

    /// The public half with its parameters (`HpkePublicKey`).
    struct PublicKey: Sendable {
        enum Key: Sendable {
            case x25519(Curve25519.KeyAgreement.PublicKey)
            case xwing(XWingMLKEM768X25519.PublicKey)
        }
        let key: Key
        /// Tink's `HpkeParams` (kem, kdf, aead), as read.
        let params: (kem: UInt64, kdf: UInt64, aead: UInt64)
        let suite: HPKE.Ciphersuite
        /// The raw public key (Tink's `public_key` field).
        let raw: Data

        init(_ message: TinkProto.Message) throws {
            guard message.varint(1) == 0 else { throw BulwarkError(.invalidFormat, "a Tink HPKE key has an unknown version") }
            let params = try TinkProto.Message(parsing: message.bytes(2))
            self.params = (params.varint(1), params.varint(2), params.varint(3))
            self.suite = try Self.suite(self.params)
            self.raw = message.bytes(3)
            switch self.params.kem {
            case 1:
                // As Bulwark's own hybrid keys: a key of small order or not canonical is refused.
                guard self.raw.count == 32, HybridSuite.isCanonicalX25519(self.raw), !HybridSuite.isSmallOrderX25519(self.raw) else {
                    throw BulwarkError(.invalidFormat, "a Tink HPKE X25519 public key is of small order or not canonical")
                }
                self.key = .x25519(try Curve25519.KeyAgreement.PublicKey(rawRepresentation: self.raw))
            default: self.key = .xwing(try XWingMLKEM768X25519.PublicKey(rawRepresentation: self.raw))
            }
        }

        /// The swift-crypto suite for Tink's parameters (DHKEM_X25519_HKDF_SHA256 = 1, X_WING = 5;
        /// HKDF_SHA256 = 1; AES_128_GCM = 1, AES_256_GCM = 2, CHACHA20_POLY1305 = 3).
        static func suite(_ params: (kem: UInt64, kdf: UInt64, aead: UInt64)) throws -> HPKE.Ciphersuite {
            let kem: HPKE.KEM
            switch params.kem {
            case 1: kem = .Curve25519_HKDF_SHA256
            case 5: kem = .XWingMLKEM768X25519
            default: throw BulwarkError(.invalidFormat, "a Tink HPKE key uses a KEM Bulwark does not read (X25519 and X-Wing only)")
            }
            guard params.kdf == 1 else { throw BulwarkError(.invalidFormat, "a Tink HPKE key uses a KDF other than HKDF-SHA256") }
            let aead: HPKE.AEAD
            switch params.aead {
            case 1: aead = .AES_GCM_128
            case 2: aead = .AES_GCM_256
            case 3: aead = .chaChaPoly
            default: throw BulwarkError(.invalidFormat, "a Tink HPKE key names an unknown AEAD")
            }
            return HPKE.Ciphersuite(kem: kem, kdf: .HKDF_SHA256, aead: aead)
        }

        /// `enc ‖ ct` of `plaintext` (a fresh encapsulation each time).
        func seal(_ plaintext: Data, info: Data) throws -> Data {
            var sender: HPKE.Sender
            switch self.key {
            case .x25519(let key): sender = try HPKE.Sender(recipientKey: key, ciphersuite: self.suite, info: info)
            case .xwing(let key): sender = try HPKE.Sender(recipientKey: key, ciphersuite: self.suite, info: info)
            }
            return sender.encapsulatedKey + (try sender.seal(plaintext))
        }

        var encapsulatedKeyLength: Int {
            switch self.key {
            case .x25519: 32
            case .xwing: 1120
            }
        }
    }

    let privateKey: Private
    let publicKey: PublicKey

    init(privateKey message: TinkProto.Message) throws {
        guard message.varint(1) == 0 else { throw BulwarkError(.invalidFormat, "a Tink HPKE key has an unknown version") }
        self.publicKey = try PublicKey(try TinkProto.Message(parsing: message.bytes(2)))
        let secret = message.bytes(3)
        switch self.publicKey.key {
        case .x25519(let expected):
            let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: secret)
            guard key.publicKey.rawRepresentation == expected.rawRepresentation else { throw Self.mismatch }
            self.privateKey = .x25519(key)
        case .xwing(let expected):
            let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: secret, publicKey: nil)
            guard key.publicKey.rawRepresentation == expected.rawRepresentation else { throw Self.mismatch }
            self.privateKey = .xwing(key)
        }
    }

    private static let mismatch = BulwarkError(.invalidFormat, "a Tink HPKE key's public half does not match its private key")

    /// Opens `enc ‖ ct`, or nil when it does not authenticate under this key.
    func open(_ message: Data, info: Data) -> Data? {
        let encLength = self.publicKey.encapsulatedKeyLength
        guard message.count >= encLength + 16 else { return nil }
        let enc = message.prefix(encLength)
        if case .x25519 = self.privateKey, HybridSuite.isSmallOrderX25519(Data(enc)) { return nil }
        do {
            var recipient: HPKE.Recipient
            switch self.privateKey {
            case .x25519(let key): recipient = try HPKE.Recipient(privateKey: key, ciphersuite: self.publicKey.suite, info: info, encapsulatedKey: Data(enc))
            case .xwing(let key): recipient = try HPKE.Recipient(privateKey: key, ciphersuite: self.publicKey.suite, info: info, encapsulatedKey: Data(enc))
            }
            return try recipient.open(message.dropFirst(encLength))
        } catch {
            return nil
        }
    }
}
