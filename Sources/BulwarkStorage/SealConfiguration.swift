public import Bulwark
import BulwarkKeystore
import Foundation

/// How a store's master key is kept when it is not given to the server (Vault's seal).
///
/// With a Shamir seal, `bulwark operator init --key-shares N --key-threshold T` makes a random
/// master key and a random unseal key, keeps the master key in the store wrapped by the unseal key
/// (AES-256-GCM bound to the seal's type and counts), and splits the unseal key into `N` shares in
/// Vault's format (``Shamir``), shown once. The unseal key is never stored: a server starts sealed
/// and unseals once `T` share holders have entered their shares. The record lives at
/// ``path``, outside the entries sealed by the master key (it is what opens them), and outside
/// the manifest. A store with no such record has a *static* seal: its master key comes from the
/// server's configuration (`BULWARK_MASTER_KEY`, a key file or a passphrase).
public struct SealConfiguration: Sendable, Equatable {
    /// The seal's kind (Vault's `type`).
    public enum Kind: String, Sendable, Equatable {
        /// Key shares entered by operators.
        case shamir
    }

    /// Where the record lives.
    public static let path = "sys/seal-config"
    /// The record's format.
    static let formatVersion = 1

    /// The seal's kind.
    public let kind: Kind
    /// How many shares the unseal key was split into (Vault's `n`).
    public let shares: Int
    /// How many shares unseal (Vault's `t`).
    public let threshold: Int
    /// The master key wrapped by the unseal key (`nonce ‖ ciphertext ‖ tag`).
    let wrappedKey: [UInt8]

    /// What the wrapped key is bound to: a changed type or count makes it refuse to open.
    var context: [UInt8] {
        Array("bulwark seal v\(Self.formatVersion) \(self.kind.rawValue) n=\(self.shares) t=\(self.threshold)".utf8)
    }

    /// Reads the seal record of the store in `backend` (nil: a static seal, or no store yet).
    /// - Throws: ``BulwarkError/Code/keystoreCorrupted`` for a record that does not parse.
    public static func read(from backend: any StorageBackend) async throws -> SealConfiguration? {
        try await backend.migrate()
        guard let bytes = try await backend.read(Self.path) else { return nil }
        return try SealConfiguration(parsing: bytes)
    }

    init(kind: Kind, shares: Int, threshold: Int, wrappedKey: [UInt8]) {
        self.kind = kind
        self.shares = shares
        self.threshold = threshold
        self.wrappedKey = wrappedKey
    }

    init(parsing bytes: [UInt8]) throws {
        let corrupted = BulwarkError(.keystoreCorrupted, "the store's seal record (\(Self.path)) is malformed")
        guard bytes.count <= 4096,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["version"] as? Int == Self.formatVersion,
            let type = object["type"] as? String, let kind = Kind(rawValue: type),
            let shares = object["n"] as? Int, let threshold = object["t"] as? Int,
            (2...Shamir.maximumShares).contains(threshold), (threshold...Shamir.maximumShares).contains(shares),
            let wrapped = (object["wrapped_key"] as? String).flatMap({ Data(base64Encoded: $0) })
        else { throw corrupted }
        self.init(kind: kind, shares: shares, threshold: threshold, wrappedKey: Array(wrapped))
    }

    /// The record as stored (JSON, sorted keys).
    func serialized() throws -> [UInt8] {
        let object: [String: Any] = [
            "version": Self.formatVersion, "type": self.kind.rawValue, "n": self.shares, "t": self.threshold,
            "wrapped_key": Data(self.wrappedKey).base64EncodedString(),
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Opens the master key with an unseal key rebuilt from shares.
    /// - Parameter unsealKey: The combined shares.
    /// - Throws: ``BulwarkError/Code/wrongMasterKey`` when they do not open it (wrong shares, too
    ///   few, or shares of another store).
    public func masterKey(unsealKey: [UInt8]) throws -> MasterKey {
        do {
            return try MasterKey.unwrap(self.wrappedKey, under: unsealKey, context: self.context)
        } catch let error as BulwarkError where error.code == .wrongMasterKey {
            throw BulwarkError(.wrongMasterKey, "the shares do not open this store's master key (wrong, too few, or another store's shares)")
        }
    }

    /// A new unseal key for the same master key (Vault's rekey, OpenBao's `sys/rotate/root`): a
    /// record wrapping `masterKey` under a fresh unseal key split into `shares` shares.
    /// - Returns: The new record (not stored yet: see ``replace(_:with:in:)``) and its shares.
    public static func shamir(wrapping masterKey: MasterKey, shares: Int, threshold: Int) throws -> (SealConfiguration, [[UInt8]]) {
        var unsealKey = MasterKey.generateWrappingKey(access: .token)
        defer { unsealKey.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let split = try Shamir.split(unsealKey, shares: shares, threshold: threshold)
        let unwrapped = SealConfiguration(kind: .shamir, shares: shares, threshold: threshold, wrappedKey: [])
        let record = SealConfiguration(
            kind: .shamir, shares: shares, threshold: threshold, wrappedKey: try masterKey.wrapped(under: unsealKey, context: unwrapped.context))
        return (record, split)
    }

    /// Replaces the stored record `current` with `new`, only if the store still holds `current`.
    /// - Throws: ``BulwarkError/Code/unavailable`` when the record changed meanwhile (another node's rotation).
    public static func replace(_ current: SealConfiguration, with new: SealConfiguration, in backend: any StorageBackend) async throws {
        let expected = try current.serialized()
        let replacement = try new.serialized()
        try await backend.update(Self.path) { stored in
            guard let stored, (try? SealConfiguration(parsing: stored)) == current || stored == expected else {
                throw BulwarkError(.unavailable, "the seal record changed during the rotation (another node rotated it): start again")
            }
            return (.put(replacement), ())
        }
    }

    /// Initialises an empty store with a Shamir seal: a new master key kept wrapped in the store,
    /// and its unseal key split into shares.
    /// - Parameters:
    ///   - backend: The store's database (empty).
    ///   - dataDirectory: The database's directory.
    ///   - shares: How many shares (threshold to 255).
    ///   - threshold: How many unseal (2 to `shares`).
    ///   - prepare: Turns the shares into what the caller shows (run before anything is written:
    ///     when it throws, the store is left untouched); the shares are wiped after it.
    /// - Returns: The opened store, what `prepare` made, and the seal id (``MasterKey/sealIdentifier``).
    /// - Throws: ``BulwarkError/Code/alreadyInitialized`` for a store that holds anything already.
    public static func initializeShamir<Shown: Sendable>(
        backend: any StorageBackend, dataDirectory: String, shares: Int, threshold: Int,
        prepare: ([[UInt8]]) throws -> Shown
    ) async throws -> (store: SealedStore, shown: Shown, sealID: String) {
        try await backend.migrate()
        let masterKey = MasterKey.generate()
        var unsealKey = MasterKey.generateWrappingKey(access: .token)
        defer { unsealKey.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var split = try Shamir.split(unsealKey, shares: shares, threshold: threshold)
        // What the caller shows of the shares is made before anything is written.
        let shown = try prepare(split)
        for index in split.indices { split[index].withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var record = SealConfiguration(kind: .shamir, shares: shares, threshold: threshold, wrappedKey: [])
        record = SealConfiguration(
            kind: .shamir, shares: shares, threshold: threshold, wrappedKey: try masterKey.wrapped(under: unsealKey, context: record.context))
        let bytes = try record.serialized()
        let check = Array(try SealedStore(backend: backend, masterKey: masterKey, kdf: nil).seal(path: SealedStore.sealPath, contents: KeystoreContents()))
        guard try await backend.list(prefix: "").isEmpty else {
            throw BulwarkError(.alreadyInitialized, "the store \(backend.location) is not empty (initialised already, or a copy in progress)")
        }
        // The seal record and the store's own check record in one transaction: refused when
        // either (or the initialisation record) is there: another store, or an init racing this one.
        try await backend.update([Self.path, SealedStore.sealPath, SealedStore.initPath]) { current in
            guard current.allSatisfy({ $0 == nil }) else {
                throw BulwarkError(.alreadyInitialized, "the store \(backend.location) is already initialised")
            }
            return ([.put(bytes), .put(check), .keep], ())
        }
        let store = try await SealedStore.open(backend: backend, masterKey: .key(masterKey), dataDirectory: dataDirectory)
        return (store, shown, masterKey.sealIdentifier)
    }
}
