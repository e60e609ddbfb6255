import Crypto
import CryptoExtras
public import Foundation

/// Fernet tokens (version `0x80`: AES-128-CBC with PKCS #7 padding, then HMAC-SHA256), as
/// written by Python's `cryptography.fernet`, so teams can read and migrate what Python
/// services wrote.
///
/// Fernet is supported for compatibility; new data should use ``Keyset`` envelopes.
public enum Fernet {
    /// A Fernet key: 16 bytes of HMAC key then 16 bytes of AES key, exchanged as URL-safe base64.
    /// Printing it never shows the bytes.
    public struct Key: Sendable, CustomStringConvertible {
        let signingKey: SymmetricKey
        let encryptionKey: SymmetricKey

        /// Parses a key in URL-safe base64 (the form `Fernet.generate_key()` prints).
        /// - Throws: ``BulwarkError/Code/invalidFormat`` unless it decodes to 32 bytes.
        public init(base64 text: String) throws {
            guard let raw = Base64URL.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
                throw BulwarkError(.invalidFormat, "a Fernet key must be 32 bytes in URL-safe base64")
            }
            self.signingKey = SymmetricKey(data: raw.prefix(16))
            self.encryptionKey = SymmetricKey(data: raw.suffix(16))
        }

        /// Generates a new random key.
        public static func generate() -> Key {
            // Force-unwrapping is avoided: the encoding below always yields a valid key.
            let text = Base64URL.encode(SecureRandom.bytes(32), padded: true)
            guard let key = try? Key(base64: text) else { preconditionFailure("a generated Fernet key did not parse") }
            return key
        }

        /// The key as URL-safe base64, for writing to a key file.
        /// - Parameter access: ``InsecureSecretKeyAccess/token``: this returns the secret.
        public func base64EncodedString(access: InsecureSecretKeyAccess) -> String {
            var raw = self.signingKey.withUnsafeBytes { Data($0) }
            raw.append(self.encryptionKey.withUnsafeBytes { Data($0) })
            return Base64URL.encode(raw, padded: true)
        }

        /// Never shows the key.
        public var description: String { "Fernet.Key(redacted)" }
    }

    static let version: UInt8 = 0x80
    static let maxClockSkew: TimeInterval = 60

    /// Encrypts `plaintext` into a Fernet token with a fresh random IV.
    /// - Parameters:
    ///   - plaintext: The message.
    ///   - key: The key.
    ///   - now: The token's timestamp.
    /// - Returns: The token text.
    public static func encrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext, using key: Key, now: Date = Date()) throws -> String {
        try self.encrypt(plaintext, using: key, now: now, iv: SecureRandom.bytes(16))
    }

    /// Encryption with a given IV: internal, for the specification's vectors only.
    static func encrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext, using key: Key, now: Date, iv: [UInt8]) throws -> String {
        let timestamp = UInt64(max(0, now.timeIntervalSince1970.rounded(.down)))
        return try self.seal(plaintext, using: key, timestamp: timestamp, iv: iv)
    }

    static func seal<Plaintext: DataProtocol>(_ plaintext: Plaintext, using key: Key, timestamp: UInt64, iv: [UInt8]) throws -> String {
        let ciphertext = try AES._CBC.encrypt(plaintext, using: key.encryptionKey, iv: try AES._CBC.IV(ivBytes: iv))
        var token: [UInt8] = [Self.version]
        token.appendBigEndian(timestamp)
        token += iv
        token += ciphertext
        token += HMAC<SHA256>.authenticationCode(for: token, using: key.signingKey)
        return Base64URL.encode(token, padded: true)
    }

    /// The authenticated parts of a token, after its HMAC checked out.
    struct Verified {
        let timestamp: UInt64
        let iv: [UInt8]
        let ciphertext: [UInt8]
    }

    /// Checks structure and HMAC (before anything else is interpreted).
    static func verify(_ token: String, using key: Key) throws -> Verified {
        guard let raw = Base64URL.decode(token.trimmingCharacters(in: .whitespacesAndNewlines)).map(Array.init) else {
            throw BulwarkError(.invalidFormat, "the Fernet token is not URL-safe base64")
        }
        guard raw.count >= 1 + 8 + 16 + 16 + 32, (raw.count - 57) % 16 == 0 else {
            throw BulwarkError(.invalidFormat, "the Fernet token has an impossible length")
        }
        let macOffset = raw.count - 32
        let expected = HMAC<SHA256>.authenticationCode(for: raw[..<macOffset], using: key.signingKey)
        guard constantTimeEquals(Array(expected), raw[macOffset...]) else {
            throw BulwarkError(.authenticationFailed, "the Fernet token was altered or made with another key")
        }
        guard raw[0] == Self.version else {
            throw BulwarkError(.invalidFormat, "unsupported Fernet version")
        }
        return Verified(timestamp: raw.readBigEndianUInt64(at: 1), iv: Array(raw[9..<25]), ciphertext: Array(raw[25..<macOffset]))
    }

    /// Decrypts a Fernet token.
    /// - Parameters:
    ///   - token: The token text.
    ///   - key: The key.
    ///   - ttl: If given, tokens older than this many seconds are refused.
    ///   - now: The current time.
    /// - Returns: The plaintext.
    /// - Throws: `invalidFormat`, `authenticationFailed` or `tokenExpired`.
    public static func decrypt(_ token: String, using key: Key, ttl: TimeInterval? = nil, now: Date = Date()) throws -> Data {
        let verified = try self.verify(token, using: key)
        return try self.open(verified, using: key, ttl: ttl, now: now)
    }

    static func open(_ verified: Verified, using key: Key, ttl: TimeInterval?, now: Date) throws -> Data {
        let current = now.timeIntervalSince1970
        let stamped = TimeInterval(verified.timestamp)
        if let ttl, stamped + ttl < current {
            throw BulwarkError(.tokenExpired, "the Fernet token is older than its time to live")
        }
        if stamped > current + Self.maxClockSkew {
            throw BulwarkError(.invalidFormat, "the Fernet token's timestamp is in the future")
        }
        do {
            return try AES._CBC.decrypt(verified.ciphertext, using: key.encryptionKey, iv: try AES._CBC.IV(ivBytes: verified.iv))
        } catch {
            throw BulwarkError(.invalidFormat, "the Fernet token's padding is invalid")
        }
    }
}
