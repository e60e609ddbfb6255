public import Bulwark
public import BulwarkKeystore
public import Foundation
import Synchronization

/// The key service's state in a ``StorageBackend``, every entry sealed under the master key.
///
/// Each entry is a sealed keystore (AES-256-GCM under a key derived from the master key, with a
/// key-check value) that also holds its own path, so an entry copied to another path is refused.
/// The entry `sys/seal` records the passphrase KDF (when the master key comes from a passphrase)
/// and tells a wrong master key from damage before anything else is read.
public final class SealedStore: Sendable {
    /// The backend holding the sealed entries.
    public let backend: any StorageBackend
    private let masterKey: MasterKey
    private let kdf: PassphraseKDF?
    /// Snapshots begun so far (numbers them; see ``StoreSnapshot/sequence``).
    private let snapshotsBegun = Mutex<UInt64>(0)

    static let sealPath = "sys/seal"
    static let initPath = "sys/init"

    init(backend: any StorageBackend, masterKey: MasterKey, kdf: PassphraseKDF?) {
        self.backend = backend
        self.masterKey = masterKey
        self.kdf = kdf
    }

    /// Opens the store: migrates its schema, then checks (or, for a new store, records) the
    /// master key.
    /// - Parameters:
    ///   - backend: The database.
    ///   - source: Where the master key comes from.
    ///   - dataDirectory: A directory the master key file must not sit in (the database's).
    /// - Throws: ``BulwarkError/Code/wrongMasterKey``, ``BulwarkError/Code/keystoreCorrupted``,
    ///   ``BulwarkError/Code/storageFailure``.
    ///   - create: Record the master key in a new, empty store (`operator init`, dev mode); when
    ///     false an empty store is refused as not initialised and left untouched.
    public static func open(
        backend: any StorageBackend, masterKey source: MasterKeySource, dataDirectory: String, create: Bool = true
    ) async throws -> SealedStore {
        try await backend.migrate()
        if case .key = source {
        } else if try await backend.read(SealConfiguration.path) != nil {
            throw BulwarkError(
                .invalidArgument,
                "the store \(backend.location) has a Shamir seal: its master key comes from key shares (start the server and unseal it), not from the configuration")
        }
        if let existing = try await backend.read(Self.sealPath) {
            let header = try SealedKeystore.Header(parsing: existing)
            let (key, kdf) = try source.resolve(header: header, keystoreDirectory: dataDirectory)
            let store = SealedStore(backend: backend, masterKey: key, kdf: kdf)
            _ = try store.unseal(existing, path: Self.sealPath)
            try await store.ensureManifest()
            return store
        }
        guard create else {
            throw BulwarkError(.notInitialized, "the store \(backend.location) is not initialised: run `bulwark operator init --storage …`")
        }
        let (key, kdf) = try source.resolve(header: nil, keystoreDirectory: dataDirectory)
        let candidate = SealedStore(backend: backend, masterKey: key, kdf: kdf)
        let sealed = try candidate.seal(path: Self.sealPath, contents: KeystoreContents())
        // Two nodes starting on an empty store: the first seal wins and the other checks against it.
        let winner = try await backend.update(Self.sealPath) { current in
            current == nil ? (.put(Array(sealed)), Array(sealed)) : (.keep, current!)
        }
        if winner != Array(sealed) {
            let header = try SealedKeystore.Header(parsing: winner)
            let (key, kdf) = try source.resolve(header: header, keystoreDirectory: dataDirectory)
            let store = SealedStore(backend: backend, masterKey: key, kdf: kdf)
            _ = try store.unseal(winner, path: Self.sealPath)
            try await store.ensureManifest()
            return store
        }
        try await candidate.ensureManifest()
        return candidate
    }

    /// Records the manifest of a store that has none (a new store, or one written by a version
    /// before manifests: its entries as they are now are taken as the truth).
    private func ensureManifest() async throws {
        guard try await self.backend.read(StoreManifest.path) == nil else { return }
        var manifest = StoreManifest()
        for (path, value) in try await self.backend.list(prefix: "") where StoreManifest.covers(path) {
            // An entry that cannot be read now is left out: it stays unreadable, and reported.
            guard let contents = try? self.unseal(value, path: path) else { continue }
            manifest.toggle(path, version: contents.generation)
        }
        let sealed = Array(try self.seal(path: StoreManifest.path, contents: KeystoreContents(documents: manifest.documents)))
        try await self.backend.update(StoreManifest.path) { current in (current == nil ? .put(sealed) : .keep, ()) }
    }

    /// What a write does to the entry it read.
    enum Change {
        /// Nothing.
        case keep
        /// Stores these contents (the version is set here).
        case put(KeystoreContents)
        /// Removes the entry.
        case delete
    }

    /// Reads, changes and writes the entry at `path` with its version one higher, and the
    /// manifest with it, in one transaction.
    func change<Result: Sendable>(
        _ path: String, _ body: @escaping @Sendable (KeystoreContents?) throws -> (Change, Result)
    ) async throws -> Result {
        guard StoreManifest.covers(path) else {
            return try await self.backend.update(path) { current in
                let existing = try current.map { try self.unseal($0, path: path) }
                switch try body(existing) {
                case (.keep, let result): return (.keep, result)
                case (.delete, let result): return (current == nil ? .keep : .delete, result)
                case (.put(var contents), let result):
                    contents.generation = (existing?.generation ?? 0) &+ 1
                    return (.put(Array(try self.seal(path: path, contents: contents))), result)
                }
            }
        }
        return try await self.backend.update([path, StoreManifest.path]) { current in
            let existing = try current[0].map { try self.unseal($0, path: path) }
            guard let sealedManifest = current[1] else {
                throw BulwarkError(.keystoreCorrupted, "the store's manifest is missing (deleted outside Bulwark): nothing is written")
            }
            let stored = try self.unseal(sealedManifest, path: StoreManifest.path)
            var manifest = try StoreManifest(documents: stored.documents)
            let (change, result) = try body(existing)
            var entry = StorageWrite.keep
            switch change {
            case .keep:
                return ([.keep, .keep], result)
            case .delete:
                guard let existing else { return ([.keep, .keep], result) }
                manifest.toggle(path, version: existing.generation)
                entry = .delete
            case .put(var contents):
                if let existing { manifest.toggle(path, version: existing.generation) }
                contents.generation = (existing?.generation ?? 0) &+ 1
                manifest.toggle(path, version: contents.generation)
                entry = .put(Array(try self.seal(path: path, contents: contents)))
            }
            let manifestContents = KeystoreContents(generation: stored.generation &+ 1, documents: manifest.documents)
            return ([entry, .put(Array(try self.seal(path: StoreManifest.path, contents: manifestContents)))], result)
        }
    }

    /// Reads every entry in one query and checks them against the manifest: entries that do not
    /// unseal, and every entry of a bucket whose versions do not match the manifest (an entry
    /// rolled back, deleted or brought back outside Bulwark), are unreadable.
    public func snapshot() async throws -> StoreSnapshot {
        var snapshot = StoreSnapshot()
        // Numbered before anything is read: a snapshot with a higher number began its read after
        // this one, so it holds every write that had completed when this one began.
        snapshot.sequence = self.snapshotsBegun.withLock { count in
            count &+= 1
            return count
        }
        let rows = try await self.backend.list(prefix: "")
        var manifest: StoreManifest?
        if let row = rows.first(where: { $0.path == StoreManifest.path }) {
            do {
                manifest = try StoreManifest(documents: try self.unseal(row.value, path: StoreManifest.path).documents)
            } catch {
                snapshot.unreadable[StoreManifest.path] = Self.reason(error)
            }
        } else {
            snapshot.unreadable[StoreManifest.path] = "the store's manifest is missing"
        }
        var recomputed = manifest?.emptied()
        var buckets: [String: Int] = [:]
        for (path, value) in rows where StoreManifest.covers(path) {
            do {
                let contents = try self.unseal(value, path: path)
                snapshot.entries[path] = contents
                recomputed?.toggle(path, version: contents.generation)
            } catch {
                snapshot.unreadable[path] = Self.reason(error)
            }
            if let manifest { buckets[path] = manifest.bucket(of: path) }
        }
        guard let manifest, let recomputed else {
            // No manifest to check against: nothing covered is served.
            for path in snapshot.entries.keys {
                snapshot.unreadable[path] = "\(BulwarkError.Code.keystoreCorrupted): the store's manifest cannot be read"
            }
            snapshot.entries = [:]
            snapshot.mismatchedBuckets = StoreManifest.bucketCount
            return snapshot
        }
        let mismatched = manifest.mismatches(recomputed)
        snapshot.manifest = manifest
        snapshot.mismatched = mismatched
        snapshot.mismatchedBuckets = mismatched.count
        guard !mismatched.isEmpty else { return snapshot }
        for (path, bucket) in buckets where mismatched.contains(bucket) {
            snapshot.entries[path] = nil
            if snapshot.unreadable[path] == nil {
                snapshot.unreadable[path] =
                    "\(BulwarkError.Code.keystoreCorrupted): its part of the store does not match the manifest (an entry rolled back, deleted or added outside Bulwark)"
            }
        }
        return snapshot
    }

    func seal(path: String, contents: KeystoreContents) throws -> Data {
        var contents = contents
        contents.documents["path"] = Data(path.utf8)
        return try SealedKeystore.seal(contents, masterKey: self.masterKey, kdf: self.kdf)
    }

    func unseal(_ bytes: [UInt8], path: String) throws -> KeystoreContents {
        let contents = try SealedKeystore.open(bytes, masterKey: self.masterKey)
        guard contents.documents["path"] == Data(path.utf8) else {
            throw BulwarkError(.keystoreCorrupted, "the stored entry at \(path) belongs to another path (moved or replayed)")
        }
        return contents
    }

    // MARK: keysets

    static func keyPath(_ name: String) -> String { "transit/keys/" + name }

    /// Every keyset, by name.
    public func keysets() async throws -> [String: Keyset] {
        let scan = try await self.readableKeysets()
        if let (path, reason) = scan.unreadable.min(by: { $0.key < $1.key }) {
            throw BulwarkError(.keystoreCorrupted, "the stored entry at \(path) cannot be read: \(reason)")
        }
        return scan.values
    }

    /// Every stored keyset that unseals and holds the key its path names, by name, and the paths
    /// of the entries that do not, each with the reason (an entry a refresh must skip and report,
    /// rather than stall on).
    public func readableKeysets(in snapshot: StoreSnapshot? = nil) async throws -> StoreScan<Keyset> {
        let snapshot = if let snapshot { snapshot } else { try await self.snapshot() }
        var scan = StoreScan<Keyset>()
        let prefix = Self.keyPath("")
        for (path, reason) in snapshot.unreadable where path.hasPrefix(prefix) { scan.unreadable[path] = reason }
        for (path, contents) in snapshot.entries where path.hasPrefix(prefix) {
            guard let keyset = contents.keysets.values.first, Self.keyPath(keyset.name) == path else {
                scan.unreadable[path] = "\(BulwarkError.Code.keystoreCorrupted): the entry holds no matching key"
                continue
            }
            scan.values[keyset.name] = keyset
        }
        return scan
    }

    private static func reason(_ error: any Error) -> String {
        (error as? BulwarkError).map { "\($0.code): \($0.message)" } ?? String(describing: type(of: error))
    }

    /// Changes one keyset atomically; `body` gets the stored keyset (or nil) and returns the new
    /// one, nil to delete it, or throws to change nothing.
    /// - Returns: The stored keyset after the change.
    @discardableResult
    public func updateKeyset(_ name: String, _ body: @escaping @Sendable (Keyset?) throws -> Keyset?) async throws -> Keyset? {
        try await self.change(Self.keyPath(name)) { existing in
            guard let changed = try body(existing?.keysets.values.first) else { return (.delete, nil) }
            return (.put(KeystoreContents(keysets: [name: changed])), changed)
        }
    }

    // MARK: documents

    /// The document at `path`, or nil. An entry the manifest covers is read with the rest of the
    /// store and checked against the manifest, as every other read is: one rolled back, deleted
    /// or brought back outside Bulwark is refused, never served (nor taken for absent). Node-local
    /// entries (``StoragePaths/unannounced``), which the manifest does not cover, are read alone.
    /// - Throws: ``BulwarkError/Code/keystoreCorrupted`` when the entry may not be served.
    public func document(_ path: String) async throws -> Data? {
        guard StoreManifest.covers(path) else {
            guard let bytes = try await self.backend.read(path) else { return nil }
            return try self.unseal(bytes, path: path).documents["value"]
        }
        let snapshot = try await self.snapshot()
        if let reason = snapshot.refusal(path) {
            throw BulwarkError(.keystoreCorrupted, "the stored entry at \(path) cannot be read: \(reason)")
        }
        return snapshot.entries[path]?.documents["value"]
    }

    /// Every document under `prefix`, by path.
    /// - Throws: ``BulwarkError/Code/keystoreCorrupted`` (or the unsealing error) when one cannot be read.
    public func documents(prefix: String) async throws -> [String: Data] {
        let scan = try await self.readableDocuments(prefix: prefix)
        if let (path, reason) = scan.unreadable.min(by: { $0.key < $1.key }) {
            throw BulwarkError(.keystoreCorrupted, "the stored entry at \(path) cannot be read: \(reason)")
        }
        return scan.values
    }

    /// Every document under `prefix` that unseals, by path, and the paths of those that do not,
    /// each with the reason.
    public func readableDocuments(prefix: String, in snapshot: StoreSnapshot? = nil) async throws -> StoreScan<Data> {
        let snapshot = if let snapshot { snapshot } else { try await self.snapshot() }
        var scan = StoreScan<Data>()
        for (path, reason) in snapshot.unreadable where path.hasPrefix(prefix) { scan.unreadable[path] = reason }
        for (path, contents) in snapshot.entries where path.hasPrefix(prefix) {
            if let document = contents.documents["value"] { scan.values[path] = document }
        }
        return scan
    }

    /// Changes one document atomically (nil deletes it; throwing changes nothing).
    public func updateDocument(_ path: String, _ body: @escaping @Sendable (Data?) throws -> Data?) async throws {
        try await self.change(path) { existing in
            guard let changed = try body(existing?.documents["value"]) else { return (.delete, ()) }
            return (.put(KeystoreContents(documents: ["value": changed])), ())
        }
    }

    // MARK: initialisation

    /// Whether `bulwark operator init` (or dev mode) initialised this store.
    public func isInitialized() async throws -> Bool {
        try await self.document(Self.initPath) != nil
    }

    /// Marks the store initialised with the root token's hash; refuses a store initialised already.
    /// - Throws: ``BulwarkError/Code/alreadyInitialized``.
    public func initialize(rootTokenHash: String, replacing: Bool = false) async throws {
        try await self.updateDocument(Self.initPath) { current in
            if current != nil && !replacing {
                throw BulwarkError(.alreadyInitialized, "the store is already initialised")
            }
            return Data(rootTokenHash.utf8)
        }
    }

    /// The root token's hash in a snapshot (checked against the manifest: a root record rolled
    /// back to an earlier root token is not read).
    /// - Throws: ``BulwarkError/Code/notInitialized``, ``BulwarkError/Code/keystoreCorrupted``.
    public func rootTokenHash(in snapshot: StoreSnapshot) throws -> String {
        if let reason = snapshot.refusal(Self.initPath) {
            throw BulwarkError(.keystoreCorrupted, "the root record cannot be read: \(reason)")
        }
        guard let data = snapshot.entries[Self.initPath]?.documents["value"] else {
            throw BulwarkError(.notInitialized, "the store is not initialised: run `bulwark operator init --storage URL`")
        }
        return Self.rootLineage(data).first ?? ""
    }

    /// The hashes of the root tokens that generated roots replaced (newest first), in a snapshot:
    /// no longer credentials, but the tokens they created stay valid (``replaceRootToken(hash:)``).
    public func formerRootTokenHashes(in snapshot: StoreSnapshot) -> [String] {
        guard snapshot.refusal(Self.initPath) == nil, let data = snapshot.entries[Self.initPath]?.documents["value"] else { return [] }
        return Array(Self.rootLineage(data).dropFirst())
    }

    /// How many replaced root tokens are remembered as parents: the tokens made by older ones
    /// stop working (they should have been replaced by then).
    public static let rootLineageLimit = 16

    /// The root record's lines: the current root token's hash, then those it replaced.
    static func rootLineage(_ data: Data) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Replaces the root record by `replacement` (a revoked root: no lineage), only if `hash` is
    /// still the current root token's.
    /// - Throws: ``BulwarkError/Code/permissionDenied`` when another root token replaced it meanwhile.
    public func revokeRootToken(hash: String, replacement: String) async throws {
        try await self.updateDocument(Self.initPath) { current in
            guard let current, Self.rootLineage(current).first == hash else {
                throw BulwarkError(.permissionDenied, "this root token was replaced by a newer one (on another node)")
            }
            return Data(replacement.utf8)
        }
    }

    /// Forgets a replaced root token as a parent (its tokens were revoked with it).
    public func dropFormerRootToken(hash: String) async throws {
        try await self.updateDocument(Self.initPath) { current in
            guard let current else { return nil }
            let lineage = Self.rootLineage(current)
            guard let first = lineage.first else { return current }
            return Data(([first] + lineage.dropFirst().filter { $0 != hash }).joined(separator: "\n").utf8)
        }
    }

    /// Makes `hash` the root token's (a root generated from a quorum of shares); the former root
    /// token stops working, and the tokens it created stay valid (it is kept as a parent, with up
    /// to ``rootLineageLimit`` before it).
    /// - Returns: The former root hashes now remembered (newest first).
    /// - Throws: ``BulwarkError/Code/notInitialized``.
    @discardableResult
    public func replaceRootToken(hash: String) async throws -> [String] {
        try await self.updateDocument(Self.initPath) { current in
            guard let current else {
                throw BulwarkError(.notInitialized, "the store is not initialised: run `bulwark operator init --storage URL`")
            }
            // A revoked root ("revoked:…") made nothing that still lives: not a parent to keep.
            let formers = Self.rootLineage(current).filter { !$0.contains(":") }.prefix(Self.rootLineageLimit)
            return Data(([hash] + formers).joined(separator: "\n").utf8)
        }
        let stored = try await self.document(Self.initPath).map(Self.rootLineage) ?? []
        return Array(stored.dropFirst())
    }

    /// The root token's hash recorded at initialisation.
    /// - Throws: ``BulwarkError/Code/notInitialized``.
    public func rootTokenHash() async throws -> String {
        guard let data = try await self.document(Self.initPath) else {
            throw BulwarkError(.notInitialized, "the store is not initialised: run `bulwark operator init --storage URL`")
        }
        return Self.rootLineage(data).first ?? ""
    }
}

/// What a scan of the store read: the entries that unsealed, and the paths of those that did not
/// with the reason (never their contents).
public struct StoreScan<Value: Sendable>: Sendable {
    /// The readable entries.
    public var values: [String: Value] = [:]
    /// Unreadable entries' paths and why.
    public var unreadable: [String: String] = [:]

    /// An empty scan.
    public init() {}
}

/// Every entry of a store read at one moment and checked against its manifest
/// (``SealedStore/snapshot()``): what unsealed and matched, and what did not, with the reason.
public struct StoreSnapshot: Sendable {
    /// The readable entries' contents, by path.
    var entries: [String: KeystoreContents] = [:]
    /// Unreadable entries' paths and why (never their contents).
    public var unreadable: [String: String] = [:]
    /// How many of the manifest's buckets did not match their entries (0 in a sound store).
    public var mismatchedBuckets = 0
    /// This snapshot's place among its store's snapshots, in the order their reads began. A
    /// reloader that has applied one snapshot must not apply an older one after it (that would
    /// bring back what the newer one had replaced: a revoked token, an older key).
    public internal(set) var sequence: UInt64 = 0
    /// The manifest the entries were checked against (nil when it could not be read), and the
    /// buckets that did not match it.
    var manifest: StoreManifest?
    var mismatched: Set<Int> = []

    /// Why the entry at `path` must not be served, or nil: it did not unseal, or its part of the
    /// store does not match the manifest (which also finds an entry deleted outside Bulwark, a
    /// path with no row), or there is no manifest to check it against.
    func refusal(_ path: String) -> String? {
        if let reason = self.unreadable[path] { return reason }
        guard StoreManifest.covers(path) else { return nil }
        guard let manifest = self.manifest else { return "\(BulwarkError.Code.keystoreCorrupted): the store's manifest cannot be read" }
        guard self.mismatched.contains(manifest.bucket(of: path)) else { return nil }
        return "\(BulwarkError.Code.keystoreCorrupted): its part of the store does not match the manifest (an entry rolled back, deleted or added outside Bulwark)"
    }
}
