import Bulwark
import Crypto
import CryptoExtras
import Foundation

extension TransitBackend {
    /// `GET transit/export/:type/:name[/:version]`: an exportable key's secrets, as Vault's
    /// `path_export.go` gives them (`type` is `encryption-key`, `signing-key` or `hmac-key`;
    /// `version` a plain decimal number or `latest`; without one, every version that still
    /// decrypts). A version below `min_decryption_version`, disabled or destroyed is refused.
    /// A derived HMAC key (every type but `hmac`) follows from the version's key: exporting the
    /// `encryption-key` or `signing-key` gives it too.
    ///
    /// Only keys created with `exportable: true` answer (a key cannot become exportable later).
    /// The answer's key strings are hashed in the audit log, as every string is by default.
    /// - Throws: `invalidArgument` for another export type, a key type that has no such key
    ///   (`signing-key` of an AES key), a version that is not usable; `notExportable`.
    public func exportKey(_ name: String, type exportType: String, version: String?) throws -> ExportAnswer {
        // A key that does not exist is 404 here, as in Vault (as for a key read).
        guard let key = self.existingKey(name) else { throw BulwarkError(.notFound, "key not found") }
        guard !key.isSoftDeleted else { throw Self.softDeleted }
        guard ["encryption-key", "signing-key", "hmac-key"].contains(exportType) else {
            throw BulwarkError(.invalidArgument, "invalid export type (encryption-key, signing-key or hmac-key)")
        }
        switch exportType {
        case "encryption-key" where ![KeyPurpose.encryption, .deterministicEncryption, .hybridEncryption].contains(key.purpose) && !Self.isRSA(key.type):
            throw BulwarkError(.invalidArgument, "encryption not supported for the key")
        case "signing-key" where key.purpose != .signing:
            throw BulwarkError(.invalidArgument, "signing not supported for the key")
        default:
            break
        }
        guard key.isExportable else { throw BulwarkError(.notExportable, "private key material is not exportable") }
        let versions: [UInt32]
        switch version {
        case nil:
            versions = key.versionInfo.filter { $0.status == .enabled && $0.version >= key.minimumDecryptionVersion }.map(\.version)
        case "latest"?:
            versions = [key.latestVersion]
        case let text?:
            // One spelling per version: plain decimal, no sign and no leading zero.
            guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), text.first != "0",
                let number = UInt32(text)
            else { throw BulwarkError(.invalidArgument, "version must be a number or latest") }
            // Retired versions stay retired: their secrets would decrypt what the service no longer does.
            if number < key.minimumDecryptionVersion {
                throw BulwarkError(.invalidArgument, "version for export is below the minimum decryption version")
            }
            versions = [number]
        }
        var keys: [String: String] = [:]
        for number in versions {
            keys[String(number)] = try Self.exported(key, type: exportType, version: number)
        }
        return ExportAnswer(name: key.name, type: Self.vaultType(key.type), keys: keys)
    }

    /// One version's secret in Vault's text form: base64 of the raw key, or for signing keys
    /// base64(seed ‖ public key) (Ed25519), a SEC1 `EC PRIVATE KEY` PEM (ECDSA) and base64 of
    /// the seed (ML-DSA).
    private static func exported(_ key: Keyset, type exportType: String, version: UInt32) throws -> String {
        if exportType == "hmac-key" {
            return try key.exportHMACKey(version: version, access: .token).base64EncodedString()
        }
        let raw = try key.exportRawKeyMaterial(version: version, access: .token)
        if Self.isRSA(key.type) {
            // PKCS#1 `RSA PRIVATE KEY`, for both export types (Vault's form).
            return try _RSA.Signing.PrivateKey(derRepresentation: raw).pemRepresentation
        }
        guard exportType == "signing-key" else { return raw.base64EncodedString() }
        switch key.type {
        case .ed25519:
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            return (raw + privateKey.publicKey.rawRepresentation).base64EncodedString()
        case .ecdsaP256:
            let point = try P256.Signing.PrivateKey(rawRepresentation: raw).publicKey.x963Representation
            return KeyPEM.ecPrivateKey(scalar: raw, publicPoint: point, curve: KeyPEM.p256)
        case .ecdsaP384:
            let point = try P384.Signing.PrivateKey(rawRepresentation: raw).publicKey.x963Representation
            return KeyPEM.ecPrivateKey(scalar: raw, publicPoint: point, curve: KeyPEM.p384)
        case .ecdsaP521:
            let point = try P521.Signing.PrivateKey(rawRepresentation: raw).publicKey.x963Representation
            return KeyPEM.ecPrivateKey(scalar: raw, publicPoint: point, curve: KeyPEM.p521)
        case .mlDSA65, .mlDSA87:
            // The 32-byte seed (FIPS 204's ξ), base64.
            return raw.base64EncodedString()
        default:
            throw BulwarkError(.invalidArgument, "signing not supported for the key")
        }
    }

    /// `GET transit/export/…`: the key's name and type and each version's secret.
    public struct ExportAnswer: Encodable, Sendable, Equatable {
        /// The key's name.
        public let name: String
        /// The Vault key type.
        public let type: String
        /// Each exported version's secret, by number.
        public let keys: [String: String]
    }
}
