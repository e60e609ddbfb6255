extension TransitBackend {
    /// `GET transit/keys/:name`: a key as Vault describes it (no key material).
    public struct KeyDescription: Encodable, Sendable, Equatable {
        /// The key's name.
        public let name: String
        /// The Vault key type.
        public let type: String
        /// Each version that is not destroyed, by number: its creation time (Unix seconds) for a
        /// symmetric key, an object with its public key for a signing or hybrid key (Vault's
        /// shapes; a version whose public key may not be handed out is left out).
        public let keys: [String: KeyVersionEntry]
        /// The newest version.
        public let latestVersion: UInt32
        /// Versions below this one no longer decrypt.
        public let minDecryptionVersion: UInt32
        /// Versions below this one no longer encrypt (0: the latest).
        public let minEncryptionVersion: UInt32
        /// Whether the key may be deleted.
        public let deletionAllowed: Bool
        /// Whether the key may be exported.
        public let exportable: Bool
        /// Whether the key encrypts.
        public let supportsEncryption: Bool
        /// Whether the key decrypts.
        public let supportsDecryption: Bool
        /// Whether the key's type may be derived (aes256-gcm96, aes128-gcm96, chacha20-poly1305).
        public let supportsDerivation: Bool
        /// Whether the key signs.
        public let supportsSigning: Bool
        /// Whether every operation derives its key from a `context`.
        public let derived: Bool
        /// `hkdf_sha256` for a derived key (absent otherwise, as in Vault).
        public var kdf: String?
        /// Whether encryption is convergent (a derived key's; absent for others, as in OpenBao).
        public var convergentEncryption: Bool?
        /// Vault's `convergent_encryption_version` for a convergent key: -1, as OpenBao shows
        /// keys made with its current (third) version.
        public var convergentEncryptionVersion: Int?
        /// An `hmac` key's size in bytes (as OpenBao shows it; absent for other keys).
        public var keySize: Int?
        /// Whether the key is soft-deleted (OpenBao's field).
        public var softDeleted = false
        /// The rotation period in seconds (0: none).
        public let autoRotatePeriod: Duration

        enum CodingKeys: String, CodingKey {
            case name, type, keys, exportable, derived, kdf
            case convergentEncryption = "convergent_encryption"
            case convergentEncryptionVersion = "convergent_encryption_version"
            case keySize = "key_size"
            case softDeleted = "soft_deleted"
            case latestVersion = "latest_version"
            case minDecryptionVersion = "min_decryption_version"
            case minEncryptionVersion = "min_encryption_version"
            case deletionAllowed = "deletion_allowed"
            case supportsEncryption = "supports_encryption"
            case supportsDecryption = "supports_decryption"
            case supportsDerivation = "supports_derivation"
            case supportsSigning = "supports_signing"
            case autoRotatePeriod = "auto_rotate_period"
        }
    }

    /// One version in ``KeyDescription/keys``, in the shape Vault gives it.
    public enum KeyVersionEntry: Encodable, Sendable, Equatable, ExpressibleByIntegerLiteral {
        /// A symmetric key's version: its creation time in Unix seconds.
        case created(Int)
        /// A version with a public half.
        case publicKey(PublicVersion)

        /// A creation time in Unix seconds.
        public init(integerLiteral value: Int) { self = .created(value) }

        /// Writes the number or the object.
        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .created(let seconds):
                var container = encoder.singleValueContainer()
                try container.encode(seconds)
            case .publicKey(let version):
                try version.encode(to: encoder)
            }
        }
    }

    /// A signing or hybrid-encryption key's version as Vault describes an asymmetric one: its
    /// public key, which is not secret and needs no export permission.
    public struct PublicVersion: Encodable, Sendable, Equatable {
        /// Creation time, RFC 3339 with fractional seconds (UTC).
        public let creationTime: String
        /// The curve or KEM: `ed25519`, `P-256` (Vault's names for signing keys),
        /// `DHKEM(X25519, HKDF-SHA256)`, `DHKEM(P-256, HKDF-SHA256)`, `X-Wing` (hybrid keys).
        public let name: String
        /// The public key: base64 of the raw key (Ed25519; HPKE's serialised KEM public key,
        /// RFC 9180 §7.1.1), or PEM SubjectPublicKeyInfo (P-256 signing, as Vault).
        public let publicKey: String
        /// Vault's certificate chain for the key (always empty here).
        public let certificateChain: String
        /// For `hpke-*` keys: the public key with its key id and version (`bwpk1:…`), what
        /// `HybridPublicKey(text:)` reads and a sender needs to make a message the key service
        /// decrypts. Nil for signing keys.
        public let bulwarkPublicKey: String?

        enum CodingKeys: String, CodingKey {
            case name
            case creationTime = "creation_time"
            case publicKey = "public_key"
            case certificateChain = "certificate_chain"
            case bulwarkPublicKey = "bulwark_public_key"
        }
    }
}
