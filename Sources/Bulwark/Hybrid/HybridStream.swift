import Crypto
public import Foundation

/// Streams of any size encrypted to a public key: the stream format of ``StreamHeader``, whose
/// segment key comes from a fresh HPKE encapsulation to the key instead of a key version's bytes.
///
/// Layout: the 55-byte ``StreamHeader`` (its algorithm id names the hybrid key type, its key id
/// and version the recipient key), then HPKE's encapsulated key
/// (``StreamHeader/encapsulatedKeyLength`` bytes), then AES-256-GCM segments exactly as in a
/// symmetric stream. The stream key is HPKE's exported secret (RFC 9180 §5.3; `info` =
/// `"bulwark hybrid stream v1"` ‖ the whole header ‖ SHA-256(context), exporter context
/// `"bulwark stream key"`), from which each segment key is derived as in a symmetric stream. The
/// header, the encapsulated key and the context are all bound: any change fails the first segment.
enum HybridStream {
    static let label = Array("bulwark hybrid stream v1".utf8)
    static let exporterContext = Data("bulwark stream key".utf8)

    static func info(header: StreamHeader, context: UnsafeRawBufferPointer) -> Data {
        var info = Data(Self.label)
        info.append(header.bytes)
        info.append(contentsOf: SHA256.hash(data: context))
        return info
    }
}

extension StreamHeader {
    /// The bytes of HPKE's encapsulated key that follow the header of a stream encrypted to a
    /// public key (32 for `hpke-x25519`, 65 for `hpke-p256`, 1,120 for `hpke-xwing`); 0 for a
    /// stream encrypted with a symmetric key. Read them after the header and pass them to
    /// ``Keyset/makeHybridStreamDecryptor(header:encapsulatedKey:context:)``.
    public var encapsulatedKeyLength: Int {
        guard let type = KeyType.allCases.first(where: { $0.wireID == self.algorithmID }), type.purpose == .hybridEncryption else { return 0 }
        return HybridSuite.encapsulatedKeyLength(type)
    }
}

extension HybridPublicKey {
    /// Starts a stream encrypted to this public key, in constant memory whatever its size.
    /// Write ``StreamEncryptor/header`` (the stream header and the encapsulated key) first, then
    /// the segments.
    /// - Parameters:
    ///   - context: Associated data bound to the whole stream; the same is needed to decrypt.
    ///   - segmentSize: Ciphertext bytes per segment; 64 KiB by default.
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
            let streamKey = try sender.exportSecret(context: HybridStream.exporterContext, outputByteCount: 32)
            let cipher = try StreamSegmentCipher(header: header, versionKey: streamKey, context: contextBytes, segments: .aes256GCM)
            return StreamEncryptor(cipher: cipher, encapsulatedKey: sender.encapsulatedKey)
        }
    }
}

extension Keyset {
    /// Starts decrypting a stream encrypted to one of this key's public keys
    /// (``HybridPublicKey/makeStreamEncryptor(context:segmentSize:)``).
    /// - Parameters:
    ///   - header: The stream's header (``StreamHeader/init(parsing:)``).
    ///   - encapsulatedKey: The ``StreamHeader/encapsulatedKeyLength`` bytes after the header.
    ///   - context: The context given at encryption.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `hpke-*` key; `unknownKey`
    ///   for another key's stream; the version errors; `authenticationFailed` for a malformed
    ///   encapsulated key (a wrong one fails the first segment).
    public func makeHybridStreamDecryptor<Context: DataProtocol>(
        header: StreamHeader, encapsulatedKey: Data, context: Context
    ) throws -> StreamDecryptor {
        try self.requirePurpose(.hybridEncryption, for: "decrypt a hybrid stream")
        guard header.keyID == self.id else {
            throw BulwarkError(.unknownKey, "the stream was made for key id \(header.keyID), not for key '\(self.name)' (id \(self.id))")
        }
        guard header.algorithmID == self.type.wireID else {
            throw BulwarkError(.authenticationFailed, "the stream header names another algorithm: it was altered")
        }
        guard encapsulatedKey.count == HybridSuite.encapsulatedKeyLength(self.type) else {
            throw BulwarkError(.authenticationFailed, "the stream's encapsulated key has the wrong length")
        }
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        guard case .hybrid(let key)? = version.primitive else {
            throw BulwarkError(.keyVersionDestroyed, "version \(header.keyVersion) of '\(self.name)' has no key material")
        }
        return try Data(context).withUnsafeBytes { contextBytes in
            let recipient = try key.recipient(encapsulatedKey: encapsulatedKey, info: HybridStream.info(header: header, context: contextBytes))
            let streamKey = try recipient.exportSecret(context: HybridStream.exporterContext, outputByteCount: 32)
            var decryptor = StreamDecryptor(
                cipher: try StreamSegmentCipher(header: header, versionKey: streamKey, context: contextBytes, segments: .aes256GCM))
            decryptor.contextMismatch = EnvelopeHeader.contextCheck(contextBytes) != header.contextCheck
            return decryptor
        }
    }
}
