import Crypto
import Foundation

/// bcrypt (Provos and Mazières, 1999): `$2b$` for new hashes; `$2a$` and `$2y$` verify with the
/// same (bug-free, 72-byte) semantics. `$2x$` (crypt_blowfish's sign-extension bug mode) is refused.
///
/// bcrypt reads at most 72 bytes of password. Bulwark never truncates silently: a longer password
/// is refused unless ``LongPasswordMode/prehash`` is chosen, which hashes
/// `base64(HMAC-SHA256(key: salt, password))` and records it as `$bcrypt-sha256$v=2,…`.
/// Passwords containing NUL bytes are refused (C implementations would stop at the NUL).
public enum BCrypt {
    /// What to do with passwords longer than bcrypt's 72 bytes.
    public enum LongPasswordMode: Sendable, Hashable {
        /// Refuse them with a clear error (default).
        case refuse
        /// Pre-hash every password with HMAC-SHA256 keyed by the salt, then base64
        /// (recorded as `$bcrypt-sha256$v=2,t=2b,r=COST$SALT$HASH`).
        case prehash
    }

    /// The accepted cost range (log2 of the rounds).
    public static let costRange = 4...31
    static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Hashes a password.
    /// - Parameters:
    ///   - password: The password bytes (no NUL; at most 72 bytes unless `mode` is `.prehash`).
    ///   - cost: 4-31.
    ///   - mode: How to treat passwords over 72 bytes.
    /// - Returns: A `$2b$` (or `$bcrypt-sha256$`) string.
    public static func hash(password: [UInt8], cost: Int, mode: LongPasswordMode = .refuse) throws -> String {
        try self.hash(password: password, cost: cost, mode: mode, salt: SecureRandom.bytes(16))
    }

    static func hash(password: [UInt8], cost: Int, mode: LongPasswordMode, salt: [UInt8]) throws -> String {
        guard costRange.contains(cost) else {
            throw BulwarkError(.invalidArgument, "bcrypt cost must be 4-31")
        }
        let saltText = String(decoding: encode(salt, count: 22), as: UTF8.self)
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        switch mode {
        case .refuse:
            try checkPassword(password)
            let digest = String(decoding: encode(raw(password: password, salt: salt, cost: cost), count: 31), as: UTF8.self)
            return "$2b$\(costText)$\(saltText)\(digest)"
        case .prehash:
            let key = prehashed(password, saltText: saltText)
            let digest = String(decoding: encode(raw(password: key, salt: salt, cost: cost), count: 31), as: UTF8.self)
            return "$bcrypt-sha256$v=2,t=2b,r=\(costText)$\(saltText)$\(digest)"
        }
    }

    static func checkPassword(_ password: [UInt8]) throws {
        guard !password.contains(0) else {
            throw BulwarkError(.invalidArgument, "bcrypt cannot hash passwords containing NUL bytes")
        }
        guard password.count <= 72 else {
            throw BulwarkError(
                .invalidArgument,
                "bcrypt uses only the first 72 bytes and this password has \(password.count); use Argon2id or the prehash mode")
        }
    }

    static func prehashed(_ password: [UInt8], saltText: String) -> [UInt8] {
        let mac = HMAC<SHA256>.authenticationCode(for: password, using: SymmetricKey(data: Array(saltText.utf8)))
        return Array(Data(mac).base64EncodedString().utf8)
    }

    /// A parsed bcrypt string.
    package struct Parsed {
        let version: String
        let cost: Int
        let salt: [UInt8]
        let digest: [UInt8]
        let prehash: Bool
        let saltText: String
    }

    /// Parses `$2a$`/`$2b$`/`$2y$` and `$bcrypt-sha256$v=2` strings.
    static func parse(_ text: String) throws -> Parsed {
        if text.hasPrefix("$bcrypt-sha256$") {
            let parts = text.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[1] == "bcrypt-sha256" else {
                throw BulwarkError(.invalidFormat, "malformed bcrypt-sha256 hash")
            }
            var fields: [String: String] = [:]
            for item in parts[2].split(separator: ",") {
                let pair = item.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { throw BulwarkError(.invalidFormat, "malformed bcrypt-sha256 parameters") }
                fields[String(pair[0])] = String(pair[1])
            }
            guard fields["v"] == "2", fields["t"] == "2b", let costText = fields["r"], costText.count == 2,
                let cost = Int(costText), costRange.contains(cost), parts[3].utf8.count == 22, parts[4].utf8.count == 31,
                let salt = decode(Array(parts[3].utf8), count: 16), let digest = decode(Array(parts[4].utf8), count: 23)
            else {
                throw BulwarkError(.invalidFormat, "malformed or unsupported bcrypt-sha256 hash")
            }
            return Parsed(version: "2b", cost: cost, salt: salt, digest: digest, prehash: true, saltText: String(parts[3]))
        }
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == 0x24, bytes[1] == 0x32, bytes[3] == 0x24, bytes[6] == 0x24 else {
            throw BulwarkError(.invalidFormat, "not a bcrypt hash (expected $2b$NN$ and 53 characters)")
        }
        let version = String(decoding: bytes[1...2], as: UTF8.self)
        guard ["2a", "2b", "2y"].contains(version) else {
            throw BulwarkError(.invalidFormat, "unsupported bcrypt version $\(version)$ (only $2a$, $2b$ and $2y$)")
        }
        guard let cost = Int(String(decoding: bytes[4...5], as: UTF8.self)), costRange.contains(cost),
            bytes[4] >= 0x30, bytes[4] <= 0x39, bytes[5] >= 0x30, bytes[5] <= 0x39
        else {
            throw BulwarkError(.invalidFormat, "bcrypt cost must be two digits, 04-31")
        }
        guard let salt = decode(Array(bytes[7..<29]), count: 16), let digest = decode(Array(bytes[29..<60]), count: 23) else {
            throw BulwarkError(.invalidFormat, "the bcrypt hash has characters outside its alphabet")
        }
        return Parsed(version: version, cost: cost, salt: salt, digest: digest, prehash: false, saltText: String(decoding: bytes[7..<29], as: UTF8.self))
    }

    /// Verifies a password against a bcrypt string in constant time.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed hash; `invalidArgument` for a
    ///   password bcrypt cannot take (over 72 bytes, or NUL) under a plain `$2?$` hash.
    public static func verify(password: [UInt8], against text: String) throws -> Bool {
        let parsed = try parse(text)
        let key: [UInt8]
        if parsed.prehash {
            key = prehashed(password, saltText: parsed.saltText)
        } else {
            try checkPassword(password)
            key = password
        }
        return constantTimeEquals(raw(password: key, salt: parsed.salt, cost: parsed.cost), parsed.digest)
    }

    /// Verification with the truncating semantics of other implementations (the first 72 bytes
    /// count), for the published vectors only.
    static func verifyTruncating(password: [UInt8], against text: String) throws -> Bool {
        let parsed = try parse(text)
        return constantTimeEquals(raw(password: password, salt: parsed.salt, cost: parsed.cost), parsed.digest)
    }

    /// The 23-byte bcrypt digest: EksBlowfish with the key `password ‖ NUL` cycled to 72 bytes.
    static func raw(password: [UInt8], salt: [UInt8], cost: Int) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 72)
        let cycle = Array(password.prefix(72)) + [0]
        for index in 0..<72 { key[index] = cycle[index % cycle.count] }
        let state = Blowfish()
        defer { state.release() }
        state.expand(key: key, salt: salt)
        for _ in 0..<(1 << cost) {
            state.expand(key: key)
            state.expand(key: salt)
        }
        var text: [UInt32] = [0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274]
        for _ in 0..<64 {
            for pair in stride(from: 0, to: 6, by: 2) {
                (text[pair], text[pair + 1]) = state.encrypt(text[pair], text[pair + 1])
            }
        }
        var out: [UInt8] = []
        for word in text {
            out += [UInt8(truncatingIfNeeded: word >> 24), UInt8(truncatingIfNeeded: word >> 16),
                    UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
        }
        return Array(out.prefix(23))
    }

    /// bcrypt's base64 (its own alphabet, no padding), `count` characters.
    static func encode(_ bytes: [UInt8], count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while out.count < count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)])
            out.append(alphabet[Int(b2 & 0x3F)])
            index += 3
        }
        return Array(out.prefix(count))
    }

    /// Decodes `count` bytes from bcrypt base64; nil on a character outside the alphabet.
    static func decode(_ text: [UInt8], count: Int) -> [UInt8]? {
        var values: [UInt8] = []
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            values.append(UInt8(value))
        }
        while values.count % 4 != 0 { values.append(0) }
        var out: [UInt8] = []
        for group in stride(from: 0, to: values.count, by: 4) {
            let v = values[group..<(group + 4)].map { $0 }
            out += [v[0] << 2 | v[1] >> 4, (v[1] & 0x0F) << 4 | v[2] >> 2, (v[2] & 0x03) << 6 | v[3]]
        }
        return out.count >= count ? Array(out.prefix(count)) : nil
    }
}
