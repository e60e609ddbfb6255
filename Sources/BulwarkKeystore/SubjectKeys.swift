public import Bulwark

/// Per-subject keys for erasure by key destruction ("crypto-shredding").
///
/// Each subject (a customer, a tenant) gets its own key, created on demand in the sealed keystore
/// (so it is wrapped by the master key). Field data keys for that subject are wrapped by the
/// subject's key through ``FieldEncryptor``; ``erase(_:)`` destroys the subject's key, after which
/// every copy of the subject's fields — in the database and in every backup — is unreadable,
/// while other subjects' data is untouched. An erased subject stays recorded, so no new key is
/// ever created for it by accident.
public struct SubjectKeys: Sendable {
    /// The keystore holding the subject keys.
    public let keystore: FileKeystore

    /// - Parameter keystore: The keystore that holds (and seals) the subject keys.
    public init(keystore: FileKeystore) {
        self.keystore = keystore
    }

    /// The keyset name of a subject's key.
    public static func keyName(_ subject: String) -> String { "subject." + subject }

    /// A field encryptor whose data keys are wrapped by the subject's key (created on first use).
    /// - Throws: ``BulwarkError/Code/keyVersionDestroyed`` for an erased subject.
    public func encryptor(for subject: String, policy: DataKeyCachePolicy = .standard) throws -> FieldEncryptor {
        let name = Self.keyName(subject)
        var keyset = try self.keystore.load().keysets[name]
        if keyset == nil {
            keyset = try self.keystore.update { contents -> Keyset in
                if let existing = contents.keysets[name] { return existing }
                let created = try Keyset.generate(name: name)
                contents.keysets[name] = created
                return created
            }
        }
        guard let key = keyset, !key.isShredded else {
            throw BulwarkError(.keyVersionDestroyed, "subject '\(subject)' was erased; their data cannot be read or written")
        }
        return FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: key), policy: policy)
    }

    /// Destroys the subject's key for good.
    /// - Returns: How many key versions were destroyed (0 if the subject never had a key).
    @discardableResult
    public func erase(_ subject: String) throws -> Int {
        let name = Self.keyName(subject)
        return try self.keystore.update { contents -> Int in
            var keyset = try contents.keysets[name] ?? Keyset.generate(name: name)
            let live = keyset.versionInfo.filter { $0.status != .destroyed }.count
            keyset.shred()
            contents.keysets[name] = keyset
            return live
        }
    }
}
