extension Keyset {
    /// The `age1…` recipient of an `age-x25519` version, for senders (`age -r`, `bulwark encrypt
    /// --recipient`). Not secret.
    /// - Parameter version: The version, or nil for the primary. A chosen version must be at or
    ///   above both minimum versions: a recipient whose files would be refused is never handed out.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `age-x25519` key;
    ///   `unknownKeyVersion`, `keyVersionBelowMinimum`, `keyVersionDisabled` or
    ///   `keyVersionDestroyed` for a version that may not be handed out.
    public func ageRecipient(version: UInt32? = nil) throws -> AgeRecipient {
        try self.requirePurpose(.ageEncryption, for: "give an age recipient")
        let number = version ?? self.primaryVersion
        if number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        guard case .age(let identity)? = try self.usableVersion(number, forDecryption: true).primitive else {
            throw BulwarkError(.keyVersionDestroyed, "the key version has no material")
        }
        return identity.recipient
    }

    /// The identities of every version that may decrypt (enabled, at or above the minimum
    /// decryption version), newest first: files to any of their recipients open with
    /// ``AgeDecryptor``.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an `age-x25519` key;
    ///   `keyVersionDisabled` when no version may decrypt.
    public func ageIdentities() throws -> [AgeIdentity] {
        try self.requirePurpose(.ageEncryption, for: "open age files")
        let identities = (1...self.latestVersion).reversed().compactMap { number -> AgeIdentity? in
            guard case .age(let identity)? = try? self.usableVersion(number, forDecryption: true).primitive else { return nil }
            return identity
        }
        guard !identities.isEmpty else { throw BulwarkError(.keyVersionDisabled, "no version of '\(self.name)' may decrypt") }
        return identities
    }
}
