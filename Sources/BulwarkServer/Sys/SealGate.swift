public import Bulwark
public import BulwarkStorage
import Foundation
import Synchronization

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
    private let state: Mutex<State>

    private struct State {
        var sealed: Bool
        var shares: [[UInt8]] = []
        var nonce = ""
        var masterKey: MasterKey?
        var listeners: [AsyncStream<Void>.Continuation] = []
    }

    /// A gate for a store with `configuration` (sealed), or for a static seal (never sealed).
    /// - Parameter configuration: The store's seal record, or nil.
    public init(configuration: SealConfiguration?) {
        self.configuration = configuration
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
        self.state.withLock { self.status($0) }
    }

    private func status(_ state: State) -> SealStatus {
        SealStatus(
            type: self.configuration?.kind.rawValue ?? "static", sealed: state.sealed, threshold: self.configuration?.threshold ?? 1,
            shares: self.configuration?.shares ?? 1, progress: state.shares.count, nonce: state.nonce)
    }

    /// Forgets the shares entered so far (`reset: true`).
    func reset() -> SealStatus {
        self.state.withLock { state in
            state.shares = []
            state.nonce = ""
            return self.status(state)
        }
    }

    /// Takes one share (hex or base64, as Vault). At the threshold the shares are combined and
    /// must open the store's master key; otherwise the progress resets and the call fails.
    /// - Throws: ``TransitError`` 400 for a malformed share or shares that do not unseal.
    func submit(key text: String) throws -> SealStatus {
        guard let configuration = self.configuration else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): there is nothing to unseal")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let share = Hex.decode(trimmed) ?? Data(base64Encoded: trimmed).map(Array.init) else {
            throw TransitError.badRequest("'key' must be a valid hex or base64 string")
        }
        guard share.count >= 16 else { throw TransitError.badRequest("invalid key: key is shorter than minimum 16 bytes") }
        guard share.count == 33 else { throw TransitError.badRequest("invalid key: a share of this store is 33 bytes") }
        let ready: [[UInt8]]? = self.state.withLock { state in
            guard state.sealed else { return nil }
            // A share entered twice counts once (Vault ignores it too).
            if state.shares.contains(where: { constantTimeEquals($0, share) }) { return nil }
            if state.shares.isEmpty { state.nonce = UUID().uuidString.lowercased() }
            state.shares.append(share)
            guard state.shares.count >= configuration.threshold else { return nil }
            defer {
                state.shares = []
                state.nonce = ""
            }
            return state.shares
        }
        guard let ready else { return self.status() }
        // Combined and checked outside the lock (one AES-GCM open); only one caller holds a full set.
        let masterKey: MasterKey
        do {
            masterKey = try configuration.masterKey(unsealKey: try Shamir.combine(ready))
        } catch {
            throw TransitError.badRequest("invalid key: the shares entered do not unseal this store; the progress is reset")
        }
        let listeners: [AsyncStream<Void>.Continuation] = self.state.withLock { state in
            guard state.sealed else { return [] }
            state.sealed = false
            state.masterKey = masterKey
            defer { state.listeners = [] }
            return state.listeners
        }
        Self.notify(listeners)
        return self.status()
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
            state.shares = []
            state.nonce = ""
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
