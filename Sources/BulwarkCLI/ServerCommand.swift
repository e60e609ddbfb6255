import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkServer
import BulwarkStorage
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bulwark server`: the key service (Vault Transit-compatible) over TLS.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the key service: Vault Transit-compatible encryption as a service over TLS 1.3.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Development mode: local CA and certificate, master key beside the data (not for production).")
    var dev = false
    @Option(help: "A JSON configuration file (every setting can also come from BULWARK_* variables).") var config: String?
    @Option(help: "HOST:PORT to listen on (default 127.0.0.1:8200).") var listen: String?
    @Option(name: .customLong("dev-root-token"), help: "Dev mode: use this root token instead of a random one.")
    var devRootToken: String?
    @Option(
        name: .customLong("seal-id"),
        help: "Sealed stores (Shamir, awskms): the seal id `operator init` printed; a master key with any other id is refused.")
    var sealID: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (server first).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key.") var tlsKey: String?
    @Flag(name: .customLong("allow-tls12"), inversion: .prefixedNo, help: "Also accept TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305 only).")
    var allowTLS12: Bool?
    @Option(name: .customLong("audit-file"), help: "The audit log (default: $BULWARK_HOME/audit.log).") var auditFile: String?
    @Option(help: "Where state lives: sqlite:PATH (dev default: sqlite:$BULWARK_HOME/bulwark.db) or postgres://…")
    var storage: String?
    @Option(name: .customLong("tls-client-ca"), help: "Mutual TLS: require client certificates signed by a CA in this PEM file.")
    var tlsClientCA: String?
    @Option(
        name: .customLong("tls-client-policy"),
        help: "Mutual TLS: SUBJECT=POLICY[,POLICY…] grants policies to requests without a token whose certificate has this common name or subject (repeatable).")
    var tlsClientPolicies: [String] = []
    @Option(help: "Keep a data class for a period, e.g. audit=400d or tokens=2y (repeatable).") var retention: [String] = []
    @Option(name: .customLong("audit-rotation"), help: "Close the active audit file as a segment after this long (default 24h).")
    var auditRotation: String?
    @Option(name: .customLong("rate-limit"), help: "Requests per second allowed per token (0: no limit).") var rateLimit: Int?
    @Option(name: .customLong("max-connections"), help: "The most connections open at once (default 4096); more are closed on accept.")
    var maxConnections: Int?
    @Option(
        name: .customLong("head-timeout"),
        help: "Seconds a TLS handshake, and a request head from its first byte, may take (default 10).")
    var headTimeout: Int?
    @Flag(
        name: .customLong("fast-path"), inversion: .prefixedNo,
        help: "Answer single encrypt/decrypt calls in the connection's pipeline (same checks and audit); --no-fast-path sends every call through the router, for comparison.")
    var fastPath = true

    func run() async throws {
        do {
            try await self.serve()
        } catch let error as BulwarkError {
            note("bulwark: \(error.code): \(error.message)")
            throw ExitCode(1)
        }
    }

    func serve() async throws {
        var settings = try await ServerSettings.load(file: self.config)
        if let listen = self.listen { settings.listen = listen }
        if let storage = self.storage { settings.storage = storage }
        if let cert = self.tlsCert { settings.tlsCert = cert }
        if let key = self.tlsKey { settings.tlsKey = key }
        if let allow = self.allowTLS12 { settings.allowTLS12 = allow }
        if let audit = self.auditFile { settings.auditFile = audit }
        if let limit = self.rateLimit { settings.rateLimit = limit }
        if let limit = self.maxConnections {
            guard limit >= 1 else { throw BulwarkError(.invalidArgument, "--max-connections must be at least 1") }
            settings.maxConnections = limit
        }
        if let clientCA = self.tlsClientCA { settings.clientCA = clientCA }
        for mapping in self.tlsClientPolicies {
            guard let equals = mapping.lastIndex(of: "="), equals != mapping.startIndex else {
                throw BulwarkError(.invalidArgument, "--tls-client-policy takes SUBJECT=POLICY[,POLICY…]")
            }
            settings.clientPolicies[String(mapping[..<equals])] = mapping[mapping.index(after: equals)...].split(separator: ",").map(String.init)
        }
        for pair in self.retention {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw BulwarkError(.invalidArgument, "--retention takes CLASS=PERIOD, e.g. audit=400d") }
            settings.retention[parts[0]] = parts[1]
        }
        if let rotation = self.auditRotation { settings.auditRotation = rotation }
        let retention = try RetentionPolicy(settings.retention)
        let rotation = try settings.auditRotation.map(RetentionPolicy.period) ?? .seconds(86400)
        if !settings.clientPolicies.isEmpty && settings.clientCA == nil {
            throw BulwarkError(.invalidArgument, "client certificate policies need a client CA (--tls-client-ca)")
        }
        guard let colon = settings.listen.lastIndex(of: ":"), let port = Int(settings.listen[settings.listen.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw BulwarkError(.invalidArgument, "listen takes HOST:PORT")
        }
        let host = String(settings.listen[..<colon])
        let home = self.store.home ?? FileKeystore.defaultDirectory()
        var certificate = settings.tlsCert
        var privateKey = settings.tlsKey
        var store: SealedStore?
        var sealed: (gate: SealGate, open: @Sendable (MasterKey) async throws -> SealedStore)?
        var rootToken: String?
        if self.dev {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let keyPath = home + "/dev-master.key"
            if !FileManager.default.fileExists(atPath: keyPath) {
                try POSIXFile.writeAtomically(Data(MasterKey.generate().base64EncodedString(access: .token).utf8), to: keyPath)
            }
            let masterKey = String(decoding: try POSIXFile.readAll(path: keyPath), as: UTF8.self)
            let url = try StorageURL(settings.storage ?? "sqlite:\(home)/bulwark.db")
            let opened = try await SealedStore.open(backend: try await url.openBackend(), masterKey: .base64(masterKey), dataDirectory: url.dataDirectory)
            store = opened
            if certificate == nil || privateKey == nil {
                let files = try DevCertificateAuthority.ensure(in: home)
                certificate = files.serverChain
                privateKey = files.serverKey
            }
            rootToken = try await TransitServer.initialize(store: opened, rootToken: self.devRootToken, replacing: true)
        } else {
            guard let storage = settings.storage else {
                throw BulwarkError(.invalidArgument, "outside dev mode, give --storage sqlite:PATH (initialised by `bulwark operator init`)")
            }
            let url = try StorageURL(storage)
            let backend = try await url.openBackend()
            if let seal = try await SealConfiguration.read(from: backend) {
                // A Shamir or auto-unseal seal: start sealed; the master key comes from the shares
                // or the KMS, never the configuration. A configured key with a seal record is refused: the record
                // could have been written by someone with the database, to have the server
                // unseal with their own shares instead of using the key it was given.
                if self.store.masterKeyFile != nil || settings.masterKeyFile != nil || settings.passphraseFile != nil
                    || MasterKeySource.fromEnvironment() != nil
                {
                    throw BulwarkError(
                        .invalidArgument,
                        "the store \(url) has a \(seal.kind.displayName) seal record, but a master key is configured: a store has one or the other (if this store was initialised with a master key, its seal record was not written by Bulwark)")
                }
                let sealID = self.sealID ?? settings.sealID
                if let sealID, sealID.utf8.count != 32 || !sealID.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) || (65...70).contains($0) }) {
                    throw BulwarkError(.invalidArgument, "--seal-id takes the 32 hexadecimal digits `operator init` printed")
                }
                guard sealID != nil else {
                    // Without it, someone who can write the database (or hand over a backup to
                    // restore) could put a store of their own there and unseal it with their shares.
                    throw BulwarkError(
                        .invalidArgument,
                        "a store with a \(seal.kind.displayName) seal needs its seal id: give --seal-id (or BULWARK_SEAL_ID, or seal.id) with the id `operator init` printed")
                }
                let dataDirectory = url.dataDirectory
                let wrapper: (any SealKeyWrapper)? =
                    seal.kind == .awskms
                    ? try AWSKMSSeal.configured(
                        keyID: settings.sealKMSKeyID, region: settings.sealKMSRegion, endpoint: settings.sealKMSEndpoint, recorded: seal.wrappingKeyID)
                    : nil
                sealed = (SealGate(configuration: seal, expectedSealID: sealID, backend: backend, wrapper: wrapper), { key in
                    let opened = try await SealedStore.open(backend: backend, masterKey: .key(key), dataDirectory: dataDirectory, create: false)
                    guard try await opened.isInitialized() else {
                        throw BulwarkError(.notInitialized, "the store \(url) is not initialised: run `bulwark operator init --storage \(url)`")
                    }
                    return opened
                })
            }
            if sealed == nil {
                let source: MasterKeySource
                if self.store.masterKeyFile == nil, let file = settings.masterKeyFile {
                    source = .keyFile(path: file)
                } else if self.store.masterKeyFile == nil, MasterKeySource.fromEnvironment() == nil, let file = settings.passphraseFile {
                    guard let data = FileManager.default.contents(atPath: file) else { throw BulwarkError(.ioFailure, "cannot read \(file)") }
                    source = .passphrase(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines))
                } else {
                    source = try self.store.masterKeySource()
                }
                let opened = try await SealedStore.open(backend: backend, masterKey: source, dataDirectory: url.dataDirectory, create: false)
                guard try await opened.isInitialized() else {
                    throw BulwarkError(.notInitialized, "the store \(url) is not initialised: run `bulwark operator init --storage \(url)`")
                }
                store = opened
            }
        }
        guard let certificate, let privateKey else {
            throw BulwarkError(.invalidArgument, "give --tls-cert and --tls-key (or use --dev)")
        }
        let auditPath = settings.auditFile ?? home + "/audit.log"
        let auditDirectory = URL(fileURLWithPath: auditPath).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: auditDirectory) {
            try FileManager.default.createDirectory(atPath: auditDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var options = TransitServer.Options(
            host: host, port: port, certificateChain: certificate, privateKey: privateKey, allowTLS12: settings.allowTLS12,
            rateLimit: settings.rateLimit, maximumBodyBytes: settings.maxRequestBytes, auditPath: auditPath)
        options.clientCA = settings.clientCA
        options.clientPolicies = settings.clientPolicies
        options.retention = retention
        options.auditRotation = rotation
        options.fastPath = self.fastPath
        options.maximumConnections = settings.maxConnections
        if let seconds = self.headTimeout {
            guard (1...3600).contains(seconds) else { throw BulwarkError(.invalidArgument, "--head-timeout takes 1 to 3600 seconds") }
            options.headTimeout = .seconds(seconds)
        }
        let tlsLabel = options.allowTLS12 ? "1.2+1.3" : "1.3 only"
        var logger = Logger(label: "bulwark.server")
        logger.logLevel = ProcessInfo.processInfo.environment["BULWARK_DEBUG_LIFECYCLE"] == "1" ? .debug : .warning
        let dev = self.dev
        let shownToken = rootToken
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        if let sealed {
            let seal = sealed.gate.configuration
            try await TransitServer.runBehindSeal(
                gate: sealed.gate, options: options, logger: logger, exportMetrics: { registry.emitToString() }, openStore: sealed.open
            ) { isSealed in
                let state =
                    !isSealed
                    ? "unsealed"
                    : seal?.kind.isAutomatic == true
                        ? "SEALED: unsealing through \(seal?.kind.rawValue ?? "its seal") (key \(seal?.wrappingKeyID ?? "?"))"
                        : "SEALED: enter \(seal?.threshold ?? 0) of \(seal?.shares ?? 0) key shares (bulwark operator unseal, or PUT /v1/sys/unseal)"
                FileHandle.standardOutput.write(Data("Bulwark key service listening on https://\(host):\(port) (TLS \(tlsLabel)): \(state)\n".utf8))
            }
            return
        }
        guard let store else { throw BulwarkError(.internalFailure, "no store was opened") }
        let app = try await TransitServer.application(
            store: store, options: options, logger: logger, exportMetrics: { registry.emitToString() }
        ) {
            var lines = ["Bulwark key service listening on https://\(host):\(port) (TLS \(tlsLabel))"]
            if dev, let rootToken = shownToken {
                lines += [
                    "WARNING: dev mode. The master key sits beside the data in \(home)/dev-master.key: not for production.",
                    "Storage: \(store.backend.location)",
                    "CA certificate: \(home)/ca.pem",
                    "Root token: \(rootToken)",
                    "Try: curl --cacert \(home)/ca.pem -H 'X-Vault-Token: \(rootToken)' -d '{\"plaintext\":\"aGVsbG8=\"}' https://\(host):\(port)/v1/transit/encrypt/demo",
                ]
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        try await app.runService()
    }
}

/// `bulwark operator init`: initialises an empty store and prints the root token once.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Key service operations.", subcommands: [Initialize.self, Unseal.self, Seal.self, SealStatusCommand.self, Rekey.self, GenerateRoot.self, Backup.self, Restore.self, MigrateStorage.self])

    struct Initialize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Initialise an empty store once: print the unseal key shares (Shamir seal, the default) and the initial root token.",
            discussion: """
                With no master key configured (BULWARK_MASTER_KEY, BULWARK_MASTER_KEY_FILE, BULWARK_PASSPHRASE, \
                --master-key-file), or with --key-shares/--key-threshold, the store gets a Shamir seal: a random \
                master key kept in the store wrapped by an unseal key that exists only as the shares printed here \
                (Vault's format). The server then starts sealed until enough shares are entered. With a master \
                key configured and no share options, the store's key is that key (a static seal). With --seal awskms \
                the unseal key is wrapped by an AWS KMS key (--kms-key-id; region, endpoint and credentials from \
                AWS_REGION, AWS_KMS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and the server unseals itself.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The store: sqlite:PATH or postgres://…") var storage: String
        @Option(name: .customLong("root-token"), help: "Use this root token (16+ characters) instead of a random one.")
        var rootToken: String?
        @Option(name: .customLong("key-shares"), help: "Shamir seal: how many unseal key shares to make (default 5).")
        var keyShares: Int?
        @Option(name: .customLong("key-threshold"), help: "Shamir seal: how many shares unseal (default 3).")
        var keyThreshold: Int?
        @Option(
            name: .customLong("share-recipient"),
            help: "Encrypt each unseal (Shamir) or recovery (awskms) share to one age recipient (age1…), in order; give one per share.")
        var shareRecipients: [String] = []
        @Option(name: .customLong("recovery-shares"), help: "awskms seal: how many recovery key shares to make (default 5).")
        var recoveryShares: Int?
        @Option(name: .customLong("recovery-threshold"), help: "awskms seal: how many recovery shares make a quorum (default 3).")
        var recoveryThreshold: Int?
        @Option(help: "The seal: shamir (key shares, the default without a configured master key) or awskms (auto-unseal by an AWS KMS key).")
        var seal: String?
        @Option(name: .customLong("kms-key-id"), help: "awskms seal: the KMS key (id, ARN or alias; or BULWARK_AWSKMS_KEY_ID).")
        var kmsKeyID: String?
        @Option(name: .customLong("kms-region"), help: "awskms seal: the region (or AWS_REGION).")
        var kmsRegion: String?
        @Option(name: .customLong("kms-endpoint"), help: "awskms seal: another KMS endpoint than the region's (or AWS_KMS_ENDPOINT).")
        var kmsEndpoint: String?

        func run() async throws {
            do {
                let url = try StorageURL(self.storage)
                if let seal = self.seal, seal != "shamir" {
                    guard seal == "awskms" else { throw BulwarkError(.invalidArgument, "--seal takes shamir or awskms") }
                    try await self.initializeAWSKMS(url)
                    return
                }
                guard self.recoveryShares == nil, self.recoveryThreshold == nil else {
                    throw BulwarkError(.invalidArgument, "recovery shares are for an auto-unseal seal (--seal awskms)")
                }
                let configured = self.store.masterKeyFile != nil || MasterKeySource.fromEnvironment() != nil
                let shamir = self.keyShares != nil || self.keyThreshold != nil || !self.shareRecipients.isEmpty || !configured
                guard shamir else {
                    let sealed = try await SealedStore.open(
                        backend: try await url.openBackend(), masterKey: try self.store.masterKeySource(), dataDirectory: url.dataDirectory)
                    let token = try await TransitServer.initialize(store: sealed, rootToken: self.rootToken)
                    print("Initialised \(url) (static seal: its master key is the one configured).")
                    print("Root token: \(token)")
                    print("Keep it safe: it is shown once and stored only as a hash. Start nodes with the same --storage and master key.")
                    return
                }
                let shares = self.keyShares ?? 5
                let threshold = self.keyThreshold ?? min(3, shares)
                let recipients = try self.shareRecipients.map { try AgeRecipient(text: $0) }
                guard recipients.isEmpty || recipients.count == shares else {
                    throw BulwarkError(.invalidArgument, "give one --share-recipient per share (\(shares)), or none")
                }
                if let token = self.rootToken, token.utf8.count < 16 {
                    throw BulwarkError(.invalidArgument, "a root token needs at least 16 characters")
                }
                // The shares' text is made (and encrypted to their holders) before the store is
                // written: a failure there leaves the store untouched.
                let shareRecipients = self.shareRecipients
                // The root record is written with the seal (one transaction).
                let (token, hash) = try TransitServer.newRootToken(self.rootToken)
                let (_, shareText, sealID) = try await SealConfiguration.initializeShamir(
                    backend: try await url.openBackend(), dataDirectory: url.dataDirectory, shares: shares, threshold: threshold, rootTokenHash: hash
                ) { split in
                    try Self.shown(split, label: "Unseal Key", recipients: recipients, names: shareRecipients)
                }
                print("Initialised \(url) with a Shamir seal: \(threshold) of \(shares) key shares unseal it.")
                print(shareText)
                print("Seal ID: \(sealID)")
                print("Root token: \(token)")
                print("The shares and the root token are shown once and stored nowhere. Give each share to a different holder.")
                print("Start the server with --storage \(url) --seal-id \(sealID) (or BULWARK_SEAL_ID); it starts sealed: enter \(threshold) shares with `bulwark operator unseal`.")
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
        }

        /// The shares as printed: base64, or each armored-age-encrypted to its holder.
        private static func shown(_ split: [[UInt8]], label: String, recipients: [AgeRecipient], names: [String]) throws -> String {
            var lines: [String] = []
            for (index, share) in split.enumerated() {
                if recipients.isEmpty {
                    lines.append("\(label) \(index + 1): \(Data(share).base64EncodedString())")
                } else {
                    var encryptor = try AgeEncryptor(recipients: [recipients[index]], armored: true)
                    var armored = encryptor.prefix
                    armored += try encryptor.update(Data(Data(share).base64EncodedString().utf8))
                    armored += try encryptor.finish()
                    lines.append("\(label) \(index + 1) (for \(names[index])):")
                    lines.append(String(decoding: armored, as: UTF8.self).trimmingCharacters(in: .newlines))
                }
            }
            return lines.joined(separator: "\n")
        }

        /// `--seal awskms`: the unseal key wrapped by a KMS key; recovery key shares (which cannot
        /// unseal) authorise a new root token.
        private func initializeAWSKMS(_ url: StorageURL) async throws {
            guard self.keyShares == nil, self.keyThreshold == nil else {
                throw BulwarkError(.invalidArgument, "an awskms seal has no unseal key shares: give --recovery-shares and --recovery-threshold instead")
            }
            let shares = self.recoveryShares ?? 5
            let threshold = self.recoveryThreshold ?? min(3, shares)
            let recipients = try self.shareRecipients.map { try AgeRecipient(text: $0) }
            guard recipients.isEmpty || recipients.count == shares else {
                throw BulwarkError(.invalidArgument, "give one --share-recipient per recovery share (\(shares)), or none")
            }
            let names = self.shareRecipients
            guard self.store.masterKeyFile == nil, MasterKeySource.fromEnvironment() == nil else {
                throw BulwarkError(.invalidArgument, "an awskms seal makes its own master key: unset the configured one")
            }
            if let token = self.rootToken, token.utf8.count < 16 {
                throw BulwarkError(.invalidArgument, "a root token needs at least 16 characters")
            }
            let configured = try AWSKMSSeal.configured(keyID: self.kmsKeyID, region: self.kmsRegion, endpoint: self.kmsEndpoint)
            let seal: AWSKMSSeal
            let (token, hash) = try TransitServer.newRootToken(self.rootToken)
            let (shareText, sealID): (String, String)
            do {
                // The record names the key by ARN: an alias may later point elsewhere.
                seal = try await configured.resolved()
                (_, shareText, sealID) = try await SealConfiguration.initializeAutomatic(
                    backend: try await url.openBackend(), dataDirectory: url.dataDirectory, wrapper: seal, recoveryShares: shares,
                    recoveryThreshold: threshold, rootTokenHash: hash
                ) { split in
                    try Self.shown(split, label: "Recovery Key", recipients: recipients, names: names)
                }
            } catch {
                await configured.shutdown()
                throw error
            }
            await seal.shutdown()
            print("Initialised \(url) with an awskms seal: its unseal key is wrapped by the KMS key \(seal.keyID).")
            print(shareText)
            print("Seal ID: \(sealID)")
            print("Root token: \(token)")
            print("The recovery keys (\(threshold) of \(shares) authorise a new root token; they cannot unseal) and the root token are shown once and stored nowhere.")
            print("Start the server with --storage \(url) --seal-id \(sealID) and the same KMS settings; it unseals itself through KMS.")
        }
    }
}

extension OperatorCommand {
    /// `bulwark operator migrate-storage --from sqlite:PATH --to postgres://…`: copies every sealed
    /// entry (no master key needed: entries move still sealed), resumable, then reads everything
    /// back from the target and compares it byte for byte.
    struct MigrateStorage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-storage", abstract: "Copy a store to another backend (e.g. SQLite to PostgreSQL), resumably, verified.")
        @Option(help: "The store to copy from.") var from: String
        @Option(help: "The store to copy to (empty, or a copy of the same store cut short).") var to: String

        func run() async throws {
            do {
                let source = try await StorageURL(self.from).openBackend()
                let target = try await StorageURL(self.to).openBackend()
                try await target.migrate()
                let entries = try await source.list(prefix: "")
                guard let seal = entries.first(where: { $0.path == "sys/seal" }) else {
                    throw BulwarkError(.notInitialized, "\(source.location) holds no key service store")
                }
                if let existing = try await target.read("sys/seal"), existing != seal.value {
                    throw BulwarkError(.invalidArgument, "\(target.location) already holds another store (a different master key or initialisation)")
                }
                // The tokenisation vault first (its rows are sealed already: copied as they are,
                // conflicts skipped, so a resumed copy goes on where it stopped), then read back.
                var tokens = 0
                var position: (tokenID: [UInt8], transformation: String)?
                while true {
                    let page = try await source.tokenPage(after: position, limit: 1000)
                    guard let last = page.last else { break }
                    _ = try await target.insertTokens(page)
                    for (transformation, records) in Dictionary(grouping: page, by: \.transformation) {
                        let stored = try await target.tokens(transformation, tokenIDs: records.map(\.tokenID))
                        for record in records where stored[record.tokenID]?.sealed != record.sealed || stored[record.tokenID]?.expiresAt != record.expiresAt {
                            throw BulwarkError(.storageFailure, "verification failed: a token of \(transformation) differs in \(target.location)")
                        }
                    }
                    tokens += page.count
                    position = (last.tokenID, last.transformation)
                }
                var copied = 0
                var skipped = 0
                var conflicts: [String] = []
                // The seal goes last: a target is only recognisable as a store once everything is there.
                // An entry the target holds in another version is never overwritten: the target has
                // been written since (a node served from it), and its entry may well be the newer.
                for entry in entries.filter({ $0.path != "sys/seal" }) + [seal] {
                    let value = entry.value
                    let outcome = try await target.update(entry.path) { current -> (StorageWrite, Int) in
                        guard let current else { return (.put(value), 1) }
                        return current == value ? (.keep, 0) : (.keep, 2)
                    }
                    switch outcome {
                    case 1: copied += 1
                    case 0: skipped += 1
                    default: conflicts.append(entry.path)
                    }
                    if copied == 2, ProcessInfo.processInfo.environment["BULWARK_TEST_CRASH_POINT"] == "migrate-midway" {
                        Glibc.exit(70)  // fault injection for the tests: a copy cut short
                    }
                }
                guard conflicts.isEmpty else {
                    let shown = conflicts.prefix(5).map { $0.hasPrefix("auth/tokens/") ? "auth/tokens/…" : $0 }.joined(separator: ", ")
                    throw BulwarkError(
                        .invalidArgument,
                        "\(conflicts.count) entr\(conflicts.count == 1 ? "y differs" : "ies differ") in \(target.location) and \(conflicts.count == 1 ? "was" : "were") left as \(conflicts.count == 1 ? "it is" : "they are") (the target has been written since the copy began: \(shown)); copied \(copied), \(skipped) already there")
                }
                // Read back and compare.
                let written = Dictionary(try await target.list(prefix: "").map { ($0.path, $0.value) }) { first, _ in first }
                for (path, value) in entries where written[path] != value {
                    throw BulwarkError(.storageFailure, "verification failed: \(path) differs in \(target.location)")
                }
                print("copied \(copied) entries (\(skipped) already there) from \(source.location) to \(target.location); all \(entries.count) verified")
                if tokens > 0 { print("copied and verified \(tokens) token(s) of the tokenisation vault") }
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}
