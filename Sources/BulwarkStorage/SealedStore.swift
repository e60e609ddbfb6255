public import Bulwark
public import BulwarkKeystore
public import Foundation

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

    static let sealPath = "sys/seal"
    static let initPath = "sys/init"

    private init(backend: any StorageBackend, masterKey: MasterKey, kdf: PassphraseKDF?) {
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
        if let existing = try await backend.read(Self.sealPath) {
            let header = try SealedKeystore.Header(parsing: existing)
            let (key, kdf) = try source.resolve(header: header, keystoreDirectory: dataDirectory)
            let store = SealedStore(backend: backend, masterKey: key, kdf: kdf)
            _ = try store.unseal(existing, path: Self.sealPath)
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
            return store
        }
        return candidate
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
    public func readableKeysets() async throws -> StoreScan<Keyset> {
        var scan = StoreScan<Keyset>()
        for (path, value) in try await self.backend.list(prefix: Self.keyPath("")) {
            do {
                let contents = try self.unseal(value, path: path)
                guard let keyset = contents.keysets.values.first, Self.keyPath(keyset.name) == path else {
                    throw BulwarkError(.keystoreCorrupted, "the entry holds no matching key")
                }
                scan.values[keyset.name] = keyset
            } catch {
                scan.unreadable[path] = Self.reason(error)
            }
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
        let path = Self.keyPath(name)
        return try await self.backend.update(path) { current in
            let existing = try current.map { try self.unseal($0, path: path).keysets.values.first }
            guard let changed = try body(existing ?? nil) else { return (.delete, nil) }
            return (.put(Array(try self.seal(path: path, contents: KeystoreContents(keysets: [name: changed])))), changed)
        }
    }

    // MARK: documents

    /// The document at `path`, or nil.
    public func document(_ path: String) async throws -> Data? {
        guard let bytes = try await self.backend.read(path) else { return nil }
        return try self.unseal(bytes, path: path).documents["value"]
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
    public func readableDocuments(prefix: String) async throws -> StoreScan<Data> {
        var scan = StoreScan<Data>()
        for (path, value) in try await self.backend.list(prefix: prefix) {
            do {
                if let document = try self.unseal(value, path: path).documents["value"] { scan.values[path] = document }
            } catch {
                scan.unreadable[path] = Self.reason(error)
            }
        }
        return scan
    }

    /// Changes one document atomically (nil deletes it; throwing changes nothing).
    public func updateDocument(_ path: String, _ body: @escaping @Sendable (Data?) throws -> Data?) async throws {
        try await self.backend.update(path) { current in
            let existing = try current.map { try self.unseal($0, path: path).documents["value"] }
            guard let changed = try body(existing ?? nil) else { return (current == nil ? .keep : .delete, ()) }
            return (.put(Array(try self.seal(path: path, contents: KeystoreContents(documents: ["value": changed])))), ())
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

    /// The root token's hash recorded at initialisation.
    /// - Throws: ``BulwarkError/Code/notInitialized``.
    public func rootTokenHash() async throws -> String {
        guard let data = try await self.document(Self.initPath) else {
            throw BulwarkError(.notInitialized, "the store is not initialised: run `bulwark operator init --storage URL`")
        }
        return String(decoding: data, as: UTF8.self)
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
