public import Foundation

extension Keyset {
    /// Adds a fresh version and makes it primary.
    /// - Parameter now: The new version's creation time.
    public mutating func rotate(now: Date = Date()) throws {
        try self.rotate(using: try PreparedKeyMaterial(for: self), now: now)
    }

    /// Adds a version with material made beforehand (``PreparedKeyMaterial``), so that slow
    /// generation (RSA: up to seconds) happens outside whatever lock guards the keyset.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the material is for another type.
    public mutating func rotate(using prepared: PreparedKeyMaterial, now: Date = Date()) throws {
        guard prepared.type == self.type else {
            throw BulwarkError(.invalidArgument, "the prepared material is for a \(prepared.type) key, not \(self.type)")
        }
        guard prepared.keySize == self.keySize else {
            throw BulwarkError(.invalidArgument, "the prepared material is not of this key's size: make it with PreparedKeyMaterial(for: keyset)")
        }
        guard self.versions.count < Int(UInt32.max) else {
            throw BulwarkError(.invalidArgument, "key '\(self.name)' has no version numbers left")
        }
        let number = self.latestVersion + 1
        let version = try KeyVersion(number: number, status: .enabled, createdAt: now, material: prepared.material, type: self.type)
        self.versions.append(version)
        self.primaryVersion = number
    }

    /// Soft-deletes the key, or restores it (``isSoftDeleted``).
    public mutating func setSoftDeleted(_ deleted: Bool) {
        self.isSoftDeleted = deleted
    }

    /// Sets the oldest version allowed to decrypt or verify.
    /// - Parameter version: From 1 up to the primary version.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when out of range.
    public mutating func setMinimumDecryptionVersion(_ version: UInt32) throws {
        guard version >= 1, version <= self.primaryVersion else {
            throw BulwarkError(.invalidArgument, "the minimum decryption version of '\(self.name)' must be between 1 and the primary version \(self.primaryVersion)")
        }
        self.minimumDecryptionVersion = version
    }

    /// Sets the oldest version a caller may choose for encryption (0: any usable version).
    /// - Parameter version: From 0 up to the latest version.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when out of range.
    public mutating func setMinimumEncryptionVersion(_ version: UInt32) throws {
        guard version <= self.latestVersion else {
            throw BulwarkError(.invalidArgument, "the minimum encryption version of '\(self.name)' cannot exceed the latest version \(self.latestVersion)")
        }
        self.minimumEncryptionVersion = version
    }

    /// Sets or clears the rotation period.
    /// - Parameter period: At least one hour, or nil for none.
    public mutating func setRotationPeriod(_ period: Duration?) throws {
        try Self.validate(rotationPeriod: period)
        self.rotationPeriod = period
    }

    /// Allows or forbids deleting the key.
    public mutating func setDeletionAllowed(_ allowed: Bool) {
        self.deletionAllowed = allowed
    }

    /// Whether the primary version is older than the rotation period.
    /// - Parameter now: The time to judge against.
    public func isRotationDue(now: Date = Date()) -> Bool {
        guard let period = self.rotationPeriod else { return false }
        let created = self.versions[Int(self.primaryVersion - 1)].createdAt
        let seconds = Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18
        return now.timeIntervalSince(created) >= seconds
    }

    private func managedVersion(_ number: UInt32, action: String) throws -> Int {
        guard number >= 1, number <= self.latestVersion else {
            throw BulwarkError(.unknownKeyVersion, "key '\(self.name)' has no version \(number)")
        }
        guard number != self.primaryVersion else {
            throw BulwarkError(.invalidArgument, "cannot \(action) version \(number) of '\(self.name)': it is the primary version; rotate first")
        }
        return Int(number - 1)
    }

    /// Disables a version: it is refused for every operation until enabled.
    /// - Throws: for the primary version, an unknown or a destroyed version.
    public mutating func disable(version number: UInt32) throws {
        let index = try self.managedVersion(number, action: "disable")
        guard self.versions[index].status != .destroyed else {
            throw BulwarkError(.keyVersionDestroyed, "version \(number) of '\(self.name)' is destroyed")
        }
        self.versions[index].status = .disabled
    }

    /// Enables a disabled version again.
    /// - Throws: for an unknown or a destroyed version.
    public mutating func enable(version number: UInt32) throws {
        guard number >= 1, number <= self.latestVersion else {
            throw BulwarkError(.unknownKeyVersion, "key '\(self.name)' has no version \(number)")
        }
        let index = Int(number - 1)
        guard self.versions[index].status != .destroyed else {
            throw BulwarkError(.keyVersionDestroyed, "version \(number) of '\(self.name)' is destroyed and cannot be enabled")
        }
        self.versions[index].status = .enabled
    }

    /// Destroys a version: its key bytes are erased, and data under it is gone for good.
    /// - Throws: for the primary or an unknown version.
    public mutating func destroy(version number: UInt32) throws {
        let index = try self.managedVersion(number, action: "destroy")
        self.versions[index].destroy()
    }

    /// Destroys every version, the primary included: the key can never encrypt or decrypt again.
    /// This is erasure by key destruction ("crypto-shredding"); it cannot be undone.
    public mutating func shred() {
        for index in self.versions.indices { self.versions[index].destroy() }
    }

    /// Whether every version was destroyed (see ``shred()``).
    public var isShredded: Bool { self.versions.allSatisfy { $0.status == .destroyed } }
}
