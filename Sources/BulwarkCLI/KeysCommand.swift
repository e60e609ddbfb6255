public import ArgumentParser
public import Bulwark
import BulwarkKeystore
import Foundation

extension KeyType: ExpressibleByArgument {}

/// `bulwark keys …`: create, list, show, rotate, configure and retire keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage keys and their versions.",
        subcommands: [
            Create.self, List.self, Show.self, PublicKey.self, Rotate.self, Config.self, Disable.self, Enable.self, Destroy.self,
        ]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key with one version.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's name.") var name: String
        @Option(
            help: "aes256-gcm (default), chacha20-poly1305, aes256-siv, hmac-sha256, hmac-sha512, ed25519, ecdsa-p256, ecdsa-p384, ecdsa-p521, ml-dsa-65, ml-dsa-87, rsa-2048, rsa-3072, rsa-4096; hpke-x25519, hpke-p256, hpke-xwing and their -chacha20-poly1305 variants (public-key encryption); age-x25519 (age files).")
        var type: KeyType = .aes256GCM
        @Flag(help: "Allow raw key export through the library's explicit access token.") var exportable = false
        @Option(name: .customLong("rotation-period"), help: "Rotation due after this long, e.g. 90d, 12h, 4w.")
        var rotationPeriod: String?

        func run() throws {
            try reportingErrors {
                let period = try self.rotationPeriod.map(parsePeriod)
                let keyset = try self.store.keystore().update { contents -> Keyset in
                    guard contents.keysets[self.name] == nil else {
                        throw BulwarkError(.keyExists, "a key named '\(self.name)' already exists")
                    }
                    let created = try Keyset.generate(name: self.name, type: self.type, exportable: self.exportable, rotationPeriod: period)
                    contents.keysets[self.name] = created
                    return created
                }
                print("created key '\(keyset.name)' (\(keyset.type), \(keyset.purpose)), version 1")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, with rotation due where a period is set.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object a line.") var json = false

        func run() throws {
            try reportingErrors {
                let contents = try self.store.keystore().load()
                let now = Date()
                if !self.json {
                    print(pad("NAME", 24) + pad("TYPE", 19) + pad("PRIMARY", 9) + pad("VERSIONS", 10) + pad("MIN-DECRYPT", 13) + "ROTATION")
                }
                for name in contents.keysets.keys.sorted() {
                    guard let key = contents.keysets[name] else { continue }
                    let due = key.isRotationDue(now: now)
                    let rotation = key.rotationPeriod.map { formatPeriod($0) + (due ? " (rotation due)" : "") } ?? "-"
                    if self.json {
                        print(jsonLine([
                            "name": key.name, "type": key.type.rawValue, "purpose": key.purpose.rawValue,
                            "primary_version": Int(key.primaryVersion), "latest_version": Int(key.latestVersion),
                            "min_decryption_version": Int(key.minimumDecryptionVersion),
                            "rotation_period_seconds": key.rotationPeriod.map { Int($0.components.seconds) } as Any,
                            "rotation_due": due,
                        ]))
                    } else {
                        print(pad(key.name, 24) + pad(key.type.rawValue, 19) + pad("v\(key.primaryVersion)", 9)
                            + pad("\(key.latestVersion)", 10) + pad("v\(key.minimumDecryptionVersion)", 13) + rotation)
                    }
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a key's settings and versions (never its bytes).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() throws {
            try reportingErrors {
                let key = try lookUp(self.name, in: try self.store.keystore().load())
                let formatter = ISO8601DateFormatter()
                print("name:                   \(key.name)")
                print("id:                     \(key.id)")
                print("type:                   \(key.type)")
                print("purpose:                \(key.purpose)")
                print("exportable:             \(key.isExportable)")
                print("created:                \(formatter.string(from: key.createdAt))")
                print("primary version:        \(key.primaryVersion)")
                print("min decryption version: \(key.minimumDecryptionVersion)")
                let rotation = key.rotationPeriod.map { formatPeriod($0) + (key.isRotationDue() ? " (rotation due)" : "") } ?? "none"
                print("rotation period:        \(rotation)")
                print("versions:")
                for info in key.versionInfo {
                    let primary = info.version == key.primaryVersion ? " (primary)" : ""
                    print("  v\(info.version)  \(pad(info.status.rawValue, 10)) created \(formatter.string(from: info.createdAt))\(primary)")
                }
            }
        }
    }

    struct PublicKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "public-key",
            abstract: "Print the public key of a hybrid-encryption key (hpke-*) for senders ('bulwark encrypt --public-key FILE'), or an age-x25519 key's age1… recipient ('age -r', 'bulwark encrypt --recipient').",
            discussion: "Public keys are not secret. The primary version's by default; after a rotation, hand out the new one.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(help: "The version (default: the primary).") var version: UInt32?

        func run() throws {
            try reportingErrors {
                let key = try lookUp(self.name, in: try self.store.keystore().load())
                if key.type == .ageX25519 {
                    print(try key.ageRecipient(version: self.version).text)
                } else {
                    print(try key.hybridPublicKey(version: self.version).text)
                }
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a new primary version; old ones still decrypt.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() throws {
            try reportingErrors {
                let version = try self.store.keystore().update { contents -> UInt32 in
                    var key = try lookUp(self.name, in: contents)
                    try key.rotate()
                    contents.keysets[self.name] = key
                    return key.primaryVersion
                }
                print("rotated '\(self.name)': primary version is now \(version)")
            }
        }
    }

    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the minimum decryption version or the rotation period.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(name: .customLong("min-decryption-version")) var minDecryptionVersion: UInt32?
        @Option(name: .customLong("rotation-period"), help: "e.g. 90d, or 'none'.") var rotationPeriod: String?

        func run() throws {
            try reportingErrors {
                guard self.minDecryptionVersion != nil || self.rotationPeriod != nil else {
                    throw BulwarkError(.invalidArgument, "nothing to change: give --min-decryption-version or --rotation-period")
                }
                try self.store.keystore().update { contents in
                    var key = try lookUp(self.name, in: contents)
                    if let version = self.minDecryptionVersion { try key.setMinimumDecryptionVersion(version) }
                    if let period = self.rotationPeriod {
                        try key.setRotationPeriod(period == "none" ? nil : try parsePeriod(period))
                    }
                    contents.keysets[self.name] = key
                }
                print("updated '\(self.name)'")
            }
        }
    }

    struct VersionOptions: ParsableArguments {
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(help: "The version number.") var version: UInt32

        func change(_ action: String, _ body: @escaping (inout Keyset, UInt32) throws -> Void) throws {
            try reportingErrors {
                try self.store.keystore().update { contents in
                    var key = try lookUp(self.name, in: contents)
                    try body(&key, self.version)
                    contents.keysets[self.name] = key
                }
                print("\(action) version \(self.version) of '\(self.name)'")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse a version for every operation until enabled.")
        @OptionGroup var options: VersionOptions
        func run() throws { try self.options.change("disabled") { try $0.disable(version: $1) } }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled version.")
        @OptionGroup var options: VersionOptions
        func run() throws { try self.options.change("enabled") { try $0.enable(version: $1) } }
    }

    struct Destroy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a version's key bytes: data under it is gone for good.")
        @OptionGroup var options: VersionOptions
        func run() throws { try self.options.change("destroyed") { try $0.destroy(version: $1) } }
    }
}

func lookUp(_ name: String, in contents: KeystoreContents) throws -> Keyset {
    guard let key = contents.keysets[name] else {
        throw BulwarkError(.unknownKey, "no key named '\(name)'")
    }
    return key
}

func parsePeriod(_ text: String) throws -> Duration {
    let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
    guard let unit = text.last, let multiplier = units[unit], let count = Int64(text.dropLast()), count > 0,
        count <= Int64.max / multiplier
    else {
        throw BulwarkError(.invalidArgument, "a period looks like 90d, 12h or 4w")
    }
    return .seconds(count * multiplier)
}

func formatPeriod(_ period: Duration) -> String {
    let seconds = period.components.seconds
    if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
    if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
    return "\(seconds)s"
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func jsonLine(_ object: [String: Any]) -> String {
    let cleaned = object.mapValues { value -> Any in
        if case Optional<Any>.none = value { return NSNull() }
        return value
    }
    guard let data = try? JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
