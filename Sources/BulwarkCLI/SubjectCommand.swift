import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkServer
import Crypto

/// `bulwark subject …`: per-subject keys and erasure by key destruction.
struct SubjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subject", abstract: "Per-subject keys: erase a subject's data everywhere by destroying their key.",
        subcommands: [Erase.self])

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy a subject's key: every copy of their encrypted fields, backups included, becomes unreadable. Cannot be undone.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The subject id (A-Z a-z 0-9 . _ -).") var id: String
        @Option(name: .customLong("audit-file"), help: "The erasure audit log (default: $BULWARK_HOME/erasure-audit.log).")
        var auditFile: String?

        func run() throws {
            try reportingErrors {
                let keystore = try self.store.keystore()
                // The erasure is recorded before and after, in a hash-chained log (subject ids as keyed hashes).
                let audit = try AuditLog(
                    path: self.auditFile ?? keystore.directory + "/erasure-audit.log", key: try Self.auditKey(keystore))
                try audit.append(["type": "request", "operation": "subject-erase", "subject": self.id])
                let destroyed: Int
                do {
                    destroyed = try SubjectKeys(keystore: keystore).erase(self.id)
                } catch let error as BulwarkError {
                    try audit.append(["type": "response", "operation": "subject-erase", "subject": self.id, "error": error.message])
                    throw error
                }
                try audit.append(["type": "response", "operation": "subject-erase", "subject": self.id, "versions_destroyed": destroyed])
                print("erased subject '\(self.id)': \(destroyed) key version(s) destroyed")
            }
        }

        /// The erasure log's HMAC key: derived from an HMAC keyset `bulwark.audit` kept in the
        /// keystore (made on first use), so its bytes never leave the keyset.
        static func auditKey(_ keystore: FileKeystore) throws -> SymmetricKey {
            let name = "bulwark.audit"
            let keyset = try keystore.update { contents -> Keyset in
                if let existing = contents.keysets[name] { return existing }
                let made = try Keyset.generate(name: name, type: .hmacSHA256)
                contents.keysets[name] = made
                return made
            }
            return try Self.auditKey(from: keyset)
        }

        /// The erasure log's HMAC key from the keystore's `bulwark.audit` keyset.
        static func auditKey(from keyset: Keyset) throws -> SymmetricKey {
            SymmetricKey(data: SHA256.hash(data: try keyset.authenticate(Array("bulwark audit hmac key v1".utf8))))
        }
    }
}
