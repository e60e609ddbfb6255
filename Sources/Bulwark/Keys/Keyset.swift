public import Foundation

/// A named key with a fixed type and purpose, and its versions.
///
/// New data is always protected with the primary (newest) version; older versions stay usable
/// for decryption and verification until they are disabled, destroyed or fall below the
/// minimum decryption version. A keyset is a value: change it with ``rotate(now:)`` and the
/// other management calls, then save it through a keystore.
///
/// Printing a keyset shows its name, type and versions, never key bytes.
public struct Keyset: Sendable, CustomStringConvertible {
    /// The key's name, unique in its keystore.
    public let name: String
    /// A random 32-bit id written into every envelope, so ciphertext names its key.
    public let id: UInt32
    /// The algorithm, fixed at creation.
    public let type: KeyType
    /// When the key was created.
    public let createdAt: Date
    /// Whether raw key bytes may be exported (fixed at creation).
    public let isExportable: Bool
    /// The version used for new data.
    public internal(set) var primaryVersion: UInt32
    /// Versions below this are refused for decryption and verification.
    public internal(set) var minimumDecryptionVersion: UInt32
    /// The oldest version that may encrypt when a caller asks for a specific version (Vault's
    /// `min_encryption_version`); 0 means any usable version.
    public internal(set) var minimumEncryptionVersion: UInt32 = 0
    /// How often the key should be rotated, if at all.
    public internal(set) var rotationPeriod: Duration?
    /// Whether the key may be deleted (Vault's `deletion_allowed`); off by default.
    public internal(set) var deletionAllowed = false
    /// Whether every operation uses a key derived from the version's and a caller's context
    /// (Vault's `derived` keys, HKDF-SHA256 with the context as info), never the version's own
    /// key: see ``encrypt(_:context:derivingFrom:version:)``. Fixed at creation.
    public internal(set) var isDerived = false
    /// Whether encryption is convergent (Vault's `convergent_encryption`, its version 3): the
    /// nonce is an HMAC of the plaintext under a key derived from the context, so equal
    /// plaintexts under one version and context give equal ciphertexts. Derived keys only.
    public internal(set) var isConvergent = false
    /// Whether the key is soft-deleted (OpenBao's `soft-delete`): kept, with every version, but
    /// refused for every operation by the key service until restored. Set with
    /// ``setSoftDeleted(_:)``.
    public internal(set) var isSoftDeleted = false
    /// An HMAC key's size in bytes when made with one other than its type's (Vault's
    /// `key_size`, 32 to 512): every version has it. Nil for every other key.
    public internal(set) var keySize: Int?

    /// Versions in order: `versions[n - 1]` is version `n`.
    var versions: [KeyVersion]

    /// What the key may be used for.
    public var purpose: KeyPurpose { self.type.purpose }

    /// The newest version number.
    public var latestVersion: UInt32 { UInt32(self.versions.count) }

    /// Secret-free facts about every version, oldest first.
    public var versionInfo: [KeyVersionInfo] { self.versions.map(\.info) }

    /// Name, type, purpose and versions; never key bytes.
    public var description: String {
        "Keyset(name: \(self.name), id: \(self.id), type: \(self.type), primary: v\(self.primaryVersion), versions: \(self.versions.count))"
    }

    /// Creates a key with one fresh version.
    /// - Parameters:
    ///   - name: A name of 1-128 characters from `A-Z a-z 0-9 . _ -`.
    ///   - type: The algorithm; its purpose is fixed with it.
    ///   - exportable: Whether raw key bytes may ever be exported.
    ///   - rotationPeriod: How often rotation is due, or nil.
    ///   - derived: Whether operations derive their key from a context (``isDerived``):
    ///     `aes256-gcm`, `aes128-gcm` and `chacha20-poly1305` keys only.
    ///   - convergent: Whether encryption is convergent (``isConvergent``); needs `derived`.
    ///   - keySize: An HMAC key's size in bytes, 32 to 512 (``keySize``); nil: the type's.
    ///   - now: The creation time.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a bad name or period, or derivation
    ///   asked of another type.
    public static func generate(
        name: String, type: KeyType = .aes256GCM, exportable: Bool = false, rotationPeriod: Duration? = nil,
        derived: Bool = false, convergent: Bool = false, keySize: Int? = nil, now: Date = Date()
    ) throws -> Keyset {
        try Self.validate(name: name)
        try Self.validate(rotationPeriod: rotationPeriod)
        try Self.validate(type: type, derived: derived, convergent: convergent)
        try Self.validate(type: type, keySize: keySize)
        let size = keySize == type.materialLength ? nil : keySize
        let first = try KeyVersion(number: 1, status: .enabled, createdAt: now, material: try .generate(for: type, length: size), type: type)
        var keyset = Keyset(
            name: name, id: SecureRandom.identifier(), type: type, createdAt: now, isExportable: exportable,
            primaryVersion: 1, minimumDecryptionVersion: 1, rotationPeriod: rotationPeriod, versions: [first])
        keyset.isDerived = derived
        keyset.isConvergent = convergent
        keyset.keySize = size
        return keyset
    }

    /// A key size is for HMAC keys only, from 32 to 512 bytes.
    package static func validate(type: KeyType, keySize: Int?) throws {
        guard let keySize else { return }
        guard type == .hmacSHA256 || type == .hmacSHA512 else {
            throw BulwarkError(.invalidArgument, "key_size is not valid for algorithm \(type)")
        }
        guard KeyType.hmacKeySizes.contains(keySize) else { throw BulwarkError(.invalidArgument, "invalid key_size \(keySize)") }
    }

    /// The types a key may derive from (Vault's, but for `xchacha20-poly1305`, which Bulwark
    /// has not, and `ed25519`, whose derived signing keys it does not make).
    public static let derivableTypes: Set<KeyType> = [.aes256GCM, .aes128GCM, .chacha20Poly1305]

    static func validate(type: KeyType, derived: Bool, convergent: Bool) throws {
        if derived, !Self.derivableTypes.contains(type) {
            throw BulwarkError(.invalidArgument, "a \(type) key cannot be derived: only aes256-gcm, aes128-gcm and chacha20-poly1305 keys are")
        }
        if convergent, !derived {
            throw BulwarkError(.invalidArgument, "convergent encryption needs a derived key (its nonce comes from the context's key)")
        }
    }

    init(
        name: String, id: UInt32, type: KeyType, createdAt: Date, isExportable: Bool, primaryVersion: UInt32,
        minimumDecryptionVersion: UInt32, rotationPeriod: Duration?, versions: [KeyVersion]
    ) {
        self.name = name
        self.id = id
        self.type = type
        self.createdAt = createdAt
        self.isExportable = isExportable
        self.primaryVersion = primaryVersion
        self.minimumDecryptionVersion = minimumDecryptionVersion
        self.rotationPeriod = rotationPeriod
        self.versions = versions
    }

    static func validate(name: String) throws {
        guard Names.isValid(name) else {
            throw BulwarkError(.invalidArgument, "a key name needs 1-128 characters from A-Z a-z 0-9 . _ -")
        }
    }

    static func validate(rotationPeriod: Duration?) throws {
        if let period = rotationPeriod, period < .seconds(3600) {
            throw BulwarkError(.invalidArgument, "a rotation period must be at least one hour")
        }
    }

    /// The version `number`, checked for use: it must exist, be enabled and, when
    /// `forDecryption`, be at or above the minimum decryption version.
    func usableVersion(_ number: UInt32, forDecryption: Bool) throws -> KeyVersion {
        self.versions[try self.usableVersionIndex(number, forDecryption: forDecryption)]
    }

    /// The index in ``versions`` of a version checked as by ``usableVersion(_:forDecryption:)``.
    func usableVersionIndex(_ number: UInt32, forDecryption: Bool) throws -> Int {
        guard number >= 1, number <= self.latestVersion else {
            throw BulwarkError(.unknownKeyVersion, "key '\(self.name)' has no version \(number)")
        }
        let index = Int(number - 1)
        switch self.versions[index].status {
        case .destroyed:
            throw BulwarkError(.keyVersionDestroyed, "version \(number) of key '\(self.name)' was destroyed; data under it cannot be recovered")
        case .disabled:
            throw BulwarkError(.keyVersionDisabled, "version \(number) of key '\(self.name)' is disabled")
        case .enabled:
            break
        }
        if forDecryption, number < self.minimumDecryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum decryption version \(self.minimumDecryptionVersion)")
        }
        return index
    }

    func requirePurpose(_ purpose: KeyPurpose, for operation: @autoclosure () -> String) throws {
        guard self.purpose == purpose else {
            throw BulwarkError(.wrongPurpose, "key '\(self.name)' is a \(self.type) key for \(self.purpose); it cannot \(operation())")
        }
    }

    func requireOwnership(of header: EnvelopeHeader) throws {
        guard header.keyID == self.id else {
            throw BulwarkError(.unknownKey, "the data was made by key id \(header.keyID), not by key '\(self.name)' (id \(self.id))")
        }
        guard header.algorithmID == self.type.wireID else {
            throw BulwarkError(.authenticationFailed, "the envelope names another algorithm than key '\(self.name)' uses: it was altered")
        }
    }
}
