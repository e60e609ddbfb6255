import Crypto
import Dispatch
import Foundation
import Synchronization

/// Bounds how many hashes run at once, and remembers the most that ever did (for tests).
final class HashGate: Sendable {
    private let semaphore: DispatchSemaphore
    private let counts = Mutex((current: 0, peak: 0))

    init(limit: Int) {
        self.semaphore = DispatchSemaphore(value: limit)
    }

    var peak: Int { self.counts.withLock { $0.peak } }

    func run<R>(_ body: () throws -> R) rethrows -> R {
        self.semaphore.wait()
        self.counts.withLock { counts in
            counts.current += 1
            counts.peak = max(counts.peak, counts.current)
        }
        defer {
            self.counts.withLock { $0.current -= 1 }
            self.semaphore.signal()
        }
        return try body()
    }
}

/// The result of ``PasswordHasher/verify(_:against:)``.
public struct PasswordVerification: Sendable, Hashable {
    /// Whether the password matches.
    public let isValid: Bool
    /// Whether the stored hash is weaker than today's policy (algorithm, costs or pepper version):
    /// after a successful login, hash the password again and store the new string.
    public let needsRehash: Bool
}

/// Hashes and verifies passwords under a ``PasswordPolicy``.
///
/// `hash` writes the policy's algorithm; `verify` recognises Argon2 (PHC), bcrypt (`$2a$`,
/// `$2b$`, `$2y$`, `$bcrypt-sha256$`), scrypt (passlib `$scrypt$`, Django `scrypt$`) and PBKDF2
/// (Django `pbkdf2_sha256$`, passlib `$pbkdf2-sha256$`/`$pbkdf2-sha512$`), each optionally
/// wrapped as `$pepper$k=KEYID,v=VERSION$…`. Malformed strings throw; they never verify as false.
/// At most `maximumConcurrentHashes` hashes run at once, so a burst of logins cannot exhaust
/// memory (each Argon2 hash allocates its memory cost and frees it when done).
public struct PasswordHasher: Sendable {
    /// The policy for new hashes.
    public let policy: PasswordPolicy
    let gate: HashGate

    /// - Parameters:
    ///   - policy: The policy.
    ///   - maximumConcurrentHashes: How many hashes may run at once (others wait).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a policy out of range.
    public init(policy: PasswordPolicy = .default, maximumConcurrentHashes: Int = 4) throws {
        try policy.validate()
        guard maximumConcurrentHashes >= 1 else {
            throw BulwarkError(.invalidArgument, "at least one concurrent hash must be allowed")
        }
        self.policy = policy
        self.gate = HashGate(limit: maximumConcurrentHashes)
    }

    private func gated<R>(_ body: () throws -> R) rethrows -> R {
        try self.gate.run(body)
    }

    /// Hashes a password with a fresh 16-byte salt under the policy.
    /// - Returns: The string to store.
    public func hash(_ password: String) throws -> String {
        try self.hash(bytes: Array(password.utf8))
    }

    /// Hashes raw password bytes.
    public func hash(bytes password: [UInt8]) throws -> String {
        var input = password
        var prefix = ""
        if let pepper = self.policy.pepper {
            input = try Self.peppered(password, pepper: pepper, version: pepper.primaryVersion)
            prefix = "$pepper$k=\(pepper.id),v=\(pepper.primaryVersion)$"
        }
        return prefix + (try self.gated { try self.hashUnpeppered(input) })
    }

    private func hashUnpeppered(_ password: [UInt8]) throws -> String {
        switch self.policy.algorithm {
        case .argon2id(let parameters):
            let salt = SecureRandom.bytes(16)
            let tag = try Argon2.hash(password: password, salt: salt, parameters: parameters)
            return "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$"
                + PasswordBase64.encodePHC(salt) + "$" + PasswordBase64.encodePHC(tag)
        case .bcrypt(let cost):
            return try BCrypt.hash(password: password, cost: cost, mode: self.policy.bcryptLongPasswords)
        case .scrypt(let logN, let r, let p):
            let salt = SecureRandom.bytes(16)
            let key = try PasswordHash.scrypt(password, salt: salt, logN: logN, r: r, p: p, length: 32)
            return "$scrypt$ln=\(logN),r=\(r),p=\(p)$" + PasswordBase64.encodeAdapted(salt) + "$" + PasswordBase64.encodeAdapted(key)
        case .pbkdf2SHA256(let iterations):
            let salt = PasswordBase64.textSalt()
            let key = try PasswordHash.pbkdf2(password, salt: Array(salt.utf8), sha512: false, iterations: iterations, length: 32)
            return "pbkdf2_sha256$\(iterations)$\(salt)$" + Data(key).base64EncodedString()
        case .pbkdf2SHA512(let iterations):
            let salt = SecureRandom.bytes(16)
            let key = try PasswordHash.pbkdf2(password, salt: salt, sha512: true, iterations: iterations, length: 64)
            return "$pbkdf2-sha512$\(iterations)$" + PasswordBase64.encodeAdapted(salt) + "$" + PasswordBase64.encodeAdapted(key)
        }
    }

    /// Verifies a password against a stored hash in constant time.
    /// - Returns: Whether it matches and whether the hash should be upgraded.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed or truncated string or parameters
    ///   out of range; `unknownKey`/`keyVersionDestroyed` when the pepper it names is not available.
    public func verify(_ password: String, against stored: String) throws -> PasswordVerification {
        try self.verify(bytes: Array(password.utf8), against: stored)
    }

    /// Verifies raw password bytes.
    public func verify(bytes password: [UInt8], against stored: String) throws -> PasswordVerification {
        var input = password
        var inner = stored
        var pepperVersion: UInt32?
        if stored.hasPrefix("$pepper$") {
            let parts = stored.split(separator: "$", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let fields = PasswordBase64.parameters(parts[2]), let id = fields["k"], let version = fields["v"],
                fields.count == 2, version <= UInt64(UInt32.max)
            else {
                throw BulwarkError(.invalidFormat, "malformed pepper prefix")
            }
            guard let pepper = self.policy.pepper, UInt64(pepper.id) == id else {
                throw BulwarkError(.unknownKey, "the hash was peppered with key id \(id), which this hasher does not hold")
            }
            input = try Self.peppered(password, pepper: pepper, version: UInt32(version))
            inner = String(parts[3])
            pepperVersion = UInt32(version)
        }
        let parsed = try PasswordHash.parse(inner)
        let valid = try self.gated { try parsed.matches(input) }
        return PasswordVerification(isValid: valid, needsRehash: self.isWeaker(parsed, pepperVersion: pepperVersion))
    }

    static func peppered(_ password: [UInt8], pepper: Keyset, version: UInt32) throws -> [UInt8] {
        let tag = try pepper.rawMAC(version: version, message: password)
        // base64 keeps the input free of NUL bytes and under bcrypt's 72-byte limit.
        return Array(tag.base64EncodedString().utf8)
    }

    private func isWeaker(_ parsed: PasswordHash, pepperVersion: UInt32?) -> Bool {
        if let pepper = self.policy.pepper {
            if pepperVersion != pepper.primaryVersion { return true }
        } else if pepperVersion != nil {
            return true
        }
        switch (self.policy.algorithm, parsed) {
        case (.argon2id(let wanted), .argon2(let have, _, let tag)):
            return have.variant != .argon2id || have.version != 0x13 || have.memoryKiB < wanted.memoryKiB
                || have.iterations < wanted.iterations || tag.count < wanted.tagLength
        case (.bcrypt(let cost), .bcrypt(let have, _)):
            return have.cost < cost || have.version == "2a"
        case (.scrypt(let logN, let r, let p), .scrypt(let haveLogN, let haveR, let haveP, _, _)):
            return haveLogN < logN || haveR < r || haveP < p
        case (.pbkdf2SHA256(let iterations), .pbkdf2(false, let have, _, _)):
            return have < iterations
        case (.pbkdf2SHA512(let iterations), .pbkdf2(true, let have, _, _)):
            return have < iterations
        default:
            return true
        }
    }
}
