import Crypto
import Foundation

/// The private key of one hybrid-encryption key version, with what HPKE (RFC 9180) needs to
/// open a message to it. Internal: reached only through ``Keyset``.
struct HybridPrivateKey: Sendable {
    /// The key itself, by KEM.
    enum Backing: Sendable {
        case x25519(Curve25519.KeyAgreement.PrivateKey)
        case p256(P256.KeyAgreement.PrivateKey)
        case xwing(XWingMLKEM768X25519.PrivateKey)
    }

    /// The key type this key serves (its KEM and AEAD).
    let type: KeyType
    /// The key.
    let backing: Backing

    private init(type: KeyType, backing: Backing) {
        self.type = type
        self.backing = backing
    }

    /// A fresh key for `type` (one of the `hpke-*` types).
    static func generate(for type: KeyType) -> HybridPrivateKey {
        precondition(type.purpose == .hybridEncryption, "a hybrid key for a \(type) key")
        switch HybridSuite.kem(type) {
        case .p256: return HybridPrivateKey(type: type, backing: .p256(P256.KeyAgreement.PrivateKey()))
        case .xwing:
            // The 32-byte seed is the key (X-Wing's decapsulation key); generation cannot fail
            // with a seed of the right length.
            let seed = SecureRandom.bytes(32)
            guard let key = try? XWingMLKEM768X25519.PrivateKey(seedRepresentation: seed, publicKey: nil) else {
                fatalError("X-Wing refused a 32-byte seed")
            }
            return HybridPrivateKey(type: type, backing: .xwing(key))
        case .x25519: return HybridPrivateKey(type: type, backing: .x25519(Curve25519.KeyAgreement.PrivateKey()))
        }
    }

    /// Rebuilds a key from ``rawBytes``: the X25519 or P-256 scalar, or X-Wing's 32-byte seed.
    init(rawBytes: Data, type: KeyType) throws {
        guard type.purpose == .hybridEncryption else { throw BulwarkError(.invalidFormat, "key material does not match the key type \(type)") }
        guard rawBytes.count == 32 else { throw BulwarkError(.invalidFormat, "key material has the wrong length") }
        self.type = type
        switch HybridSuite.kem(type) {
        case .x25519: self.backing = .x25519(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: rawBytes))
        case .p256: self.backing = .p256(try P256.KeyAgreement.PrivateKey(rawRepresentation: rawBytes))
        case .xwing: self.backing = .xwing(try XWingMLKEM768X25519.PrivateKey(seedRepresentation: rawBytes, publicKey: nil))
        }
    }

    /// The secret bytes (treat as secret).
    var rawBytes: Data {
        switch self.backing {
        case .x25519(let key): return key.rawRepresentation
        case .p256(let key): return key.rawRepresentation
        case .xwing(let key): return key.seedRepresentation
        }
    }

    /// The public key as HPKE serialises it (RFC 9180 §7.1.1: X25519 32 bytes, P-256 65 bytes
    /// uncompressed; X-Wing 1,216 bytes).
    var publicKeyBytes: Data {
        switch self.backing {
        case .x25519(let key): return key.publicKey.rawRepresentation
        case .p256(let key): return key.publicKey.x963Representation
        case .xwing(let key): return key.publicKey.rawRepresentation
        }
    }

    /// An HPKE recipient of this key for encapsulated key `enc` under `info`: base mode, or auth
    /// mode (RFC 9180 §5.1.3) with `sender`, the public key the sender authenticated with.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when `enc` is not one (a malformed
    ///   point); ``BulwarkError/Code/invalidArgument`` for a sender key of another KEM, or any
    ///   sender key for X-Wing (a KEM without Diffie-Hellman has no auth mode).
    func recipient(encapsulatedKey enc: Data, info: Data, sender: HybridPublicKey? = nil) throws -> HPKE.Recipient {
        let suite = HybridSuite.ciphersuite(self.type)
        if case .x25519 = self.backing, HybridSuite.isSmallOrderX25519(enc) {
            // The shared secret would be all zeros (RFC 9180 §7.1.4: refused).
            throw BulwarkError(.authenticationFailed, "the encapsulated key is a point of small order: the data was altered")
        }
        let senderKey = try sender.map { try HybridSuite.authenticationKey($0, for: self.type) }
        do {
            switch (self.backing, senderKey) {
            case (.x25519(let key), nil): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            case (.p256(let key), nil): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            case (.xwing(let key), nil): return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc)
            case (.x25519(let key), .x25519(let senderKey)?):
                return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc, authenticatedBy: senderKey)
            case (.p256(let key), .p256(let senderKey)?):
                return try HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc, authenticatedBy: senderKey)
            default:
                throw BulwarkError(.invalidArgument, "the sender's key does not fit this \(self.type) key")
            }
        } catch let error as BulwarkError {
            throw error
        } catch {
            throw BulwarkError(.authenticationFailed, "the encapsulated key is malformed: the data was altered")
        }
    }

    /// Opens `ciphertext` sent to this key with encapsulated key `enc` under `info` (auth mode
    /// when `sender` is given).
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` for anything that does not open (a
    ///   message from another sender, or in the other mode, included).
    func open(encapsulatedKey enc: Data, ciphertext: Data, info: Data, sender: HybridPublicKey? = nil) throws -> Data {
        var recipient = try self.recipient(encapsulatedKey: enc, info: info, sender: sender)
        do {
            return try recipient.open(ciphertext)
        } catch {
            throw BulwarkError(.authenticationFailed, "the hybrid ciphertext does not open: it was altered, or made for another key, context or sender")
        }
    }

    /// An HPKE auth-mode sender (RFC 9180 §5.1.3) from this key to `recipient`: a fresh
    /// encapsulation under `info`, authenticated by this key.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a recipient of another KEM, or X-Wing.
    func sender(to recipient: HybridPublicKey, info: Data) throws -> HPKE.Sender {
        let recipientKey = try HybridSuite.authenticationKey(recipient, for: self.type)
        let suite = HybridSuite.ciphersuite(recipient.type)
        do {
            switch (self.backing, recipientKey) {
            case (.x25519(let key), .x25519(let recipientKey)):
                return try HPKE.Sender(recipientKey: recipientKey, ciphersuite: suite, info: info, authenticatedBy: key)
            case (.p256(let key), .p256(let recipientKey)):
                return try HPKE.Sender(recipientKey: recipientKey, ciphersuite: suite, info: info, authenticatedBy: key)
            default:
                throw BulwarkError(.invalidArgument, "the recipient's key does not fit this \(self.type) key")
            }
        } catch let error as BulwarkError {
            throw error
        } catch {
            throw BulwarkError(.internalFailure, "HPKE could not encapsulate to the \(recipient.type) public key")
        }
    }
}
