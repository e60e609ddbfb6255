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
/// - ``init(trustingFirstUse:keyName:)``: the first answer is trusted and pinned; later a version
///   already seen must come back with the same bytes and the same key id (a substituted key is
///   refused), and new versions are added as the service rotates.
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

    /// Fetches the public keys the service offers now and chooses the newest one the pins allow.
    /// Call it after the service's key rotates (``encrypt(_:associatedData:)`` calls it once
    /// when nothing is chosen yet).
    /// - Returns: The chosen key.
    /// - Throws: ``BulwarkError/Code/pinMismatch`` when no offered key is pinned, or (trusting
    ///   first use) a version seen before comes back with other bytes or another key id;
    ///   `wrongPurpose` for a key that is not `hpke-*`; `invalidFormat` for a malformed answer;
    ///   the client's errors when the service cannot be reached or refuses.
    @discardableResult
    public func refresh() async throws -> HybridPublicKey {
        let offered = try await self.client.hybridPublicKeys(key: self.keyName)
        return try self.state.withLock { state in
            var pins = state.pins
            if self.trustsFirstUse {
                for key in offered {
                    if let known = pins[key.version] ?? pins.values.first, known.keyID != key.keyID || known.type != key.type {
                        throw BulwarkError(.pinMismatch, "the key service offers another key than the one pinned for '\(self.keyName)' (key id \(key.keyID), not \(known.keyID))")
                    }
                    if let known = pins[key.version], known != key {
                        throw BulwarkError(.pinMismatch, "version \(key.version) of '\(self.keyName)' came back with other key bytes than the ones pinned")
                    }
                    pins[key.version] = key
                }
            }
            guard let chosen = offered.filter({ pins[$0.version] == $0 }).max(by: { $0.version < $1.version }) else {
                throw BulwarkError(.pinMismatch, "none of the public keys the key service offers for '\(self.keyName)' is pinned")
            }
            state.pins = pins
            state.current = chosen
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
        guard !keys.isEmpty else {
            throw BulwarkError(.invalidFormat, "the key service offers no public key for '\(key)'")
        }
        return keys.sorted { $0.version < $1.version }
    }
}
