import Bulwark
public import BulwarkKeystore
import Crypto
public import Foundation
import Synchronization

/// The Vault Transit engine's operations over Bulwark keysets, independent of HTTP.
///
/// Requests and responses are Vault's JSON objects (`[String: Any]` from `JSONSerialization`);
/// ciphertexts are `vault:v<version>:<base64>` whose payload is a Bulwark field envelope (which
/// also names the key id and version), so Vault clients carry them unchanged. Keys live in the
/// sealed keystore; changes are written through it, reads come from an in-memory copy.
public final class TransitBackend: Sendable {
    let keystore: FileKeystore
    private let cache: Mutex<KeystoreContents>

    /// - Parameter keystore: Where keys are kept.
    public init(keystore: FileKeystore) throws {
        self.keystore = keystore
        self.cache = Mutex(try keystore.load())
    }

    static let vaultTypes: [String: KeyType] = [
        "aes256-gcm96": .aes256GCM, "chacha20-poly1305": .chacha20Poly1305, "hmac": .hmacSHA256,
        "ed25519": .ed25519, "ecdsa-p256": .ecdsaP256,
    ]

    static func vaultType(_ type: KeyType) -> String {
        switch type {
        case .aes256GCM: return "aes256-gcm96"
        case .chacha20Poly1305: return "chacha20-poly1305"
        case .aes256SIV: return "aes256-siv"
        case .hmacSHA256, .hmacSHA512: return "hmac"
        case .ed25519: return "ed25519"
        case .ecdsaP256: return "ecdsa-p256"
        }
    }

    func key(_ name: String) throws -> Keyset {
        guard let key = self.cache.withLock({ $0.keysets[name] }) else {
            throw TransitError.badRequest("encryption key not found")
        }
        return key
    }

    func mutate<R>(_ body: (inout KeystoreContents) throws -> R) throws -> R {
        let (result, contents) = try self.keystore.update { contents -> (R, KeystoreContents) in
            let result = try body(&contents)
            return (result, contents)
        }
        var saved = contents
        saved.generation += 1
        self.cache.withLock { $0 = saved }
        return result
    }

    /// The audit log's HMAC key: a `mac` keyset named `bulwark.audit`, made on first use.
    func auditKey() throws -> SymmetricKey {
        let name = "bulwark.audit"
        var keyset = try? self.key(name)
        if keyset == nil {
            keyset = try self.mutate { contents -> Keyset in
                if let existing = contents.keysets[name] { return existing }
                let made = try Keyset.generate(name: name, type: .hmacSHA256)
                contents.keysets[name] = made
                return made
            }
        }
        guard let keyset else { throw BulwarkError(.unknownKey, "no audit key") }
        // Derived, so the keyset's own bytes never leave it.
        let probe = try keyset.authenticate(Array("bulwark audit hmac key v1".utf8))
        return SymmetricKey(data: SHA256.hash(data: probe))
    }

    /// Rotates every key whose rotation period has passed (Vault's `auto_rotate_period`).
    /// - Returns: The names rotated.
    @discardableResult
    public func rotateDueKeys(now: Date = Date()) throws -> [String] {
        let due = self.cache.withLock { contents in
            contents.keysets.values.filter { $0.isRotationDue(now: now) && !$0.isShredded }.map(\.name).sorted()
        }
        guard !due.isEmpty else { return [] }
        return try self.mutate { contents in
            var rotated: [String] = []
            for name in due {
                guard var key = contents.keysets[name], key.isRotationDue(now: now) else { continue }
                try key.rotate(now: now)
                contents.keysets[name] = key
                rotated.append(name)
            }
            return rotated
        }
    }

    // MARK: keys

    /// `POST transit/keys/:name`.
    public func createKey(_ name: String, _ body: [String: Any]) throws {
        let typeName = body["type"] as? String ?? "aes256-gcm96"
        guard let type = Self.vaultTypes[typeName] else {
            throw TransitError.badRequest("unsupported key type \(typeName)")
        }
        let exportable = body["exportable"] as? Bool ?? false
        let period = try Self.duration(body["auto_rotate_period"])
        try self.mutate { contents in
            if let existing = contents.keysets[name] {
                guard existing.type == type else { throw TransitError.badRequest("key \(name) exists with another type") }
                return
            }
            do {
                contents.keysets[name] = try Keyset.generate(name: name, type: type, exportable: exportable, rotationPeriod: period)
            } catch let error as BulwarkError {
                throw TransitError.badRequest(error.message)
            }
        }
    }

    /// `GET transit/keys/:name`.
    public func readKey(_ name: String) throws -> [String: Any] {
        let key = try self.key(name)
        var versions: [String: Any] = [:]
        for info in key.versionInfo where info.status != .destroyed {
            versions[String(info.version)] = Int(info.createdAt.timeIntervalSince1970)
        }
        return [
            "name": key.name, "type": Self.vaultType(key.type), "keys": versions,
            "latest_version": Int(key.latestVersion), "min_decryption_version": Int(key.minimumDecryptionVersion),
            "min_encryption_version": 0, "deletion_allowed": key.deletionAllowed, "exportable": key.isExportable,
            "supports_encryption": key.purpose == .encryption, "supports_decryption": key.purpose == .encryption,
            "supports_derivation": false, "supports_signing": key.purpose == .signing, "derived": false,
            "auto_rotate_period": Int(key.rotationPeriod?.components.seconds ?? 0),
        ]
    }

    /// `LIST transit/keys`.
    public func listKeys() -> [String: Any] {
        ["keys": self.cache.withLock { $0.keysets.keys.sorted() }]
    }

    /// `POST transit/keys/:name/config`.
    public func configureKey(_ name: String, _ body: [String: Any]) throws {
        _ = try self.key(name)
        try self.mutate { contents in
            guard var key = contents.keysets[name] else { throw TransitError.badRequest("encryption key not found") }
            do {
                if let version = Self.integer(body["min_decryption_version"]) {
                    try key.setMinimumDecryptionVersion(UInt32(clamping: max(1, version)))
                }
                if let allowed = body["deletion_allowed"] as? Bool { key.setDeletionAllowed(allowed) }
                if body["auto_rotate_period"] != nil {
                    try key.setRotationPeriod(try Self.duration(body["auto_rotate_period"]))
                }
            } catch let error as BulwarkError {
                throw TransitError.badRequest(error.message)
            }
            contents.keysets[name] = key
        }
    }

    /// `POST transit/keys/:name/rotate`.
    public func rotateKey(_ name: String) throws {
        _ = try self.key(name)
        try self.mutate { contents in
            guard var key = contents.keysets[name] else { throw TransitError.badRequest("encryption key not found") }
            try key.rotate()
            contents.keysets[name] = key
        }
    }

    /// `DELETE transit/keys/:name`: only after `deletion_allowed`.
    public func deleteKey(_ name: String) throws {
        let key = try self.key(name)
        guard key.deletionAllowed else {
            throw TransitError.badRequest("deletion is not allowed for this key")
        }
        try self.mutate { contents in contents.keysets[name] = nil }
    }

    // MARK: helpers

    static func integer(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let text = value as? String { return Int(text) }
        if let number = value as? NSNumber { return number.intValue }
        return nil
    }

    /// Vault durations: seconds as a number, or `"24h"`, `"30m"`, `"90s"`, `"7d"`; 0 turns it off.
    static func duration(_ value: Any?) throws -> Duration? {
        guard let value else { return nil }
        if let seconds = integer(value), !(value is String && !(value as? String ?? "").allSatisfy(\.isNumber)) {
            return seconds == 0 ? nil : .seconds(seconds)
        }
        guard let text = value as? String, let unit = text.last, let count = Int(text.dropLast()) else {
            throw TransitError.badRequest("invalid duration")
        }
        let multiplier: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let factor = multiplier[unit] else { throw TransitError.badRequest("invalid duration") }
        return count == 0 ? nil : .seconds(count * factor)
    }

    static func base64(_ value: Any?, _ field: String, required: Bool = true) throws -> Data? {
        guard let text = value as? String else {
            if required { throw TransitError.badRequest("missing \(field)") }
            return nil
        }
        guard let data = Data(base64Encoded: text) else {
            throw TransitError.badRequest("\(field) is not valid base64")
        }
        return data
    }

    static func vaultString(version: UInt32, _ payload: Data) -> String {
        "vault:v\(version):" + payload.base64EncodedString()
    }

    static func parseVault(_ text: String) throws -> (UInt32, Data) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "vault", parts[1].hasPrefix("v"), let version = UInt32(parts[1].dropFirst()),
            let payload = Data(base64Encoded: String(parts[2]))
        else {
            throw TransitError.badRequest("invalid ciphertext: no prefix")
        }
        return (version, payload)
    }

    static func clientError(_ error: any Error) -> TransitError {
        if let transit = error as? TransitError { return transit }
        if let bulwark = error as? BulwarkError {
            switch bulwark.code {
            case .authenticationFailed, .wrongContext: return .badRequest("cipher: message authentication failed")
            case .keyVersionBelowMinimum, .keyVersionDisabled, .keyVersionDestroyed, .unknownKeyVersion, .unknownKey:
                return .badRequest("invalid key version: \(bulwark.message)")
            case .wrongPurpose: return .badRequest("\(bulwark.message)")
            default: return .badRequest(bulwark.message)
            }
        }
        return .badRequest("invalid request")
    }
}
