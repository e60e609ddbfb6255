public import Bulwark
import BulwarkKeystore
import Crypto
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
        /// The unseal key wrapped by an AWS KMS key (auto-unseal).
        case awskms

        /// Whether the server unseals itself through a ``SealKeyWrapper`` (no shares entered).
        public var isAutomatic: Bool { self != .shamir }

        /// The seal's name in messages (`Shamir`, `AWS KMS`).
        public var displayName: String {
            switch self {
            case .shamir: "Shamir"
            case .awskms: "AWS KMS"
            }
        }
    }

    /// What an auto-unseal record holds beside the wrapped master key: the unseal key wrapped by
    /// the HSM or KMS key, that key's name, and the seal id the encryption context binds.
    struct External: Sendable, Equatable {
        /// The wrapping key's name (``SealKeyWrapper/keyID``).
        let keyID: String
        /// The unseal key as the wrapper encrypted it.
        let wrappedUnsealKey: [UInt8]
        /// The master key's seal id (``MasterKey/sealIdentifier``), bound by the context.
        let sealID: String

        /// The encryption context the unseal key is wrapped with.
        var context: [String: String] { ["bulwark_seal": "v\(SealConfiguration.formatVersion)", "seal_id": self.sealID] }
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
    /// For an auto-unseal seal: the unseal key as its HSM or KMS wrapped it.
    let external: External?
    /// For an auto-unseal seal: a check value sealed by the recovery key (whose shares are
    /// ``shares``/``threshold``): a quorum of recovery shares proves itself by opening it. The
    /// recovery key opens nothing else (it cannot unseal: Vault's recovery keys).
    let recoveryCheck: [UInt8]?

    /// For an auto-unseal seal, the HSM or KMS key that wraps the unseal key.
    public var wrappingKeyID: String? { self.external?.keyID }

    /// What the wrapped key is bound to: a changed type or count makes it refuse to open.
    var context: [UInt8] {
        // An auto-unseal seal's counts are its recovery shares': not part of what wraps the master key.
        let (n, t) = self.kind.isAutomatic ? (1, 1) : (self.shares, self.threshold)
        return Array("bulwark seal v\(Self.formatVersion) \(self.kind.rawValue) n=\(n) t=\(t)".utf8)
    }

    /// What the recovery check is bound to.
    var recoveryContext: [UInt8] {
        Array("bulwark recovery v\(Self.formatVersion) \(self.kind.rawValue) n=\(self.shares) t=\(self.threshold) seal_id=\(self.external?.sealID ?? "")".utf8)
    }

    /// The recovery check's plaintext.
    static let recoveryCheckText = Array("bulwark recovery check".utf8)

    /// Whether `recoveryKey` (combined recovery shares) is this store's recovery key.
    public func isRecoveryKey(_ recoveryKey: [UInt8]) -> Bool {
        guard let check = self.recoveryCheck, recoveryKey.count == 32, let box = try? AES.GCM.SealedBox(combined: check),
            let opened = try? AES.GCM.open(box, using: SymmetricKey(data: recoveryKey), authenticating: self.recoveryContext)
        else { return false }
        return constantTimeEquals(Array(opened), Self.recoveryCheckText)
    }

    /// Reads the seal record of the store in `backend` (nil: a static seal, or no store yet).
    /// - Throws: ``BulwarkError/Code/keystoreCorrupted`` for a record that does not parse.
    public static func read(from backend: any StorageBackend) async throws -> SealConfiguration? {
        try await backend.migrate()
        guard let bytes = try await backend.read(Self.path) else { return nil }
        return try SealConfiguration(parsing: bytes)
    }

    init(kind: Kind, shares: Int, threshold: Int, wrappedKey: [UInt8], external: External? = nil, recoveryCheck: [UInt8]? = nil) {
        self.kind = kind
        self.shares = shares
        self.threshold = threshold
        self.wrappedKey = wrappedKey
        self.external = external
        self.recoveryCheck = recoveryCheck
    }

    init(parsing bytes: [UInt8]) throws {
        let corrupted = BulwarkError(.keystoreCorrupted, "the store's seal record (\(Self.path)) is malformed")
        guard bytes.count <= 4096,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["version"] as? Int == Self.formatVersion,
            let type = object["type"] as? String, let kind = Kind(rawValue: type),
            let shares = object["n"] as? Int, let threshold = object["t"] as? Int,
            let wrapped = (object["wrapped_key"] as? String).flatMap({ Data(base64Encoded: $0) })
        else { throw corrupted }
        var external: External?
        var recoveryCheck: [UInt8]?
        // Shamir: the unseal key's shares; auto-unseal: the recovery key's.
        guard (2...Shamir.maximumShares).contains(threshold), (threshold...Shamir.maximumShares).contains(shares) else { throw corrupted }
        if kind.isAutomatic {
            guard let keyID = object["wrapping_key_id"] as? String, !keyID.isEmpty,
                let unsealKey = (object["wrapped_unseal_key"] as? String).flatMap({ Data(base64Encoded: $0) }), !unsealKey.isEmpty,
                let sealID = object["seal_id"] as? String, sealID.utf8.count == 32, sealID.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
                let check = (object["recovery_check"] as? String).flatMap({ Data(base64Encoded: $0) }), check.count == 12 + Self.recoveryCheckText.count + 16
            else { throw corrupted }
            external = External(keyID: keyID, wrappedUnsealKey: Array(unsealKey), sealID: sealID)
            recoveryCheck = Array(check)
        }
        self.init(kind: kind, shares: shares, threshold: threshold, wrappedKey: Array(wrapped), external: external, recoveryCheck: recoveryCheck)
    }

    /// The record as stored (JSON, sorted keys).
    func serialized() throws -> [UInt8] {
        var object: [String: Any] = [
            "version": Self.formatVersion, "type": self.kind.rawValue, "n": self.shares, "t": self.threshold,
            "wrapped_key": Data(self.wrappedKey).base64EncodedString(),
        ]
        if let external = self.external {
            object["wrapping_key_id"] = external.keyID
            object["wrapped_unseal_key"] = Data(external.wrappedUnsealKey).base64EncodedString()
            object["seal_id"] = external.sealID
        }
        if let check = self.recoveryCheck {
            object["recovery_check"] = Data(check).base64EncodedString()
        }
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

    /// Opens the master key of an auto-unseal record: `wrapper` decrypts the unseal key (with the
    /// record's encryption context), which opens the master key, whose seal id must be the one the
    /// context bound.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a Shamir record or a wrapper of another
    ///   kind; the wrapper's error when it refuses or cannot be reached; ``BulwarkError/Code/wrongMasterKey``
    ///   when what it answers does not open this store's master key.
    public func masterKey(using wrapper: any SealKeyWrapper) async throws -> MasterKey {
        guard let external = self.external, wrapper.kind == self.kind else {
            throw BulwarkError(.invalidArgument, "the store's seal is \(self.kind.rawValue): a \(wrapper.kind.rawValue) seal cannot open it")
        }
        var unsealKey = try await wrapper.unwrap(external.wrappedUnsealKey, context: external.context)
        defer { unsealKey.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        guard unsealKey.count == 32 else { throw BulwarkError(.wrongMasterKey, "the \(self.kind.rawValue) seal answered a key that is not 256 bits") }
        let masterKey: MasterKey
        do {
            masterKey = try MasterKey.unwrap(self.wrappedKey, under: unsealKey, context: self.context)
        } catch {
            throw BulwarkError(.wrongMasterKey, "the key the \(self.kind.rawValue) seal unwrapped does not open this store's master key")
        }
        guard constantTimeEquals(Array(masterKey.sealIdentifier.utf8), Array(external.sealID.lowercased().utf8)) else {
            throw BulwarkError(.wrongMasterKey, "the \(self.kind.rawValue) seal opened a master key with another seal id than its record")
        }
        return masterKey
    }

    /// A record for `masterKey` under an auto-unseal seal: a fresh unseal key wraps the master key
    /// and `wrapper` wraps the unseal key, bound to the seal id; a fresh recovery key, split into
    /// `recoveryShares` shares of which `recoveryThreshold` prove a quorum, seals the recovery check.
    /// - Returns: The new record (not stored: see ``replace(_:with:in:)``) and the recovery shares.
    public static func automatic(
        wrapping masterKey: MasterKey, with wrapper: any SealKeyWrapper, recoveryShares: Int = 5, recoveryThreshold: Int = 3
    ) async throws -> (SealConfiguration, [[UInt8]]) {
        var unsealKey = MasterKey.generateWrappingKey(access: .token)
        defer { unsealKey.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var recoveryKey = MasterKey.generateWrappingKey(access: .token)
        defer { recoveryKey.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let split = try Shamir.split(recoveryKey, shares: recoveryShares, threshold: recoveryThreshold)
        var external = External(keyID: wrapper.keyID, wrappedUnsealKey: [], sealID: masterKey.sealIdentifier)
        let unbound = SealConfiguration(kind: wrapper.kind, shares: recoveryShares, threshold: recoveryThreshold, wrappedKey: [], external: external)
        let check = try AES.GCM.seal(Self.recoveryCheckText, using: SymmetricKey(data: recoveryKey), authenticating: unbound.recoveryContext)
        guard let checkBytes = check.combined else { throw BulwarkError(.internalFailure, "AES-GCM gave no combined form") }
        external = External(keyID: wrapper.keyID, wrappedUnsealKey: try await wrapper.wrap(unsealKey, context: external.context), sealID: external.sealID)
        let record = SealConfiguration(
            kind: wrapper.kind, shares: recoveryShares, threshold: recoveryThreshold,
            wrappedKey: try masterKey.wrapped(under: unsealKey, context: unbound.context), external: external, recoveryCheck: Array(checkBytes))
        // What was wrapped must come back: a wrapper that cannot decrypt what it made (a key
        // allowed to encrypt only) would leave a store nobody can open.
        _ = try await record.masterKey(using: wrapper)
        return (record, split)
    }

    /// Initialises an empty store with an auto-unseal seal: a new master key, kept wrapped by an
    /// unseal key that only `wrapper`'s HSM or KMS key can unwrap, and recovery key shares.
    /// - Parameters:
    ///   - recoveryShares: How many recovery shares (threshold to 255).
    ///   - recoveryThreshold: How many prove a quorum (2 to `recoveryShares`).
    ///   - rootTokenHash: The root token's hash, written with the seal (nil: written later).
    ///   - prepare: Turns the recovery shares into what the caller shows (run before anything is
    ///     written); the shares are wiped after it.
    /// - Returns: The opened store, what `prepare` made, and the seal id (``MasterKey/sealIdentifier``).
    /// - Throws: ``BulwarkError/Code/alreadyInitialized`` for a store that holds anything already;
    ///   the wrapper's error when it cannot wrap and unwrap (nothing is written then).
    public static func initializeAutomatic<Shown: Sendable>(
        backend: any StorageBackend, dataDirectory: String, wrapper: any SealKeyWrapper, recoveryShares: Int, recoveryThreshold: Int,
        rootTokenHash: String? = nil, prepare: ([[UInt8]]) throws -> Shown
    ) async throws -> (store: SealedStore, shown: Shown, sealID: String) {
        try await backend.migrate()
        guard try await backend.list(prefix: "").isEmpty else {
            throw BulwarkError(.alreadyInitialized, "the store \(backend.location) is not empty (initialised already, or a copy in progress)")
        }
        let masterKey = MasterKey.generate()
        var (record, split) = try await Self.automatic(
            wrapping: masterKey, with: wrapper, recoveryShares: recoveryShares, recoveryThreshold: recoveryThreshold)
        // What the caller shows of the recovery shares is made before anything is written.
        let shown = try prepare(split)
        for index in split.indices { split[index].withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        try await Self.store(record, masterKey: masterKey, rootTokenHash: rootTokenHash, in: backend)
        let store = try await SealedStore.open(backend: backend, masterKey: .key(masterKey), dataDirectory: dataDirectory)
        return (store, shown, masterKey.sealIdentifier)
    }

    /// Writes `record`, the store's check record and (given) the root record into an empty store,
    /// in one transaction: a crash leaves an empty store or an initialised one, never a store
    /// with a seal and no root token.
    private static func store(_ record: SealConfiguration, masterKey: MasterKey, rootTokenHash: String?, in backend: any StorageBackend) async throws {
        let bytes = try record.serialized()
        let sealing = SealedStore(backend: backend, masterKey: masterKey, kdf: nil)
        let check = Array(try sealing.seal(path: SealedStore.sealPath, contents: KeystoreContents()))
        let root: StorageWrite =
            if let rootTokenHash {
                .put(Array(try sealing.seal(path: SealedStore.initPath, contents: KeystoreContents(documents: ["value": Data(rootTokenHash.utf8)]))))
            } else {
                .keep
            }
        guard try await backend.list(prefix: "").isEmpty else {
            throw BulwarkError(.alreadyInitialized, "the store \(backend.location) is not empty (initialised already, or a copy in progress)")
        }
        // The seal record and the store's own check record in one transaction: refused when
        // either (or the initialisation record) is there: another store, or an init racing this one.
        try await backend.update([Self.path, SealedStore.sealPath, SealedStore.initPath]) { current in
            guard current.allSatisfy({ $0 == nil }) else {
                throw BulwarkError(.alreadyInitialized, "the store \(backend.location) is already initialised")
            }
            return ([.put(bytes), .put(check), root], ())
        }
    }

    /// Initialises an empty store with a Shamir seal: a new master key kept wrapped in the store,
    /// and its unseal key split into shares.
    /// - Parameters:
    ///   - backend: The store's database (empty).
    ///   - dataDirectory: The database's directory.
    ///   - shares: How many shares (threshold to 255).
    ///   - threshold: How many unseal (2 to `shares`).
    ///   - rootTokenHash: The root token's hash, written with the seal (nil: written later).
    ///   - prepare: Turns the shares into what the caller shows (run before anything is written:
    ///     when it throws, the store is left untouched); the shares are wiped after it.
    /// - Returns: The opened store, what `prepare` made, and the seal id (``MasterKey/sealIdentifier``).
    /// - Throws: ``BulwarkError/Code/alreadyInitialized`` for a store that holds anything already.
    public static func initializeShamir<Shown: Sendable>(
        backend: any StorageBackend, dataDirectory: String, shares: Int, threshold: Int, rootTokenHash: String? = nil,
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
        try await Self.store(record, masterKey: masterKey, rootTokenHash: rootTokenHash, in: backend)
        let store = try await SealedStore.open(backend: backend, masterKey: .key(masterKey), dataDirectory: dataDirectory)
        return (store, shown, masterKey.sealIdentifier)
    }
}
