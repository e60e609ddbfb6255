import ArgumentParser
import Bulwark
import BulwarkKeystore
import Foundation

/// `bulwark fernet …`: read and write Python `cryptography` Fernet tokens.
struct FernetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fernet",
        abstract: "Fernet tokens, compatible with Python's cryptography (Fernet, MultiFernet).",
        subcommands: [Encrypt.self, Decrypt.self])

    struct KeyOptions: ParsableArguments {
        @Option(name: .customLong("key-file"), help: "Fernet keys, one a line; the first is primary (mode 600).")
        var keyFile: String

        func keys() throws -> Fernet.MultiKey {
            var info = stat()
            guard stat(self.keyFile, &info) == 0 else {
                throw BulwarkError(.ioFailure, "cannot read \(self.keyFile)")
            }
            guard info.st_mode & 0o077 == 0 else {
                throw BulwarkError(.insecurePermissions, "the key file \(self.keyFile) is readable by group or others; chmod 600 it")
            }
            let text = String(decoding: try POSIXFile.readAll(path: self.keyFile), as: UTF8.self)
            let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            return try Fernet.MultiKey(try lines.map { try Fernet.Key(base64: $0) })
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encrypt standard input into a token with the primary key.")
        @OptionGroup var options: KeyOptions
        @Option(help: "Accepted for symmetry; a new token is always fresh.") var ttl: Int?

        func run() throws {
            try reportingErrors {
                let keys = try self.options.keys()
                let plaintext = FileHandle.standardInput.readDataToEndOfFile()
                print(try keys.encrypt(plaintext))
            }
        }
    }

    struct Decrypt: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decrypt a token from standard input with any of the keys.")
        @OptionGroup var options: KeyOptions
        @Option(help: "Refuse tokens older than this many seconds.") var ttl: Int?

        func run() throws {
            try reportingErrors {
                let keys = try self.options.keys()
                let token = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                let plaintext = try keys.decrypt(token, ttl: self.ttl.map(TimeInterval.init))
                FileHandle.standardOutput.write(plaintext)
            }
        }
    }
}

/// `bulwark master-key generate`: a fresh random master key for BULWARK_MASTER_KEY or a key file.
struct MasterKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-key", abstract: "Master key helpers.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random 256-bit master key (base64). Keep it away from the keystore.")
        func run() throws {
            print(MasterKey.generate().base64EncodedString(access: .token))
        }
    }
}
