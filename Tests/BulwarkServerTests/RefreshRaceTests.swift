import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

@testable import BulwarkServer

/// A refresh reads the store, then applies what it read; local writes can land in between. The
/// refresh must apply everything else (so that a stream of local writes cannot keep another
/// node's change out) and keep the in-memory value of what was written locally meanwhile; and a
/// snapshot older than one already applied is never applied after it.
@Suite("Refresh against local writes: other nodes' changes applied, local writes never undone")
struct RefreshRaceTests {
    @Test("Transform configuration: a snapshot older than a local write keeps the write and applies another node's change")
    func transform() async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(.sqlite, cli).open()
        let node = try await TransformBackend.open(store: store)
        let other = try await TransformBackend.open(store: store)
        try await node.writeRole("payments", RoleWrite(transformations: ["card"]))
        try await other.refresh()

        // The other node changes a role; this node's refresh reads the store…
        try await other.writeRole("shared", RoleWrite(transformations: ["from-the-other-node"]))
        let mark = node.writeCount
        let snapshot = try await store.snapshot()
        // …a local write lands before it applies (and a faster refresh settles that write)…
        try await node.writeRole("payments", RoleWrite(transformations: ["card", "ssn"]))
        // …then the older snapshot arrives: the write's own refresh applied a newer one, so it
        // is not applied at all.
        let settled = try await node.refresh(from: snapshot, writesBefore: mark)
        #expect(settled, "a snapshot older than one applied is passed over")
        #expect(try node.readRole("payments").transformations == ["card", "ssn"], "the local write is not undone")
        #expect(try node.readRole("shared").transformations == ["from-the-other-node"], "the other node's change is applied")
        // A refresh from a snapshot taken after everything settles it.
        #expect(try await node.refresh())
        #expect(try node.readRole("payments").transformations == ["card", "ssn"])
    }

    @Test("Tokens: an older snapshot applied after a newer one does not bring a revoked token back")
    func tokens() async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(.sqlite, cli).open()
        _ = try await TransitServer.initialize(store: store, rootToken: "root-token-for-the-refresh-race-test")
        let auth = try await AuthStore.open(store: store)
        let made = try await auth.createToken(TokenCreation(), creator: .root)
        let token = try #require(made.auth.clientToken)
        let older = try await store.snapshot()
        try await auth.revoke(token: token)
        let newer = try await store.snapshot()
        #expect(try await auth.reload(from: newer))
        #expect(auth.principal(token) == nil)
        // The slower refresh, begun before the revocation, arrives last.
        #expect(try await auth.reload(from: older, writesBefore: auth.writeCount))
        #expect(auth.principal(token) == nil, "a revoked token is not brought back by an older snapshot")
    }

    @Test("Transit keys: the same, with a rotation as the local write")
    func transit() async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(.sqlite, cli).open()
        let node = try await TransitBackend.open(store: store)
        let other = try await TransitBackend.open(store: store)
        try await node.createKey("orders")
        try await other.refresh()

        try await other.createKey("invoices")
        let mark = node.writeCount
        let snapshot = try await store.snapshot()
        try await node.rotateKey("orders")
        let settled = try await node.refresh(from: snapshot, writesBefore: mark)
        #expect(!settled)
        #expect(try node.readKey("orders").latestVersion == 2, "the local rotation is not undone")
        #expect(node.hasKey("invoices"), "the other node's key is applied")
        #expect(try await node.refresh())
        #expect(try node.readKey("orders").latestVersion == 2)
    }
}
