import Bulwark
public import BulwarkStorage
import Crypto
import CryptoExtras
public import Foundation
import Synchronization

/// The Vault Transit engine's operations over Bulwark keysets, independent of HTTP.
///
/// Each operation takes its request type (`EncryptRequest`, `KeyCreation`, …: Vault's fields,
/// decoded by the server's `RequestDecoder`) and returns its answer type (`Batched<Ciphertext>`,
/// `KeyDescription`, …), throwing ``BulwarkError`` codes; ciphertexts are `vault:v<version>:<base64>` whose payload is a Bulwark field envelope (which
/// also names the key id and version), so Vault clients carry them unchanged. Keys live in a
/// ``SealedStore`` (one sealed entry per key); changes are written through it in one
/// transaction each, reads come from an in-memory copy that ``refresh()`` brings up to date with
/// changes made by other nodes.
public final class TransitBackend: Sendable {
    /// Where keys are kept.
    public let store: SealedStore
    /// The keys in memory and how many local writes changed them (a refresh that raced a local
    /// write must not put the older snapshot back).
    private struct Cache {
        var keysets: [String: Keyset]
        /// This node's key writes, against the snapshots a refresh applies.
        var local = LocalWrites()
        /// Entries the last load could not read (path → reason), skipped.
        var unreadable: [String: String] = [:]
        /// Buckets of the store's manifest that did not match their entries at the last load.
        var manifestMismatches = 0
    }

    private let cache: Mutex<Cache>

    /// Encryptions per key version with random nonces, against their limit.
    let budget: EncryptionBudget

    /// `transit/config/keys` as last read from the store, and when: an encrypt to a missing key
    /// reads it (a whole-store snapshot) at most once a second (``keysConfiguration()``).
    let keysConfigurationCache = Mutex<(value: KeysConfiguration, read: ContinuousClock.Instant)?>(nil)

    private init(store: SealedStore, scan: StoreScan<Keyset>, manifestMismatches: Int, budget: EncryptionBudget) {
        self.store = store
        self.budget = budget
        self.cache = Mutex(Cache(keysets: scan.values, unreadable: scan.unreadable, manifestMismatches: manifestMismatches))
    }

    /// Loads every key from `store`; an entry that cannot be read is skipped and reported
    /// (``unreadableEntries``), never served.
    /// - Parameter encryptionLimit: The most encryptions per AES-GCM or ChaCha20-Poly1305 key
    ///   version (2^32, NIST SP 800-38D §8.3); lower only for tests.
    public static func open(store: SealedStore, encryptionLimit: UInt64 = 1 << 32) async throws -> TransitBackend {
        let block: UInt64 = encryptionLimit >= 1 << 32 ? 1 << 20 : max(1, encryptionLimit / 10)
        let snapshot = try await store.snapshot()
        return TransitBackend(
            store: store, scan: try await store.readableKeysets(in: snapshot), manifestMismatches: snapshot.mismatchedBuckets,
            budget: EncryptionBudget(limit: encryptionLimit, block: block))
    }

    /// Reserves a first block of encryptions for `key`'s primary version while the store is
    /// reachable (at creation, rotation and start), so that a node keeps encrypting from memory
    /// through a database outage (up to a block per version). Best effort: a failure here only
    /// means the first encrypt reserves instead.
    func prepareBudget(_ key: Keyset) async {
        guard EncryptionBudget.counts(key.type) else { return }
        let version = EncryptionBudget.Version(key: key.name, version: key.primaryVersion)
        guard !self.budget.hasAvailable(version, count: 1) else { return }
        _ = try? await self.budget.reserve(version, store: self.store)
    }

    /// Reserves first blocks for every key loaded (see ``prepareBudget(_:)``).
    public func prepareBudgets() async {
        for key in self.cache.withLock({ Array($0.keysets.values) }) { await self.prepareBudget(key) }
    }

    /// The key entries the last load skipped because they could not be read, with the reason.
    var unreadableEntries: [String: String] { self.cache.withLock { $0.unreadable } }

    /// How many buckets of the store's manifest did not match their entries at the last load
    /// (an entry rolled back, deleted or added outside Bulwark; 0 in a sound store).
    var manifestMismatches: Int { self.cache.withLock { $0.manifestMismatches } }

    /// Local writes so far: read before a snapshot is taken, so a refresh from it knows which
    /// writes it may predate.
    var writeCount: UInt64 { self.cache.withLock { $0.local.count } }

    /// Reloads every key from the store (after another node changed something).
    /// - Parameters:
    ///   - snapshot: The store read once for every reloader (nil: read it here).
    ///   - writesBefore: ``writeCount`` read before `snapshot` was taken.
    /// - Returns: False when keys were written here while the store was read: they keep their
    ///   in-memory value (the snapshot may predate them) and the caller should refresh again to
    ///   settle them; everything else is applied.
    @discardableResult
    public func refresh(from snapshot: StoreSnapshot? = nil, writesBefore: UInt64? = nil) async throws -> Bool {
        let before = writesBefore ?? self.writeCount
        let snapshot = if let snapshot { snapshot } else { try await self.store.snapshot() }
        let scan = try await self.store.readableKeysets(in: snapshot)
        return self.cache.withLock { cache in
            cache.manifestMismatches = snapshot.mismatchedBuckets
            // Applied even while this node writes (a stream of local writes cannot keep other
            // nodes' changes out), but the keys written here since the snapshot began keep their
            // in-memory value; skipped when a newer snapshot was applied meanwhile (see LocalWrites).
            guard let kept = cache.local.admit(snapshot.sequence, writesBefore: before) else { return true }
            var keysets = scan.values
            var unreadable = scan.unreadable
            for name in kept {
                keysets[name] = cache.keysets[name]
                unreadable["transit/keys/" + name] = nil
            }
            cache.keysets = keysets
            cache.unreadable = unreadable
            return kept.isEmpty
        }
    }

    static let vaultTypes: [String: KeyType] = [
        "aes256-gcm96": .aes256GCM, "aes128-gcm96": .aes128GCM, "chacha20-poly1305": .chacha20Poly1305, "hmac": .hmacSHA256,
        "ed25519": .ed25519, "ecdsa-p256": .ecdsaP256, "ecdsa-p384": .ecdsaP384, "ecdsa-p521": .ecdsaP521,
        // Post-quantum signatures (FIPS 204): not in OpenBao 2.7.
        "ml-dsa-65": .mlDSA65, "ml-dsa-87": .mlDSA87,
        "rsa-2048": .rsa2048, "rsa-3072": .rsa3072, "rsa-4096": .rsa4096,
        // Hybrid (public-key) encryption, Bulwark's own: Vault has no HPKE key type.
        "hpke-x25519": .hpkeX25519, "hpke-p256": .hpkeP256, "hpke-xwing": .hpkeXWing,
        "hpke-x25519-chacha20-poly1305": .hpkeX25519ChaCha20Poly1305, "hpke-p256-chacha20-poly1305": .hpkeP256ChaCha20Poly1305,
        "hpke-xwing-chacha20-poly1305": .hpkeXWingChaCha20Poly1305,
    ]

    static func vaultType(_ type: KeyType) -> String {
        switch type {
        case .aes256GCM: return "aes256-gcm96"
        case .aes128GCM: return "aes128-gcm96"
        case .chacha20Poly1305: return "chacha20-poly1305"
        case .aes256SIV: return "aes256-siv"
        case .hmacSHA256, .hmacSHA512: return "hmac"
        case .ed25519: return "ed25519"
        case .ecdsaP256: return "ecdsa-p256"
        case .ecdsaP384, .ecdsaP521, .mlDSA65, .mlDSA87, .rsa2048, .rsa3072, .rsa4096: return type.rawValue
        case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305:
            return type.rawValue
        // Not served by the key service (never created through it): the library's name.
        case .ageX25519: return type.rawValue
        }
    }

    /// The key for an operation with it: refused when it does not exist or is soft-deleted.
    func key(_ name: String) throws -> Keyset {
        let key = try self.managedKey(name)
        guard !key.isSoftDeleted else { throw Self.softDeleted }
        return key
    }

    /// The key for its own management (config, delete, soft-delete, restore): soft-deleted or not.
    func managedKey(_ name: String) throws -> Keyset {
        guard let key = self.existingKey(name) else {
            throw BulwarkError(.invalidArgument, "encryption key not found")
        }
        return key
    }

    /// OpenBao's refusal of a soft-deleted key.
    static let softDeleted = BulwarkError(.invalidArgument, "refusing to use soft-deleted key")

    /// The key, or nil when there is none (for the paths where Vault answers 404).
    func existingKey(_ name: String) -> Keyset? {
        self.cache.withLock { $0.keysets[name] }
    }

    /// Changes one key in one storage transaction and updates the in-memory copy.
    @discardableResult
    func mutateKey(_ name: String, _ body: @escaping @Sendable (Keyset?) throws -> Keyset?) async throws -> Keyset? {
        let stored = try await self.store.updateKeyset(name, body)
        self.cache.withLock {
            $0.keysets[name] = stored
            $0.local.note(name)
        }
        if let stored { await self.prepareBudget(stored) }
        return stored
    }

    /// Where the audit key lives in the store.
    static let auditKeyPath = "sys/audit-key"

    /// The audit log's HMAC key: 32 random bytes in the store, made on first use.
    func auditKey() async throws -> SymmetricKey {
        let path = Self.auditKeyPath
        if let existing = try await self.store.document(path) { return SymmetricKey(data: existing) }
        try await self.store.updateDocument(path) { current in current ?? Data(SecureRandom.bytes(32)) }
        guard let made = try await self.store.document(path) else { throw BulwarkError(.storageFailure, "no audit key") }
        return SymmetricKey(data: made)
    }

    /// Rotates every key whose rotation period has passed (Vault's `auto_rotate_period`). The
    /// check is repeated inside each key's transaction, so nodes racing here rotate once.
    /// - Returns: The names rotated.
    @discardableResult
    public func rotateDueKeys(now: Date = Date()) async throws -> [String] {
        let due = self.cache.withLock { cache in
            cache.keysets.values.filter { $0.isRotationDue(now: now) && !$0.isShredded && !$0.isSoftDeleted }.map(\.name).sorted()
        }
        var rotated: [String] = []
        for name in due {
            let didRotate = Mutex(false)
            // Material is made before the store's transaction (RSA generation takes up to seconds).
            guard let current = self.cache.withLock({ $0.keysets[name] }) else { continue }
            let prepared = try PreparedKeyMaterial(for: current)
            try await self.mutateKey(name) { key in
                guard var key, key.isRotationDue(now: now), !key.isSoftDeleted, prepared.fits(key) else { return key }
                try key.rotate(using: prepared, now: now)
                didRotate.withLock { $0 = true }
                return key
            }
            if didRotate.withLock({ $0 }) { rotated.append(name) }
        }
        return rotated
    }

    // MARK: keys

    /// `POST transit/keys/:name`: creates the key, or does nothing when it exists with the same
    /// type (Vault's upsert); another type is refused.
    public func createKey(_ name: String, _ request: KeyCreation = .init()) async throws {
        let typeName = request.type ?? "aes256-gcm96"
        guard let type = Self.vaultTypes[typeName] else {
            throw BulwarkError(.invalidArgument, "unsupported key type \(typeName)")
        }
        guard Self.validName(name) else { throw BulwarkError(.invalidArgument, "invalid key name") }
        try Self.refuseUnimplemented(plaintextBackup: request.allowPlaintextBackup)
        let derived = request.derived ?? false, convergent = request.convergentEncryption ?? false
        if convergent, !derived {
            throw BulwarkError(.invalidArgument, "convergent encryption requires derivation to be enabled, so context is required")
        }
        if derived, !Keyset.derivableTypes.contains(type) {
            throw BulwarkError(.invalidArgument, "key derivation is not supported for \(typeName) keys")
        }
        // Vault's key_size: an hmac key's size in bytes, 32 to 512 (0 or absent: 32).
        let keySize = request.keySize.flatMap { $0 == 0 ? nil : $0 }
        try Keyset.validate(type: type, keySize: keySize)
        let period = request.autoRotatePeriod.flatMap { $0 == .zero ? nil : $0 }
        if let existing = self.cache.withLock({ $0.keysets[name] }) {
            guard existing.type == type else { throw BulwarkError(.invalidArgument, "key \(name) exists with another type") }
            try Self.checkDerivation(existing, request)
            return
        }
        // Generated before the store's transaction, which every write waits on (RSA generation
        // takes up to seconds); discarded if another node made the key meanwhile.
        let fresh: Keyset
        do {
            fresh = try Keyset.generate(
                name: name, type: type, exportable: request.exportable ?? false, rotationPeriod: period, derived: derived, convergent: convergent,
                keySize: keySize)
        } catch let error as BulwarkError {
            throw BulwarkError(.invalidArgument, error.message)
        }
        try await self.mutateKey(name) { existing in
            if let existing {
                guard existing.type == type else { throw BulwarkError(.invalidArgument, "key \(name) exists with another type") }
                try Self.checkDerivation(existing, request)
                return existing
            }
            return fresh
        }
    }

    /// Refuses settings that contradict an existing key's (Vault keeps the key and answers
    /// success: a caller expecting random nonces would get a convergent key someone made first,
    /// one asking for a 64-byte HMAC key a 32-byte one).
    static func checkDerivation(_ existing: Keyset, _ request: KeyCreation) throws {
        if let derived = request.derived, derived != existing.isDerived {
            throw BulwarkError(.invalidArgument, "the key exists and is \(existing.isDerived ? "" : "not ")derived")
        }
        if let convergent = request.convergentEncryption, convergent != existing.isConvergent {
            throw BulwarkError(.invalidArgument, "the key exists and is \(existing.isConvergent ? "" : "not ")convergent")
        }
        if let size = request.keySize, size != 0, size != existing.keySize ?? existing.type.materialLengthForKeySize {
            throw BulwarkError(.invalidArgument, "the key exists with another key_size")
        }
    }

    /// Options Vault has that Bulwark does not implement: refused by name when asked for, never
    /// silently ignored.
    static func refuseUnimplemented(plaintextBackup: Bool?) throws {
        if plaintextBackup == true {
            throw BulwarkError(.invalidArgument, "allow_plaintext_backup: key backups are not supported")
        }
    }

    /// A key name: ``Names`` (the package's one rule), and not in the `bulwark.` space the
    /// service keeps for itself.
    static func validName(_ name: String) -> Bool {
        Names.isValid(name) && !name.hasPrefix("bulwark.")
    }

    /// `GET transit/keys/:name`.
    public func readKey(_ name: String) throws -> KeyDescription {
        // A key that does not exist is 404 here, as in Vault (operations with it answer 400).
        guard let key = self.cache.withLock({ $0.keysets[name] }) else { throw BulwarkError(.notFound, "key not found") }
        var versions: [String: KeyVersionEntry] = [:]
        for info in key.versionInfo where info.status != .destroyed {
            // A version whose public key may not be handed out is left out (as Vault leaves out
            // versions below min_available_version), never listed with an empty key.
            if let entry = Self.versionEntry(key, info) { versions[String(info.version)] = entry }
        }
        var description = KeyDescription(
            name: key.name, type: Self.vaultType(key.type), keys: versions, latestVersion: key.latestVersion,
            minDecryptionVersion: key.minimumDecryptionVersion, minEncryptionVersion: key.minimumEncryptionVersion,
            deletionAllowed: key.deletionAllowed, exportable: key.isExportable, supportsEncryption: Self.encrypts(key),
            supportsDecryption: Self.encrypts(key), supportsDerivation: Keyset.derivableTypes.contains(key.type),
            supportsSigning: key.purpose == .signing, derived: key.isDerived, autoRotatePeriod: key.rotationPeriod ?? .zero)
        description.softDeleted = key.isSoftDeleted
        if key.type == .hmacSHA256 || key.type == .hmacSHA512 { description.keySize = key.keySize ?? key.type.materialLengthForKeySize }
        if key.isDerived {
            description.kdf = "hkdf_sha256"
            description.convergentEncryption = key.isConvergent
        }
        if key.isConvergent { description.convergentEncryptionVersion = -1 }
        return description
    }

    /// Whether `transit/encrypt` and `decrypt` take the key (symmetric or hybrid encryption).
    static func encrypts(_ key: Keyset) -> Bool {
        key.purpose == .encryption || Self.isPublicKeyEncryption(key.type)
    }

    /// One version of ``readKey(_:)``'s `keys`: the creation time for a symmetric key; for a key
    /// with a public half, Vault's object with the public key; nil when that key may not be
    /// handed out (a disabled version, one below the minimum decryption version, or, for a
    /// hybrid key, below the minimum encryption version: a sender is never given a key whose
    /// messages would be refused).
    static func versionEntry(_ key: Keyset, _ info: KeyVersionInfo) -> KeyVersionEntry? {
        let name: String
        let publicKey: String
        var bulwarkPublicKey: String?
        switch key.type {
        case .ed25519:
            guard let raw = try? key.publicKey(version: info.version) else { return nil }
            name = "ed25519"
            publicKey = raw.base64EncodedString()
        case .ecdsaP256:
            guard let der = try? key.publicKey(version: info.version), let parsed = try? P256.Signing.PublicKey(derRepresentation: der) else { return nil }
            name = "P-256"
            publicKey = parsed.pemRepresentation + "\n"
        case .ecdsaP384:
            guard let der = try? key.publicKey(version: info.version), let parsed = try? P384.Signing.PublicKey(derRepresentation: der) else { return nil }
            name = "P-384"
            publicKey = parsed.pemRepresentation + "\n"
        case .ecdsaP521:
            guard let der = try? key.publicKey(version: info.version), let parsed = try? P521.Signing.PublicKey(derRepresentation: der) else { return nil }
            name = "P-521"
            publicKey = parsed.pemRepresentation + "\n"
        case .rsa2048, .rsa3072, .rsa4096:
            guard let der = try? key.publicKey(version: info.version), let parsed = try? _RSA.Signing.PublicKey(derRepresentation: der) else { return nil }
            name = key.type.rawValue
            publicKey = parsed.pemRepresentation + "\n"
        case .mlDSA65, .mlDSA87:
            // SubjectPublicKeyInfo (RFC 9881), as Vault gives its other asymmetric keys.
            guard let raw = try? key.publicKey(version: info.version) else { return nil }
            name = key.type == .mlDSA65 ? "ML-DSA-65" : "ML-DSA-87"
            publicKey = KeyPEM.publicKey(algorithm: key.type == .mlDSA65 ? KeyPEM.mlDSA65 : KeyPEM.mlDSA87, key: raw) + "\n"
        case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305:
            guard let hybrid = try? key.hybridPublicKey(version: info.version) else { return nil }
            // RFC 9180's KEM names (and X-Wing's draft's): not Vault's curve names, whose
            // `P-256` would promise a PEM key where this is the raw KEM public key.
            switch key.type {
            case .hpkeX25519, .hpkeX25519ChaCha20Poly1305: name = "DHKEM(X25519, HKDF-SHA256)"
            case .hpkeP256, .hpkeP256ChaCha20Poly1305: name = "DHKEM(P-256, HKDF-SHA256)"
            default: name = "X-Wing"
            }
            publicKey = hybrid.rawRepresentation.base64EncodedString()
            // A soft-deleted key's messages would be refused: senders are not given it.
            bulwarkPublicKey = key.isSoftDeleted ? nil : hybrid.text
        default:
            return .created(Int(info.createdAt.timeIntervalSince1970))
        }
        return .publicKey(PublicVersion(
            creationTime: Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(info.createdAt), name: name,
            publicKey: publicKey, certificateChain: "", bulwarkPublicKey: bulwarkPublicKey))
    }

    /// `LIST transit/keys`.
    public func listKeys() -> ListAnswer {
        ListAnswer(keys: self.cache.withLock { $0.keysets.keys.sorted() })
    }

    /// `POST transit/keys/:name/config`.
    public func configureKey(_ name: String, _ request: KeyConfiguration) async throws {
        let current = try self.managedKey(name)
        try Self.refuseUnimplemented(plaintextBackup: request.allowPlaintextBackup)
        // Exportability is chosen at creation (Vault can only turn it on, never off).
        if let exportable = request.exportable, exportable != current.isExportable {
            throw BulwarkError(.invalidArgument, "exportable is set when a key is created and cannot be changed")
        }
        try await self.mutateKey(name) { stored in
            guard var key = stored else { throw BulwarkError(.invalidArgument, "encryption key not found") }
            do {
                if let version = request.minDecryptionVersion {
                    try key.setMinimumDecryptionVersion(max(1, version))
                }
                if let version = request.minEncryptionVersion {
                    try key.setMinimumEncryptionVersion(version)
                }
                if let allowed = request.deletionAllowed { key.setDeletionAllowed(allowed) }
                if let period = request.autoRotatePeriod { try key.setRotationPeriod(period == .zero ? nil : period) }
            } catch let error as BulwarkError {
                throw BulwarkError(.invalidArgument, error.message)
            }
            return key
        }
    }

    /// `DELETE transit/keys/:name/soft-delete` (OpenBao): the key is kept but refused for every
    /// operation until restored; answers its description. A key that does not exist is 404.
    public func softDeleteKey(_ name: String) async throws -> KeyDescription {
        try await self.setSoftDeleted(name, true)
    }

    /// `POST transit/keys/:name/soft-delete-restore` (OpenBao): serves the key again.
    public func restoreSoftDeletedKey(_ name: String) async throws -> KeyDescription {
        try await self.setSoftDeleted(name, false)
    }

    private func setSoftDeleted(_ name: String, _ deleted: Bool) async throws -> KeyDescription {
        guard self.existingKey(name) != nil else { throw BulwarkError(.notFound, "key not found") }
        try await self.mutateKey(name) { stored in
            guard var key = stored else { throw BulwarkError(.notFound, "key not found") }
            key.setSoftDeleted(deleted)
            return key
        }
        return try self.readKey(name)
    }

    /// `POST transit/keys/:name/rotate`.
    public func rotateKey(_ name: String) async throws {
        // Material is made before the store's transaction, which every write waits on (RSA
        // generation takes up to seconds).
        let prepared = try PreparedKeyMaterial(for: try self.key(name))
        try await self.mutateKey(name) { stored in
            guard var key = stored else { throw BulwarkError(.invalidArgument, "encryption key not found") }
            // Soft-deleted by another node since this node's copy was read: refused here too.
            guard !key.isSoftDeleted else { throw Self.softDeleted }
            // Deleted and made again with another type or size since the material was made.
            guard prepared.fits(key) else { throw BulwarkError(.unavailable, "the key changed while it was being rotated; retry") }
            try key.rotate(using: prepared)
            return key
        }
    }

    /// `POST transit/keys/:name/trim`: destroys every version below `min_available_version`,
    /// which may not exceed the minimum decryption or encryption version.
    public func trimKey(_ name: String, _ request: KeyTrim) async throws {
        _ = try self.key(name)
        let minimum = Int(request.minAvailableVersion)
        guard minimum >= 1 else { throw BulwarkError(.invalidArgument, "min_available_version must be an integer from 1 to \(UInt32.max)") }
        try await self.mutateKey(name) { stored in
            guard var key = stored else { throw BulwarkError(.invalidArgument, "encryption key not found") }
            // Trim destroys versions for good: never on a soft-deleted key, whatever this node's copy says.
            guard !key.isSoftDeleted else { throw Self.softDeleted }
            guard minimum <= Int(key.minimumDecryptionVersion) else {
                throw BulwarkError(.invalidArgument, "cannot trim versions at or above the minimum decryption version")
            }
            guard key.minimumEncryptionVersion == 0 || minimum <= Int(key.minimumEncryptionVersion) else {
                throw BulwarkError(.invalidArgument, "cannot trim versions at or above the minimum encryption version")
            }
            for info in key.versionInfo where Int(info.version) < minimum && info.status != .destroyed {
                try key.destroy(version: info.version)
            }
            return key
        }
    }

    /// `DELETE transit/keys/:name`: only after `deletion_allowed`.
    public func deleteKey(_ name: String) async throws {
        let key = try self.managedKey(name)
        guard key.deletionAllowed else {
            throw BulwarkError(.invalidArgument, "deletion is not allowed for this key")
        }
        try await self.mutateKey(name) { stored in
            guard let stored, stored.deletionAllowed else { throw BulwarkError(.invalidArgument, "deletion is not allowed for this key") }
            return nil
        }
    }

    // MARK: helpers

    static func base64(_ value: Any?, _ field: String, required: Bool = true) throws -> Data? {
        guard let text = value as? String else {
            if required { throw BulwarkError(.invalidArgument, "missing \(field)") }
            return nil
        }
        guard let data = Data(base64Encoded: text) else {
            throw BulwarkError(.invalidArgument, "\(field) is not valid base64")
        }
        return data
    }

    static func vaultString(version: UInt32, _ payload: Data) -> String {
        "vault:v\(version):" + payload.base64EncodedString()
    }

    package static func parseVault(_ text: String) throws -> (UInt32, Data) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "vault", parts[1].hasPrefix("v"), let version = UInt32(parts[1].dropFirst()),
            let payload = Data(base64Encoded: String(parts[2]))
        else {
            throw BulwarkError(.invalidArgument, "invalid ciphertext: no prefix")
        }
        return (version, payload)
    }
}
