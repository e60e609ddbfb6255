import ArgumentParser
import Bulwark
import BulwarkKeystore
import Foundation

/// `bulwark password …`: hash and verify passwords.
struct PasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Hash and verify passwords (Argon2id, bcrypt, scrypt, PBKDF2).",
        subcommands: [Hash.self, Verify.self])

    enum AlgorithmName: String, ExpressibleByArgument, CaseIterable {
        case argon2id, bcrypt, scrypt
        case pbkdf2SHA256 = "pbkdf2-sha256"
        case pbkdf2SHA512 = "pbkdf2-sha512"
    }

    struct PolicyOptions: ParsableArguments {
        @Option(help: "argon2id (default), bcrypt, scrypt, pbkdf2-sha256 or pbkdf2-sha512.")
        var algorithm: AlgorithmName = .argon2id
        @Option(help: "Argon2 memory in KiB (default 19456).") var memory: UInt32?
        @Option(help: "Argon2 passes (default 2) or PBKDF2 iterations (default 600000).") var iterations: Int?
        @Option(help: "Argon2 lanes or scrypt p (default 1).") var parallelism: UInt32?
        @Option(help: "bcrypt cost (default 12) or scrypt log2(N) (default 17).") var cost: Int?
        @Option(help: "Name of an HMAC key in the keystore to use as a pepper.") var pepper: String?
        @OptionGroup var store: StoreOptions

        func policy() throws -> PasswordPolicy {
            let algorithm: PasswordPolicy.Algorithm
            switch self.algorithm {
            case .argon2id:
                guard (1...UInt32.max).contains(UInt32(clamping: self.iterations ?? 2)) else {
                    throw BulwarkError(.invalidArgument, "Argon2 iterations must be positive")
                }
                algorithm = .argon2id(Argon2.Parameters(
                    memoryKiB: self.memory ?? 19456, iterations: UInt32(clamping: self.iterations ?? 2),
                    parallelism: self.parallelism ?? 1))
            case .bcrypt:
                algorithm = .bcrypt(cost: self.cost ?? 12)
            case .scrypt:
                algorithm = .scrypt(logN: self.cost ?? 17, blockSize: 8, parallelism: Int(self.parallelism ?? 1))
            case .pbkdf2SHA256:
                algorithm = .pbkdf2SHA256(iterations: self.iterations ?? 600_000)
            case .pbkdf2SHA512:
                algorithm = .pbkdf2SHA512(iterations: self.iterations ?? 600_000)
            }
            var pepperKey: Keyset?
            if let name = self.pepper {
                pepperKey = try lookUp(name, in: try self.store.keystore().load())
            }
            return PasswordPolicy(algorithm: algorithm, pepper: pepperKey)
        }
    }

    static func readPassword(raw: Bool) -> [UInt8] {
        var bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        if !raw {
            if let newline = bytes.firstIndex(of: 0x0A) { bytes = Array(bytes[..<newline]) }
            if bytes.last == 0x0D { bytes.removeLast() }
        }
        return bytes
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hash the password on standard input (its first line, or all of it with --raw).")
        @OptionGroup var options: PolicyOptions
        @Flag(help: "Use all of standard input, newlines included.") var raw = false

        func run() throws {
            try reportingErrors {
                let hasher = try PasswordHasher(policy: try self.options.policy())
                print(try hasher.hash(bytes: PasswordCommand.readPassword(raw: self.raw)))
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the password on standard input against HASH.",
            discussion: "Exit 0 on a match, 1 on a mismatch, 2 on a malformed hash. Prints 'rehash' when the hash is weaker than the policy given by the options (default: Argon2id m=19456,t=2,p=1).")
        @OptionGroup var options: PolicyOptions
        @Flag(help: "Use all of standard input, newlines included.") var raw = false
        @Argument(help: "The stored hash string.") var hash: String

        func run() throws {
            let result: PasswordVerification
            do {
                let hasher = try PasswordHasher(policy: try self.options.policy())
                result = try hasher.verify(bytes: PasswordCommand.readPassword(raw: self.raw), against: self.hash)
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(error.code == .invalidFormat ? 2 : 1)
            }
            if result.isValid && result.needsRehash { print("rehash") }
            if !result.isValid {
                note("bulwark: the password does not match")
                throw ExitCode(1)
            }
        }
    }
}
