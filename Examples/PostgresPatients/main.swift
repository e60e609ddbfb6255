// Encrypted fields in a PostgreSQL table with postgres-nio: a Codable model whose SSN is
// encrypted and blind-indexed and whose diagnosis is encrypted; lookups by SSN go through the
// blind index and are confirmed by decrypting the candidates.
//
//   BULWARK_HOME=… BULWARK_MASTER_KEY=… PGPASSWORD=… \
//   swift run postgres-patients-example 'postgres://app@localhost:5432/app?sslrootcert=ca.pem'
import Bulwark
import ExampleSupport
import Foundation
import Logging
import NIOSSL
import PostgresNIO

func runExample() async throws {
    guard CommandLine.arguments.count == 2, let url = URLComponents(string: CommandLine.arguments[1]), let host = url.host else {
        print("usage: postgres-patients-example 'postgres://USER@HOST:PORT/DB?sslrootcert=CA.pem'")
        return
    }
    let root = url.queryItems?.first { $0.name == "sslrootcert" }?.value
    var tls = TLSConfiguration.makeClientConfiguration()
    if let root { tls.trustRoots = .file(root) }
    let configuration = PostgresClient.Configuration(
        host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
        password: ProcessInfo.processInfo.environment["PGPASSWORD"], database: String(url.path.dropFirst()), tls: .require(tls))
    let client = PostgresClient(configuration: configuration)
    let logger = Logger(label: "example")

    // Keys: the key-encryption key and the blind-index key live in the sealed keystore.
    let keys = try ExampleKeys.load()
    let codec = try keys.codec(table: "patients")

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        try await client.query(
            "CREATE TABLE IF NOT EXISTS patients (id bigint PRIMARY KEY, name text, ssn text, ssn_bidx bigint, diagnosis text)", logger: logger)
        try await client.query("TRUNCATE patients", logger: logger)
        for patient in ExampleKeys.samples {
            let columns = try await codec.encode(patient, rowKey: String(patient.id))
            try await client.query(
                """
                INSERT INTO patients (id, name, ssn, ssn_bidx, diagnosis)
                VALUES (\(patient.id), \(columns.text("name")), \(columns.text("ssn")), \(try codec.blindIndexValue(property: "ssn", for: patient.ssn)), \(columns.text("diagnosis")))
                """, logger: logger)
        }
        // Find by SSN: candidates through the blind index, confirmed by decrypting.
        let wanted = "078-05-1120"
        let index = try codec.blindIndexValue(property: "ssn", for: wanted)
        let rows = try await client.query(
            "SELECT id, name, ssn, diagnosis FROM patients WHERE ssn_bidx = \(index)", logger: logger)
        for try await (id, name, ssn, diagnosis) in rows.decode((Int64, String, String, String).self) {
            let patient = try await codec.decode(
                Patient.self, from: ["id": .integer(id), "name": .text(name), "ssn": .text(ssn), "diagnosis": .text(diagnosis)],
                rowKey: String(id))
            if patient.ssn == wanted { print("found \(patient.name) (id \(patient.id)): \(patient.diagnosis)") }
        }
        group.cancelAll()
    }
}

try await runExample()
