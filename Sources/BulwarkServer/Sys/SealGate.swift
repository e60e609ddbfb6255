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
    /// The store's seal record as last read (nil: a static seal).
    public var configuration: SealConfiguration? { self.state.withLock { $0.configuration } }
    /// Where the seal record is re-read before shares are combined (a rotation on another node
    /// changes it), and written by a rotation; nil in tests of a gate alone.
    let backend: (any StorageBackend)?
    /// The seal id the unsealed master key must have (``MasterKey/sealIdentifier``), when the
    /// server was given one.
    public let expectedSealID: String?
    /// The HSM or KMS key that unwraps the unseal key of an auto-unseal store (nil for Shamir and
    /// static seals).
    public let wrapper: (any SealKeyWrapper)?
    /// How long entered shares are kept with no further share before they are forgotten (a
    /// half-finished unseal does not keep shares in memory for ever).
    static let progressLifetime: Duration = .seconds(600)
    let state: Mutex<State>

    struct State {
        var configuration: SealConfiguration?
        var sealed: Bool
        /// The unseal key rotation in progress (OpenBao's `sys/rotate/root`).
        var rotation: Rotation?
        /// The root token generation in progress (OpenBao's `sys/generate-root-token`).
        var rootGeneration: RootGeneration?
        var shares: [[UInt8]] = []
        var nonce = ""
        var lastShare: ContinuousClock.Instant?
        var masterKey: MasterKey?
        /// Sealed by `sys/seal`: an auto-unseal store then stays sealed until the server restarts
        /// (as Vault), whatever its HSM or KMS answers.
        var sealedByOperator = false
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
    ///   - backend: The store's database, where the record is re-read and rotated.
    ///   - wrapper: For an auto-unseal store, its HSM or KMS key (see ``autoUnseal()``).
    public init(
        configuration: SealConfiguration?, expectedSealID: String? = nil, backend: (any StorageBackend)? = nil, wrapper: (any SealKeyWrapper)? = nil
    ) {
        self.expectedSealID = expectedSealID?.lowercased()
        self.backend = backend
        self.wrapper = wrapper
        self.state = Mutex(State(configuration: configuration, sealed: configuration != nil))
    }

    /// The seal record as stored now (the last one read when there is no backend).
    func currentRecord() async throws -> SealConfiguration? {
        guard let backend = self.backend else { return self.configuration }
        let record = try await SealConfiguration.read(from: backend)
        self.state.withLock { state in
            if let record { state.configuration = record }
        }
        return record
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
            type: state.configuration?.kind.rawValue ?? "static", sealed: state.sealed, threshold: state.configuration?.threshold ?? 1,
            shares: state.configuration?.shares ?? 1, progress: state.shares.count, nonce: state.nonce,
            recoverySeal: state.configuration?.kind.isAutomatic ?? false)
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
    func submit(key text: String) async throws -> (SealStatus, Outcome) {
        guard let configuration = self.configuration else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): there is nothing to unseal")
        }
        guard !configuration.kind.isAutomatic else {
            throw TransitError.badRequest(
                "this store is sealed by \(configuration.kind.rawValue): the server unseals itself when its key answers (see the server's log); it takes no key shares")
        }
        var share = try Self.share(text)
        defer { Self.wipe(&share) }
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
        // Combined and checked outside the lock (one AES-GCM open), against the record as stored
        // now (a rotation on another node replaces it).
        let masterKey: MasterKey
        defer { for index in ready.indices { Self.wipe(&ready[index]) } }
        let record: SealConfiguration
        do {
            record = try await self.currentRecord() ?? configuration
        } catch {
            // Not the shares' fault: say so (the holders enter them again).
            throw TransitError(503, "the seal record cannot be read now (storage unavailable); enter the shares again")
        }
        do {
            masterKey = try Self.open(record, with: &ready)
        } catch {
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
    /// - Parameter byOperator: Whether `sys/seal` asked (an auto-unseal store then waits for a
    ///   restart); false when the server seals itself again (the store did not open), after which
    ///   an auto-unseal store tries again.
    func seal(byOperator: Bool = true) throws {
        guard self.state.withLock({ $0.configuration }) != nil else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): it cannot be sealed")
        }
        let listeners: [AsyncStream<Void>.Continuation] = self.state.withLock { state in
            if byOperator { state.sealedByOperator = true }
            guard !state.sealed else { return [] }
            state.sealed = true
            state.masterKey = nil
            state.forgetShares()
            state.rotation?.forget()
            state.rotation = nil
            state.rootGeneration?.forget()
            state.rootGeneration = nil
            defer { state.listeners = [] }
            return state.listeners
        }
        Self.notify(listeners)
    }

    /// Whether the server should try to unseal itself now: an auto-unseal store, sealed, and not
    /// sealed by `sys/seal` since it started.
    public var wantsAutoUnseal: Bool {
        self.wrapper != nil && self.state.withLock { $0.sealed && !$0.sealedByOperator && $0.configuration?.kind.isAutomatic == true }
    }

    /// Unseals an auto-unseal store: its HSM or KMS key unwraps the unseal key, which opens the
    /// master key (with the expected seal id); the server then starts serving.
    /// - Returns: Whether the server is unsealed now (false: not an auto-unseal store, or sealed by
    ///   `sys/seal`).
    /// - Throws: Why the HSM or KMS did not unwrap it (unreachable, refused, disabled key, wrong
    ///   context), or ``BulwarkError/Code/wrongMasterKey``; the server stays sealed and the caller retries.
    @discardableResult
    public func autoUnseal() async throws -> Bool {
        guard let wrapper = self.wrapper, self.wantsAutoUnseal else { return !self.isSealed }
        guard let record = try await self.currentRecord(), record.kind.isAutomatic else {
            throw BulwarkError(.keystoreCorrupted, "the store has no auto-unseal record any more")
        }
        let masterKey = try await record.masterKey(using: wrapper)
        if let expected = self.expectedSealID, masterKey.sealIdentifier != expected {
            throw BulwarkError(.wrongMasterKey, "the store's master key has another seal id than this server's (the store was replaced?)")
        }
        let listeners: [AsyncStream<Void>.Continuation] = self.state.withLock { state in
            guard state.sealed, !state.sealedByOperator else { return [] }
            state.sealed = false
            state.masterKey = masterKey
            defer { state.listeners = [] }
            return state.listeners
        }
        Self.notify(listeners)
        return !self.isSealed
    }

    /// Each stream from ``changes()`` yields once, then ends.
    private static func notify(_ listeners: [AsyncStream<Void>.Continuation]) {
        for listener in listeners {
            listener.yield()
            listener.finish()
        }
    }

    /// A share as entered: hex or base64 (as Vault), 33 bytes.
    /// - Throws: ``TransitError`` 400 with Vault's messages.
    static func share(_ text: String) throws -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard var share = Hex.decode(trimmed) ?? Data(base64Encoded: trimmed).map(Array.init) else {
            throw TransitError.badRequest("'key' must be a valid hex or base64 string")
        }
        guard share.count >= 16 else {
            Self.wipe(&share)
            throw TransitError.badRequest("invalid key: key is shorter than minimum 16 bytes")
        }
        guard share.count == 33 else {
            Self.wipe(&share)
            throw TransitError.badRequest("invalid key: a share of this store is 33 bytes")
        }
        return share
    }

    /// The seal record as stored now, for an operation a quorum of shares authorises.
    /// - Throws: ``TransitError`` 503 when it cannot be read (the holders enter their shares again).
    func storedRecord() async throws -> SealConfiguration {
        do {
            guard let current = try await self.currentRecord() else { throw TransitError.badRequest("this store has no seal record") }
            return current
        } catch let error as TransitError {
            throw error
        } catch {
            throw TransitError(503, "the seal record cannot be read now; enter the shares again")
        }
    }

    /// The seal record as stored now and its master key, opened by `shares` (wiped) and checked
    /// against the expected seal id: what a rotation or a root generation needs a quorum for.
    /// - Throws: ``TransitError`` 503 when the record cannot be read, 400 when the shares do not
    ///   open it (or open a store with another seal id).
    func openStored(with shares: inout [[UInt8]]) async throws -> (SealConfiguration, MasterKey) {
        let record = try await self.storedRecord()
        let masterKey: MasterKey
        do {
            masterKey = try Self.open(record, with: &shares)
        } catch {
            throw TransitError.badRequest("invalid key: the shares entered do not open this store's master key; the progress is reset")
        }
        if let expected = self.expectedSealID, masterKey.sealIdentifier != expected {
            throw TransitError.badRequest("invalid key: the shares open a store other than this server's seal id; the progress is reset")
        }
        return (record, masterKey)
    }

    /// Combines `shares` (wiping them and the result) and opens `record`'s master key.
    static func open(_ record: SealConfiguration, with shares: inout [[UInt8]]) throws -> MasterKey {
        defer { for index in shares.indices { Self.wipe(&shares[index]) } }
        var unsealKey = try Shamir.combine(shares)
        defer { Self.wipe(&unsealKey) }
        return try record.masterKey(unsealKey: unsealKey)
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
