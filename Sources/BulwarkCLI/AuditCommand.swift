import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkServer
import BulwarkStorage
import Crypto
import Foundation

/// `bulwark audit verify FILE`: checks an audit log's keyed chain and, for the key service's log,
/// that it still reaches the checkpoint kept in the store.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit log tools.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that no line of an audit log was edited, inserted, deleted or cut from its end (across its closed segments).",
            discussion: """
                The chain is keyed: the key comes from the key service's store (--storage or --config as \
                `bulwark server` takes them, or the dev store in $BULWARK_HOME) or, for the logs of \
                `bulwark subject erase` and the db tools, from the keystore.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The key service's store: sqlite:PATH or postgres://… (default: the configuration's, or the dev store in the home).")
        var storage: String?
        @Option(help: "The server's JSON configuration file (for its storage and master key).") var config: String?
        @Argument(help: "The audit log; its closed segments beside it (FILE.<time>) are checked first, in order.") var files: [String]

        func run() async throws {
            do {
                guard !self.files.isEmpty else { throw BulwarkError(.invalidArgument, "give the audit log file") }
                var paths = self.files
                if paths.count == 1 { paths = AuditLog.segments(of: paths[0]).map(\.path) + paths }
                let active = self.files[self.files.count - 1]
                var candidates: [(key: SymmetricKey, checkpoint: String?)] = []
                for (key, checkpoint) in try await self.serviceKeys(log: active) { candidates.append((key, checkpoint)) }
                if let key = try self.keystoreKey() { candidates.append((key, nil)) }
                guard let (key, checkpoint) = try candidates.first(where: { try AuditLog.isKeyed(paths: paths, by: $0.key) }) else {
                    throw BulwarkError(
                        .missingMasterKey,
                        candidates.isEmpty
                            ? "no audit key here: give the server's --storage or --config (and its master key), or the home whose keystore wrote the log"
                            : "no audit key found verifies this log's chain (another store or keystore wrote it, or its first lines were edited)")
                }
                let result = try AuditLog.verify(paths: paths, key: key, checkpoint: checkpoint)
                var report = "audit log intact: \(result.lines) lines" + (paths.count > 1 ? " in \(paths.count) files" : "")
                if checkpoint != nil { report += "; reaches the store's checkpoint" }
                if result.unkeyedLines > 0 { report += " (\(result.unkeyedLines) older lines carry only an unkeyed chain)" }
                print(report)
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
        }

        /// The audit keys (and the log's checkpoints) of the key service's store, opened as
        /// `bulwark server` opens it, when one is named or the home holds a dev store: under the dev
        /// master key beside it and under the master key given (whichever unseals it).
        private func serviceKeys(log: String) async throws -> [(SymmetricKey, String?)] {
            let settings = try await ServerSettings.load(file: self.config)
            let home = self.store.home ?? FileKeystore.defaultDirectory()
            let devKey = home + "/dev-master.key"
            let isDev = FileManager.default.fileExists(atPath: devKey)
            guard let storage = self.storage ?? settings.storage ?? (isDev ? "sqlite:\(home)/bulwark.db" : nil) else { return [] }
            let url = try StorageURL(storage)
            // Verifying never creates a store.
            if case .sqlite(let file) = url.kind, !FileManager.default.fileExists(atPath: file) { return [] }
            var sources: [MasterKeySource] = []
            if isDev { sources.append(.base64(String(decoding: try POSIXFile.readAll(path: devKey), as: UTF8.self))) }
            if self.store.masterKeyFile == nil, MasterKeySource.fromEnvironment() == nil, let file = settings.masterKeyFile {
                sources.append(.keyFile(path: file))
            } else if self.store.masterKeyFile != nil || MasterKeySource.fromEnvironment() != nil || !isDev {
                sources.append(try self.store.masterKeySource())
            }
            var keys: [(SymmetricKey, String?)] = []
            var failure: (any Error)?
            for source in sources {
                do {
                    let store = try await SealedStore.open(
                        backend: try await url.openBackend(), masterKey: source, dataDirectory: url.dataDirectory, create: false)
                    guard let key = try await AuditLog.key(in: store) else { continue }
                    keys.append((key, try await AuditLog.checkpoint(in: store, log: log, key: key)?.next))
                } catch {
                    failure = error
                }
            }
            if keys.isEmpty, let failure { throw failure }
            return keys
        }

        /// The key of the erasure and database tools' logs, when the home has a keystore holding it.
        private func keystoreKey() throws -> SymmetricKey? {
            let home = self.store.home ?? FileKeystore.defaultDirectory()
            guard FileManager.default.fileExists(atPath: home + "/keystore.bwks"),
                MasterKeySource.fromEnvironment() != nil || self.store.masterKeyFile != nil
            else { return nil }
            guard let keyset = try self.store.keystore().load().keysets["bulwark.audit"] else { return nil }
            return try SubjectCommand.Erase.auditKey(from: keyset)
        }
    }
}
