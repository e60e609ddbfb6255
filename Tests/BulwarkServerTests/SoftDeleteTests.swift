import Bulwark
@testable import BulwarkServer
import BulwarkTestSupport
import Foundation
import Testing

/// OpenBao's soft-delete through the backend, with two nodes on one store: every operation is
/// refused on both once the second has refreshed, management still works, the flag survives the
/// sealed store, and restore brings everything back (against OpenBao in
/// `Tests/Interop/transit_derived.py`).
@Suite("Soft-delete: refused for every operation on every node until restored", .serialized)
struct SoftDeleteTests {
    private static let plaintext = TransitBackend.EncryptRequest(plaintext: Data("x".utf8).base64EncodedString())

    @Test("Two nodes on one SQLite store: soft-deleted on one, refused on both (crypto, sign, trim, rotate, export, auto-rotation); restored, served again")
    func twoNodes() async throws {
        let cli = try CLIRunner()
        let place = try TestStore(.sqlite, cli)
        let first = try await TransitBackend.open(store: try await place.open())
        let second = try await TransitBackend.open(store: try await place.open())
        try await first.createKey("k", .init(exportable: true, autoRotatePeriod: .seconds(3600)))
        try await first.createKey("s", .init(type: "ed25519"))
        let sealed = try #require(try await first.encrypt("k", Self.plaintext).result?.ciphertext)
        try await second.refresh()

        let described = try await first.softDeleteKey("k")
        #expect(described.softDeleted)
        _ = try await first.softDeleteKey("s")
        try await second.refresh()
        for node in [first, second] {
            #expect(try node.readKey("k").softDeleted && node.listKeys().keys.contains("k"))
            await #expect(throws: TransitBackend.softDeleted) { _ = try await node.encrypt("k", Self.plaintext) }
            #expect(throws: TransitBackend.softDeleted) { _ = try node.decrypt("k", .init(ciphertext: sealed)) }
            #expect(throws: TransitBackend.softDeleted) { _ = try node.hmac("k", .init(input: "eA==")) }
            #expect(throws: TransitBackend.softDeleted) { _ = try node.sign("s", .init(input: "eA==")) }
            #expect(throws: TransitBackend.softDeleted) { _ = try node.exportKey("k", type: "encryption-key", version: nil) }
            await #expect(throws: TransitBackend.softDeleted) { try await node.rotateKey("k") }
            await #expect(throws: TransitBackend.softDeleted) { try await node.trimKey("k", .init(minAvailableVersion: 1)) }
            #expect(throws: TransitBackend.softDeleted) { _ = try node.encryptTyped("k", [.init(plaintext: "eA==")]) }
        }
        // Management still works; auto-rotation passes it over even when due.
        try await second.configureKey("k", .init(deletionAllowed: false))
        #expect(try await first.rotateDueKeys(now: Date().addingTimeInterval(7200)).isEmpty)

        _ = try await second.restoreSoftDeletedKey("k")
        try await first.refresh()
        for node in [first, second] {
            #expect(try !node.readKey("k").softDeleted)
            #expect(try node.decrypt("k", .init(ciphertext: sealed)).result?.plaintext == "eA==")
        }
        // A third node opened afresh reads the flags from the sealed store.
        let third = try await TransitBackend.open(store: try await place.open())
        #expect(try third.readKey("s").softDeleted && !third.readKey("k").softDeleted)
        await #expect(throws: BulwarkError(.notFound, "")) { _ = try await first.softDeleteKey("never") }
    }
}
