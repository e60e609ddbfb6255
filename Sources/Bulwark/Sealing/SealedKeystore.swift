import Crypto
public import Foundation

/// The contents of a keystore: its keys, by name, and a save counter.
public struct KeystoreContents: Sendable {
    /// The keys by name.
    public var keysets: [String: Keyset]
    /// How many times the keystore has been saved.
    public var generation: UInt64
    /// Other sealed state by name (for example the key service's tokens and policies), sealed
    /// under the master key with the keys.
    public var documents: [String: Data]

    /// Creates contents.
    public init(keysets: [String: Keyset] = [:], generation: UInt64 = 0, documents: [String: Data] = [:]) {
        self.keysets = keysets
        self.generation = generation
        self.documents = documents
    }

    /// Finds the key that made an envelope or stream, by the key id it carries.
    /// - Throws: ``BulwarkError/Code/unknownKey``.
    public func keyset(withID id: UInt32) throws -> Keyset {
        guard let found = self.keysets.values.first(where: { $0.id == id }) else {
            throw BulwarkError(.unknownKey, "no key with id \(id) is in this keystore")
        }
        return found
    }
}

/// The sealed keystore format: every key encrypted under a key derived from the master key.
///
/// ```
/// "BWKS" | 0x01 | kdf id (1) | kdf parameter length (2) | kdf parameters
///        | key check (16) | nonce (12) | AES-256-GCM(JSON of the keys) | tag (16)
/// ```
/// Everything before the nonce is associated data. The key check (HKDF of the master key)
/// tells a wrong master key from a damaged file. See `docs/FORMAT.md`.
public enum SealedKeystore {
    static let magic: [UInt8] = Array("BWKS".utf8)
    static let formatVersion: UInt8 = 0x01

    /// The parts of a sealed keystore readable without the master key.
    public struct Header: Sendable {
        /// The passphrase KDF recorded in the file, or nil for a raw master key.
        public let kdf: PassphraseKDF?
        let checkValue: [UInt8]
        let length: Int

        /// Parses the header of a sealed keystore.
        /// - Throws: ``BulwarkError/Code/keystoreCorrupted`` when it is not one.
        public init<Bytes: DataProtocol>(parsing data: Bytes) throws {
            let raw = Array(data.prefix(512))
            guard raw.count >= 8, Array(raw[0..<4]) == SealedKeystore.magic else {
                throw BulwarkError(.keystoreCorrupted, "the file is not a Bulwark keystore")
            }
            guard raw[4] == SealedKeystore.formatVersion else {
                throw BulwarkError(.keystoreCorrupted, "the keystore has an unknown format version \(raw[4])")
            }
            let parameterLength = Int(raw.readBigEndianUInt16(at: 6))
            let end = 8 + parameterLength + 16
            guard raw.count >= end + 12 + 16 else {
                throw BulwarkError(.keystoreCorrupted, "the keystore file is truncated")
            }
            self.kdf = try PassphraseKDF.parse(identifier: raw[5], parameters: Array(raw[8..<(8 + parameterLength)]))
            self.checkValue = Array(raw[(8 + parameterLength)..<end])
            self.length = end
        }
    }

    static func checkValue(_ masterKey: MasterKey) -> [UInt8] {
        masterKey.derived("bulwark keystore check v1", count: 16).withUnsafeBytes { Array($0) }
    }

    /// Seals `contents` under `masterKey`.
    /// - Parameters:
    ///   - contents: The keys.
    ///   - masterKey: The master key.
    ///   - kdf: The passphrase KDF that produced `masterKey`, recorded for the next opening.
    /// - Returns: The file's bytes.
    public static func seal(_ contents: KeystoreContents, masterKey: MasterKey, kdf: PassphraseKDF?) throws -> Data {
        let records = contents.keysets.keys.sorted().compactMap { contents.keysets[$0].map(KeysetRecord.init) }
        let payload = try JSONEncoder().encode(Payload(
            generation: contents.generation, keys: records,
            documents: contents.documents.isEmpty ? nil : contents.documents.mapValues { $0.base64EncodedString() }))
        var header = Self.magic + [Self.formatVersion, kdf?.identifier ?? 0]
        let parameters = kdf?.parameterBytes ?? []
        header.appendBigEndian(UInt16(parameters.count))
        header += parameters
        header += Self.checkValue(masterKey)
        let box = try AES.GCM.seal(payload, using: masterKey.derived("bulwark keystore seal v1"), authenticating: header)
        guard let combined = box.combined else {
            throw BulwarkError(.invalidArgument, "AES-GCM did not produce a combined box")
        }
        return Data(header) + combined
    }

    /// Opens a sealed keystore.
    /// - Throws: ``BulwarkError/Code/wrongMasterKey`` or ``BulwarkError/Code/keystoreCorrupted``.
    public static func open<Bytes: DataProtocol>(_ data: Bytes, masterKey: MasterKey) throws -> KeystoreContents {
        let raw = Data(data)
        let header = try Header(parsing: raw)
        guard constantTimeEquals(header.checkValue, Self.checkValue(masterKey)) else {
            throw BulwarkError(.wrongMasterKey, "the master key does not open this keystore")
        }
        let payload: Data
        do {
            let box = try AES.GCM.SealedBox(combined: raw[header.length...])
            payload = try AES.GCM.open(box, using: masterKey.derived("bulwark keystore seal v1"), authenticating: raw[..<header.length])
        } catch {
            throw BulwarkError(.keystoreCorrupted, "the keystore is damaged or truncated (authentication failed)")
        }
        let decoded: Payload
        do {
            decoded = try JSONDecoder().decode(Payload.self, from: payload)
        } catch {
            throw BulwarkError(.keystoreCorrupted, "the keystore's contents are malformed")
        }
        var keysets: [String: Keyset] = [:]
        for record in decoded.keys {
            keysets[record.name] = try record.keyset()
        }
        var documents: [String: Data] = [:]
        for (name, text) in decoded.documents ?? [:] {
            guard let data = Data(base64Encoded: text) else {
                throw BulwarkError(.keystoreCorrupted, "the keystore's document '\(name)' is malformed")
            }
            documents[name] = data
        }
        return KeystoreContents(keysets: keysets, generation: decoded.generation, documents: documents)
    }

    private struct Payload: Codable {
        var generation: UInt64
        var keys: [KeysetRecord]
        var documents: [String: String]?
    }
}
