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
        var out: [String: Keyset] = [:]
        for (path, value) in try await self.backend.list(prefix: Self.keyPath("")) {
            let contents = try self.unseal(value, path: path)
            guard let keyset = contents.keysets.values.first, Self.keyPath(keyset.name) == path else {
                throw BulwarkError(.keystoreCorrupted, "the stored entry at \(path) holds no matching key")
            }
            out[keyset.name] = keyset
        }
        return out
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
    public func documents(prefix: String) async throws -> [String: Data] {
        var out: [String: Data] = [:]
        for (path, value) in try await self.backend.list(prefix: prefix) {
            out[path] = try self.unseal(value, path: path).documents["value"]
        }
        return out
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
