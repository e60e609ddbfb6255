import Bulwark
import BulwarkKeystore
import BulwarkStorage
import Crypto
import Foundation
import Testing

@testable import BulwarkServer

/// Token writes read what the store holds now, and a stream of local writes cannot keep other
/// nodes' changes out of a node (two `AuthStore`s on one SQLite file stand for two nodes).
@Suite struct TokenRaceTests {
    private struct Nodes {
        let a: AuthStore
        let b: AuthStore
        let directory: String
    }

    private func nodes() async throws -> Nodes {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let master = Data(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }).base64EncodedString()
        func open() async throws -> SealedStore {
            try await SealedStore.open(backend: try SQLiteStorage(path: directory + "/state.db"), masterKey: .base64(master), dataDirectory: directory)
        }
        let first = try await open()
        _ = try await TransitServer.initialize(store: first, rootToken: "root-token-for-the-race-tests")
        return Nodes(a: try await AuthStore.open(store: first), b: try await AuthStore.open(store: try await open()), directory: directory)
    }

    private func make(_ auth: AuthStore, uses: Int? = nil) async throws -> String {
        let made = try await auth.createToken(TokenCreation(policies: ["p"], numUses: uses), creator: .root)
        return try #require(made.auth.clientToken)
    }

    @Test func renewalCannotBringBackARevokedToken() async throws {
        let nodes = try await self.nodes()
        defer { try? FileManager.default.removeItem(atPath: nodes.directory) }
        let token = try await self.make(nodes.a)
        try await nodes.b.reload()
        // Revoked on B; A has not reloaded and still holds the token in memory.
        try await nodes.b.revoke(token: token)
        await #expect(throws: BulwarkError(.permissionDenied, "")) { try await nodes.a.renew(hash: AuthStore.hash(token), increment: .seconds(3600)) }
        try await nodes.a.reload()
        #expect(nodes.a.principal(token) == nil && nodes.b.principal(token) == nil)
    }

    @Test func localWritesDoNotStarveARevocationFromAnotherNode() async throws {
        let nodes = try await self.nodes()
        defer { try? FileManager.default.removeItem(atPath: nodes.directory) }
        let victim = try await self.make(nodes.a)
        let busy = try await self.make(nodes.a)
        try await nodes.b.reload()
        try await nodes.b.revoke(token: victim)
        // A renews `busy` without pause while it reloads: the revocation still arrives.
        let renewing = Task {
            for _ in 0..<200 { _ = try? await nodes.a.renew(hash: AuthStore.hash(busy), increment: .seconds(3600)) }
        }
        for _ in 0..<5 { try await nodes.a.reload() }
        renewing.cancel()
        #expect(nodes.a.principal(victim) == nil, "the revocation made on B reached A")
        #expect(nodes.a.principal(busy) != nil)
    }

    @Test func usesAreCountedInTheStoreAcrossNodes() async throws {
        let nodes = try await self.nodes()
        defer { try? FileManager.default.removeItem(atPath: nodes.directory) }
        let token = try await self.make(nodes.a, uses: 3)
        try await nodes.b.reload()
        let hash = AuthStore.hash(token)
        try await nodes.a.consumeUse(hash: hash)
        try await nodes.b.consumeUse(hash: hash)
        try await nodes.a.consumeUse(hash: hash)
        await #expect(throws: BulwarkError(.permissionDenied, "")) { try await nodes.b.consumeUse(hash: hash) }
        // A renewal on a node holding the old count does not give uses back.
        await #expect(throws: BulwarkError(.permissionDenied, "")) { try await nodes.b.renew(hash: hash, increment: .seconds(3600)) }
    }
}
