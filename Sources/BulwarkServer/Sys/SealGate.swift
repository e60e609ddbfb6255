public import Bulwark
public import BulwarkStorage
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the key service is sealed, and the unseal in progress (Vault's `sys/seal-status`,
/// `sys/unseal`, `sys/seal`).
///
/// A server on a store with a Shamir seal (``SealConfiguration``) starts sealed: it holds no
/// master key and answers only `sys/seal-status`, `sys/unseal` and `sys/health`. Each share
/// entered is kept in memory (never logged, never stored) until the threshold is reached; then the
/// shares are combined, the result must open the store's wrapped master key, and the gate hands
/// the key to the server and forgets the shares. Shares that do not open it reset the progress and
/// reveal nothing. A server with a static seal (the master key from its configuration) is never
/// sealed and cannot be.
public final class SealGate: Sendable {
    /// The store's seal (nil: a static seal).
    public let configuration: SealConfiguration?
    /// The seal id the unsealed master key must have (``MasterKey/sealIdentifier``), when the
    /// server was given one.
    public let expectedSealID: String?
    /// How long entered shares are kept with no further share before they are forgotten (a
    /// half-finished unseal does not keep shares in memory for ever).
    static let progressLifetime: Duration = .seconds(600)
    private let state: Mutex<State>

    private struct State {
        var sealed: Bool
        var shares: [[UInt8]] = []
        var nonce = ""
        var lastShare: ContinuousClock.Instant?
        var masterKey: MasterKey?
        var listeners: [AsyncStream<Void>.Continuation] = []

        /// Forgets the shares, overwriting them first.
        mutating func forgetShares() {
            for index in self.shares.indices { SealGate.wipe(&self.shares[index]) }
            self.shares = []
            self.nonce = ""
            self.lastShare = nil
        }

        /// Forgets shares older than ``SealGate/progressLifetime``.
        mutating func expire(now: ContinuousClock.Instant) {
            if let last = self.lastShare, now - last > SealGate.progressLifetime { self.forgetShares() }
        }
    }

    /// A gate for a store with `configuration` (sealed), or for a static seal (never sealed).
    /// - Parameters:
    ///   - configuration: The store's seal record, or nil.
    ///   - expectedSealID: The seal id printed by `operator init`; shares that unseal a master
    ///     key with another id are refused.
    public init(configuration: SealConfiguration?, expectedSealID: String? = nil) {
        self.configuration = configuration
        self.expectedSealID = expectedSealID?.lowercased()
        self.state = Mutex(State(sealed: configuration != nil))
    }

    /// Whether the server is sealed now.
    public var isSealed: Bool { self.state.withLock { $0.sealed } }

    /// Takes the master key unsealed by the last share (once; nil when there is none).
    public func takeMasterKey() -> MasterKey? {
        self.state.withLock { state in
            defer { state.masterKey = nil }
            return state.masterKey
        }
    }

    /// A stream that yields once, at the gate's next change between sealed and unsealed.
    public func changes() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.state.withLock { $0.listeners.append(continuation) }
        return stream
    }

    /// The answer of `sys/seal-status` (and of `sys/unseal`).
    func status() -> SealStatus {
        self.state.withLock { state in
            state.expire(now: .now)
            return self.status(state)
        }
    }

    private func status(_ state: State) -> SealStatus {
        SealStatus(
            type: self.configuration?.kind.rawValue ?? "static", sealed: state.sealed, threshold: self.configuration?.threshold ?? 1,
            shares: self.configuration?.shares ?? 1, progress: state.shares.count, nonce: state.nonce)
    }

    /// Forgets the shares entered so far (`reset: true`).
    func reset() -> SealStatus {
        self.state.withLock { state in
            state.forgetShares()
            return self.status(state)
        }
    }

    /// What a share did (for the server's log: never the share itself).
    enum Outcome: Sendable {
        /// Counted; more are needed.
        case progress(Int)
        /// Already entered (the same bytes, or the same x coordinate): not counted.
        case duplicate
        /// The server is unsealed (by this share, or before it).
        case unsealed
    }

    /// Takes one share (hex or base64, as Vault). At the threshold the shares are combined and
    /// must open the store's master key (and have the expected seal id); otherwise the progress
    /// resets and the call fails.
    /// - Throws: ``TransitError`` 400 for a malformed share or shares that do not unseal.
    func submit(key text: String) throws -> (SealStatus, Outcome) {
        guard let configuration = self.configuration else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): there is nothing to unseal")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard var share = Hex.decode(trimmed) ?? Data(base64Encoded: trimmed).map(Array.init) else {
            throw TransitError.badRequest("'key' must be a valid hex or base64 string")
        }
        defer { Self.wipe(&share) }
        guard share.count >= 16 else { throw TransitError.badRequest("invalid key: key is shorter than minimum 16 bytes") }
        guard share.count == 33 else { throw TransitError.badRequest("invalid key: a share of this store is 33 bytes") }
        enum Step {
            case answer(Outcome)
            case combine([[UInt8]])
        }
        let step: Step = self.state.withLock { state in
            guard state.sealed else { return .answer(.unsealed) }
            state.expire(now: .now)
            // A share entered twice counts once (Vault ignores it too); so does another share
            // with the same x coordinate (it could only spoil the combination).
            if state.shares.contains(where: { $0.last == share.last }) { return .answer(.duplicate) }
            if state.shares.isEmpty { state.nonce = UUID().uuidString.lowercased() }
            state.shares.append(share)
            state.lastShare = .now
            guard state.shares.count >= configuration.threshold else { return .answer(.progress(state.shares.count)) }
            // Only this caller holds a full set; the state keeps none of it.
            let full = state.shares
            state.shares = []
            state.nonce = ""
            state.lastShare = nil
            return .combine(full)
        }
        guard case .combine(var ready) = step else {
            if case .answer(let outcome) = step { return (self.status(), outcome) }
            return (self.status(), .duplicate)
        }
        // Combined and checked outside the lock (one AES-GCM open).
        let masterKey: MasterKey
        do {
            var unsealKey = try Shamir.combine(ready)
            defer { Self.wipe(&unsealKey) }
            for index in ready.indices { Self.wipe(&ready[index]) }
            masterKey = try configuration.masterKey(unsealKey: unsealKey)
        } catch {
            for index in ready.indices { Self.wipe(&ready[index]) }
            throw TransitError.badRequest("invalid key: the shares entered do not unseal this store; the progress is reset")
        }
        if let expected = self.expectedSealID, masterKey.sealIdentifier != expected {
            throw TransitError.badRequest(
                "invalid key: the shares unseal a store other than this server's seal id (the store was replaced?); the progress is reset")
        }
        let listeners: [AsyncStream<Void>.Continuation] = self.state.withLock { state in
            guard state.sealed else { return [] }
            state.sealed = false
            state.masterKey = masterKey
            // Shares entered while this set was being combined are not needed any more.
            state.forgetShares()
            defer { state.listeners = [] }
            return state.listeners
        }
        Self.notify(listeners)
        return (self.status(), .unsealed)
    }

    /// Seals the server (`sys/seal`): it stops serving, forgets its master key and waits for shares.
    /// - Throws: ``TransitError`` 400 on a static seal, which could not be unsealed again.
    func seal() throws {
        guard self.configuration != nil else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): it cannot be sealed")
        }
        let listeners: [AsyncStream<Void>.Continuation] = self.state.withLock { state in
            guard !state.sealed else { return [] }
            state.sealed = true
            state.masterKey = nil
            state.forgetShares()
            defer { state.listeners = [] }
            return state.listeners
        }
        Self.notify(listeners)
    }

    /// Each stream from ``changes()`` yields once, then ends.
    private static func notify(_ listeners: [AsyncStream<Void>.Continuation]) {
        for listener in listeners {
            listener.yield()
            listener.finish()
        }
    }

    /// Overwrites `bytes` with zeros before they are let go.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            #if canImport(Glibc)
            explicit_bzero(base, buffer.count)
            #else
            _ = memset_s(base, buffer.count, 0, buffer.count)
            #endif
        }
    }
}

/// `GET sys/seal-status`, and the answer of `PUT sys/unseal`: Vault's fields.
struct SealStatus: Encodable, Sendable {
    /// The seal's kind: `shamir`, or `static` (the master key from the configuration).
    let type: String
    /// Always true: a server runs only on an initialised store.
    let initialized = true
    /// Whether it is sealed.
    let sealed: Bool
    /// Shares needed.
    let threshold: Int
    /// Shares made.
    let shares: Int
    /// Shares entered so far.
    let progress: Int
    /// The unseal attempt's id while shares are being entered, else "".
    let nonce: String
    /// Always false: no recovery seal yet.
    let recoverySeal = false
    /// Always false: no seal migration in progress.
    let migration = false
    /// The server's version.
    let version = "bulwark-0.1"

    enum CodingKeys: String, CodingKey {
        case type, initialized, sealed, progress, nonce, migration, version
        case threshold = "t"
        case shares = "n"
        case recoverySeal = "recovery_seal"
    }
}
