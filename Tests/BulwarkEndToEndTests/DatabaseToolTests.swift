import Bulwark
import BulwarkKeystore
import BulwarkTestSupport
import Foundation
import Testing

/// `bulwark db …` against a real application table, in SQLite and in PostgreSQL.
@Suite("bulwark db: encrypting columns in place, blind-index search, re-encryption", .serialized)
struct DatabaseToolTests {
    /// A table `people(id, ssn)` with `count` rows (every 100th row shares one SSN) and its URL.
    func makeTable(_ kind: StorageKind, _ cli: CLIRunner, count: Int) throws -> String {
        switch kind {
        case .sqlite:
            let path = cli.path("app.db")
            let made = try cli.shell("""
                python3 -c "
                import sqlite3; c = sqlite3.connect('\(path)')
                c.execute('create table people (id integer primary key, ssn text)')
                c.executemany('insert into people values (?, ?)', [(i, '078-05-1120' if i % 100 == 0 else '%03d-%02d-%04d' % (i % 900, i % 90, i)) for i in range(1, \(count + 1))])
                c.commit()"
                """)
            #expect(made.status == 0, "\(made.stderr)")
            return "sqlite:" + path
        case .postgres:
            let url = try PostgresFixture.makeDatabase()
            let psql = url.replacingOccurrences(of: "postgres://", with: "postgresql://")
            let made = try cli.shell("""
                psql '\(psql)' -q -v ON_ERROR_STOP=1 -c "create table people (id bigint primary key, ssn text)" \
                  -c "insert into people select i, case when i % 100 = 0 then '078-05-' || (1000 + 120)::text else lpad((i % 900)::text, 3, '0') || '-' || lpad((i % 90)::text, 2, '0') || '-' || lpad(i::text, greatest(4, length(i::text)), '0') end from generate_series(1, \(count)) i"
                """, env: PostgresFixture.environment)
            #expect(made.status == 0, "\(made.stderr)")
            return url
        }
    }

    /// `id|ssn` for every row, read with the database's own client.
    func dump(_ kind: StorageKind, _ cli: CLIRunner, _ url: String) throws -> [(String, String)] {
        let command = kind == .sqlite
            ? "sqlite3 '\(url.dropFirst(7))' 'select id, ssn from people order by id'"
            : "psql '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' -At -c 'select id, ssn from people order by id'"
        let result = try cli.shell(command, env: PostgresFixture.environment)
        return result.text.split(separator: "\n").map { line in
            let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
    }

    func original(_ id: Int) -> String {
        id % 100 == 0 ? "078-05-1120" : String(format: "%03d-%02d-%04d", id % 900, id % 90, id)
    }

    /// Decrypts every row in-process with the keystore's key and checks it against its original.
    func checkAllDecrypt(_ rows: [(String, String)], _ cli: CLIRunner, key: String) async throws {
        let keystore = FileKeystore(directory: cli.home, masterKey: .base64(cli.environment["BULWARK_MASTER_KEY"] ?? ""))
        let fields = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: try #require(try keystore.load().keysets[key])))
        for (id, value) in rows {
            #expect(value.hasPrefix("bwf1:"))
            let sealed = try #require(Data(base64Encoded: String(value.dropFirst(5))))
            let opened = try await fields.decrypt(sealed, context: FieldContext(table: "people", column: "ssn", rowKey: id))
            #expect(String(decoding: opened, as: UTF8.self) == self.original(Int(id) ?? 0))
        }
    }

    @Test("encrypt-column: no plaintext left, every row decrypts, blind-index lookups exact, moved ciphertext refused", arguments: StorageKind.allCases)
    func encryptColumn(kind: StorageKind) async throws {
        let cli = try CLIRunner()
        let env = PostgresFixture.environment
        #expect(try cli.bulwark(["keys", "create", "pii"]).status == 0)
        let url = try self.makeTable(kind, cli, count: 3000)
        let target = ["--url", url, "--table", "people", "--column", "ssn"]
        let run = try cli.bulwark(["db", "encrypt-column"] + target + ["--blind-index", "ssn_bidx", "--key", "pii"], env: env)
        #expect(run.status == 0 && run.text.contains("encrypted 3000 rows"), "\(run.stderr)")
        #expect(run.stderr.contains("rows/s"))
        let rows = try self.dump(kind, cli, url)
        #expect(rows.count == 3000)
        let leaked = rows.contains { (row: (String, String)) -> Bool in row.1.contains("078-05-1120") || row.1.contains("-0042") }
        #expect(!leaked)
        try await self.checkAllDecrypt(rows, cli, key: "pii")
        // The database as an attacker sees it: no SSN anywhere.
        let raw = kind == .sqlite
            ? try cli.shell("cat '\(url.dropFirst(7))'* | grep -a -c '078-05-1120' || true")
            : try cli.shell("pg_dump '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' | grep -c '078-05-1120' || true", env: env)
        #expect(raw.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        if kind == .postgres, let logPath = try PostgresFixture.require().log {
            // Every statement is logged (bound parameters too): only ciphertexts and index values went in.
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(!log.contains(self.original(42)) && !log.contains("078-05-1120") && log.contains("unnest"))
        }
        // Blind index: exactly the rows holding the value, false positives filtered.
        let found = try cli.bulwark(["db", "find"] + target + ["--blind-index", "ssn_bidx", "--key", "pii", "--value", "078-05-1120"], env: env)
        let foundKeys: [String] = found.text.split(separator: "\n").map(String.init)
        let expectedKeys: [String] = (1...30).map { (index: Int) -> String in String(index * 100) }
        #expect(foundKeys == expectedKeys, "\(found.stderr)")
        let one = try cli.bulwark(["db", "find"] + target + ["--blind-index", "ssn_bidx", "--key", "pii", "--value", self.original(42)], env: env)
        #expect(one.text == "42\n")
        // A second run finds nothing left to do.
        #expect(try cli.bulwark(["db", "encrypt-column"] + target + ["--blind-index", "ssn_bidx", "--key", "pii"], env: env).text.contains("encrypted 0 rows"))
        // Decrypt one row (audited); a ciphertext copied into another row fails there.
        #expect(try cli.bulwark(["db", "decrypt"] + target + ["--key", "pii", "--where-key", "42"], env: env).text == self.original(42) + "\n")
        let copy = kind == .sqlite
            ? "sqlite3 '\(url.dropFirst(7))' \"update people set ssn = (select ssn from people where id = 1) where id = 2\""
            : "psql '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' -q -c 'update people set ssn = (select ssn from people where id = 1) where id = 2'"
        #expect(try cli.shell(copy, env: env).status == 0)
        let moved = try cli.bulwark(["db", "decrypt"] + target + ["--key", "pii", "--where-key", "2"], env: env)
        #expect(moved.status == 1 && moved.stderr.contains("another row or column"))
        let log = try String(contentsOfFile: cli.home + "/operator-audit.log", encoding: .utf8)
        #expect(log.contains("db-decrypt") && !log.contains(self.original(42)))
    }

    @Test(
        "A row the application writes between the tool's read and its write keeps the application's value (encrypt-column, reencrypt: compare-and-set)",
        arguments: StorageKind.allCases)
    func applicationWritesMeanwhile(kind: StorageKind) async throws {
        let cli = try CLIRunner()
        let env = PostgresFixture.environment
        #expect(try cli.bulwark(["keys", "create", "pii"]).status == 0)
        let url = try self.makeTable(kind, cli, count: 300)
        let target = ["--url", url, "--table", "people", "--column", "ssn"]
        let sql = { (statement: String) throws in
            let command = kind == .sqlite
                ? "sqlite3 '\(url.dropFirst(7))' \"\(statement)\""
                : "psql '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' -q -v ON_ERROR_STOP=1 -c \"\(statement)\""
            let result = try cli.shell(command, env: env)
            #expect(result.status == 0, "\(result.stderr)")
        }
        // Runs the tool, paused before its first write while the application writes `statement`.
        let runInterleaved = { (arguments: [String], statement: String) throws -> (Int32, String) in
            let pause = cli.path("pause-\(UUID().uuidString)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
            process.arguments = arguments
            process.environment = cli.environment.merging(env) { $1 }.merging(["BULWARK_TEST_PAUSE_BEFORE_WRITE": pause]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: pause + ".ready"), process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            try sql(statement)
            _ = FileManager.default.createFile(atPath: pause + ".go", contents: Data())
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        // encrypt-column: row 5 (in the first batch) is rewritten by the application meanwhile.
        let (status, text) = try runInterleaved(
            ["db", "encrypt-column"] + target + ["--key", "pii", "--batch-size", "100"], "update people set ssn = '999-99-9999' where id = 5")
        #expect(status == 0 && text.contains("encrypted 300 rows") && text.contains("1 written by the application meanwhile"), "\(text)")
        let keystore = FileKeystore(directory: cli.home, masterKey: .base64(cli.environment["BULWARK_MASTER_KEY"] ?? ""))
        let fields = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: try #require(try keystore.load().keysets["pii"])))
        let decrypt = { (id: String, value: String) async throws -> String in
            let sealed = try #require(Data(base64Encoded: String(value.dropFirst(5))))
            return String(decoding: try await fields.decrypt(sealed, context: FieldContext(table: "people", column: "ssn", rowKey: id)), as: UTF8.self)
        }
        var rows = try self.dump(kind, cli, url)
        #expect(rows.count == 300 && rows.allSatisfy { $0.1.hasPrefix("bwf1:") })
        for (id, value) in rows {
            #expect(try await decrypt(id, value) == (id == "5" ? "999-99-9999" : self.original(Int(id) ?? 0)))
        }
        // reencrypt after a rotation: row 1 (first in key-text order) is overwritten with a plaintext by the application
        // meanwhile: it is kept, not replaced by the old value's ciphertext.
        #expect(try cli.bulwark(["keys", "rotate", "pii"]).status == 0)
        let (moved, movedText) = try runInterleaved(
            ["db", "reencrypt"] + target + ["--key", "pii", "--batch-size", "100"], "update people set ssn = '111-11-1111' where id = 1")
        #expect(moved == 0 && movedText.contains("1 written by the application meanwhile"), "\(movedText)")
        rows = try self.dump(kind, cli, url)
        #expect(rows.first { $0.0 == "1" }?.1 == "111-11-1111")
        let reloaded = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: try #require(try keystore.load().keysets["pii"])))
        for (id, value) in rows where id != "1" {
            let sealed = try #require(Data(base64Encoded: String(value.dropFirst(5))))
            #expect(FieldEncryptor.keyEncryptionKeyVersion(of: sealed) == 2)
            let opened = try await reloaded.decrypt(sealed, context: FieldContext(table: "people", column: "ssn", rowKey: id))
            #expect(String(decoding: opened, as: UTF8.self) == (id == "5" ? "999-99-9999" : self.original(Int(id) ?? 0)))
        }
    }

    @Test("encrypt-column killed five times resumes each time; every row ends encrypted once; rotation then reencrypt leaves no old version", arguments: StorageKind.allCases)
    func killAndResume(kind: StorageKind) async throws {
        let cli = try CLIRunner()
        let env = PostgresFixture.environment
        #expect(try cli.bulwark(["keys", "create", "pii"]).status == 0)
        let url = try self.makeTable(kind, cli, count: 2000)
        let target = ["--url", url, "--table", "people", "--column", "ssn"]
        for _ in 0..<5 {
            let killed = try cli.bulwark(
                ["db", "encrypt-column"] + target + ["--key", "pii", "--batch-size", "150"],
                env: env.merging(["BULWARK_TEST_CRASH_AFTER_BATCHES": "2"]) { $1 })
            #expect(killed.status == 70)
        }
        let rest = try cli.bulwark(["db", "encrypt-column"] + target + ["--key", "pii", "--batch-size", "150"], env: env)
        #expect(rest.status == 0 && rest.text.contains("encrypted 500 rows"), "\(rest.text)\(rest.stderr)")
        try await self.checkAllDecrypt(try self.dump(kind, cli, url), cli, key: "pii")
        // Rotate the key: reencrypt moves every row to v2, and a second pass finds none left.
        #expect(try cli.bulwark(["keys", "rotate", "pii"]).status == 0)
        let moved = try cli.bulwark(["db", "reencrypt"] + target + ["--key", "pii"], env: env)
        #expect(moved.text.contains("re-encrypted 2000 of 2000 rows under v2"), "\(moved.stderr)")
        #expect(try cli.bulwark(["db", "reencrypt"] + target + ["--key", "pii"], env: env).text.contains("re-encrypted 0 of 2000"))
        let rows = try self.dump(kind, cli, url)
        for (_, value) in rows {
            #expect(FieldEncryptor.keyEncryptionKeyVersion(of: Data(base64Encoded: String(value.dropFirst(5))) ?? Data()) == 2)
        }
        // v1 retired: everything still reads.
        #expect(try cli.bulwark(["keys", "config", "pii", "--min-decryption-version", "2"]).status == 0)
        try await self.checkAllDecrypt(rows, cli, key: "pii")
    }

    @Test("migrate-pgcrypto: pgp_sym_encrypt values become Bulwark ciphertext, verified; neither the pgcrypto key nor a plaintext reaches PostgreSQL's statement log")
    func migratePgcrypto() async throws {
        let server = try PostgresFixture.require()
        let cli = try CLIRunner()
        let env = PostgresFixture.environment
        #expect(try cli.bulwark(["keys", "create", "pii"]).status == 0)
        let url = try PostgresFixture.makeDatabase()
        let psql = url.replacingOccurrences(of: "postgres://", with: "postgresql://")
        let passphrase = "pgcrypto-passphrase-" + UUID().uuidString
        try passphrase.write(toFile: cli.path("pgcrypto.key"), atomically: true, encoding: .utf8)
        // The legacy table, filled as a blog post would, but with the key passed by \copy so the
        // test itself does not log it.
        let made = try cli.shell("""
            psql '\(psql)' -q -v ON_ERROR_STOP=1 -c 'create extension if not exists pgcrypto' \
              -c 'create table people (id bigint primary key, ssn bytea)' \
              -c 'create temporary table k (k text)' -c "\\copy k from '\(cli.path("pgcrypto.key"))'" \
              -c "insert into people select i, pgp_sym_encrypt(case when i % 100 = 0 then '078-05-' || (1000 + 120)::text else lpad((i % 900)::text, 3, '0') || '-' || lpad((i % 90)::text, 2, '0') || '-' || lpad(i::text, greatest(4, length(i::text)), '0') end, (select k from k)) from generate_series(1, 1000) i"
            """, env: env)
        #expect(made.status == 0, "\(made.stderr)")
        let target = ["--url", url, "--table", "people", "--column", "ssn"]
        let migrated = try cli.bulwark(
            ["db", "migrate-pgcrypto"] + target + ["--pgcrypto-key-file", cli.path("pgcrypto.key"), "--key", "pii", "--batch-size", "300"], env: env)
        #expect(migrated.status == 0 && migrated.text.contains("migrated 1000 rows"), "\(migrated.stderr)")
        try await self.checkAllDecrypt(try self.dump(.postgres, cli, url), cli, key: "pii")
        // Now an ordinary encrypted text column: the other tools work on it.
        #expect(try cli.bulwark(["db", "decrypt"] + target + ["--key", "pii", "--where-key", "100"], env: env).text == "078-05-1120\n")
        if let logPath = server.log {
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(!log.contains(passphrase), "the pgcrypto key reached the log")
            #expect(!log.contains("078-05-1120"), "a plaintext reached the log")
            #expect(log.contains("pgp_sym_decrypt"), "the log is on (log_statement = all)")
        }
    }

    @Test("100,000 rows in PostgreSQL: encrypt-column SIGKILLed at random moments five times, resumed each time; every row ends encrypted exactly once")
    func randomKills() async throws {
        let cli = try CLIRunner()
        let env = PostgresFixture.environment
        #expect(try cli.bulwark(["keys", "create", "pii"]).status == 0)
        let url = try self.makeTable(.postgres, cli, count: 100_000)
        let target = ["--url", url, "--table", "people", "--column", "ssn"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
            process.arguments = ["db", "encrypt-column"] + target + ["--blind-index", "ssn_bidx", "--key", "pii"]
            process.environment = cli.environment.merging(env) { $1 }
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1500, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        let rest = try cli.bulwark(["db", "encrypt-column"] + target + ["--blind-index", "ssn_bidx", "--key", "pii"], env: env)
        #expect(rest.status == 0, "\(rest.stderr)")
        let rows = try self.dump(.postgres, cli, url)
        #expect(rows.count == 100_000)
        // Exactly once: every value is one Bulwark ciphertext of the original (a double encryption
        // would decrypt to "bwf1:…", a torn write would not decrypt at all).
        try await self.checkAllDecrypt(rows, cli, key: "pii")
        // No plaintext in a dump or in the statement log.
        let dumped = try cli.shell(
            "pg_dump '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' | grep -c -e '\(self.original(77777))' -e '078-05-1120' || true", env: env)
        #expect(dumped.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        if let logPath = try PostgresFixture.require().log {
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(!log.contains(self.original(77777)) && !log.contains(self.original(12345)))
        }
    }
}

/// The programs in `Examples/` run against real databases.
@Suite("Examples: Codable records with encrypted, blind-indexed fields in PostgreSQL and SQLite")
struct ExampleTests {
    @Test("Both examples store encrypted rows and find a patient by SSN through the blind index", arguments: StorageKind.allCases)
    func examples(kind: StorageKind) throws {
        let cli = try CLIRunner()
        let directory = URL(fileURLWithPath: CLIRunner.binary).deletingLastPathComponent().path
        let result: CLIRunner.Result
        switch kind {
        case .sqlite:
            result = try cli.spawn([directory + "/sqlite-patients-example", cli.path("patients.db")], stdin: nil, env: [:])
            let stored = try cli.shell("sqlite3 '\(cli.path("patients.db"))' 'select ssn || diagnosis from patients'").text
            #expect(!stored.contains("078-05-1120") && !stored.contains("asthma") && stored.contains("bwf1:"))
        case .postgres:
            let url = try PostgresFixture.makeDatabase()
            result = try cli.spawn([directory + "/postgres-patients-example", url], stdin: nil, env: PostgresFixture.environment)
            let stored = try cli.shell(
                "psql '\(url.replacingOccurrences(of: "postgres://", with: "postgresql://"))' -At -c 'select ssn || diagnosis from patients'",
                env: PostgresFixture.environment).text
            #expect(!stored.contains("078-05-1120") && !stored.contains("asthma") && stored.contains("bwf1:"))
        }
        #expect(result.status == 0 && result.text == "found Jane Roe (id 1): J45.909 asthma\n", "\(result.text)\(result.stderr)")
    }
}
