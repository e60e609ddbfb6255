// Encrypted fields in an SQLite table (the system's libsqlite3): a Codable model whose SSN is
// encrypted and blind-indexed and whose diagnosis is encrypted; lookups by SSN go through the
// blind index and are confirmed by decrypting the candidates.
//
//   BULWARK_HOME=… BULWARK_MASTER_KEY=… swift run sqlite-patients-example patients.db
import Bulwark
import ExampleSupport
import CBulwarkSQLite
import Foundation

/// Runs one statement with text/integer parameters and returns its rows as text.
func run(_ db: OpaquePointer, _ sql: String, _ parameters: [Any] = []) throws -> [[String]] {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
        throw BulwarkError(.storageFailure, String(cString: sqlite3_errmsg(db)))
    }
    defer { sqlite3_finalize(statement) }
    for (offset, parameter) in parameters.enumerated() {
        if let text = parameter as? String {
            sqlite3_bind_text(statement, Int32(offset + 1), text, -1, cbulwark_sqlite_transient())
        } else if let number = parameter as? Int64 {
            sqlite3_bind_int64(statement, Int32(offset + 1), number)
        }
    }
    var rows: [[String]] = []
    while sqlite3_step(statement) == SQLITE_ROW {
        rows.append((0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_text(statement, $0)) })
    }
    return rows
}

func runExample() async throws {
    guard CommandLine.arguments.count == 2 else {
        print("usage: sqlite-patients-example FILE.db")
        return
    }
    var handle: OpaquePointer?
    guard sqlite3_open(CommandLine.arguments[1], &handle) == SQLITE_OK, let db = handle else { return }
    defer { sqlite3_close(db) }
    let keys = try ExampleKeys.load()
    let codec = try keys.codec(table: "patients")
    _ = try run(db, "CREATE TABLE IF NOT EXISTS patients (id INTEGER PRIMARY KEY, name TEXT, ssn TEXT, ssn_bidx INTEGER, diagnosis TEXT)")
    _ = try run(db, "DELETE FROM patients")
    for patient in ExampleKeys.samples {
        let columns = try await codec.encode(patient, rowKey: String(patient.id))
        _ = try run(
            db, "INSERT INTO patients (id, name, ssn, ssn_bidx, diagnosis) VALUES (?, ?, ?, ?, ?)",
            [patient.id, columns.text("name"), columns.text("ssn"), try codec.blindIndexValue(property: "ssn", for: patient.ssn), columns.text("diagnosis")])
    }
    let wanted = "078-05-1120"
    let candidates = try run(
        db, "SELECT id, name, ssn, diagnosis FROM patients WHERE ssn_bidx = ?", [try codec.blindIndexValue(property: "ssn", for: wanted)])
    for row in candidates {
        let patient = try await codec.decode(
            Patient.self, from: ["id": .integer(Int64(row[0]) ?? 0), "name": .text(row[1]), "ssn": .text(row[2]), "diagnosis": .text(row[3])],
            rowKey: row[0])
        if patient.ssn == wanted { print("found \(patient.name) (id \(patient.id)): \(patient.diagnosis)") }
    }
}

try await runExample()
