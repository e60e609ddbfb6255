import Crypto
import CryptoExtras
import Foundation

/// The 256-bit key that seals a keystore. It is never stored beside the keystore.
///
/// It comes from `BULWARK_MASTER_KEY` (base64), a key file, or a passphrase through a
/// memory-hard KDF (``PassphraseKDF``). Printing it never shows the key.
public struct MasterKey: Sendable, CustomStringConvertible {
    let key: SymmetricKey

    init(key: SymmetricKey) {
        self.key = key
    }

    /// Parses a base64 (standard or URL-safe) encoding of 32 bytes.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything else.
    public init(base64 text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let standard = Data(base64Encoded: trimmed)
        guard let raw = standard ?? Base64URL.decode(trimmed), raw.count == 32 else {
            throw BulwarkError(.invalidFormat, "a master key must be 32 bytes in base64")
        }
        self.key = SymmetricKey(data: raw)
    }

    /// Generates a random master key.
    public static func generate() -> MasterKey {
        MasterKey(key: SymmetricKey(data: SecureRandom.bytes(32)))
    }

    /// Derives a master key from a passphrase.
    /// - Parameters:
    ///   - passphrase: The passphrase (UTF-8).
    ///   - kdf: The KDF and its recorded parameters.
    public static func derive(passphrase: String, using kdf: PassphraseKDF) throws -> MasterKey {
        guard !passphrase.isEmpty else {
            throw BulwarkError(.invalidArgument, "the passphrase is empty")
        }
        switch kdf {
        case .scrypt(let salt, let logN, let blockSize, let parallelism):
            do {
                let key = try KDF.Scrypt.deriveKey(
                    from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: 1 << Int(logN),
                    blockSize: Int(blockSize), parallelism: Int(parallelism))
                return MasterKey(key: key)
            } catch {
                throw BulwarkError(.invalidArgument, "scrypt refused its parameters")
            }
        case .argon2id(let salt, let memoryKiB, let iterations, let parallelism):
            let tag = try Argon2.hash(
                password: Array(passphrase.utf8), salt: salt,
                parameters: Argon2.Parameters(memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism))
            return MasterKey(key: SymmetricKey(data: tag))
        }
    }

    /// The key in base64, for writing to a key file or a secret store.
    /// - Parameter access: ``InsecureSecretKeyAccess/token``: this returns the secret.
    public func base64EncodedString(access: InsecureSecretKeyAccess) -> String {
        self.key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// Never shows the key.
    public var description: String { "MasterKey(redacted)" }

    func derived(_ label: String, count: Int = 32) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: self.key, info: Array(label.utf8), outputByteCount: count)
    }
}

/// How a passphrase becomes a ``MasterKey``; recorded in the keystore so it can change later.
public enum PassphraseKDF: Sendable, Hashable {
    /// scrypt (RFC 7914) with `N = 2^logN`, block size `r` and parallelism `p`.
    case scrypt(salt: [UInt8], logN: UInt8, blockSize: UInt32, parallelism: UInt32)

    /// Argon2id (RFC 9106) with the given memory (KiB), passes and lanes; 32-byte output.
    case argon2id(salt: [UInt8], memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32)

    /// scrypt with a fresh 16-byte salt and N = 2^17, r = 8, p = 1 (128 MiB; OWASP's minimum).
    /// Kept for opening older keystores; new ones use ``argon2idDefault()``.
    public static func scryptDefault() -> PassphraseKDF {
        .scrypt(salt: SecureRandom.bytes(16), logN: 17, blockSize: 8, parallelism: 1)
    }

    /// Argon2id with a fresh 16-byte salt and m = 65536 KiB, t = 3, p = 4: what new keystores use.
    public static func argon2idDefault() -> PassphraseKDF {
        .argon2id(salt: SecureRandom.bytes(16), memoryKiB: 65536, iterations: 3, parallelism: 4)
    }

    var identifier: UInt8 {
        switch self {
        case .scrypt: return 0x01
        case .argon2id: return 0x02
        }
    }

    var parameterBytes: [UInt8] {
        switch self {
        case .scrypt(let salt, let logN, let blockSize, let parallelism):
            var out: [UInt8] = [UInt8(salt.count)] + salt + [logN]
            out.appendBigEndian(blockSize)
            out.appendBigEndian(parallelism)
            return out
        case .argon2id(let salt, let memoryKiB, let iterations, let parallelism):
            var out: [UInt8] = [UInt8(salt.count)] + salt
            out.appendBigEndian(memoryKiB)
            out.appendBigEndian(iterations)
            out.appendBigEndian(parallelism)
            return out
        }
    }

    static func parse(identifier: UInt8, parameters: [UInt8]) throws -> PassphraseKDF? {
        switch identifier {
        case 0x00:
            return nil
        case 0x01:
            guard let saltLength = parameters.first.map(Int.init), parameters.count == 1 + saltLength + 9,
                (8...64).contains(saltLength)
            else { throw BulwarkError(.keystoreCorrupted, "the keystore's scrypt parameters are malformed") }
            let salt = Array(parameters[1...saltLength])
            let logN = parameters[1 + saltLength]
            let blockSize = parameters.readBigEndianUInt32(at: 2 + saltLength)
            let parallelism = parameters.readBigEndianUInt32(at: 6 + saltLength)
            guard (10...22).contains(logN), (1...64).contains(blockSize), (1...16).contains(parallelism) else {
                throw BulwarkError(.keystoreCorrupted, "the keystore's scrypt parameters are out of range")
            }
            return .scrypt(salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        case 0x02:
            guard let saltLength = parameters.first.map(Int.init), parameters.count == 1 + saltLength + 12,
                (8...64).contains(saltLength)
            else { throw BulwarkError(.keystoreCorrupted, "the keystore's Argon2id parameters are malformed") }
            let salt = Array(parameters[1...saltLength])
            let memoryKiB = parameters.readBigEndianUInt32(at: 1 + saltLength)
            let iterations = parameters.readBigEndianUInt32(at: 5 + saltLength)
            let parallelism = parameters.readBigEndianUInt32(at: 9 + saltLength)
            guard (8...(4 << 20)).contains(memoryKiB), (1...64).contains(iterations), (1...16).contains(parallelism),
                memoryKiB >= 8 * parallelism
            else {
                throw BulwarkError(.keystoreCorrupted, "the keystore's Argon2id parameters are out of range")
            }
            return .argon2id(salt: salt, memoryKiB: memoryKiB, iterations: iterations, parallelism: parallelism)
        default:
            throw BulwarkError(.keystoreCorrupted, "the keystore names an unknown passphrase KDF")
        }
    }
}
