import Bulwark
@testable import BulwarkServer
import BulwarkTestSupport
import Foundation
import Synchronization
import Testing

/// Key-use limits: each random-nonce key version makes at most its limit of encryptions (2^32 in
/// production, NIST SP 800-38D §8.3; 200 here), counted in the store so that nodes share the
/// count and a restart can only over-count.
@Suite("Key-use limits (encryptions per AES-GCM version)", .serialized)
struct EncryptionBudgetTests {
    private static let plaintext = TransitBackend.EncryptRequest(plaintext: Data("x".utf8).base64EncodedString())

    @Test("A version stops at its limit (encrypt, rewrap and datakey alike); with auto-rotation the key rotates instead; a restart resumes the count", arguments: StorageKind.allCases)
    func limits(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let place = try TestStore(storage, cli)
        let backend = try await TransitBackend.open(store: try await place.open(), encryptionLimit: 200)
        // Every reservation is reported (the server's gauge and its warning from half the limit).
        let seen = Mutex<[String: UInt64]>([:])
        backend.budget.observe { version, reserved in seen.withLock { $0["\(version.key)/\(version.version)"] = reserved } }
        try await backend.createKey("fixed")
        try await backend.createKey("rolling", .init(autoRotatePeriod: .seconds(86_400)))
        // 120 single encryptions and a batch of 80: exactly the limit.
        for _ in 0..<120 { _ = try await backend.encrypt("fixed", Self.plaintext) }
        let batch = TransitBackend.EncryptRequest(batchInput: Array(repeating: Self.plaintext, count: 80))
        let answered = try await backend.encrypt("fixed", batch)
        #expect(answered.items?.compactMap(\.result).count == 80)
        // The next one is refused, naming the remedy; the key still decrypts what it made.
        let refusal = await #expect(throws: BulwarkError.self) { try await backend.encrypt("fixed", Self.plaintext) }
        #expect(refusal.map { TransitError($0).status } == 400 && refusal?.message.contains("rotate the key") == true)
        #expect(seen.withLock { $0["fixed/1"] } == 200)
        // Rotated by hand, the new version has a budget of its own.
        try await backend.rotateKey("fixed")
        let fresh = try await backend.encrypt("fixed", Self.plaintext)
        #expect(fresh.result?.ciphertext.hasPrefix("vault:v2:") == true)

        // With auto-rotation on, the key rotates at the limit and encryption goes on under v2.
        var versions: [String: Int] = [:]
        for _ in 0..<220 {
            let sealed = try await backend.encrypt("rolling", Self.plaintext)
            let prefix = String((sealed.result?.ciphertext ?? "").prefix(8))
            versions[prefix, default: 0] += 1
        }
        // Never more than the limit under one version; concurrent background reservations may
        // over-count (never under-count), so v1 can stop a block or two early.
        #expect((versions["vault:v1"] ?? 0) <= 200 && (versions["vault:v1"] ?? 0) >= 140 && (versions["vault:v2"] ?? 0) >= 20, "\(versions)")

        // Rewrap and datakey encrypt with random nonces too: they count.
        try await backend.createKey("wrap")
        let sealed = try #require(try await backend.encrypt("wrap", Self.plaintext).result?.ciphertext)
        for _ in 0..<198 { _ = try await backend.dataKey("wrap", plaintext: false, .init()) }
        _ = try await backend.rewrap("wrap", .init(ciphertext: sealed))
        await #expect(throws: BulwarkError(.invalidArgument, "")) { try await backend.rewrap("wrap", .init(ciphertext: sealed)) }
        await #expect(throws: BulwarkError(.invalidArgument, "")) { try await backend.dataKey("wrap", plaintext: true, .init()) }

        // Another node (or this one restarted) starts after everything reserved so far: it can
        // only over-count. v2 of "fixed" used 1 of its reservations; a new node gets at most
        // the rest of the limit minus what was reserved (blocks of 20).
        let second = try await TransitBackend.open(store: try await place.open(), encryptionLimit: 200)
        var made = 0
        while made < 200 {
            do {
                _ = try await second.encrypt("fixed", Self.plaintext)
                made += 1
            } catch {
                break
            }
        }
        #expect(made < 199, "the count was shared: at most 200 minus the first node's reservation (\(made))")
        #expect(made >= 160, "reservations are blocks of 20: \(made)")
    }
}
