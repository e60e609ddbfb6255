import Foundation
import Testing

@testable import Bulwark

@Suite("Envelope-encrypted fields and blind indexes")
struct FieldEncryptionTests {
    let ssn = FieldContext(table: "users", column: "ssn", rowKey: "42")

    @Test("Round trip; a ciphertext moved to another row, column or table fails; every bit flip fails")
    func boundToContext() async throws {
        let encryptor = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: try Keyset.generate(name: "kek")))
        let sealed = try await encryptor.encrypt(Data("078-05-1120".utf8), context: self.ssn)
        #expect(sealed.first == FieldEncryptor.format)
        #expect(try await encryptor.decrypt(sealed, context: self.ssn) == Data("078-05-1120".utf8))
        for other in [
            FieldContext(table: "users", column: "ssn", rowKey: "43"), FieldContext(table: "users", column: "email", rowKey: "42"),
            FieldContext(table: "staff", column: "ssn", rowKey: "42"), FieldContext(table: "users", column: "ssn4", rowKey: "2"),
        ] {
            await #expect(throws: BulwarkError.self) { try await encryptor.decrypt(sealed, context: other) }
        }
        for flipped in bitFlips(sealed) {
            await #expect(throws: BulwarkError.self) { try await encryptor.decrypt(flipped, context: self.ssn) }
        }
        await #expect(throws: BulwarkError.self) { try await encryptor.decrypt(sealed.prefix(20), context: self.ssn) }
    }

    @Test("Data keys are reused within the cache limits, then replaced")
    func cacheLimits() async throws {
        let kek = try LocalKeyEncryptionKey(keyset: try Keyset.generate(name: "kek"))
        let policy = try DataKeyCachePolicy(maximumMessages: 10, maximumBytes: 1000, maximumAge: .seconds(60), maximumEntries: 100)
        let encryptor = FieldEncryptor(keyEncryptionKey: kek, policy: policy)
        var sealed: [Data] = []
        for row in 0..<25 {
            sealed.append(try await encryptor.encrypt(Data(repeating: 1, count: 10), context: FieldContext(table: "t", column: "c", rowKey: "\(row)")))
        }
        #expect(encryptor.keyEncryptionKeyCalls == 3)  // 10 + 10 + 5 values
        let wrappedKeys = Set(sealed.map { $0.prefix(4 + Int($0[2]) << 8 + Int($0[3])) })
        #expect(wrappedKeys.count == 3)
        // Decryption hits the cache of unwrapped keys: no further KEK calls.
        for (row, value) in sealed.enumerated() {
            #expect(try await encryptor.decrypt(value, context: FieldContext(table: "t", column: "c", rowKey: "\(row)")) == Data(repeating: 1, count: 10))
        }
        #expect(encryptor.keyEncryptionKeyCalls == 3)
        // A new encryptor (another process) unwraps each data key once.
        let reader = FieldEncryptor(keyEncryptionKey: kek, policy: policy)
        for (row, value) in sealed.enumerated() {
            _ = try await reader.decrypt(value, context: FieldContext(table: "t", column: "c", rowKey: "\(row)"))
        }
        #expect(reader.keyEncryptionKeyCalls == 3)
        // The byte limit also forces a new key.
        let bytes = FieldEncryptor(keyEncryptionKey: kek, policy: policy)
        _ = try await bytes.encrypt(Data(count: 600), context: self.ssn)
        _ = try await bytes.encrypt(Data(count: 600), context: self.ssn)
        #expect(bytes.keyEncryptionKeyCalls == 2)
        // No caching: one KEK call per value.
        let uncached = FieldEncryptor(keyEncryptionKey: kek, policy: .none)
        for _ in 0..<4 { _ = try await uncached.encrypt(Data("x".utf8), context: self.ssn) }
        #expect(uncached.keyEncryptionKeyCalls == 4)
        #expect(throws: BulwarkError.self) { try DataKeyCachePolicy(maximumMessages: 0) }
        #expect(throws: BulwarkError.self) { try DataKeyCachePolicy(maximumAge: .seconds(100_000)) }
    }

    @Test("Rotating the key-encryption key keeps old fields readable; destroying its version makes them unreadable")
    func kekRotation() async throws {
        var kekKeyset = try Keyset.generate(name: "kek")
        let old = try await FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: kekKeyset)).encrypt(Data("v1".utf8), context: self.ssn)
        try kekKeyset.rotate()
        let rotated = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: kekKeyset))
        #expect(try await rotated.decrypt(old, context: self.ssn) == Data("v1".utf8))
        let new = try await rotated.encrypt(Data("v2".utf8), context: self.ssn)
        try kekKeyset.destroy(version: 1)
        let afterErasure = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: kekKeyset))
        await #expect(throws: BulwarkError.self) { try await afterErasure.decrypt(old, context: self.ssn) }
        #expect(try await afterErasure.decrypt(new, context: self.ssn) == Data("v2".utf8))
        #expect(throws: BulwarkError.self) { try LocalKeyEncryptionKey(keyset: try Keyset.generate(name: "m", type: .hmacSHA256)) }
    }

    @Test("Blind indexes: lookups find every matching row among few candidates; compound indexes; planner")
    func blindIndexes() throws {
        let key = try Keyset.generate(name: "idx", type: .hmacSHA256)
        let rows = 4096
        let bits = BlindIndexPlanner.recommendedBits(rows: rows, candidates: 8)
        #expect(bits == 9)
        #expect(abs(BlindIndexPlanner.expectedFalsePositives(rows: rows, bits: bits) - 8.0) < 0.1)
        let index = try BlindIndex(name: "users.ssn", key: key, bits: bits, normalization: .digitsOnly)
        var values: [String] = []
        for row in 0..<rows {
            let area = 100 + row % 800
            let group = 1 + row % 99
            let serial = 1000 + row
            values.append("\(area)-\(group < 10 ? "0" : "")\(group)-\(serial)")
        }
        let table = try values.map { try index.value(for: $0) }
        let wanted = values[1234]
        let spaced = wanted.split(separator: "-").joined(separator: " ")
        let probe = try index.value(for: spaced)  // normalised to digits
        let candidates = table.indices.filter { table[$0] == probe }
        #expect(candidates.contains(1234))
        #expect(candidates.count < 40, "a 9-bit index over 4096 rows leaves about 9 candidates, got \(candidates.count)")
        #expect(candidates.filter { values[$0] == wanted } == [1234])
        // Another index name with the same key gives unrelated values.
        let other = try BlindIndex(name: "users.phone", key: key, bits: bits, normalization: .digitsOnly)
        #expect(try (0..<64).filter { try other.value(for: values[$0]) == table[$0] }.count < 8)
        // Compound: last four of the SSN and the birth year.
        let compound = try BlindIndex(name: "users.ssn4_year", key: key, bits: 16)
        #expect(try compound.value(parts: ["1120", "1980"]) == compound.value(parts: ["1120", "1980"]))
        #expect(try compound.value(parts: ["1120", "1980"]) != compound.value(parts: ["11201", "980"]))
        #expect(try compound.value(parts: ["x"]) < 1 << 16)
        #expect(throws: BulwarkError.self) { try BlindIndex(name: "x", key: try Keyset.generate(name: "a"), bits: 8) }
        #expect(throws: BulwarkError.self) { try BlindIndex(name: "x", key: key, bits: 0) }
    }
}
