// Encrypted fields in an SQLite table (the system's libsqlite3): a Codable model whose SSN is
// encrypted and blind-indexed and whose diagnosis is encrypted; lookups by SSN go through the
// blind index and are confirmed by decrypting the candidates.
//
//   BULWARK_HOME=… BULWARK_MASTER_KEY=… swift run sqlite-patients-example patients.db
import Bulwark
import BulwarkStorage
import CBulwarkSQLite
import ExampleSupport
import Foundation

/// Runs one statement with text/integer parameters and returns its rows as text (through the
/// package's SQLite layer, as the column tools use it).
func run(_ db: OpaquePointer, _ sql: String, _ parameters: [Any] = []) throws -> [[String]] {
    let statement = try SQLiteStatement(db, sql)
    for (offset, parameter) in parameters.enumerated() {
        if let text = parameter as? String {
            statement.bind(Int32(offset + 1), text)
        } else if let number = parameter as? Int64 {
            statement.bind(Int32(offset + 1), number)
        }
    }
    var rows: [[String]] = []
    while try statement.step() {
        rows.append((0..<statement.columnCount).map { statement.text($0) })
    }
    return rows
}

func runExample() async throws {
    guard CommandLine.arguments.count == 2 else {
        print("usage: sqlite-patients-example FILE.db")
        return
    }
    let db = try SQLite.open(CommandLine.arguments[1], flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    defer { SQLite.close(db) }
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
