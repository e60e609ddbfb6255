import Foundation

/// The serialised form of a keyset inside a sealed keystore. Internal: key material is only
/// ever serialised here, and only ever written encrypted.
struct KeysetRecord: Codable {
    struct Version: Codable {
        var version: UInt32
        var status: KeyStatus
        var createdAt: Double
        var material: String?
    }

    var name: String
    var id: UInt32
    var type: KeyType
    var createdAt: Double
    var exportable: Bool
    var primaryVersion: UInt32
    var minimumDecryptionVersion: UInt32
    var rotationPeriodSeconds: Int64?
    var deletionAllowed: Bool?
    var minimumEncryptionVersion: UInt32?
    /// Absent in records written before derived keys (false).
    var derived: Bool?
    var convergent: Bool?
    /// An HMAC key's size when not its type's (absent in older records).
    var keySize: Int?
    /// Absent unless the key is soft-deleted.
    var softDeleted: Bool?
    var versions: [Version]

    init(_ keyset: Keyset) {
        self.name = keyset.name
        self.id = keyset.id
        self.type = keyset.type
        self.createdAt = keyset.createdAt.timeIntervalSince1970
        self.exportable = keyset.isExportable
        self.primaryVersion = keyset.primaryVersion
        self.minimumDecryptionVersion = keyset.minimumDecryptionVersion
        self.rotationPeriodSeconds = keyset.rotationPeriod.map { $0.components.seconds }
        self.deletionAllowed = keyset.deletionAllowed
        self.minimumEncryptionVersion = keyset.minimumEncryptionVersion == 0 ? nil : keyset.minimumEncryptionVersion
        self.derived = keyset.isDerived ? true : nil
        self.convergent = keyset.isConvergent ? true : nil
        self.keySize = keyset.keySize
        self.softDeleted = keyset.isSoftDeleted ? true : nil
        self.versions = keyset.versions.map { version in
            Version(
                version: version.number, status: version.status, createdAt: version.createdAt.timeIntervalSince1970,
                material: version.material.map { $0.rawBytes.base64EncodedString() })
        }
    }

    func keyset() throws -> Keyset {
        try Keyset.validate(name: self.name)
        var versions: [KeyVersion] = []
        for (index, record) in self.versions.enumerated() {
            guard record.version == UInt32(index + 1) else {
                throw BulwarkError(.keystoreCorrupted, "key '\(self.name)' has versions out of order")
            }
            var material: KeyMaterial?
            if record.status != .destroyed {
                guard let text = record.material, let raw = Data(base64Encoded: text) else {
                    throw BulwarkError(.keystoreCorrupted, "version \(record.version) of '\(self.name)' lacks key material")
                }
                // Every version of a key has its size (its key_size, or the type's).
                material = try KeyMaterial.fromRawBytes(raw, type: self.type, hmacLength: self.keySize ?? self.type.materialLength)
            }
            versions.append(
                try KeyVersion(
                    number: record.version, status: record.status, createdAt: Date(timeIntervalSince1970: record.createdAt),
                    material: material, type: self.type))
        }
        guard !versions.isEmpty, (1...UInt32(versions.count)).contains(self.primaryVersion),
            (1...self.primaryVersion).contains(self.minimumDecryptionVersion),
            versions[Int(self.primaryVersion - 1)].status == .enabled || versions.allSatisfy({ $0.status == .destroyed })
        else {
            throw BulwarkError(.keystoreCorrupted, "key '\(self.name)' has inconsistent versions")
        }
        var keyset = Keyset(
            name: self.name, id: self.id, type: self.type, createdAt: Date(timeIntervalSince1970: self.createdAt),
            isExportable: self.exportable, primaryVersion: self.primaryVersion,
            minimumDecryptionVersion: self.minimumDecryptionVersion,
            rotationPeriod: self.rotationPeriodSeconds.map { .seconds($0) }, versions: versions)
        keyset.deletionAllowed = self.deletionAllowed ?? false
        keyset.minimumEncryptionVersion = min(self.minimumEncryptionVersion ?? 0, self.primaryVersion)
        do {
            try Keyset.validate(type: self.type, derived: self.derived ?? false, convergent: self.convergent ?? false)
        } catch {
            throw BulwarkError(.keystoreCorrupted, "key '\(self.name)' has derivation flags its type cannot have")
        }
        keyset.isDerived = self.derived ?? false
        keyset.isConvergent = self.convergent ?? false
        do {
            try Keyset.validate(type: self.type, keySize: self.keySize)
        } catch {
            throw BulwarkError(.keystoreCorrupted, "key '\(self.name)' has a key size its type cannot have")
        }
        // The type's own size is no size at all (as Keyset.generate keeps it).
        keyset.keySize = self.keySize == self.type.materialLength ? nil : self.keySize
        keyset.isSoftDeleted = self.softDeleted ?? false
        return keyset
    }
}
