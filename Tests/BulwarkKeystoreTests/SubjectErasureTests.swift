import Bulwark
import BulwarkKeystore
import Foundation
import Testing

@Suite("Erasure by key destruction")
struct SubjectErasureTests {
    /// Runs Python's sqlite3 with a JSON request on standard input; returns standard output.
    static func sqlite(_ script: String, input: Data = Data()) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python: \(err)")
        return out
    }

    @Test("An erased subject's fields no longer decrypt, in the database or in a backup taken before; others' still do")
    func erasure() async throws {
        let directory = try temporaryDirectory()
        let master = MasterKey.generate().base64EncodedString(access: .token)
        let subjects = SubjectKeys(keystore: FileKeystore(directory: directory + "/keystore", masterKey: .base64(master)))
        var rows: [[String: String]] = []
        for (subject, ssn) in [("alice", "078-05-1120"), ("bob", "219-09-9999"), ("alice", "123-45-6789")] {
            let encryptor = try subjects.encryptor(for: subject)
            let rowKey = "\(rows.count)"
            let sealed = try await encryptor.encrypt(Data(ssn.utf8), context: FieldContext(table: "people", column: "ssn", rowKey: rowKey))
            rows.append(["id": rowKey, "subject": subject, "ssn": sealed.base64EncodedString()])
        }
        let database = directory + "/app.db", backup = directory + "/app-backup.db"
        _ = try Self.sqlite("""
            import json, sqlite3, sys
            rows = json.load(sys.stdin)
            db = sqlite3.connect('\(database)')
            db.execute('create table people (id text primary key, subject text, ssn text)')
            db.executemany('insert into people values (:id, :subject, :ssn)', rows)
            db.commit()
            out = sqlite3.connect('\(backup)')
            db.backup(out)
            out.close()
            """, input: try JSONSerialization.data(withJSONObject: rows))
        let erased = try subjects.erase("alice")
        #expect(erased == 1)
        // A fresh process's view: load everything from disk again.
        let later = SubjectKeys(keystore: FileKeystore(directory: directory + "/keystore", masterKey: .base64(master)))
        for file in [database, backup] {
            let dump = try Self.sqlite("""
                import json, sqlite3
                print(json.dumps([dict(zip(('id', 'subject', 'ssn'), r)) for r in sqlite3.connect('\(file)').execute('select id, subject, ssn from people order by id')]))
                """)
            let stored = try #require(try JSONSerialization.jsonObject(with: dump) as? [[String: String]])
            #expect(stored.count == 3)
            for row in stored {
                let sealed = try #require(Data(base64Encoded: row["ssn"] ?? ""))
                let context = FieldContext(table: "people", column: "ssn", rowKey: row["id"] ?? "")
                if row["subject"] == "alice" {
                    #expect(throws: BulwarkError.self) { try later.encryptor(for: "alice") }
                    // Even with a data-key provider built from the shredded keyset, nothing opens.
                    let keyset = try #require(try later.keystore.load().keysets[SubjectKeys.keyName("alice")])
                    #expect(keyset.isShredded)
                    let direct = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: keyset))
                    await #expect(throws: BulwarkError.self) { try await direct.decrypt(sealed, context: context) }
                } else {
                    #expect(try await later.encryptor(for: "bob").decrypt(sealed, context: context) == Data("219-09-9999".utf8))
                }
            }
        }
        // Erasing again is harmless and still leaves nothing to destroy.
        #expect(try later.erase("alice") == 0)
    }
}
