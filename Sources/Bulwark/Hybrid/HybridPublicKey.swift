import Crypto
public import Foundation

/// The public half of one version of a hybrid-encryption key (`hpke-x25519`, `hpke-p256`,
/// `hpke-xwing`, and their `-chacha20-poly1305` variants): what a sender needs to encrypt to the
/// key's holder, and nothing that decrypts.
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
    let parsed: Parsed

    enum Parsed: Sendable {
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
            switch HybridSuite.kem(type) {
            case .p256: self.parsed = .p256(try P256.KeyAgreement.PublicKey(x963Representation: rawRepresentation))
            case .xwing: self.parsed = .xwing(try XWingMLKEM768X25519.PublicKey(rawRepresentation: rawRepresentation))
            case .x25519:
                // swift-crypto takes any 32 bytes; a small-order or non-canonical key is refused
                // here (RFC 9180 §7.1.4), before anything is encrypted to it.
                guard HybridSuite.isCanonicalX25519(rawRepresentation), !HybridSuite.isSmallOrderX25519(rawRepresentation) else {
                    throw BulwarkError(.invalidArgument, "not a usable X25519 public key (small order or not canonical)")
                }
                self.parsed = .x25519(try Curve25519.KeyAgreement.PublicKey(rawRepresentation: rawRepresentation))
            }
        } catch let error as BulwarkError {
            throw error
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

    /// The prefix of ``text``.
    public static let textPrefix = "bwpk1:"

    /// The key as one line of text to hand to senders: `bwpk1:` and the unpadded base64url of
    /// the algorithm id (1 byte), key id and version (4 bytes each, big-endian) and
    /// ``rawRepresentation``.
    public var text: String {
        var bytes = [self.type.wireID]
        bytes.appendBigEndian(self.keyID)
        bytes.appendBigEndian(self.version)
        bytes += self.rawRepresentation
        return Self.textPrefix + Base64URL.encode(bytes)
    }

    /// Reads a key written as ``text`` (surrounding white space is ignored).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything else.
    public init(text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.textPrefix), let data = Base64URL.decode(trimmed.dropFirst(Self.textPrefix.count)), data.count > 9,
            let type = KeyType.allCases.first(where: { $0.wireID == data[data.startIndex] && $0.purpose == .hybridEncryption })
        else {
            throw BulwarkError(.invalidFormat, "not a Bulwark public key (bwpk1:…)")
        }
        let bytes = [UInt8](data)
        do {
            try self.init(type: type, keyID: bytes.readBigEndianUInt32(at: 1), version: bytes.readBigEndianUInt32(at: 5), rawRepresentation: Data(bytes[9...]))
        } catch {
            throw BulwarkError(.invalidFormat, "not a Bulwark public key (bwpk1:…)")
        }
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
    /// - Throws: ``BulwarkError/Code/internalFailure`` if HPKE refuses (it does not for a key
    ///   this type accepted).
    public func encrypt<Plaintext: DataProtocol, Context: DataProtocol>(_ plaintext: Plaintext, context: Context) throws -> Data {
        try self.seal(plaintext, context: context) { info in try self.sender(info: info) }
    }

    /// The message `header ‖ enc ‖ ct` to this key, with HPKE's `info` = header ‖ context and
    /// the sender `makeSender` gives for that `info` (base or auth mode).
    func seal<Plaintext: DataProtocol, Context: DataProtocol>(
        _ plaintext: Plaintext, context: Context, makeSender: (Data) throws -> HPKE.Sender
    ) throws -> Data {
        let header = EnvelopeHeader(algorithmID: self.type.wireID, keyID: self.keyID, keyVersion: self.version).bytes(includingContextCheck: false)
        let info = HybridSuite.info(header: header, context: Data(context))
        var sender = try makeSender(info)
        let ciphertext: Data
        do {
            ciphertext = try sender.seal(plaintext)
        } catch {
            throw BulwarkError(.internalFailure, "HPKE could not seal the message")
        }
        var message = Data(header)
        message.reserveCapacity(header.count + sender.encapsulatedKey.count + ciphertext.count)
        message.append(sender.encapsulatedKey)
        message.append(ciphertext)
        return message
    }

    /// An HPKE base-mode sender to this key: a fresh encapsulation under `info`.
    /// - Throws: ``BulwarkError/Code/internalFailure`` if HPKE refuses (it does not for a key
    ///   this type accepted).
    func sender(info: Data) throws -> HPKE.Sender {
        let suite = HybridSuite.ciphersuite(self.type)
        do {
            switch self.parsed {
            case .p256(let key): return try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
            case .xwing(let key): return try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
            case .x25519(let key): return try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
            }
        } catch {
            throw BulwarkError(.internalFailure, "HPKE could not encapsulate to the \(self.type) public key")
        }
    }
}

extension HybridPublicKey {
    /// Starts a stream encrypted to this public key, in constant memory whatever its size.
    /// Write ``StreamEncryptor/header`` (the stream header and the encapsulated key) first, then
    /// the segments.
    /// - Parameters:
    ///   - context: Associated data bound to the whole stream; the same is needed to decrypt.
    ///   - segmentSize: Ciphertext bytes per segment; 64 KiB by default.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a segment size outside 64 bytes-16 MiB.
    public func makeStreamEncryptor<Context: DataProtocol>(
        context: Context, segmentSize: Int = StreamHeader.defaultSegmentSize
    ) throws -> StreamEncryptor {
        guard StreamHeader.segmentSizeRange.contains(segmentSize) else {
            throw BulwarkError(.invalidArgument, "a stream segment size must be between 64 bytes and 16 MiB")
        }
        return try Data(context).withUnsafeBytes { contextBytes in
            let header = StreamHeader(
                algorithmID: self.type.wireID, keyID: self.keyID, keyVersion: self.version,
                contextCheck: EnvelopeHeader.contextCheck(contextBytes), segmentSize: segmentSize,
                salt: SecureRandom.bytes(32), noncePrefix: SecureRandom.bytes(7))
            let sender = try self.sender(info: HybridStream.info(header: header, context: contextBytes))
            let streamKey: SymmetricKey
            do {
                streamKey = try sender.exportSecret(context: HybridStream.exporterContext, outputByteCount: 32)
            } catch {
                throw BulwarkError(.internalFailure, "HPKE could not export the stream key")
            }
            let cipher = try StreamSegmentCipher(header: header, versionKey: streamKey, context: contextBytes, segments: HybridSuite.segmentAEAD(self.type))
            return StreamEncryptor(cipher: cipher, encapsulatedKey: sender.encapsulatedKey)
        }
    }
}
