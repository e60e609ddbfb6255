import Crypto
import Foundation

/// Constants and encodings of the age v1 format (c2sp.org/age).
enum AgeFormat {
    static let versionLine = "age-encryption.org/v1"
    static let x25519Label = "age-encryption.org/v1/X25519"
    /// Plaintext bytes per payload chunk.
    static let chunkSize = 64 * 1024
    /// A sealed chunk: the plaintext and Poly1305's tag.
    static let sealedChunkSize = chunkSize + 16
    /// The most header bytes read before giving up (a header is a few hundred bytes per recipient).
    static let maximumHeaderBytes = 1 << 20
    /// The stanzas' fixed all-zero nonce (each wrap key encrypts one file key, once).
    static func zeroNonce() throws -> ChaChaPoly.Nonce {
        try Self.nonce([UInt8](repeating: 0, count: 12))
    }

    private static func nonce(_ bytes: [UInt8]) throws -> ChaChaPoly.Nonce {
        do {
            return try ChaChaPoly.Nonce(data: bytes)
        } catch {
            throw BulwarkError(.internalFailure, "a 12-byte nonce was refused")
        }
    }

    /// The payload key: HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload").
    static func payloadKey(fileKey: SymmetricKey, nonce: Data) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Data("payload".utf8), outputByteCount: 32)
    }

    /// The header MAC key: HKDF-SHA-256(ikm = file key, salt = empty, info = "header").
    static func macKey(fileKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: Data(), info: Data("header".utf8), outputByteCount: 32)
    }

    /// The nonce of chunk `counter`: 11 bytes big-endian counter, then 1 for the final chunk.
    static func chunkNonce(_ counter: UInt64, final: Bool) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { bytes[10 - i] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(i))) }
        bytes[11] = final ? 1 : 0
        return try Self.nonce(bytes)
    }
}

/// age's base64: standard alphabet, no padding, canonical only.
enum AgeBase64 {
    static func encode<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// Whether every character is of the base64 alphabet (no padding).
    static func isAlphabet<Text: StringProtocol>(_ text: Text) -> Bool {
        text.utf8.allSatisfy { (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 43 || $0 == 47 }
    }

    /// The bytes, or nil for padding, a character outside the alphabet, or a non-canonical
    /// encoding (unused bits set).
    static func decode<Text: StringProtocol>(_ text: Text) -> Data? {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 != 1, Self.isAlphabet(text) else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - bytes.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), Self.encode(data) == String(text) else { return nil }
        return data
    }
}

/// One recipient stanza: its arguments and its body.
struct AgeStanza: Sendable {
    var arguments: [String]
    var body: Data

    /// `-> args…\n` and the body in base64 lines of 64 columns, the last one shorter (maybe empty).
    var text: String {
        var out = "-> " + self.arguments.joined(separator: " ") + "\n"
        var encoded = Substring(AgeBase64.encode(self.body))
        while encoded.count >= 64 {
            out += encoded.prefix(64) + "\n"
            encoded = encoded.dropFirst(64)
        }
        return out + encoded + "\n"
    }
}
