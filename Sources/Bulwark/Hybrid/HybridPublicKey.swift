import Crypto
public import Foundation

/// The public half of one version of a hybrid-encryption key (`hpke-x25519`, `hpke-p256`,
/// `hpke-xwing`): what a sender needs to encrypt to the key's holder, and nothing that decrypts.
///
/// Get one from ``Keyset/hybridPublicKey(version:)`` and hand it to the senders (it is not
/// secret); a sender encrypts with ``encrypt(_:context:)`` and only the keyset opens the result
/// (``Keyset/hybridDecrypt(_:context:)``), whichever version is primary by then.
public struct HybridPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The key type (one of the `hpke-*` types).
    public let type: KeyType
    /// The id of the keyset the key belongs to.
    public let keyID: UInt32
    /// The key version.
    public let version: UInt32
    /// The public key as HPKE serialises it: X25519 32 bytes, P-256 65 bytes (uncompressed
    /// point), X-Wing 1,216 bytes (ML-KEM-768's 1,184 then X25519's 32).
    public let rawRepresentation: Data
    /// The parsed key, kept so that each message skips parsing (and, for P-256, validating) it.
    private let parsed: Parsed

    private enum Parsed: Sendable {
        case x25519(Curve25519.KeyAgreement.PublicKey)
        case p256(P256.KeyAgreement.PublicKey)
        case xwing(XWingMLKEM768X25519.PublicKey)
    }

    /// Rebuilds a public key from its parts, checking that the bytes are a key of `type`.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a type that is not hybrid, or bytes
    ///   that are not a public key of that type.
    public init(type: KeyType, keyID: UInt32, version: UInt32, rawRepresentation: Data) throws {
        guard type.purpose == .hybridEncryption else {
            throw BulwarkError(.invalidArgument, "a \(type) key is not a hybrid-encryption key")
        }
        guard version >= 1, rawRepresentation.count == HybridSuite.publicKeyLength(type) else {
            throw BulwarkError(.invalidArgument, "not a \(type) public key (wrong length or version)")
        }
        do {
            switch type {
            case .hpkeP256: self.parsed = .p256(try P256.KeyAgreement.PublicKey(x963Representation: rawRepresentation))
            case .hpkeXWing: self.parsed = .xwing(try XWingMLKEM768X25519.PublicKey(rawRepresentation: rawRepresentation))
            default: self.parsed = .x25519(try Curve25519.KeyAgreement.PublicKey(rawRepresentation: rawRepresentation))
            }
        } catch {
            throw BulwarkError(.invalidArgument, "not a \(type) public key")
        }
        self.type = type
        self.keyID = keyID
        self.version = version
        self.rawRepresentation = rawRepresentation
    }

    /// Whether two values are the same key version's public key.
    public static func == (lhs: HybridPublicKey, rhs: HybridPublicKey) -> Bool {
        lhs.type == rhs.type && lhs.keyID == rhs.keyID && lhs.version == rhs.version && lhs.rawRepresentation == rhs.rawRepresentation
    }

    /// Hashes the type, key id, version and key bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.type)
        hasher.combine(self.keyID)
        hasher.combine(self.version)
        hasher.combine(self.rawRepresentation)
    }

    /// Type, key id and version.
    public var description: String { "HybridPublicKey(type: \(self.type), keyID: \(self.keyID), version: \(self.version))" }

    /// Encrypts `plaintext` to this key: a fresh HPKE encapsulation per message (no nonce or
    /// ephemeral key is ever taken from the caller).
    /// - Parameters:
    ///   - plaintext: The data to protect.
    ///   - context: Context bound to the message (a record id, a purpose); the same context is
    ///     needed to decrypt. Not encrypted, not stored in the message.
    /// - Returns: The message: header, encapsulated key, ciphertext (see ``Keyset/hybridDecrypt(_:context:)``).
    public func encrypt<Plaintext: DataProtocol, Context: DataProtocol>(_ plaintext: Plaintext, context: Context) throws -> Data {
        let header = EnvelopeHeader(algorithmID: self.type.wireID, keyID: self.keyID, keyVersion: self.version).bytes(includingContextCheck: false)
        let info = HybridSuite.info(header: header, context: Data(context))
        let suite = HybridSuite.ciphersuite(self.type)
        var sender: HPKE.Sender
        switch self.parsed {
        case .p256(let key): sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
        case .xwing(let key): sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
        case .x25519(let key): sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
        }
        let ciphertext = try sender.seal(plaintext)
        var message = Data(header)
        message.reserveCapacity(header.count + sender.encapsulatedKey.count + ciphertext.count)
        message.append(sender.encapsulatedKey)
        message.append(ciphertext)
        return message
    }

    /// Encrypts `plaintext` to this key with no context.
    public func encrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext) throws -> Data {
        try self.encrypt(plaintext, context: Data())
    }
}
