public import Foundation

/// The header of a Bulwark stream (files and backups), 55 bytes, big-endian.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | format (`0x02`, stream) |
/// | 1 | 1 | algorithm id (`0x01` AES-256-GCM, `0x02` ChaCha20-Poly1305; `0x30`-`0x35` a hybrid key type, segments in its AEAD) |
/// | 2 | 4 | key id |
/// | 6 | 4 | key version |
/// | 10 | 2 | context check |
/// | 12 | 4 | ciphertext segment size |
/// | 16 | 32 | salt |
/// | 48 | 7 | nonce prefix |
///
/// A stream encrypted to a public key has HPKE's encapsulated key (``encapsulatedKeyLength``
/// bytes) between the header and the first segment.
///
/// Each stream has its own segment key, HKDF-SHA256 of the key version's bytes (for a stream to
/// a public key, HPKE's exported secret) with the salt,
/// and info `"bulwark stream v1"` ‖ bytes 0-15 of the header ‖ SHA-256(context). Segment `i`
/// uses nonce `prefix ‖ i (4 bytes) ‖ final flag (1 byte)`.
public struct StreamHeader: Sendable, Hashable {
    /// The stream format byte.
    public static let format: UInt8 = 0x02
    /// The header's length in bytes.
    public static let length = 55
    /// The default ciphertext segment size: 64 KiB.
    public static let defaultSegmentSize = 65536
    /// Allowed ciphertext segment sizes.
    public static let segmentSizeRange = 64...(16 << 20)

    /// The algorithm id.
    public let algorithmID: UInt8
    /// The id of the key that wrote the stream.
    public let keyID: UInt32
    /// The key version that wrote the stream.
    public let keyVersion: UInt32
    /// The size of each ciphertext segment but the last.
    public let segmentSize: Int
    let contextCheck: UInt16
    let salt: [UInt8]
    let noncePrefix: [UInt8]

    init(algorithmID: UInt8, keyID: UInt32, keyVersion: UInt32, contextCheck: UInt16, segmentSize: Int, salt: [UInt8], noncePrefix: [UInt8]) {
        self.algorithmID = algorithmID
        self.keyID = keyID
        self.keyVersion = keyVersion
        self.contextCheck = contextCheck
        self.segmentSize = segmentSize
        self.salt = salt
        self.noncePrefix = noncePrefix
    }

    /// Parses a header. This reads routing fields only; the stream authenticates it later.
    /// - Parameter bytes: At least ``length`` bytes from the start of a stream.
    /// - Throws: ``BulwarkError/Code/invalidFormat``.
    public init<Bytes: DataProtocol>(parsing bytes: Bytes) throws {
        let raw = Array(bytes.prefix(Self.length))
        guard raw.count == Self.length, raw[0] == Self.format else {
            throw BulwarkError(.invalidFormat, "not a Bulwark stream (bad header)")
        }
        let size = Int(raw.readBigEndianUInt32(at: 12))
        guard Self.segmentSizeRange.contains(size) else {
            throw BulwarkError(.invalidFormat, "the stream names an impossible segment size")
        }
        self.init(
            algorithmID: raw[1], keyID: raw.readBigEndianUInt32(at: 2), keyVersion: raw.readBigEndianUInt32(at: 6),
            contextCheck: raw.readBigEndianUInt16(at: 10), segmentSize: size, salt: Array(raw[16..<48]),
            noncePrefix: Array(raw[48..<55]))
    }

    /// The serialised header.
    public var bytes: Data {
        var out: [UInt8] = [Self.format, self.algorithmID]
        out.appendBigEndian(self.keyID)
        out.appendBigEndian(self.keyVersion)
        out.appendBigEndian(self.contextCheck)
        out.appendBigEndian(UInt32(self.segmentSize))
        out += self.salt
        out += self.noncePrefix
        return Data(out)
    }

    /// Bytes of the plaintext in each full segment.
    public var plaintextSegmentSize: Int { self.segmentSize - 16 }
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
