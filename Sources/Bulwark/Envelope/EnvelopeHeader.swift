public import Foundation

/// The authenticated header that starts every Bulwark field ciphertext, MAC and signature.
///
/// Layout (big-endian), described with a worked example in `docs/FORMAT.md`:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | format version (`0x01`) |
/// | 1 | 1 | algorithm id |
/// | 2 | 4 | key id |
/// | 6 | 4 | key version |
/// | 10 | 2 | context check (encryption only) |
///
/// The whole header is part of the associated data, so changing any byte makes the
/// ciphertext fail authentication.
public struct EnvelopeHeader: Sendable, Hashable {
    /// The format version this library writes.
    public static let currentFormat: UInt8 = 0x01
    /// Header length for encryption envelopes.
    static let encryptionLength = 12
    /// Header length for MAC and signature envelopes (no context check).
    static let tagLength = 10

    /// The algorithm id (see `docs/FORMAT.md`).
    public let algorithmID: UInt8
    /// The id of the key that made the envelope.
    public let keyID: UInt32
    /// The key version that made the envelope.
    public let keyVersion: UInt32
    /// A 16-bit check of the context, used only to tell "wrong context" from "tampered".
    let contextCheck: UInt16

    init(algorithmID: UInt8, keyID: UInt32, keyVersion: UInt32, contextCheck: UInt16 = 0) {
        self.algorithmID = algorithmID
        self.keyID = keyID
        self.keyVersion = keyVersion
        self.contextCheck = contextCheck
    }

    /// Reads the routing fields of an envelope without authenticating it. Use only to find the key.
    /// - Parameter envelope: A binary envelope.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` when it is too short or of another format.
    public init<Bytes: DataProtocol>(peeking envelope: Bytes) throws {
        let prefix = Array(envelope.prefix(Self.encryptionLength))
        try self.init(parsing: prefix, length: prefix.count >= Self.encryptionLength ? Self.encryptionLength : Self.tagLength)
    }

    init(parsing bytes: [UInt8], length: Int) throws {
        guard bytes.count >= length, bytes[0] == Self.currentFormat else {
            throw BulwarkError(.invalidFormat, "not a Bulwark envelope (bad length or format version)")
        }
        self.algorithmID = bytes[1]
        self.keyID = bytes.readBigEndianUInt32(at: 2)
        self.keyVersion = bytes.readBigEndianUInt32(at: 6)
        self.contextCheck = length >= Self.encryptionLength ? bytes.readBigEndianUInt16(at: 10) : 0
    }

    /// Serialises the header: 12 bytes with the context check, or 10 without.
    func bytes(includingContextCheck: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.encryptionLength)
        out.append(Self.currentFormat)
        out.append(self.algorithmID)
        out.appendBigEndian(self.keyID)
        out.appendBigEndian(self.keyVersion)
        if includingContextCheck { out.appendBigEndian(self.contextCheck) }
        return out
    }

    /// The 16-bit context check: FNV-1a (32-bit) of the context, folded to 16 bits.
    ///
    /// It is not a security mechanism (the AEAD binds the context); it only lets a failed
    /// decryption say "wrong context" rather than "tampered". It reveals at most 16 bits about
    /// the context, which is associated data and not secret.
    static func contextCheck(_ context: UnsafeRawBufferPointer) -> UInt16 {
        var hash: UInt32 = 0x811C_9DC5
        for byte in context {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return UInt16(truncatingIfNeeded: hash >> 16) ^ UInt16(truncatingIfNeeded: hash)
    }
}

/// The text form of Bulwark envelopes, for text columns and JSON.
///
/// `bw1:` followed by the binary envelope in unpadded URL-safe base64 (RFC 4648 §5). The prefix
/// names the format version and cannot be confused with base64 of a binary envelope.
public enum EnvelopeText {
    /// The prefix of every text envelope.
    public static let prefix = "bw1:"

    /// Encodes a binary envelope as text.
    /// - Parameter envelope: A binary envelope.
    /// - Returns: `bw1:` + base64url.
    public static func encode<Bytes: DataProtocol>(_ envelope: Bytes) -> String {
        Self.prefix + Base64URL.encode(envelope)
    }

    /// Decodes a text envelope to its binary form.
    /// - Parameter text: A string produced by ``encode(_:)``.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` when the prefix or base64 is wrong.
    public static func decode(_ text: String) throws -> Data {
        guard text.hasPrefix(Self.prefix), let data = Base64URL.decode(text.dropFirst(Self.prefix.count)) else {
            throw BulwarkError(.invalidFormat, "not a Bulwark text envelope (expected the bw1: prefix and base64url)")
        }
        return data
    }
}

extension EnvelopeHeader {
    /// Parses the 12-byte encryption header at the start of `bytes` (at least 12 bytes long).
    init(parsing bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= Self.encryptionLength, bytes[0] == Self.currentFormat else {
            throw BulwarkError(.invalidFormat, "not a Bulwark envelope (bad length or format version)")
        }
        self.algorithmID = bytes[1]
        self.keyID = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
        self.keyVersion = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 6, as: UInt32.self))
        self.contextCheck = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
    }
}
