import Bulwark
public import BulwarkStorage
import Foundation
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import Synchronization
public import NIOSSL

/// The key service's HTTP API over TLS: Vault's Transit engine at `/v1/transit/`, plus
/// `/v1/sys/health`. Every request but health needs the token (`X-Vault-Token` or
/// `Authorization: Bearer`).
public enum TransitServer {
    /// How the server listens and whom it trusts.
    public struct Options: Sendable {
        /// The server's seal (nil: a static seal, the master key from the configuration).
        public var seal: SealGate?
        /// The address to listen on.
        public var host: String
        /// The port.
        public var port: Int
        /// PEM certificate chain (server first).
        public var certificateChain: String
        /// PEM private key.
        public var privateKey: String
        /// Also accept TLS 1.2, restricted to ECDHE with AES-GCM or ChaCha20-Poly1305.
        public var allowTLS12: Bool
        /// Requests per second allowed per token (0: no limit), with bursts of twice that.
        public var rateLimit: Int
        /// The largest request body accepted.
        public var maximumBodyBytes: Int
        /// The audit log file.
        public var auditPath: String
        /// Mutual TLS: a PEM file of CAs whose client certificates are required, or nil.
        public var clientCA: String?
        /// Mutual TLS: policies granted to requests without a token, by client certificate
        /// subject (its common name or its full distinguished name).
        public var clientPolicies: [String: [String]] = [:]
        /// How long each class of data is kept (audit segments, tokens).
        public var retention = RetentionPolicy()
        /// How often retention runs.
        public var retentionInterval: Duration = .seconds(3600)
        /// How old the active audit file gets before it is closed as a segment.
        public var auditRotation: Duration = .seconds(86400)
        /// Whether `encrypt` and `decrypt` calls are answered in the connection's pipeline
        /// (``TransitFastPath``) rather than through the router; both run the same checks, audit
        /// and operation, and answer alike.
        public var fastPath = true
        /// The largest body of an endpoint that takes no `batch_input` (policies, key
        /// configuration, tokens): a smaller limit than ``maximumBodyBytes``.
        public var maximumSingleBodyBytes = 1 << 20
        /// The most connections open at once; more are closed on accept.
        public var maximumConnections = 4096
        /// How long a TLS handshake may take, and a request head from its first byte.
        public var headTimeout: Duration = .seconds(10)
        /// How long a connection may stay idle.
        public var idleTimeout: Duration = .seconds(120)
        /// Refused unauthenticated requests (no, unknown, expired or revoked token) allowed per
        /// second per client address, with bursts of twice that; beyond it they are answered 429
        /// without an audit line each (counted in `bulwark_unauthenticated_dropped_total`).
        public var unauthenticatedRate = 20

        /// Creates options.
        public init(
            host: String = "127.0.0.1", port: Int = 8200, certificateChain: String, privateKey: String, allowTLS12: Bool = false,
            rateLimit: Int = 0, maximumBodyBytes: Int = 32 << 20, auditPath: String
        ) {
            self.auditPath = auditPath
            self.host = host
            self.port = port
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.allowTLS12 = allowTLS12
            self.rateLimit = rateLimit
            self.maximumBodyBytes = maximumBodyBytes
        }
    }

    /// The TLS configuration: TLS 1.3 only, or 1.2 with ECDHE and AEAD suites when allowed.
    public static func tlsConfiguration(_ options: Options) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(options.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: options.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        if options.allowTLS12 {
            tls.minimumTLSVersion = .tlsv12
            tls.cipherSuiteValues = [
                .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        } else {
            tls.minimumTLSVersion = .tlsv13
        }
        if let clientCA = options.clientCA {
            // A client certificate signed by one of these CAs is required (the handshake fails without one).
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(clientCA)
            tls.sendCANameList = true
        }
        // A closing connection waits this long for the client's close_notify (NIOSSL's default is
        // 5 s): an idle keep-alive client that never answers it must not hold a seal change, an
        // unseal or a shutdown for seconds.
        tls.shutdownTimeout = .milliseconds(300)
        return tls
    }

    /// Builds the application.
    /// - Parameters:
    ///   - backend: The Transit operations.
    ///   - options: Listening, TLS and token settings.
    ///   - onReady: Called once the server listens.
    ///   - exportMetrics: Renders the metrics for `/v1/sys/metrics` (Prometheus text), when the
    ///     process has bootstrapped a swift-metrics backend that can.
    public static func application(
        store: SealedStore, options: Options, logger: Logger = Logger(label: "bulwark.server"),
        exportMetrics: (@Sendable () -> String)? = nil,
        onReady: @escaping @Sendable () async -> Void = {}
    ) async throws -> some ApplicationProtocol {
        try await Self.application(store: store, options: options, endpoints: Endpoints(), logger: logger, exportMetrics: exportMetrics, onReady: onReady)
    }

    /// Builds the application serving `endpoints` (``Endpoints/all``, or more in a test).
    static func application(
        store: SealedStore, options: Options, endpoints: Endpoints, logger: Logger = Logger(label: "bulwark.server"),
        exportMetrics: (@Sendable () -> String)? = nil,
        onReady: @escaping @Sendable () async -> Void = {}
    ) async throws -> some ApplicationProtocol {
        let router = Router(context: TransitRequestContext.self)
        let backend = try await TransitBackend.open(store: store)
        await backend.prepareBudgets()
        let transform = try await TransformBackend.open(store: store)
        let audit = try AuditLog(path: options.auditPath, key: try await backend.auditKey(), clearFields: endpoints.auditClear)
        let auth = try await AuthStore.open(store: store)
        let limiter = options.rateLimit > 0 ? RateLimiter(rate: Double(options.rateLimit), burst: Double(options.rateLimit * 2)) : nil
        let retention = RetentionJob(policy: options.retention, store: store, audit: audit, auth: auth)
        let metrics = ServerMetrics()
        // Key-use limits: a gauge per key version, and a warning from half the limit on (rotate
        // long before encryptions are refused or the key rotates itself).
        let limit = backend.budget.limit
        let warned = Mutex<Set<EncryptionBudget.Version>>([])
        backend.budget.observe { version, reserved in
            let used = Double(reserved) / Double(limit)
            metrics.encryptionBudget(key: version.key, version: version.version, used: used)
            if used >= 0.5, warned.withLock({ $0.insert(version).inserted }) {
                logger.warning(
                    "a key version has used half its encryption limit (NIST SP 800-38D: 2^32 random nonces): rotate the key",
                    metadata: ["key": .string(version.key), "version": .string("\(version.version)"), "used": .string(String(format: "%.2f", used))])
            }
        }
        let anonymous = options.unauthenticatedRate > 0
            ? RateLimiter(rate: Double(options.unauthenticatedRate), burst: Double(options.unauthenticatedRate * 2)) : nil
        let api = TransitRoutes(
            backend: backend, transform: transform, options: options, audit: audit, auth: auth, limiter: limiter, anonymousLimiter: anonymous,
            metrics: metrics,
            exportMetrics: exportMetrics, retention: retention, endpoints: endpoints)
        router.add(middleware: SecurityHeadersMiddleware(
            unknownRoute: { request, context in api.unknownRoute(request, context) }, allow: { request in api.allow(request) }))
        api.register(on: router)
        let tls = try TLSContextProvider(options: options)
        let mutualTLS = tls.verifiesClients
        let batches = AuditBatches(audit: audit)
        let makeFastPath: @Sendable () -> TransitFastPath = { TransitFastPath(routes: api, mutualTLS: mutualTLS, batches: batches) }
        let server = Self.serverBuilder(options: options, tls: tls, fastPath: options.fastPath ? makeFastPath : nil)
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            services: [
                AutoRotationService(backend: backend, logger: logger),
                StoreRefreshService(
                    backend: backend, transform: transform, auth: auth, interval: .milliseconds(500), metrics: metrics, logger: logger),
                CertificateReloadService(provider: tls, interval: .seconds(2), logger: logger),
                RetentionService(job: retention, interval: options.retentionInterval, rotation: options.auditRotation, logger: logger),
                AuditCheckpointService(audit: audit, store: store, interval: .seconds(1), logger: logger),
            ],
            onServerRunning: { _ in await onReady() }, logger: logger)
    }
}

extension TransitServer {
    /// Each connection's channel: the connection cap, TLS within the handshake deadline, the head
    /// and idle deadlines, and the fast path when given (the sealed listener has none).
    static func serverBuilder(
        options: Options, tls: TLSContextProvider, fastPath: (@Sendable () -> TransitFastPath)?
    ) -> HTTPServerBuilder {
        let connections = ConnectionLimit(maximum: options.maximumConnections)
        let headTimeout = TimeAmount.nanoseconds(Int64(options.headTimeout.components.seconds) * 1_000_000_000)
        let idleTimeout = TimeAmount.nanoseconds(Int64(options.idleTimeout.components.seconds) * 1_000_000_000)
        return HTTPServerBuilder { responder in
            TransitChildChannel(
                base: HTTP1Channel(responder: responder), tls: tls, fastPath: fastPath,
                connections: connections, headTimeout: headTimeout, idleTimeout: idleTimeout)
        }
    }

    /// Initialises an empty store: records the root token's hash (`bulwark operator init`).
    /// - Parameters:
    ///   - store: The store.
    ///   - rootToken: The root token to use, or nil for a fresh random one.
    ///   - replacing: Replace an existing root token (dev mode only).
    /// - Returns: The root token, shown once; only its hash is stored.
    /// - Throws: ``BulwarkError/Code/alreadyInitialized`` unless `replacing`.
    public static func initialize(store: SealedStore, rootToken: String?, replacing: Bool = false) async throws -> String {
        let (token, hash) = try Self.newRootToken(rootToken)
        try await store.initialize(rootTokenHash: hash, replacing: replacing)
        return token
    }

    /// A root token (`given`, or a random one) and the hash a store keeps of it, for an
    /// initialisation that writes the root record itself (with the seal, in one transaction).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a given token under 16 characters.
    public static func newRootToken(_ given: String?) throws -> (token: String, hash: String) {
        let token = given ?? ("bwr." + Base64Token.random(32))
        guard token.utf8.count >= 16 else {
            throw BulwarkError(.invalidArgument, "a root token needs at least 16 characters")
        }
        return (token, AuthStore.hash(token))
    }
}
