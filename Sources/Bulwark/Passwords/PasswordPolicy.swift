/// How new passwords are hashed, and what counts as "weaker" when verifying old hashes.
public struct PasswordPolicy: Sendable {
    /// The algorithm and its costs for new hashes.
    public enum Algorithm: Sendable, Hashable {
        /// Argon2id (recommended).
        case argon2id(Argon2.Parameters)
        /// bcrypt `$2b$` with cost 4-31.
        case bcrypt(cost: Int)
        /// scrypt with N = 2^logN (passlib's `$scrypt$` spelling).
        case scrypt(logN: Int, blockSize: Int, parallelism: Int)
        /// PBKDF2-HMAC-SHA256 (Django's `pbkdf2_sha256$` spelling); at least 210,000 iterations.
        case pbkdf2SHA256(iterations: Int)
        /// PBKDF2-HMAC-SHA512 (passlib's `$pbkdf2-sha512$` spelling); at least 210,000 iterations.
        case pbkdf2SHA512(iterations: Int)
    }

    /// The algorithm for new hashes.
    public var algorithm: Algorithm
    /// What bcrypt does with passwords over 72 bytes.
    public var bcryptLongPasswords: BCrypt.LongPasswordMode
    /// An HMAC key (purpose `mac`) held outside the database, applied before hashing.
    public var pepper: Keyset?

    /// Creates a policy.
    public init(algorithm: Algorithm = .argon2id(.owasp), bcryptLongPasswords: BCrypt.LongPasswordMode = .refuse, pepper: Keyset? = nil) {
        self.algorithm = algorithm
        self.bcryptLongPasswords = bcryptLongPasswords
        self.pepper = pepper
    }

    /// Argon2id, m = 19456 KiB, t = 2, p = 1 (OWASP).
    public static let `default` = PasswordPolicy()
    /// Argon2id, m = 65536 KiB, t = 3, p = 4.
    public static let high = PasswordPolicy(algorithm: .argon2id(.high))

    func validate() throws {
        switch self.algorithm {
        case .argon2id(let parameters):
            try parameters.validate()
            guard parameters.variant == .argon2id, parameters.version == 0x13 else {
                throw BulwarkError(.invalidArgument, "new hashes use Argon2id version 0x13")
            }
        case .bcrypt(let cost):
            guard BCrypt.costRange.contains(cost) else { throw BulwarkError(.invalidArgument, "bcrypt cost must be 4-31") }
        case .scrypt(let logN, let r, let p):
            do { try PasswordHash.checkScrypt(logN: logN, r: r, p: p) } catch {
                throw BulwarkError(.invalidArgument, "scrypt parameters out of range")
            }
        case .pbkdf2SHA256(let iterations), .pbkdf2SHA512(let iterations):
            guard (210_000...100_000_000).contains(iterations) else {
                throw BulwarkError(.invalidArgument, "PBKDF2 needs 210,000 to 100,000,000 iterations")
            }
        }
        if let pepper = self.pepper, pepper.purpose != .mac {
            throw BulwarkError(.wrongPurpose, "a pepper must be an HMAC key")
        }
    }
}
