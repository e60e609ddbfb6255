import Bulwark
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// The key service while it is sealed: the same listener, TLS and connection limits, but no
/// store, no master key and no token check. It answers `sys/seal-status`, `sys/unseal` (shares,
/// `reset`), `sys/health` (503, `sealed: true`, as Vault) and `sys/seal` (204: sealed already,
/// as OpenBao), and `503 Vault is sealed` to everything else. Nothing is audited while sealed (there is no audit key), as in Vault; shares
/// are never logged.
enum SealedServer {
    /// Builds the sealed application.
    static func application(
        gate: SealGate, options: TransitServer.Options, logger: Logger, onReady: @escaping @Sendable () async -> Void
    ) throws -> some ApplicationProtocol {
        let router = Router(context: TransitRequestContext.self)
        // Unseal attempts per client address: the same budget as unauthenticated requests to an
        // unsealed server (junk shares or resets from one address cannot flood the log).
        let limiter = options.unauthenticatedRate > 0
            ? RateLimiter(rate: Double(options.unauthenticatedRate), burst: Double(options.unauthenticatedRate * 2)) : nil
        router.add(middleware: SealedResponder(gate: gate, logger: logger, limiter: limiter))
        let tls = try TLSContextProvider(options: options)
        let server = TransitServer.serverBuilder(options: options, tls: tls, fastPath: nil)
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            services: [CertificateReloadService(provider: tls, interval: .seconds(2), logger: logger)],
            onServerRunning: { _ in await onReady() }, logger: logger)
    }
}

/// Answers every request of a sealed server (see ``SealedServer``).
struct SealedResponder: RouterMiddleware {
    typealias Context = TransitRequestContext
    let gate: SealGate
    /// Each unseal attempt's outcome is logged with the client's address (never the share), so
    /// that shares from an unknown address, or resets spoiling an unseal, are seen.
    let logger: Logger
    /// Unseal attempts per client address (nil: no limit).
    let limiter: RateLimiter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let method = request.method
        switch path {
        case "/v1/sys/seal-status" where method == .get:
            return Self.answer(.ok, self.gate.status())
        case "/v1/sys/health" where method == .get || method == .head:
            return Self.answer(.serviceUnavailable, SealedHealth(serverTimeUTC: Int(Date().timeIntervalSince1970)))
        case "/v1/sys/unseal" where method == .put || method == .post:
            let client = context.clientAddress ?? "unknown"
            if let limiter = self.limiter, !limiter.admit(TransitRoutes.addressKey(context.clientAddress)) {
                return TransitRoutes.error(TransitError(429, "too many unseal attempts from this address")).response
            }
            do {
                return Self.answer(.ok, try await self.unseal(request, client: client))
            } catch let error as TransitError {
                self.logger.warning("unseal: share refused", metadata: ["client": .string(client), "reason": .string(error.message)])
                return TransitRoutes.error(error).response
            }
        case "/v1/sys/seal" where method == .put || method == .post:
            // Sealed already: nothing to do (OpenBao answers 204 too).
            return TransitRoutes.Reply(status: .noContent, body: nil).response
        case "/v1/sys/unseal", "/v1/sys/seal-status", "/v1/sys/health", "/v1/sys/seal":
            return TransitRoutes.error(TransitError(405, "unsupported operation")).response
        default:
            return TransitRoutes.error(TransitError(503, "Vault is sealed")).response
        }
    }

    /// `PUT sys/unseal`: `{"key": share}` or `{"reset": true}` (Vault's `migrate` is refused: no
    /// seal migration yet).
    private func unseal(_ request: Request, client: String) async throws -> SealStatus {
        let body = try UnsealRequest.checked(try await TransitRoutes.openBody(request))
        if body.reset == true {
            self.logger.warning("unseal: progress reset", metadata: ["client": .string(client)])
            return self.gate.reset()
        }
        guard let key = body.key, !key.isEmpty else {
            throw TransitError.badRequest("'key' must be specified in request body as JSON, or 'reset' set to true")
        }
        let (status, outcome) = try await self.gate.submit(key: key)
        switch outcome {
        case .progress(let count):
            self.logger.warning("unseal: share accepted", metadata: ["client": .string(client), "progress": "\(count)", "nonce": .string(status.nonce)])
        case .duplicate:
            self.logger.warning("unseal: share already entered (not counted)", metadata: ["client": .string(client)])
        case .unsealed:
            self.logger.warning("unseal: unsealed", metadata: ["client": .string(client)])
        }
        return status
    }

    static func answer(_ status: HTTPResponse.Status, _ value: some Encodable & Sendable) -> Response {
        TransitRoutes.raw(status, (try? AnswerEncoder.encode(value)) ?? [:]).response
    }
}

/// `PUT sys/unseal`'s body (Vault's fields).
struct UnsealRequest: EndpointRequest {
    /// One key share, hex or base64.
    var key: String?
    /// Forget the shares entered so far.
    var reset: Bool?
    /// Vault's seal migration flag (refused: no migration in progress).
    var migrate: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, reset, migrate
    }

    /// Decodes `body` (unknown fields and wrong types refused by name); `migrate: true` is refused.
    /// - Throws: ``TransitError`` 400.
    static func checked(_ body: [String: Any]) throws -> UnsealRequest {
        let request: UnsealRequest
        do {
            request = try RequestDecoder.decode(UnsealRequest.self, from: body)
        } catch {
            throw TransitError(error)
        }
        if request.migrate == true { throw TransitError.badRequest("'migrate' is not supported: there is no seal migration in progress") }
        return request
    }
}

/// `GET sys/health` while sealed: Vault's fields, 503.
struct SealedHealth: Encodable, Sendable {
    let initialized = true
    let sealed = true
    let standby = true
    let version = "bulwark-0.1"
    let serverTimeUTC: Int

    enum CodingKeys: String, CodingKey {
        case initialized, sealed, standby, version
        case serverTimeUTC = "server_time_utc"
    }
}
