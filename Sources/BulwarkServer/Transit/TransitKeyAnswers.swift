extension TransitBackend {
    /// `GET transit/keys/:name`: a key as Vault describes it (no key material).
    public struct KeyDescription: Encodable, Sendable, Equatable {
        /// The key's name.
        public let name: String
        /// The Vault key type.
        public let type: String
        /// Each version that is not destroyed, by number, with its creation time (Unix seconds).
        public let keys: [String: Int]
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
        /// Key derivation: never.
        public let supportsDerivation: Bool
        /// Whether the key signs.
        public let supportsSigning: Bool
        /// Key derivation: never.
        public let derived: Bool
        /// The rotation period in seconds (0: none).
        public let autoRotatePeriod: Duration

        enum CodingKeys: String, CodingKey {
            case name, type, keys, exportable, derived
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
}
