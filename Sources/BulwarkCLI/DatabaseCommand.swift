import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkServer
import BulwarkStorage
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `bulwark db …`: encrypt application columns in place, find and read encrypted values.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Field encryption for existing tables (postgres://… or sqlite:PATH).",
        subcommands: [EncryptColumn.self, Reencrypt.self, MigratePgcrypto.self, Find.self, Decrypt.self])

    static let prefix = "bwf1:"

    /// What every subcommand names: where, which table and column, how rows are keyed.
    struct Target: ParsableArguments {
        @Option(help: "postgres://USER@HOST:PORT/DB?sslmode=… (PGPASSWORD) or sqlite:PATH.") var url: String
        @Option(help: "The table.") var table: String
        @Option(help: "The column.") var column: String
        @Option(name: .customLong("key-column"), help: "The row key (primary key) column.") var keyColumn = "id"
    }

    /// A field encryptor whose data keys are wrapped by keystore key `name` (an encryption key).
    static func encryptor(_ store: StoreOptions, key name: String) throws -> FieldEncryptor {
        guard let keyset = try store.keystore().load().keysets[name] else {
            throw BulwarkError(.unknownKey, "no key '\(name)' in the keystore (bulwark keys create \(name))")
        }
        return FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: keyset), policy: try DataKeyCachePolicy(maximumMessages: 10_000))
    }

    /// The blind index of `table.column` named `name`: its HMAC key `bidx.<table>.<column>` (made on
    /// first use, kept apart from encryption keys) and its width, chosen once from the row count
    /// and remembered in the database.
    static func blindIndex(_ store: StoreOptions, _ database: any ColumnDatabase, table: String, column: String, name: String, rows: Int) async throws -> BlindIndex {
        let keyName = "bidx.\(table).\(column)"
        let keyset = try store.keystore().update { contents -> Keyset in
            if let existing = contents.keysets[keyName] { return existing }
            let made = try Keyset.generate(name: keyName, type: .hmacSHA256)
            contents.keysets[keyName] = made
            return made
        }
        let setting = "blind_index_bits.\(table).\(column).\(name)"
        var bits = try await database.setting(setting).flatMap { Int($0) }
        if bits == nil {
            bits = BlindIndexPlanner.recommendedBits(rows: max(rows, 1))
            try await database.setSetting(setting, String(bits!))
        }
        return try BlindIndex(name: "\(table).\(column)", key: keyset, bits: bits!)
    }

    static func text(_ envelope: Data) -> String { Self.prefix + envelope.base64EncodedString() }

    static func envelope(_ text: String) throws -> Data {
        guard text.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))) else {
            throw BulwarkError(.invalidFormat, "not a Bulwark field ciphertext")
        }
        return data
    }

    /// Checks a batch inside its transaction, before it commits: as many rows were written as
    /// meant, and each decrypts, under its own row's context, to the value meant for it.
    /// Test hook: with `BULWARK_TEST_PAUSE_BEFORE_WRITE=PATH`, the first write of a batch waits
    /// (up to 30 s) after creating `PATH.ready` until `PATH.go` exists, so a test can change rows
    /// between the tool's read and its write, as a busy application would.
    static func pauseForTests() {
        guard let path = ProcessInfo.processInfo.environment["BULWARK_TEST_PAUSE_BEFORE_WRITE"],
            !FileManager.default.fileExists(atPath: path + ".go")
        else { return }
        _ = FileManager.default.createFile(atPath: path + ".ready", contents: Data())
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: path + ".go"), Date() < deadline { usleep(50_000) }
    }

    static func verifyReadBack(
        _ written: [ColumnRow], expected: [String: Data], fields: FieldEncryptor, table: String, column: String
    ) async throws {
        // Rows the application changed meanwhile are not written (compare-and-set); every row
        // that was must be one of the batch's.
        guard written.count <= expected.count, Set(written.map(\.key)).count == written.count else {
            throw BulwarkError(.storageFailure, "a batch wrote \(written.count) rows, expected at most \(expected.count)")
        }
        for row in written {
            let opened = try await fields.decrypt(
                try Self.envelope(row.value ?? ""), context: FieldContext(table: table, column: column, rowKey: row.key))
            guard opened == expected[row.key] else {
                throw BulwarkError(.authenticationFailed, "row \(row.key) did not read back as written")
            }
        }
    }

    /// A one-line progress report on standard error.
    final class Progress {
        let total: Int?
        let unit: String
        let start = Date()
        var done = 0
        var last = Date.distantPast
        /// - Parameters: total: how many to expect, or nil when unknown (a stream); unit: what is counted.
        init(total: Int?, unit: String = "rows") {
            self.total = total
            self.unit = unit
        }

        func advance(_ count: Int, final: Bool = false) {
            self.done += count
            guard final || Date().timeIntervalSince(self.last) > 0.5 else { return }
            self.last = Date()
            let rate = Double(self.done) / max(Date().timeIntervalSince(self.start), 0.001)
            guard let total = self.total else {
                let line = String(format: "\r%d %@, %.0f %@/s", self.done, self.unit, rate, self.unit)
                FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
                return
            }
            let share = total == 0 ? 1 : Double(self.done) / Double(total)
            let width = 30
            let filled = min(width, Int(share * Double(width)))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            let line = String(format: "\r[%@] %3.0f%% %d/%d %@, %.0f %@/s", bar, share * 100, self.done, total, self.unit, rate, self.unit)
            FileHandle.standardError.write(Data((line + (final ? "\n" : "")).utf8))
        }
    }

    struct EncryptColumn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encrypt-column",
            abstract: "Encrypt a plaintext column in place: batched transactions, each verified before commit; resumable.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: Target
        @Option(name: .customLong("blind-index"), help: "Also fill this integer column with a blind index for equality search.")
        var blindIndex: String?
        @Option(help: "The keystore key that wraps the data keys.") var key: String
        @Option(name: .customLong("batch-size"), help: "Rows per transaction.") var batchSize = 1000

        func run() async throws {
            try await reportingClientErrors {
                let t = self.target
                let fields = try DatabaseCommand.encryptor(self.store, key: self.key)
                try await withColumnDatabase(t.url) { database in
                let remaining = try await database.count(table: t.table, column: t.column, notPrefixed: DatabaseCommand.prefix)
                var index: BlindIndex?
                if let name = self.blindIndex {
                    try await database.ensureIndexColumn(table: t.table, column: name)
                    index = try await DatabaseCommand.blindIndex(self.store, database, table: t.table, column: t.column, name: name, rows: remaining)
                }
                let progress = Progress(total: remaining)
                let crashAfter = ProcessInfo.processInfo.environment["BULWARK_TEST_CRASH_AFTER_BATCHES"].flatMap(Int.init)
                var batches = 0
                var changedMeanwhile = 0
                while true {
                    // Rows not yet encrypted: what a crash left is simply picked up again.
                    let rows = try await database.rows(
                        table: t.table, column: t.column, key: t.keyColumn, notPrefixed: DatabaseCommand.prefix, limit: self.batchSize)
                    if rows.isEmpty { break }
                    var updates: [ColumnUpdate] = []
                    var expected: [String: Data] = [:]
                    for row in rows {
                        let plaintext = row.value ?? ""
                        let context = FieldContext(table: t.table, column: t.column, rowKey: row.key)
                        let sealed = try await fields.encrypt(Data(plaintext.utf8), context: context)
                        let value = try index.map { Int64(bitPattern: try $0.value(for: plaintext)) }
                        updates.append(ColumnUpdate(row: row, value: DatabaseCommand.text(sealed), index: value))
                        expected[row.key] = Data(plaintext.utf8)
                    }
                    let verifiedExpected = expected
                    let table = t.table, column = t.column
                    DatabaseCommand.pauseForTests()
                    let changed = try await database.update(
                        table: t.table, column: t.column, key: t.keyColumn, indexColumn: self.blindIndex, rows: updates
                    ) { written in
                        // Read back inside the transaction and decrypted before it commits.
                        try await DatabaseCommand.verifyReadBack(written, expected: verifiedExpected, fields: fields, table: table, column: column)
                    }
                    // A row the application wrote meanwhile keeps its value; still plaintext, it
                    // comes back in a later batch.
                    changedMeanwhile += changed.count
                    progress.advance(rows.count - changed.count)
                    batches += 1
                    if let crashAfter, batches >= crashAfter { _exit(70) }
                }
                progress.advance(0, final: true)
                print(
                    "encrypted \(progress.done) rows of \(t.table).\(t.column)" + (self.blindIndex.map { " (blind index in \($0))" } ?? "")
                        + (changedMeanwhile > 0 ? "; \(changedMeanwhile) written by the application meanwhile were kept and taken again" : ""))
                }
            }
        }
    }

    struct Reencrypt: AsyncParsableCommand {
        /// Passes over the table at most (each after one that met rows changed meanwhile).
        static let passes = 5

        static let configuration = CommandConfiguration(
            abstract: "After rotating the key, re-encrypt every row still under an older version (batched, verified, resumable).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: Target
        @Option(help: "The keystore key that wraps the data keys.") var key: String
        @Option(name: .customLong("batch-size"), help: "Rows per transaction.") var batchSize = 1000

        func run() async throws {
            try await reportingClientErrors {
                let t = self.target
                guard let keyset = try self.store.keystore().load().keysets[self.key] else {
                    throw BulwarkError(.unknownKey, "no key '\(self.key)' in the keystore")
                }
                let current = keyset.primaryVersion
                let fields = try DatabaseCommand.encryptor(self.store, key: self.key)
                try await withColumnDatabase(t.url) { database in
                var rewritten = 0
                var scanned = 0
                var changedMeanwhile = 0
                let progress = Progress(total: try await database.countValues(table: t.table, column: t.column))
                // Passes until one meets no row changed by the application between read and write
                // (such a row keeps the application's value and is looked at again).
                for pass in 0..<Self.passes {
                    var after: String?
                    var changedThisPass = 0
                    scanned = 0
                    while true {
                        let rows = try await database.rows(
                            table: t.table, column: t.column, key: t.keyColumn, prefixed: DatabaseCommand.prefix, after: after, limit: self.batchSize)
                        guard let last = rows.last else { break }
                        after = last.key
                        scanned += rows.count
                        if pass == 0 { progress.advance(rows.count) }
                        var updates: [ColumnUpdate] = []
                        var expected: [String: Data] = [:]
                        for row in rows {
                            let sealed = try DatabaseCommand.envelope(row.value ?? "")
                            guard let version = FieldEncryptor.keyEncryptionKeyVersion(of: sealed), version < current else { continue }
                            let context = FieldContext(table: t.table, column: t.column, rowKey: row.key)
                            let plaintext = try await fields.decrypt(sealed, context: context)
                            updates.append(
                                ColumnUpdate(row: row, value: DatabaseCommand.text(try await fields.encrypt(plaintext, context: context)), index: nil))
                            expected[row.key] = plaintext
                        }
                        guard !updates.isEmpty else { continue }
                        let verifiedExpected = expected
                        let table = t.table, column = t.column
                        DatabaseCommand.pauseForTests()
                        let changed = try await database.update(
                            table: t.table, column: t.column, key: t.keyColumn, indexColumn: nil, rows: updates
                        ) { written in
                            try await DatabaseCommand.verifyReadBack(written, expected: verifiedExpected, fields: fields, table: table, column: column)
                        }
                        rewritten += updates.count - changed.count
                        changedThisPass += changed.count
                    }
                    changedMeanwhile += changedThisPass
                    if changedThisPass == 0 { break }
                    if pass == Self.passes - 1 {
                        throw BulwarkError(
                            .storageFailure,
                            "the application kept changing rows under re-encryption (\(changedThisPass) in the last pass); run it again when writes are quieter")
                    }
                }
                progress.advance(0, final: true)
                print(
                    "re-encrypted \(rewritten) of \(scanned) rows under v\(current); no row of \(t.table).\(t.column) is under an older version"
                        + (changedMeanwhile > 0 ? " (\(changedMeanwhile) written by the application meanwhile were kept and looked at again)" : ""))
                print("older versions of '\(self.key)' can now be retired (bulwark keys config \(self.key) --min-decryption-version \(current))")
                }
            }
        }
    }

    struct MigratePgcrypto: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-pgcrypto",
            abstract: "Replace pgp_sym_encrypt values with Bulwark field ciphertext (decrypted in PostgreSQL once; the key never reaches its log).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: Target
        @Option(name: .customLong("pgcrypto-key-file"), help: "A file holding the pgp_sym_encrypt passphrase.") var pgcryptoKeyFile: String
        @Option(help: "The keystore key that wraps the data keys.") var key: String
        @Option(name: .customLong("batch-size"), help: "Rows per transaction.") var batchSize = 1000

        func run() async throws {
            try await reportingClientErrors {
                let t = self.target
                guard t.url.hasPrefix("postgres://") || t.url.hasPrefix("postgresql://") else {
                    throw BulwarkError(.invalidArgument, "pgcrypto lives in PostgreSQL: give a postgres:// URL")
                }
                guard let data = FileManager.default.contents(atPath: self.pgcryptoKeyFile) else {
                    throw BulwarkError(.ioFailure, "cannot read \(self.pgcryptoKeyFile)")
                }
                let passphrase = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
                let fields = try DatabaseCommand.encryptor(self.store, key: self.key)
                let database = try await PostgresColumnDatabase.connect(t.url)
                do {
                    let type = try await database.columnType(table: t.table, column: t.column)
                    var migrated = 0
                    if type == "bytea" {
                        try await database.loadPgcryptoKey(passphrase)
                        while true {
                            let rows = try await database.pgcryptoRows(table: t.table, column: t.column, key: t.keyColumn, limit: self.batchSize)
                            if rows.isEmpty { break }
                            var updates: [ColumnUpdate] = []
                            var expected: [String: Data] = [:]
                            for row in rows {
                                let plaintext = Data((row.value ?? "").utf8)
                                let sealed = try await fields.encrypt(
                                    plaintext, context: FieldContext(table: t.table, column: t.column, rowKey: row.key))
                                updates.append(ColumnUpdate(row: row, value: DatabaseCommand.text(sealed), index: nil))
                                expected[row.key] = plaintext
                            }
                            let verifiedExpected = expected
                            let table = t.table, column = t.column
                            // A row the application rewrote meanwhile keeps its value (a pgcrypto
                            // value comes back in a later batch).
                            let changed = try await database.replacePgcrypto(table: t.table, column: t.column, key: t.keyColumn, rows: updates) { written in
                                try await DatabaseCommand.verifyReadBack(
                                    written, expected: verifiedExpected, fields: fields, table: table, column: column)
                            }
                            migrated += rows.count - changed.count
                        }
                        // Every value is Bulwark text now: make the column text so the other tools read it.
                        try await database.convertToText(table: t.table, column: t.column)
                    } else if type != "text" {
                        throw BulwarkError(.invalidArgument, "\(t.table).\(t.column) is \(type); pgp_sym_encrypt output is bytea")
                    }
                    try await database.close()
                    print("migrated \(migrated) rows of \(t.table).\(t.column) from pgcrypto to Bulwark field encryption; the column is text now")
                } catch {
                    try? await database.close()
                    throw error
                }
            }
        }
    }

    struct Find: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Find rows by value through the blind index; prints the matching row keys.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: Target
        @Option(name: .customLong("blind-index"), help: "The blind-index column.") var blindIndex: String
        @Option(help: "The keystore key that wraps the data keys.") var key: String
        @Option(help: "The value to look for.") var value: String

        func run() async throws {
            try await reportingClientErrors {
                let t = self.target
                try await withColumnDatabase(t.url) { database in
                let index = try await DatabaseCommand.blindIndex(self.store, database, table: t.table, column: t.column, name: self.blindIndex, rows: 1)
                let fields = try DatabaseCommand.encryptor(self.store, key: self.key)
                let candidates = try await database.rows(
                    table: t.table, column: t.column, key: t.keyColumn, indexColumn: self.blindIndex,
                    index: Int64(bitPattern: try index.value(for: self.value)))
                // The index narrows to candidates; decrypting filters out the false positives.
                for row in candidates {
                    let opened = try await fields.decrypt(
                        try DatabaseCommand.envelope(row.value ?? ""), context: FieldContext(table: t.table, column: t.column, rowKey: row.key))
                    if String(decoding: opened, as: UTF8.self) == self.value { print(row.key) }
                }
                }
            }
        }
    }

    struct Decrypt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one decrypted value (audited in $BULWARK_HOME/operator-audit.log).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var target: Target
        @Option(help: "The keystore key that wraps the data keys.") var key: String
        @Option(name: .customLong("where-key"), help: "The row key.") var whereKey: String

        func run() async throws {
            try await reportingClientErrors {
                let t = self.target
                let keystore = try self.store.keystore()
                let audit = try AuditLog(path: keystore.directory + "/operator-audit.log", key: try SubjectCommand.Erase.auditKey(keystore))
                try audit.append(["type": "request", "operation": "db-decrypt", "table": t.table, "column": t.column, "row": self.whereKey])
                let found = try await withColumnDatabase(t.url) { database in
                    try await database.row(table: t.table, column: t.column, key: t.keyColumn, equals: self.whereKey)
                }
                guard let row = found, row.value?.hasPrefix(DatabaseCommand.prefix) == true else {
                    try audit.append(["type": "response", "operation": "db-decrypt", "error": "no encrypted row"])
                    throw BulwarkError(.invalidArgument, "no encrypted value for row \(self.whereKey)")
                }
                let fields = try DatabaseCommand.encryptor(self.store, key: self.key)
                let opened = try await fields.decrypt(
                    try DatabaseCommand.envelope(row.value ?? ""), context: FieldContext(table: t.table, column: t.column, rowKey: row.key))
                try audit.append(["type": "response", "operation": "db-decrypt", "row": self.whereKey, "status": "decrypted"])
                print(String(decoding: opened, as: UTF8.self))
            }
        }
    }
}
