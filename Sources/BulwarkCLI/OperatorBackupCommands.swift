import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkStorage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OperatorCommand {
    /// `bulwark operator backup --storage URL --to FILE --recipient age1…`: the whole store, as an
    /// age file (`age -d -i KEY FILE` opens it).
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Write the whole store (keys, policies, tokens, Transform configuration and vault, seal record, audit checkpoints) to an age file.",
            discussion: """
                Entries are copied as stored, sealed under the master key: no master key is needed to take a backup, and \
                the restored store opens with the same master key or key shares. The file is encrypted to the age \
                recipients given (written atomically, mode 600).
                """)
        @Option(help: "The store: sqlite:PATH or postgres://…") var storage: String
        @Option(help: "The backup file to write.") var to: String
        @Option(name: .customLong("recipient"), help: "An age X25519 recipient (age1…); repeatable, at least one.")
        var recipients: [String] = []
        @Flag(help: "Write the ASCII-armored form.") var armor = false

        func run() async throws {
            do {
                guard !self.recipients.isEmpty else { throw BulwarkError(.invalidArgument, "give at least one --recipient age1…") }
                let recipients = try self.recipients.map { try AgeRecipient(text: $0) }
                let backend = try await StorageURL(self.storage).openBackend()
                // Streamed into a temporary file beside the target (constant memory), fsynced,
                // then renamed over it: a failure leaves no file, or the previous one, behind.
                let (fd, temporary) = try POSIXFile.createTemporary(besides: self.to)
                var written = 0
                let counts: (entries: Int, tokens: Int)
                do {
                    func emit(_ bytes: Data) throws {
                        try bytes.withUnsafeBytes { try POSIXFile.writeFully(fd, $0) }
                        written += bytes.count
                    }
                    var encryptor = try AgeEncryptor(recipients: recipients, armored: self.armor)
                    try emit(encryptor.prefix)
                    var chunk = Data()
                    counts = try await StoreBackup.export(from: backend) { lines in
                        chunk.removeAll(keepingCapacity: true)
                        try encryptor.update(lines, into: &chunk)
                        try emit(chunk)
                    }
                    try emit(try encryptor.finish())
                    try POSIXFile.sync(fd)
                } catch {
                    close(fd)
                    unlink(temporary)
                    throw error
                }
                close(fd)
                try POSIXFile.commit(temporary: temporary, to: self.to)
                print("backed up \(counts.entries) entries and \(counts.tokens) token(s) of \(backend.location) to \(self.to) (\(written) bytes)")
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
        }
    }

    /// `bulwark operator restore --storage URL --from FILE --identity KEY`: a backup into an empty store.
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore",
            abstract: "Restore a backup into an empty store, after checking the whole file; then verify what was written.",
            discussion: """
                The whole backup is decrypted and checked (every age chunk, the trailer's counts and digest) before \
                anything is written; a cut-off or altered file, or a wrong identity, is refused and the store is left \
                untouched. age proves a file intact, not who wrote it (anyone with the recipient's public key can make \
                one): restore only backups you took, and start the server with the master key, or the key shares and \
                the seal id, of the store that was backed up, which a store made by anyone else does not match.
                """)
        @Option(help: "The store to restore into (empty): sqlite:PATH or postgres://…") var storage: String
        @Option(help: "The backup file.") var from: String
        @Option(name: .customLong("identity"), help: "A file of age identities (AGE-SECRET-KEY-1…), as age-keygen writes.")
        var identity: String

        func run() async throws {
            do {
                let identities = try AgeIdentity.identities(in: String(decoding: try POSIXFile.readAll(path: self.identity), as: UTF8.self))
                var decryptor = try AgeDecryptor(identities: identities)
                var plaintext = try decryptor.update(try POSIXFile.readAll(path: self.from))
                plaintext += try decryptor.finish()
                let contents = try StoreBackup.parse(plaintext)
                let backend = try await StorageURL(self.storage).openBackend()
                try await StoreBackup.restore(contents, into: backend)
                let taken = Date(timeIntervalSince1970: TimeInterval(contents.created))
                print("restored \(contents.entries.count) entries and \(contents.tokens.count) token(s) into \(backend.location) from a backup taken \(taken); all verified")
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}
