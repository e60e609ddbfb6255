import Crypto
public import Foundation

/// A Tink keyset (Google Tink's JSON keyset format, cleartext or encrypted under a key-encryption
/// keyset), and the operations Tink performs with it, in Tink's own formats: ciphertexts, tags and
/// signatures made by Tink open and verify here, and the ones made here (Tink output mode: the
/// 5-byte output prefix of the primary key) open and verify in Tink. A team moving from Tink
/// reads its keysets and data as they are, with no re-encryption.
///
/// Read and used: AES-GCM (`Aead`), AES-SIV (`DeterministicAead`), HMAC-SHA-256/384/512 (`Mac`),
/// Ed25519 and ECDSA P-256 (`PublicKeySign`/`Verify`, DER or IEEE P1363), HPKE with DHKEM(X25519)
/// or X-Wing (`HybridEncrypt`/`Decrypt`). Keys of other types are carried over unread (written
/// back unchanged) and never used. As in Tink, decryption and verification try the keys whose
/// output prefix the input starts with, then the RAW keys; only ENABLED keys are used.
public struct TinkKeyset: Sendable, CustomStringConvertible {
    var primaryID: UInt32
    var keys: [TinkKey]

    init(primaryID: UInt32, keys: [TinkKey]) {
        self.primaryID = primaryID
        self.keys = keys
    }

    /// The primary key's id (what new ciphertexts and signatures are made with).
    public var primaryKeyID: UInt32 { self.primaryID }

    /// Every key's id, in keyset order.
    public var keyIDs: [UInt32] { self.keys.map(\.id) }

    /// Key ids, types and statuses only: never key material.
    public var description: String {
        "TinkKeyset(primary: \(self.primaryID), keys: [" + self.keys.map { "\($0.id) \($0.typeURL.split(separator: ".").last ?? "") \($0.status.name)" }.joined(separator: ", ") + "])"
    }

    // MARK: - JSON

    /// Reads a cleartext JSON keyset (`tink.json_proto_keyset_format.serialize(..., secret_key_access)`,
    /// `CleartextKeysetHandle.write(JsonKeysetWriter)`).
    /// - Parameter access: ``InsecureSecretKeyAccess/token``: a cleartext keyset holds secrets.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything that is not one, a key of a
    ///   type Bulwark reads whose key message is malformed, or a primary id that names no key.
    public init(json: Data, access: InsecureSecretKeyAccess) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let keys = object["key"] as? [[String: Any]], !keys.isEmpty else {
            throw BulwarkError(.invalidFormat, "not a Tink JSON keyset")
        }
        self.primaryID = try Self.uint32(object["primaryKeyId"])
        self.keys = try keys.map { key in
            let malformed = BulwarkError(.invalidFormat, "a key of the Tink JSON keyset is malformed")
            guard let status = (key["status"] as? String).flatMap(Self.statusNames.firstIndex(of:)).flatMap({ TinkKey.Status(rawValue: UInt64($0)) }),
                let prefix = (key["outputPrefixType"] as? String).flatMap(Self.prefixNames.firstIndex(of:)).flatMap({ TinkKey.Prefix(rawValue: UInt64($0)) })
            else { throw malformed }
            // Protobuf's JSON leaves out default values: a destroyed key has no keyData at all.
            let data = key["keyData"] as? [String: Any] ?? [:]
            let typeURL = data["typeUrl"] as? String ?? ""
            guard let value = data["value"] == nil ? Data() : (data["value"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let materialType = data["keyMaterialType"] == nil ? 0 : (data["keyMaterialType"] as? String).flatMap(Self.materialNames.firstIndex(of:)),
                status == .destroyed || !typeURL.isEmpty
            else { throw malformed }
            return TinkKey(
                id: try Self.uint32(key["keyId"]), status: status, prefix: prefix, typeURL: typeURL, value: value,
                materialType: UInt64(materialType), material: status == .destroyed ? .unread : try TinkKey.material(typeURL: typeURL, value: value))
        }
        try self.check()
    }

    /// The keyset as Tink's cleartext JSON.
    /// - Parameter access: ``InsecureSecretKeyAccess/token``: the output holds every secret.
    /// - Throws: ``BulwarkError/Code/internalFailure`` if the JSON cannot be written (never
    ///   silently empty: a caller saving it would lose the keyset).
    public func json(access: InsecureSecretKeyAccess) throws -> Data {
        let object: [String: Any] = [
            "primaryKeyId": Int(self.primaryID),
            "key": self.keys.map { key -> [String: Any] in
                [
                    "keyData": ["typeUrl": key.typeURL, "value": key.value.base64EncodedString(), "keyMaterialType": Self.materialNames[Int(key.materialType)]],
                    "status": key.status.name, "keyId": Int(key.id), "outputPrefixType": key.prefix.name,
                ]
            },
        ]
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw BulwarkError(.internalFailure, "the Tink keyset cannot be written as JSON")
        }
    }

    /// Reads an encrypted JSON keyset (`serialize_encrypted(handle, keyset_encryption_aead,
    /// associated_data)`): `encryptedKeyset` is the binary keyset sealed by `keyEncryptionKey`'s
    /// AEAD with `associatedData`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when the key-encryption keyset does
    ///   not open it (or the associated data differs); `invalidFormat` as ``init(json:access:)``.
    public init(encryptedJSON json: Data, keyEncryptionKey: TinkKeyset, associatedData: Data = Data()) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
            let sealed = (object["encryptedKeyset"] as? String).flatMap({ Data(base64Encoded: $0) })
        else { throw BulwarkError(.invalidFormat, "not a Tink encrypted JSON keyset") }
        var binary = try keyEncryptionKey.decrypt(sealed, associatedData: associatedData)
        defer { binary.resetBytes(in: 0..<binary.count) }
        try self.init(binary: binary)
    }

    /// The keyset encrypted by `keyEncryptionKey`'s primary AEAD key, as Tink's encrypted JSON.
    public func encryptedJSON(keyEncryptionKey: TinkKeyset, associatedData: Data = Data()) throws -> Data {
        var binary = self.binary
        defer { binary.resetBytes(in: 0..<binary.count) }
        let object: [String: Any] = [
            "encryptedKeyset": try keyEncryptionKey.encrypt(binary, associatedData: associatedData).base64EncodedString(),
            "keysetInfo": [
                "primaryKeyId": Int(self.primaryID),
                "keyInfo": self.keys.map { ["typeUrl": $0.typeURL, "status": $0.status.name, "keyId": Int($0.id), "outputPrefixType": $0.prefix.name] },
            ],
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// The binary `Keyset` message.
    var binary: Data {
        var writer = TinkProto.Writer()
        writer.varint(1, UInt64(self.primaryID))
        for key in self.keys {
            var data = TinkProto.Writer()
            data.bytes(1, Data(key.typeURL.utf8))
            data.bytes(2, key.value)
            data.varint(3, key.materialType)
            var entry = TinkProto.Writer()
            entry.bytes(1, data.data)
            entry.varint(2, key.status.rawValue)
            entry.varint(3, UInt64(key.id))
            entry.varint(4, key.prefix.rawValue)
            writer.bytes(2, entry.data)
        }
        return writer.data
    }

    /// Reads the binary `Keyset` message.
    init(binary: Data) throws {
        let message = try TinkProto.Message(parsing: binary, repeated: [2])
        guard message.varint(1) <= UInt64(UInt32.max) else { throw TinkProto.malformed }
        self.primaryID = UInt32(message.varint(1))
        self.keys = try message.repeated(2).map { entry in
            let key = try TinkProto.Message(parsing: entry)
            let data = try TinkProto.Message(parsing: key.bytes(1))
            guard let status = TinkKey.Status(rawValue: key.varint(2)), let prefix = TinkKey.Prefix(rawValue: key.varint(4)),
                key.varint(3) <= UInt64(UInt32.max), let typeURL = String(data: data.bytes(1), encoding: .utf8),
                data.varint(3) < UInt64(Self.materialNames.count)
            else { throw TinkProto.malformed }
            let value = data.bytes(2)
            return TinkKey(
                id: UInt32(key.varint(3)), status: status, prefix: prefix, typeURL: typeURL, value: value, materialType: data.varint(3),
                material: status == .destroyed ? .unread : try TinkKey.material(typeURL: typeURL, value: value))
        }
        guard !self.keys.isEmpty else { throw TinkProto.malformed }
        try self.check()
    }

    /// What Tink checks when a keyset is loaded: exactly one key with the primary id, enabled,
    /// and every key of one primitive.
    private func check() throws {
        let primaries = self.keys.filter { $0.id == self.primaryID }
        guard primaries.count == 1, primaries[0].status == .enabled else {
            throw BulwarkError(.invalidFormat, "the Tink keyset needs exactly one key with the primary id, and it must be enabled")
        }
        let primitives = Set(self.keys.compactMap { TinkKeyset.primitive(of: $0.material) })
        guard primitives.count <= 1 else { throw BulwarkError(.invalidFormat, "the Tink keyset mixes keys of several primitives") }
    }

    /// Which Tink primitive a key serves (nil: not read here).
    static func primitive(of material: TinkKey.Material) -> String? {
        switch material {
        case .aesGCM: "aead"
        case .aesSIV: "daead"
        case .hmac: "mac"
        case .ed25519, .ed25519Public, .ecdsaP256, .ecdsaP256Public: "signature"
        case .hpke, .hpkePublic: "hybrid"
        case .unread: nil
        }
    }

    static let statusNames = ["UNKNOWN_STATUS", "ENABLED", "DISABLED", "DESTROYED"]
    static let prefixNames = ["UNKNOWN_PREFIX", "TINK", "LEGACY", "RAW", "CRUNCHY"]
    static let materialNames = ["UNKNOWN_KEYMATERIAL", "SYMMETRIC", "ASYMMETRIC_PRIVATE", "ASYMMETRIC_PUBLIC", "REMOTE"]

    private static func uint32(_ value: Any?) throws -> UInt32 {
        // Protobuf's JSON writes uint32 as a number; a string is accepted too.
        if let number = value as? NSNumber, let exact = UInt32(exactly: number.doubleValue) { return exact }
        if let text = value as? String, let exact = UInt32(text) { return exact }
        throw BulwarkError(.invalidFormat, "a Tink key id is not a 32-bit unsigned number")
    }

    // MARK: - Finding keys

    /// The primary key, which must be enabled and hold material of the kind asked for.
    func primary<T>(_ kind: String, _ pick: (TinkKey.Material) -> T?) throws -> (TinkKey, T) {
        guard let key = self.keys.first(where: { $0.id == self.primaryID && $0.status == .enabled }), let value = pick(key.material) else {
            throw BulwarkError(.wrongPurpose, "the Tink keyset's primary key is not an enabled \(kind) key")
        }
        return (key, value)
    }

    /// Tries `attempt` on the payload after each enabled key's prefix (keys whose prefix the
    /// input starts with first, then RAW keys on the whole input), as Tink does.
    func firstMatch<T>(_ input: Data, _ attempt: (TinkKey, Data) -> T?) -> T? {
        if input.count >= 5 {
            let prefix = input.prefix(5)
            for key in self.keys where key.status == .enabled && key.prefix != .raw && key.outputPrefix == prefix {
                if let result = attempt(key, Data(input.dropFirst(5))) { return result }
            }
        }
        for key in self.keys where key.status == .enabled && key.prefix == .raw {
            if let result = attempt(key, input) { return result }
        }
        return nil
    }
}
