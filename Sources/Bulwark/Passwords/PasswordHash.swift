import Crypto
import CryptoExtras
import Foundation

/// A parsed password-hash string, whichever of the supported spellings it came in.
package enum PasswordHash {
    case argon2(Argon2.Parameters, salt: [UInt8], tag: [UInt8])
    case bcrypt(BCrypt.Parsed, text: String)
    case scrypt(logN: Int, r: Int, p: Int, salt: [UInt8], key: [UInt8])
    case pbkdf2(sha512: Bool, iterations: Int, salt: [UInt8], key: [UInt8])

    static func malformed(_ what: String) -> BulwarkError {
        BulwarkError(.invalidFormat, "malformed \(what) hash string")
    }

    /// Recognises and parses a stored hash.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything malformed, truncated or out of range.
    package static func parse(_ text: String) throws -> PasswordHash {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        if text.hasPrefix("$argon2") { return try parseArgon2(parts) }
        if text.hasPrefix("$2") || text.hasPrefix("$bcrypt-sha256$") { return .bcrypt(try BCrypt.parse(text), text: text) }
        if text.hasPrefix("$scrypt$") { return try parsePasslibScrypt(parts) }
        if text.hasPrefix("scrypt$") { return try parseDjangoScrypt(parts) }
        if text.hasPrefix("pbkdf2_sha256$") { return try parseDjangoPBKDF2(parts) }
        if text.hasPrefix("$pbkdf2-sha256$") || text.hasPrefix("$pbkdf2-sha512$") { return try parsePasslibPBKDF2(parts) }
        throw BulwarkError(.invalidFormat, "unrecognised password hash format")
    }

    private static func parseArgon2(_ parts: [Substring]) throws -> PasswordHash {
        // $argon2id$v=19$m=…,t=…,p=…$salt$hash  (v= absent means version 0x10)
        guard parts.count == 5 || parts.count == 6, parts[0].isEmpty, let variant = Argon2.Variant(rawValue: String(parts[1])) else {
            throw malformed("Argon2")
        }
        var version: UInt32 = 0x10
        var index = 2
        if parts.count == 6 {
            guard parts[2].hasPrefix("v="), let v = UInt32(parts[2].dropFirst(2)), v == 0x13 || v == 0x10 else {
                throw malformed("Argon2 (version)")
            }
            version = v
            index = 3
        }
        guard let fields = PasswordBase64.parameters(parts[index]), let m = fields["m"], let t = fields["t"], let p = fields["p"],
            Set(fields.keys).isSubset(of: ["m", "t", "p"]), m <= UInt64(UInt32.max), t <= UInt64(UInt32.max), p <= 255
        else {
            throw malformed("Argon2 (parameters)")
        }
        guard let salt = PasswordBase64.decodePHC(parts[index + 1]), let tag = PasswordBase64.decodePHC(parts[index + 2]),
            salt.count >= 8, tag.count >= 4
        else {
            throw malformed("Argon2 (salt or hash)")
        }
        let parameters = Argon2.Parameters(
            variant: variant, memoryKiB: UInt32(m), iterations: UInt32(t), parallelism: UInt32(p), tagLength: tag.count,
            version: version)
        do {
            try parameters.validate()
        } catch let error as BulwarkError {
            throw BulwarkError(.invalidFormat, "Argon2 hash parameters out of range: \(error.message)")
        }
        return .argon2(parameters, salt: salt, tag: tag)
    }

    static func checkScrypt(logN: Int, r: Int, p: Int) throws {
        guard (1...24).contains(logN), (1...64).contains(r), (1...16).contains(p),
            128 * r * (1 << logN) <= 4 << 30, r * p < 1 << 30
        else {
            throw BulwarkError(.invalidFormat, "scrypt parameters out of range (N up to 2^24, memory up to 4 GiB)")
        }
    }

    private static func parsePasslibScrypt(_ parts: [Substring]) throws -> PasswordHash {
        // $scrypt$ln=16,r=8,p=1$salt$hash (passlib, adapted base64)
        guard parts.count == 5, let fields = PasswordBase64.parameters(parts[2]), let ln = fields["ln"], let r = fields["r"],
            let p = fields["p"], fields.count == 3, ln < 64, r < 1 << 20, p < 1 << 20,
            let salt = PasswordBase64.decodeAdapted(parts[3]), let key = PasswordBase64.decodeAdapted(parts[4]),
            !salt.isEmpty, key.count >= 16
        else { throw malformed("scrypt") }
        try checkScrypt(logN: Int(ln), r: Int(r), p: Int(p))
        return .scrypt(logN: Int(ln), r: Int(r), p: Int(p), salt: salt, key: key)
    }

    private static func parseDjangoScrypt(_ parts: [Substring]) throws -> PasswordHash {
        // scrypt$salt$N$r$p$hash (Django's ScryptPasswordHasher; the salt is used as text)
        guard parts.count == 6, let n = Int(parts[2]), n > 1, n & (n - 1) == 0, let r = Int(parts[3]), let p = Int(parts[4]),
            let key = PasswordBase64.decodePadded(parts[5]), key.count >= 16, !parts[1].isEmpty
        else { throw malformed("scrypt") }
        let logN = n.trailingZeroBitCount
        try checkScrypt(logN: logN, r: r, p: p)
        return .scrypt(logN: logN, r: r, p: p, salt: Array(parts[1].utf8), key: key)
    }

    private static func parseDjangoPBKDF2(_ parts: [Substring]) throws -> PasswordHash {
        // pbkdf2_sha256$iterations$salt$hash (Django; the salt is used as text)
        guard parts.count == 4, let iterations = Int(parts[1]), (1...100_000_000).contains(iterations), !parts[2].isEmpty,
            let key = PasswordBase64.decodePadded(parts[3]), key.count >= 16
        else { throw malformed("PBKDF2") }
        return .pbkdf2(sha512: false, iterations: iterations, salt: Array(parts[2].utf8), key: key)
    }

    private static func parsePasslibPBKDF2(_ parts: [Substring]) throws -> PasswordHash {
        // $pbkdf2-sha256$iterations$salt$hash (passlib, adapted base64)
        guard parts.count == 5, let iterations = Int(parts[2]), (1...100_000_000).contains(iterations),
            let salt = PasswordBase64.decodeAdapted(parts[3]), let key = PasswordBase64.decodeAdapted(parts[4]),
            !salt.isEmpty, key.count >= 16
        else { throw malformed("PBKDF2") }
        return .pbkdf2(sha512: parts[1] == "pbkdf2-sha512", iterations: iterations, salt: salt, key: key)
    }

    /// Recomputes the hash for `password` and compares in constant time.
    func matches(_ password: [UInt8]) throws -> Bool {
        switch self {
        case .argon2(let parameters, let salt, let tag):
            return constantTimeEquals(try Argon2.hash(password: password, salt: salt, parameters: parameters), tag)
        case .bcrypt(_, let text):
            return try BCrypt.verify(password: password, against: text)
        case .scrypt(let logN, let r, let p, let salt, let key):
            let derived = try Self.scrypt(password, salt: salt, logN: logN, r: r, p: p, length: key.count)
            return constantTimeEquals(derived, key)
        case .pbkdf2(let sha512, let iterations, let salt, let key):
            let derived = try Self.pbkdf2(password, salt: salt, sha512: sha512, iterations: iterations, length: key.count)
            return constantTimeEquals(derived, key)
        }
    }

    static func scrypt(_ password: [UInt8], salt: [UInt8], logN: Int, r: Int, p: Int, length: Int) throws -> [UInt8] {
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: password, salt: salt, outputByteCount: length, rounds: 1 << logN, blockSize: r, parallelism: p)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw BulwarkError(.invalidArgument, "scrypt refused its parameters")
        }
    }

    static func pbkdf2(_ password: [UInt8], salt: [UInt8], sha512: Bool, iterations: Int, length: Int) throws -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password, salt: salt, using: sha512 ? .sha512 : .sha256, outputByteCount: length,
                unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw BulwarkError(.invalidArgument, "PBKDF2 refused its parameters")
        }
    }
}
