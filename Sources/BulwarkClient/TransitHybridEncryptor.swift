public import Bulwark
public import Foundation
import NIOHTTP1
import Synchronization

/// Encrypts on the client to a key service's `hpke-*` key, so that only the key service can
/// decrypt: the plaintext never travels to it, and whatever sits between (a TLS-terminating load
/// balancer, a queue, a log pipeline) sees a ciphertext. The public key is fetched from
/// `GET transit/keys/:name` and **pinned**; a key the pins do not allow is refused with
/// ``BulwarkError/Code/pinMismatch`` before anything is encrypted to it.
///
/// Two ways to pin:
/// - ``init(client:keyName:pinnedKeys:)``: keys handed over out of band (`bulwark_public_key`,
///   `bwpk1:…`, shipped with the app). Only those are ever used; the newest one the service still
///   offers is chosen. To rotate: rotate the key (clients stay on the version they pinned, which
///   still works), ship the new version's key as a pin, and raise `min_encryption_version` once
///   the clients have it (a client left with no pin the service offers stops with `pinMismatch`).
/// - ``init(trustingFirstUse:keyName:)``: the first answer is trusted and pinned (in this
///   process: persist ``pinnedKeys``' `text` and pass them to the other initialiser to keep the
///   pins across restarts). A version seen before must come back with the same bytes; a version
///   that appears later is not used until ``pin(_:)`` adds it (see ``newerUnpinnedKeys``).
///
/// The ciphertexts are `vault:vN:` and the base64 of the message
/// (``HybridPublicKey/encrypt(_:context:)``), which the service's `transit/decrypt/:name` opens
/// with the same `associated_data`.
public final class TransitHybridEncryptor: Sendable {
    /// The key service.
    public let client: TransitClient
    /// The `hpke-*` key's name in the service.
    public let keyName: String
    private let trustsFirstUse: Bool
    private let state: Mutex<State>

    private struct State {
        /// Version → the key allowed for it.
        var pins: [UInt32: HybridPublicKey]
        /// The key chosen by the last refresh.
        var current: HybridPublicKey?
        /// Newer versions offered at the last refresh and not pinned.
        var newerUnpinned: [HybridPublicKey] = []
    }

    /// An encryptor that uses only keys pinned out of band.
    /// - Parameters:
    ///   - client: A client of the key service.
    ///   - keyName: The `hpke-*` key's name.
    ///   - pinnedKeys: At least one key, all versions of one key (one key id, one type).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for no pins, pins of several keys, or a
    ///   name that is not a key name.
    public init(client: TransitClient, keyName: String, pinnedKeys: [HybridPublicKey]) throws {
        try TransitClient.checkKey(keyName)
        guard let first = pinnedKeys.first else { throw BulwarkError(.invalidArgument, "pin at least one public key") }
        guard pinnedKeys.allSatisfy({ $0.keyID == first.keyID && $0.type == first.type }) else {
            throw BulwarkError(.invalidArgument, "the pinned public keys belong to more than one key")
        }
        var pins: [UInt32: HybridPublicKey] = [:]
        for key in pinnedKeys {
            if let other = pins[key.version], other != key {
                throw BulwarkError(.invalidArgument, "two different keys are pinned for version \(key.version)")
            }
            pins[key.version] = key
        }
        self.client = client
        self.keyName = keyName
        self.trustsFirstUse = false
        self.state = Mutex(State(pins: pins, current: nil))
    }

    /// An encryptor that trusts the key service's first answer and pins it (trust on first use).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a name that is not a key name.
    public init(trustingFirstUse client: TransitClient, keyName: String) throws {
        try TransitClient.checkKey(keyName)
        self.client = client
        self.keyName = keyName
        self.trustsFirstUse = true
        self.state = Mutex(State(pins: [:], current: nil))
    }

    /// The key the next ``encrypt(_:associatedData:)`` uses: the last refresh's choice.
    public var currentKey: HybridPublicKey? { self.state.withLock { $0.current } }

    /// Every key pinned now, by version.
    public var pinnedKeys: [HybridPublicKey] { self.state.withLock { $0.pins.values.sorted { $0.version < $1.version } } }

    /// Versions the service offered at the last refresh, newer than the chosen one, that are not
    /// pinned: after a rotation, check one out of band and ``pin(_:)`` it to move onto it.
    public var newerUnpinnedKeys: [HybridPublicKey] { self.state.withLock { $0.newerUnpinned } }

    /// Adds a pin (a rotated version's key, checked out of band); the next ``refresh()`` may
    /// choose it.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a key of another key id or type than
    ///   the pinned ones, or other bytes for a version already pinned.
    public func pin(_ key: HybridPublicKey) throws {
        try self.state.withLock { state in
            if let known = state.pins.values.first, known.keyID != key.keyID || known.type != key.type {
                throw BulwarkError(.invalidArgument, "the key belongs to another key than the pinned ones")
            }
            if let known = state.pins[key.version], known != key {
                throw BulwarkError(.invalidArgument, "another key is pinned for version \(key.version)")
            }
            state.pins[key.version] = key
        }
    }

    /// Fetches the public keys the service offers now and chooses the newest one that is pinned.
    /// Call it after the service's key rotates (``encrypt(_:associatedData:)`` calls it once
    /// when nothing is chosen yet).
    ///
    /// Trusting first use, the first answer's keys are pinned; versions that appear later are not
    /// trusted by themselves (a substituted "new version" would otherwise take every message):
    /// they are listed in ``newerUnpinnedKeys`` until ``pin(_:)`` adds them.
    /// - Returns: The chosen key.
    /// - Throws: ``BulwarkError/Code/pinMismatch`` when no offered key is pinned, a pinned
    ///   version comes back with other bytes, or the service no longer offers the version chosen
    ///   before nor a newer pinned one (no silent fall-back to an older key); `wrongPurpose` for
    ///   a key that is not `hpke-*`; `invalidFormat` for a malformed answer; the client's errors
    ///   when the service cannot be reached or refuses.
    @discardableResult
    public func refresh() async throws -> HybridPublicKey {
        let offered = try await self.client.hybridPublicKeys(key: self.keyName)
        return try self.state.withLock { state in
            var pins = state.pins
            if self.trustsFirstUse, pins.isEmpty {
                for key in offered { pins[key.version] = key }
            }
            for key in offered {
                if let known = pins[key.version], known != key {
                    throw BulwarkError(.pinMismatch, "version \(key.version) of '\(self.keyName)' came back with other key bytes than the ones pinned")
                }
            }
            guard let chosen = offered.filter({ pins[$0.version] == $0 }).max(by: { $0.version < $1.version }) else {
                throw BulwarkError(.pinMismatch, "none of the public keys the key service offers for '\(self.keyName)' is pinned")
            }
            if let current = state.current, chosen.version < current.version {
                throw BulwarkError(.pinMismatch, "the key service no longer offers version \(current.version) of '\(self.keyName)': not falling back to version \(chosen.version)")
            }
            state.pins = pins
            state.current = chosen
            state.newerUnpinned = offered.filter { $0.version > chosen.version && pins[$0.version] == nil }
            return chosen
        }
    }

    /// Encrypts `plaintext` locally to the chosen key.
    /// - Parameters:
    ///   - plaintext: The data to protect; it never leaves this process in clear.
    ///   - associatedData: Bound to the ciphertext; `transit/decrypt` must be given the same.
    /// - Returns: `vault:vN:` and the base64 message, for `transit/decrypt/:name`.
    /// - Throws: What ``refresh()`` throws when no key is chosen yet.
    public func encrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext, associatedData: Data = Data()) async throws -> String {
        let key: HybridPublicKey
        if let current = self.currentKey { key = current } else { key = try await self.refresh() }
        let message = try key.encrypt(plaintext, context: associatedData)
        return "vault:v\(key.version):" + message.base64EncodedString()
    }
}

extension TransitClient {
    /// The public keys `GET transit/keys/:name` offers for an `hpke-*` key (versions the service
    /// would decrypt and still lets senders use), unpinned: ``TransitHybridEncryptor`` pins them.
    package func hybridPublicKeys(key: String) async throws -> [HybridPublicKey] {
        try Self.checkKey(key)
        let data = try await self.call(.GET, "transit/keys/" + key).data
        guard let type = data["type"] as? String, let versions = data["keys"] as? [String: Any] else {
            throw BulwarkError(.invalidFormat, "the key service's key answer is malformed")
        }
        guard type.hasPrefix("hpke-") else {
            throw BulwarkError(.wrongPurpose, "'\(key)' is a \(type) key, not a hybrid-encryption (hpke-*) key")
        }
        // Messages to a soft-deleted key would be refused: nothing is encrypted to it.
        if data["soft_deleted"] as? Bool == true {
            throw BulwarkError(.invalidArgument, "'\(key)' is soft-deleted: the key service refuses it until it is restored")
        }
        var keys: [HybridPublicKey] = []
        for (number, entry) in versions {
            guard let entry = entry as? [String: Any], let version = UInt32(number) else {
                throw BulwarkError(.invalidFormat, "the key service's key answer is malformed")
            }
            // A version senders may not use has no public key in the answer.
            guard let text = entry["bulwark_public_key"] as? String, !text.isEmpty else { continue }
            let parsed = try HybridPublicKey(text: text)
            guard parsed.version == version, parsed.type.rawValue == type else {
                throw BulwarkError(.invalidFormat, "the key service's key answer names version \(number) but holds another")
            }
            keys.append(parsed)
        }
        if let first = keys.first, !keys.allSatisfy({ $0.keyID == first.keyID && $0.type == first.type }) {
            throw BulwarkError(.invalidFormat, "the key service's answer holds versions of more than one key")
        }
        guard !keys.isEmpty else {
            throw BulwarkError(.invalidFormat, "the key service offers no public key for '\(key)'")
        }
        return keys.sorted { $0.version < $1.version }
    }
}
