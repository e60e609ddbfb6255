extension TransitBackend {
    /// `POST transit/keys/:name`: the settings of a key to create (Vault's `path_keys.go`).
    public struct KeyCreation: EndpointRequest, Equatable {
        /// The Vault key type (`aes256-gcm96` when absent).
        public var type: String?
        /// Whether the key may ever be exported (fixed at creation).
        public var exportable: Bool?
        /// Rotate automatically after this long (zero: never).
        public var autoRotatePeriod: Duration?
        /// Vault's plaintext backups: refused when `true` (Bulwark has no key backups yet).
        public var allowPlaintextBackup: Bool?
        /// Vault's key derivation: every operation's key derived from the version's and the
        /// request's `context` (HKDF-SHA256); aes256-gcm96, aes128-gcm96, chacha20-poly1305.
        public var derived: Bool?
        /// Vault's convergent encryption (its version 3): equal plaintexts under one context
        /// encrypt alike. Needs `derived`.
        public var convergentEncryption: Bool?
        /// The key size of an `hmac` key in bytes (32 only; zero or absent: the default).
        public var keySize: Int?

        /// The request's JSON fields.
        package enum CodingKeys: String, CodingKey, CaseIterable {
            case type, exportable, derived
            case autoRotatePeriod = "auto_rotate_period"
            case allowPlaintextBackup = "allow_plaintext_backup"
            case convergentEncryption = "convergent_encryption"
            case keySize = "key_size"
        }

        /// Settings for a new key; every one left out takes Vault's default.
        public init(
            type: String? = nil, exportable: Bool? = nil, autoRotatePeriod: Duration? = nil, keySize: Int? = nil, derived: Bool? = nil,
            convergentEncryption: Bool? = nil
        ) {
            self.type = type
            self.exportable = exportable
            self.autoRotatePeriod = autoRotatePeriod
            self.keySize = keySize
            self.derived = derived
            self.convergentEncryption = convergentEncryption
        }
    }

    /// `POST transit/keys/:name/config`: the settings to change; an absent one is left as it is
    /// (Vault's `path_keys_config.go`).
    public struct KeyConfiguration: EndpointRequest, Equatable {
        /// Versions below this one no longer decrypt (at least 1).
        public var minDecryptionVersion: UInt32?
        /// Versions below this one no longer encrypt (0: the latest).
        public var minEncryptionVersion: UInt32?
        /// Whether `DELETE transit/keys/:name` may delete the key.
        public var deletionAllowed: Bool?
        /// Exportability, which cannot change after creation: refused unless it is the key's.
        public var exportable: Bool?
        /// Vault's plaintext backups: refused when `true`.
        public var allowPlaintextBackup: Bool?
        /// The new rotation period (zero: never rotate automatically).
        public var autoRotatePeriod: Duration?

        /// The request's JSON fields.
        package enum CodingKeys: String, CodingKey, CaseIterable {
            case exportable
            case minDecryptionVersion = "min_decryption_version"
            case minEncryptionVersion = "min_encryption_version"
            case deletionAllowed = "deletion_allowed"
            case allowPlaintextBackup = "allow_plaintext_backup"
            case autoRotatePeriod = "auto_rotate_period"
        }

        /// Settings to change; every one left out stays as it is.
        public init(
            minDecryptionVersion: UInt32? = nil, minEncryptionVersion: UInt32? = nil, deletionAllowed: Bool? = nil,
            autoRotatePeriod: Duration? = nil
        ) {
            self.minDecryptionVersion = minDecryptionVersion
            self.minEncryptionVersion = minEncryptionVersion
            self.deletionAllowed = deletionAllowed
            self.autoRotatePeriod = autoRotatePeriod
        }
    }

    /// `POST transit/keys/:name/trim`: the lowest version to keep (Vault's `path_trim.go`).
    public struct KeyTrim: EndpointRequest, Equatable {
        /// Every version below this one is destroyed.
        public var minAvailableVersion: UInt32

        /// The request's JSON fields.
        package enum CodingKeys: String, CodingKey, CaseIterable {
            case minAvailableVersion = "min_available_version"
        }

        /// Keeps `minAvailableVersion` and the versions above it.
        public init(minAvailableVersion: UInt32) {
            self.minAvailableVersion = minAvailableVersion
        }
    }
}
