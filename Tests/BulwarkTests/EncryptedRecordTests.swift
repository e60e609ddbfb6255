import Foundation
import Testing

@testable import Bulwark

@Suite("Encrypted Codable records")
struct EncryptedRecordTests {
    struct Address: Codable, Equatable {
        var street: String
        var postcode: String
    }

    struct Patient: Codable, Equatable {
        var id: String
        var name: String
        var ssn: String
        var email: String
        var diagnosis: String?
        var address: Address
        var visits: Int
        var active: Bool
    }

    static func codec() throws -> EncryptedRecordCodec {
        let index = try BlindIndex(name: "patients.ssn", key: try Keyset.generate(name: "idx", type: .hmacSHA256), bits: 8, normalization: .digitsOnly)
        let schema = try EncryptedRecordSchema(table: "patients", properties: [
            "ssn": .encryptedWithBlindIndex(index), "diagnosis": .encrypted, "address": .encrypted,
            "email": .deterministic(try Keyset.generate(name: "det", type: .aes256SIV)),
        ])
        let fields = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: try Keyset.generate(name: "kek")))
        return EncryptedRecordCodec(schema: schema, encryptor: fields)
    }

    let alice = Patient(id: "p1", name: "Alice", ssn: "078-05-1120", email: "alice@example.com", diagnosis: "J45.909",
                        address: Address(street: "1 Main St", postcode: "94107"), visits: 3, active: true)

    @Test("Protected properties are stored only as ciphertext and come back intact")
    func roundTrip() async throws {
        let codec = try Self.codec()
        let columns = try await codec.encode(self.alice, rowKey: self.alice.id)
        #expect(columns["name"] == .text("Alice") && columns["visits"] == .integer(3) && columns["active"] == .bool(true))
        let stored = "\(columns)"
        for secret in ["078-05-1120", "J45.909", "Main St", "94107", "alice@example.com"] {
            #expect(!stored.contains(secret), "\(secret) stored in the clear")
        }
        guard case .text(let ssn) = columns["ssn"], case .integer = columns["ssn_bidx"], case .text(let email) = columns["email"] else {
            Issue.record("unexpected columns \(columns)")
            return
        }
        #expect(ssn.hasPrefix("bwf1:") && email.hasPrefix("bwd1:"))
        #expect(try await codec.decode(Patient.self, from: columns, rowKey: self.alice.id) == self.alice)
        var withoutDiagnosis = self.alice
        withoutDiagnosis.diagnosis = nil
        let noDiagnosis = try await codec.encode(withoutDiagnosis, rowKey: "p1")
        #expect(try await codec.decode(Patient.self, from: noDiagnosis, rowKey: "p1") == withoutDiagnosis)
    }

    @Test("A ciphertext moved to another row or property fails; lookups by blind index and deterministic value work")
    func bindingAndLookups() async throws {
        let codec = try Self.codec()
        var bob = self.alice
        bob.id = "p2"
        bob.ssn = "219-09-9999"
        let a = try await codec.encode(self.alice, rowKey: "p1")
        var b = try await codec.encode(bob, rowKey: "p2")
        await #expect(throws: BulwarkError.self) { try await codec.decode(Patient.self, from: a, rowKey: "p2") }
        b["ssn"] = a["ssn"]
        await #expect(throws: BulwarkError.self) { try await codec.decode(Patient.self, from: b, rowKey: "p2") }
        var swapped = a
        swapped["diagnosis"] = a["address"]
        await #expect(throws: BulwarkError.self) { try await codec.decode(Patient.self, from: swapped, rowKey: "p1") }
        // Blind index: the same SSN in any spelling gives the row's index value.
        #expect(.integer(try codec.blindIndexValue(property: "ssn", for: "078 05 1120")) == a["ssn_bidx"])
        // Deterministic: equal e-mails compare equal across rows; the lookup value matches.
        let bobColumns = try await codec.encode(bob, rowKey: "p2")
        #expect(bobColumns["email"] == a["email"])
        #expect(try codec.deterministicValue(property: "email", for: "alice@example.com") == a["email"])
        #expect(throws: BulwarkError.self) { try codec.blindIndexValue(property: "name", for: "x") }
        #expect(throws: BulwarkError.self) {
            try EncryptedRecordSchema(table: "t", properties: ["x": .deterministic(try Keyset.generate(name: "g"))])
        }
    }
}
