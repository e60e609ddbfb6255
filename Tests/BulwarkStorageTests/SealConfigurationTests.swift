import Bulwark
import BulwarkKeystore
import BulwarkTestSupport
import Foundation
import Testing

@testable import BulwarkStorage

/// The Shamir seal's record: a store made by `initializeShamir` opens only with the key its
/// shares rebuild; the record is bound to its counts; a store is initialised once; a configured
/// master key is refused for it.
@Suite("Shamir seal record (SQLite and PostgreSQL)", .serialized)
struct SealConfigurationTests {
    @Test("shares rebuild the unseal key that opens the store; a changed count or a wrong key refuses; a second init refuses", arguments: StorageKind.allCases)
    func shamirStore(kind: StorageKind) async throws {
        let place = try TestStore(kind, try CLIRunner())
        let url = try StorageURL(place.location)
        let backend = try await url.openBackend()
        let (store, shares, sealID) = try await SealConfiguration.initializeShamir(
            backend: backend, dataDirectory: url.dataDirectory, shares: 4, threshold: 2) { $0 }
        try await store.updateDocument("sys/policy/p") { _ in Data("kept".utf8) }
        let record = try #require(try await SealConfiguration.read(from: backend))
        #expect(record.kind == .shamir && record.shares == 4 && record.threshold == 2)
        // Any two shares open it; the store opened with that key reads what was written.
        let key = try record.masterKey(unsealKey: try Shamir.combine([shares[3], shares[1]]))
        #expect(key.sealIdentifier == sealID && sealID.count == 32, "the seal id is the unsealed key's")
        let reopened = try await SealedStore.open(backend: backend, masterKey: .key(key), dataDirectory: url.dataDirectory, create: false)
        #expect(try await reopened.document("sys/policy/p") == Data("kept".utf8))
        // A wrong unseal key, and the same key with the record's counts changed, are refused alike.
        #expect(throws: BulwarkError(.wrongMasterKey, "")) { try record.masterKey(unsealKey: SecureRandom.bytes(32)) }
        let unsealKey = try Shamir.combine([shares[0], shares[2]])
        let changed = SealConfiguration(kind: .shamir, shares: 5, threshold: 2, wrappedKey: record.wrappedKey)
        #expect(throws: BulwarkError(.wrongMasterKey, "")) { try changed.masterKey(unsealKey: unsealKey) }
        // A configured master key is refused for a Shamir store, and a second init is refused.
        let configured = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        await #expect(throws: BulwarkError(.invalidArgument, "")) {
            _ = try await SealedStore.open(backend: backend, masterKey: .base64(configured), dataDirectory: url.dataDirectory)
        }
        await #expect(throws: BulwarkError(.alreadyInitialized, "")) {
            _ = try await SealConfiguration.initializeShamir(backend: backend, dataDirectory: url.dataDirectory, shares: 3, threshold: 2) { $0 }
        }
        #expect(try await SealConfiguration.read(from: backend) == record, "the refused init changed nothing")
        // The record is outside the manifest: a snapshot reads everything.
        #expect(try await reopened.snapshot().unreadable.isEmpty)
        // The record holds no share and no key in clear.
        let raw = try place.rawBytes()
        for share in shares { #expect(raw.range(of: Data(share)) == nil) }
        #expect(raw.range(of: Data(unsealKey)) == nil)
        // The rest on SQLite only: each PostgreSQL store is a database created by psql, which the
        // test blocks on (the round trip above covered PostgreSQL).
        guard kind == .sqlite else { return }
        // A store that holds anything (even without a seal record) is not initialised over.
        let other = try TestStore(kind, try CLIRunner())
        let otherBackend = try await StorageURL(other.location).openBackend()
        _ = try await other.open()
        await #expect(throws: BulwarkError(.alreadyInitialized, "")) {
            _ = try await SealConfiguration.initializeShamir(backend: otherBackend, dataDirectory: url.dataDirectory, shares: 3, threshold: 2) { $0 }
        }
        // What the caller prepares runs before anything is written: a failure there writes nothing.
        let empty = try TestStore(kind, try CLIRunner())
        let emptyBackend = try await StorageURL(empty.location).openBackend()
        await #expect(throws: BulwarkError(.invalidArgument, "")) {
            _ = try await SealConfiguration.initializeShamir(backend: emptyBackend, dataDirectory: url.dataDirectory, shares: 3, threshold: 2) { _ in
                throw BulwarkError(.invalidArgument, "the shares cannot be shown")
            }
        }
        #expect(try await emptyBackend.list(prefix: "").isEmpty)
    }

    @Test("a malformed seal record is refused as corrupted, not trusted")
    func malformedRecord() throws {
        let sealID = String(repeating: "ab", count: 16)
        for text in [
            #"{}"#, #"{"version":1,"type":"shamir","n":1,"t":1,"wrapped_key":""}"#, #"{"version":2,"type":"shamir","n":3,"t":2,"wrapped_key":"AA=="}"#, "not json",
            // awskms: no recovery check (or a short one), recovery counts out of range, no wrapping key, no wrapped unseal key, a seal id that is not 32 lower-case hex digits.
            #"{"version":1,"type":"awskms","n":3,"t":2,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"\#(sealID)"}"#,
            #"{"version":1,"type":"awskms","n":3,"t":2,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"\#(sealID)","recovery_check":"AA=="}"#,
            #"{"version":1,"type":"awskms","n":1,"t":1,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"\#(sealID)","recovery_check":"\#(Data(count: 50).base64EncodedString())"}"#,
            #"{"version":1,"type":"awskms","n":1,"t":1,"wrapped_key":"AA==","wrapped_unseal_key":"AA==","seal_id":"\#(sealID)"}"#,
            #"{"version":1,"type":"awskms","n":1,"t":1,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"","seal_id":"\#(sealID)"}"#,
            #"{"version":1,"type":"awskms","n":1,"t":1,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"\#(sealID.uppercased())"}"#,
            #"{"version":1,"type":"awskms","n":1,"t":1,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"abc"}"#,
            #"{"version":1,"type":"pkcs11","n":1,"t":1,"wrapped_key":"AA==","wrapping_key_id":"k","wrapped_unseal_key":"AA==","seal_id":"\#(sealID)"}"#,
        ] {
            #expect(throws: BulwarkError(.keystoreCorrupted, "")) { try SealConfiguration(parsing: Array(text.utf8)) }
        }
        // The well-formed awskms record parses, names its key, and serialises to the same record.
        let check = Data(count: 50).base64EncodedString()
        let good = #"{"n":5,"recovery_check":"\#(check)","seal_id":"\#(sealID)","t":3,"type":"awskms","version":1,"wrapped_key":"AA==","wrapped_unseal_key":"AQI=","wrapping_key_id":"alias\/seal"}"#
        let record = try? SealConfiguration(parsing: Array(good.utf8))
        #expect(record?.kind == .awskms && record?.wrappingKeyID == "alias/seal" && record?.kind.isAutomatic == true)
        #expect(try record.map { try SealConfiguration(parsing: $0.serialized()) } == record)
    }
}
