import Bulwark
import Configuration
import Foundation
import SystemPackage

/// The key service's settings: command-line flags first, then `BULWARK_*` environment variables,
/// then the JSON file given with `--config`, then defaults. Read through apple/swift-configuration,
/// so every file setting can also come from the environment (`tls.cert` is `BULWARK_TLS_CERT`).
///
/// ```json
/// {
///   "listen": "0.0.0.0:8200",
///   "storage": "sqlite:/var/lib/bulwark/bulwark.db",
///   "tls": { "cert": "/etc/bulwark/fullchain.pem", "key": "/etc/bulwark/privkey.pem", "allow_tls12": false,
///            "client_ca": "/etc/bulwark/clients-ca.pem", "client_policies": { "billing-service": ["billing"] } },
///   "master_key": { "file": "/etc/bulwark/master.key" },
///   "seal": { "id": "…the seal id operator init printed…",
///             "awskms": { "key_id": "alias/bulwark", "region": "eu-west-1", "endpoint": "https://…" } },
///   "audit": { "file": "/var/log/bulwark/audit.log", "rotation": "24h" },
///   "limits": { "max_request_bytes": 33554432, "rate_limit": 0 },
///   "retention": { "audit": "400d", "tokens": "2y" }
/// }
/// ```
struct ServerSettings {
    var listen = "127.0.0.1:8200"
    var storage: String?
    var tlsCert: String?
    var tlsKey: String?
    var allowTLS12 = false
    var auditFile: String?
    var masterKeyFile: String?
    var passphraseFile: String?
    /// The seal id `operator init` printed (`seal.id`, `BULWARK_SEAL_ID`): a Shamir store whose
    /// shares unseal another master key is refused.
    var sealID: String?
    /// The awskms seal's KMS key, region and endpoint (`seal.awskms.*`, `BULWARK_SEAL_AWSKMS_*`);
    /// credentials come from the AWS environment variables.
    var sealKMSKeyID: String?
    var sealKMSRegion: String?
    var sealKMSEndpoint: String?
    var maxRequestBytes = 32 << 20
    var rateLimit = 0
    var maxConnections = 4096
    var clientCA: String?
    var clientPolicies: [String: [String]] = [:]
    var retention: [String: String] = [:]
    var auditRotation: String?

    /// Every key a configuration file may hold; anything else is refused (a typo must not pass).
    static let knownKeys: Set<String> = [
        "listen", "storage", "tls.cert", "tls.key", "tls.allow_tls12", "master_key.file", "master_key.passphrase_file",
        "audit.file", "limits.max_request_bytes", "limits.rate_limit", "limits.max_connections", "tls.client_ca", "tls.client_policies",
        "retention.audit", "retention.tokens", "audit.rotation", "seal.id",
        "seal.awskms.key_id", "seal.awskms.region", "seal.awskms.endpoint",
    ]

    /// The file's shape, for strict type checks.
    private struct FileShape: Decodable {
        struct TLS: Decodable {
            var cert: String?
            var key: String?
            var allow_tls12: Bool?
            var client_ca: String?
            var client_policies: [String: [String]]?
        }
        struct MasterKey: Decodable {
            var file: String?
            var passphrase_file: String?
        }
        struct Seal: Decodable {
            struct AWSKMS: Decodable {
                var key_id: String?
                var region: String?
                var endpoint: String?
            }
            var id: String?
            var awskms: AWSKMS?
        }
        struct Audit: Decodable {
            var file: String?
            var rotation: String?
        }
        struct Retention: Decodable {
            var audit: String?
            var tokens: String?
        }
        struct Limits: Decodable {
            var max_request_bytes: Int?
            var rate_limit: Int?
            var max_connections: Int?
        }
        var listen: String?
        var storage: String?
        var tls: TLS?
        var master_key: MasterKey?
        var seal: Seal?
        var audit: Audit?
        var limits: Limits?
        var retention: Retention?
    }

    /// Resolves settings from the environment and, when given, a JSON file.
    static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> ServerSettings {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: ["bulwark"])
        ]
        if let file {
            try Self.checkKeys(file: file)
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
            } catch {
                throw BulwarkError(.invalidArgument, "cannot read the configuration file \(file): \(error)")
            }
        }
        let config = ConfigReader(providers: providers)
        var settings = ServerSettings()
        settings.listen = config.string(forKey: "listen", default: settings.listen)
        settings.storage = config.string(forKey: "storage")
        settings.tlsCert = config.string(forKey: "tls.cert")
        settings.tlsKey = config.string(forKey: "tls.key")
        settings.allowTLS12 = config.bool(forKey: "tls.allow_tls12", default: false)
        settings.auditFile = config.string(forKey: "audit.file")
        settings.masterKeyFile = config.string(forKey: "master_key.file")
        settings.passphraseFile = config.string(forKey: "master_key.passphrase_file")
        settings.sealID = config.string(forKey: "seal.id")
        settings.sealKMSKeyID = config.string(forKey: "seal.awskms.key_id")
        settings.sealKMSRegion = config.string(forKey: "seal.awskms.region")
        settings.sealKMSEndpoint = config.string(forKey: "seal.awskms.endpoint")
        settings.maxRequestBytes = config.int(forKey: "limits.max_request_bytes", default: settings.maxRequestBytes)
        settings.rateLimit = config.int(forKey: "limits.rate_limit", default: 0)
        settings.maxConnections = config.int(forKey: "limits.max_connections", default: settings.maxConnections)
        settings.clientCA = config.string(forKey: "tls.client_ca")
        settings.auditRotation = config.string(forKey: "audit.rotation")
        for name in ["audit", "tokens"] {
            if let period = config.string(forKey: ConfigKey("retention." + name)) { settings.retention[name] = period }
        }
        if let file, let data = FileManager.default.contents(atPath: file),
            let shape = try? JSONDecoder().decode(FileShape.self, from: data)
        {
            settings.clientPolicies = shape.tls?.client_policies ?? [:]
        }
        guard settings.maxRequestBytes >= 1024, settings.rateLimit >= 0, settings.maxConnections >= 1 else {
            throw BulwarkError(
                .invalidArgument, "limits.max_request_bytes must be at least 1024, limits.rate_limit not negative, limits.max_connections at least 1")
        }
        return settings
    }

    /// Refuses a file that is not a JSON object of known keys.
    static func checkKeys(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw BulwarkError(.ioFailure, "cannot read the configuration file \(file)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BulwarkError(.invalidArgument, "the configuration file \(file) is not a JSON object")
        }
        func walk(_ object: [String: Any], _ prefix: String) throws {
            for (key, value) in object {
                let path = prefix.isEmpty ? key : prefix + "." + key
                if let nested = value as? [String: Any], !Self.knownKeys.contains(path) {
                    try walk(nested, path)
                    continue
                }
                guard Self.knownKeys.contains(path) else {
                    throw BulwarkError(.invalidArgument, "unknown setting \"\(path)\" in \(file)")
                }
            }
        }
        try walk(object, "")
        // Types are checked by decoding strictly (a quoted number or a 1 for true is refused).
        do {
            _ = try JSONDecoder().decode(FileShape.self, from: data)
        } catch let DecodingError.typeMismatch(type, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw BulwarkError(.invalidArgument, "setting \"\(path)\" in \(file) must be a \(type == Int.self ? "number" : type == Bool.self ? "true or false" : "string")")
        } catch {
            throw BulwarkError(.invalidArgument, "the configuration file \(file) is malformed")
        }
    }
}
