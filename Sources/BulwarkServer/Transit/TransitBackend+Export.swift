import Bulwark
import Crypto
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
        guard ["encryption-key", "signing-key", "hmac-key"].contains(exportType) else {
            throw BulwarkError(.invalidArgument, "invalid export type (encryption-key, signing-key or hmac-key)")
        }
        switch exportType {
        case "encryption-key" where ![KeyPurpose.encryption, .deterministicEncryption, .hybridEncryption].contains(key.purpose):
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
    /// base64(seed ‖ public key) (Ed25519) and a SEC1 `EC PRIVATE KEY` PEM (ECDSA P-256).
    private static func exported(_ key: Keyset, type exportType: String, version: UInt32) throws -> String {
        if exportType == "hmac-key" {
            return try key.exportHMACKey(version: version, access: .token).base64EncodedString()
        }
        let raw = try key.exportRawKeyMaterial(version: version, access: .token)
        guard exportType == "signing-key" else { return raw.base64EncodedString() }
        switch key.type {
        case .ed25519:
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            return (raw + privateKey.publicKey.rawRepresentation).base64EncodedString()
        default:
            let privateKey = try P256.Signing.PrivateKey(rawRepresentation: raw)
            return Self.sec1PEM(scalar: raw, publicPoint: privateKey.publicKey.x963Representation)
        }
    }

    /// RFC 5915's ECPrivateKey for a P-256 key, PEM-armoured as `EC PRIVATE KEY` (what Vault
    /// exports): SEQUENCE { version 1, OCTET STRING scalar, [0] prime256v1, [1] BIT STRING point }.
    static func sec1PEM(scalar: Data, publicPoint: Data) -> String {
        var der: [UInt8] = [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]
        der += scalar
        der += [0xA0, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        der += [0xA1, 0x44, 0x03, 0x42, 0x00]
        der += publicPoint
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN EC PRIVATE KEY-----\n" + body + "\n-----END EC PRIVATE KEY-----"
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
