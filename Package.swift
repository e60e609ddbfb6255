// swift-tools-version:6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A libFuzzer harness: `Fuzz/<name>/`, built by scripts/fuzz.sh with `--sanitize=fuzzer`; a normal
/// build makes it a tool that replays corpus files through the same function.
func fuzzHarness(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, path: "Fuzz/\(name)", swiftSettings: strictSettings)
}

let package = Package(
    name: "Bulwark",
    platforms: [.macOS(.v15)],
    products: [
        /// Core cryptography and formats: AEADs, envelopes, keysets, streams, Fernet. No I/O.
        .library(name: "Bulwark", targets: ["Bulwark"]),
        /// The sealed, file-backed keystore and master-key sources.
        .library(name: "BulwarkKeystore", targets: ["BulwarkKeystore"]),
        /// Log scrubbing (a swift-log handler), pseudonyms and generalisation.
        .library(name: "BulwarkRedaction", targets: ["BulwarkRedaction"]),
        /// The key service's storage: sealed entries in SQLite (PostgreSQL next).
        .library(name: "BulwarkStorage", targets: ["BulwarkStorage"]),
        /// Clients of the key service: Transit calls and a key-encryption-key provider.
        .library(name: "BulwarkClient", targets: ["BulwarkClient"]),
        /// The key service: Vault Transit-compatible encryption as a service over TLS.
        .library(name: "BulwarkServer", targets: ["BulwarkServer"]),
        /// The operators' command line.
        .executable(name: "bulwark", targets: ["BulwarkCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBulwarkLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CBulwarkSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(
            name: "Bulwark",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                "CBulwarkLibCrypto",
            ],
            swiftSettings: strictSettings,
            // The toolchain's ICU: regular-expression matches bounded in time (BoundedRegex).
            linkerSettings: [.linkedLibrary("_FoundationICU", .when(platforms: [.linux]))]
        ),
        .target(
            name: "BulwarkKeystore",
            dependencies: [
                "Bulwark",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BulwarkRedaction",
            dependencies: [
                "Bulwark",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BulwarkStorage",
            dependencies: [
                "Bulwark", "BulwarkKeystore", "CBulwarkSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BulwarkClient",
            dependencies: [
                "Bulwark",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BulwarkServer",
            dependencies: [
                "Bulwark",
                "BulwarkKeystore",
                "BulwarkStorage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "BulwarkCLI",
            dependencies: [
                "Bulwark",
                "BulwarkKeystore",
                "BulwarkClient",
                "BulwarkRedaction",
                "BulwarkServer",
                "BulwarkStorage",
                "CBulwarkSQLite",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Examples (built with everything else, run by the tests): a Codable model with encrypted
        // and blind-indexed fields in PostgreSQL (postgres-nio) and in SQLite.
        .target(
            name: "ExampleSupport",
            dependencies: ["Bulwark", "BulwarkKeystore"],
            path: "Examples/Shared",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "postgres-patients-example",
            dependencies: [
                "Bulwark", "ExampleSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/PostgresPatients",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "sqlite-patients-example",
            dependencies: ["Bulwark", "BulwarkStorage", "ExampleSupport", "CBulwarkSQLite"],
            path: "Examples/SQLitePatients",
            swiftSettings: strictSettings
        ),
        // Fuzzing (scripts/fuzz.sh): one harness per family of parsers of outside bytes, seeds in
        // Fuzz/Corpus/<harness>/, fixed test keys in Fuzz/Corpus/fuzz-keys.bwks (FuzzSeeds makes both).
        .target(
            name: "FuzzSupport",
            dependencies: ["Bulwark"],
            path: "Fuzz/Support",
            swiftSettings: strictSettings
        ),
        .target(
            name: "FuzzServerSupport",
            dependencies: ["FuzzSupport", "Bulwark", "BulwarkKeystore", "BulwarkStorage", "BulwarkServer"],
            path: "Fuzz/ServerSupport",
            swiftSettings: strictSettings
        ),
        fuzzHarness("FuzzCiphertext", ["Bulwark", "BulwarkServer"]),
        fuzzHarness("FuzzEnvelope", ["Bulwark"]),
        fuzzHarness("FuzzStream", ["Bulwark"]),
        fuzzHarness("FuzzFernet", ["Bulwark"]),
        fuzzHarness("FuzzPasswordHash", ["Bulwark"]),
        fuzzHarness("FuzzPolicyHCL", ["BulwarkServer"]),
        fuzzHarness("FuzzRequestJSON", ["FuzzServerSupport", "BulwarkServer"]),
        fuzzHarness("FuzzRequestTarget", ["BulwarkServer"]),
        fuzzHarness("FuzzTransform", ["Bulwark"]),
        fuzzHarness("FuzzURLs", ["Bulwark", "BulwarkStorage"]),
        fuzzHarness("FuzzAge", ["Bulwark"]),
        fuzzHarness("FuzzSeeds", ["FuzzServerSupport", "Bulwark"]),
        // What several test targets share: free ports, a seeded generator, running programs.
        .target(
            name: "BulwarkTestSupport",
            dependencies: ["BulwarkStorage", "BulwarkKeystore"],
            path: "Tests/BulwarkTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkTests",
            dependencies: [
                "Bulwark",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            resources: [.copy("Vectors")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkKeystoreTests",
            dependencies: ["Bulwark", "BulwarkKeystore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkRedactionTests",
            dependencies: [
                "Bulwark", "BulwarkRedaction",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Vectors")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkServerTests",
            dependencies: [
                "Bulwark", "BulwarkServer", "BulwarkStorage", "BulwarkKeystore", "BulwarkTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkStorageTests",
            dependencies: ["Bulwark", "BulwarkKeystore", "BulwarkStorage", "CBulwarkSQLite", "BulwarkTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BulwarkClientTests",
            dependencies: [
                "Bulwark", "BulwarkClient", "BulwarkTestSupport", .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // End to end: the built `bulwark` binary (server and CLI) against real peers.
        .testTarget(
            name: "BulwarkEndToEndTests",
            dependencies: [
                "Bulwark", "BulwarkKeystore", "BulwarkStorage", "BulwarkServer", "BulwarkCLI", "BulwarkTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
