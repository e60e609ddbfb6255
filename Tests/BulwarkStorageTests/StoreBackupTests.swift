import Bulwark
import BulwarkTestSupport
import Foundation
import Testing

@testable import BulwarkStorage

/// `StoreBackup`'s lines on their own (the CLI wraps them in age, tested in
/// `Tests/Interop/backup_interop.py`): a round trip restores every entry and token byte for
/// byte; any one byte changed, or the lines cut anywhere, is refused; a non-empty target is refused.
@Suite("Store backup lines: round trip, every byte flipped, every cut (SQLite and PostgreSQL)", .serialized)
struct StoreBackupTests {
    @Test("export, parse and restore into an empty store: every entry and token as it was", arguments: StorageKind.allCases)
    func roundTrip(kind: StorageKind) async throws {
        let place = try TestStore(kind, try CLIRunner())
        let store = try await place.open()
        for index in 0..<5 {
            try await store.updateDocument("sys/policy/p\(index)") { _ in Data("policy \(index)".utf8) }
        }
        let backend = store.backend
        let records = (0..<7).map { index in
            TokenRecord(transformation: "t\(index % 2)", tokenID: SecureRandom.bytes(16), valueID: index % 3 == 0 ? [] : SecureRandom.bytes(16),
                        sealed: SecureRandom.bytes(40 + index), expiresAt: Int64(index * 1000))
        }
        _ = try await backend.insertTokens(records)
        var lines = Data()
        let (entries, tokens) = try await StoreBackup.export(from: backend) { lines.append($0) }
        let listed = try await backend.list(prefix: "")
        #expect(tokens == 7 && entries == listed.count)
        let contents = try StoreBackup.parse(lines)
        // A target whose vault holds another store's tokens is refused, and left as it was (on
        // SQLite only: each PostgreSQL store is a database created by psql, which the test blocks on).
        if kind == .sqlite {
            let mixed = try TestStore(kind, try CLIRunner())
            let mixedBackend = try await StorageURL(mixed.location).openBackend()
            try await mixedBackend.migrate()
            _ = try await mixedBackend.insertTokens([TokenRecord(transformation: "t0", tokenID: [9, 9, 9], sealed: [1])])
            await #expect(throws: BulwarkError(.alreadyInitialized, "")) { try await StoreBackup.restore(contents, into: mixedBackend) }
            #expect(try await mixedBackend.list(prefix: "").isEmpty)
        }
        let target = try TestStore(kind, try CLIRunner())
        let targetBackend = try await StorageURL(target.location).openBackend()
        try await StoreBackup.restore(contents, into: targetBackend)
        let before = try await backend.list(prefix: "")
        let after = try await targetBackend.list(prefix: "")
        #expect(before.map(\.path) == after.map(\.path) && before.map(\.value) == after.map(\.value))
        for record in records {
            let stored = try await targetBackend.tokens(record.transformation, tokenIDs: [record.tokenID])[record.tokenID]
            #expect(stored == record)
        }
        // The restored store opens with the same master key and reads what was written.
        let reopened = try await target.open(key: place.cli.environment["BULWARK_MASTER_KEY"])
        #expect(try await reopened.document("sys/policy/p3") == Data("policy 3".utf8))
        // A second restore into it is refused and changes nothing.
        await #expect(throws: BulwarkError(.alreadyInitialized, "")) { try await StoreBackup.restore(contents, into: targetBackend) }
        #expect(try await targetBackend.list(prefix: "").count == after.count)
    }

    @Test("any one byte of the lines changed, the lines cut at any point, or a store with no seal record: refused")
    func everyByteAndCut() async throws {
        let place = try TestStore(.sqlite, try CLIRunner())
        let store = try await place.open()
        try await store.updateDocument("sys/policy/p") { _ in Data("policy".utf8) }
        _ = try await store.backend.insertTokens([TokenRecord(transformation: "t", tokenID: [1, 2, 3], sealed: [4, 5, 6])])
        var lines = Data()
        _ = try await StoreBackup.export(from: store.backend) { lines.append($0) }
        _ = try StoreBackup.parse(lines)
        var accepted: [Int] = []
        for position in 0..<lines.count {
            for flip: UInt8 in [0x01, 0x20] {
                var altered = lines
                altered[position] ^= flip
                if (try? StoreBackup.parse(altered)) != nil { accepted.append(position) }
            }
        }
        #expect(accepted.isEmpty, "changed bytes accepted at \(accepted.prefix(10))")
        for cut in 0..<lines.count {
            #expect(throws: BulwarkError(.invalidFormat, "")) { try StoreBackup.parse(lines.prefix(cut)) }
        }
        // Lines after the trailer, and a backup with no seal record, are refused too.
        #expect(throws: BulwarkError(.invalidFormat, "")) { try StoreBackup.parse(lines + lines) }
        let empty = try TestStore(.sqlite, try CLIRunner())
        let emptyBackend = try await StorageURL(empty.location).openBackend()
        await #expect(throws: BulwarkError(.notInitialized, "")) { _ = try await StoreBackup.export(from: emptyBackend) { _ in } }
    }
}
