import Bulwark
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Admission: the token, the policy check, the rate limits and the body limit, decided before an
/// operation runs (on the request head, on the fast path).
extension TransitRoutes {
    /// A request that passed the token, policy and rate checks.
    struct Call {
        /// The URL path.
        let path: String
        /// The HTTP method's name, as audited.
        let method: String
        /// The presented token (or `cert:` and the client certificate's subject).
        let token: String
        /// Whom the token stands for.
        let principal: AuthStore.Principal
    }

    /// The outcome of ``admit(path:method:token:clientSubject:capabilities:selfService:)``.
    enum Admission {
        case admitted(Call)
        case refused(Reply)

        /// The refusal's answer, if refused.
        var refusal: Reply? {
            if case .refused(let reply) = self { return reply }
            return nil
        }
    }

    /// The outcome of ``begin(_:body:fields:)``.
    enum Beginning {
        case ready([String: Any])
        case refused(Reply)
    }

    /// An answer: status and JSON body (always with ``headers()``); `nil` body for 204.
    struct Reply {
        let status: HTTPResponse.Status
        let body: ByteBuffer?

        /// The Hummingbird response.
        var response: Response {
            guard let body else { return Response(status: self.status, headers: TransitRoutes.headers()) }
            return Response(status: self.status, headers: TransitRoutes.headers(), body: .init(byteBuffer: body))
        }
    }

    /// Finds the caller (token or mapped client certificate) and checks policy (the capability
    /// ``requirement(_:)`` names for the target) and rate limit. Refusals are audited.
    /// A request without a valid token is refused with a bounded audit line, or, over its
    /// address's rate (``anonymousLimiter``), with a 429 and no line.
    /// - Parameters:
    ///   - token: The token the request presents (see ``token(_:)``), if any.
    ///   - client: The client's IP address.
    func admit(target: RequestTarget, token: String?, clientSubject: ClientSubject?, client: String?, selfService: Bool) -> Admission {
        // Sealed (sys/seal answered, the listener not yet closed): nothing more is served.
        if let seal = self.options.seal, seal.isSealed {
            return .refused(Self.error(TransitError(503, "Vault is sealed")))
        }
        var presented = token
        var certificatePrincipal: AuthStore.Principal?
        if presented == nil, let subject = clientSubject {
            // A mapping whose key holds "=" names a full subject; any other names a common name only
            // (a certificate whose CN spells out someone else's subject gets nothing from it).
            let policies = self.options.clientPolicies[subject.distinguishedName]
                ?? subject.commonName.flatMap { name in name.contains("=") ? nil : self.options.clientPolicies[name] }
            if let policies {
                certificatePrincipal = self.auth.certificatePrincipal(subject.distinguishedName, policies: policies)
                presented = "cert:" + subject.distinguishedName
            }
        }
        guard let presented, let principal = certificatePrincipal ?? self.auth.principal(presented) else {
            if let limiter = self.anonymousLimiter, !limiter.admit(Self.addressKey(client)) {
                self.metrics.unauthenticatedDropped()
                return .refused(Self.error(TransitError(429, "too many unauthenticated requests from this address")))
            }
            guard self.audit.refusal(method: target.method, target: target.path, status: 403, reason: "permission denied", token: presented) else {
                return .refused(self.auditRefusal())
            }
            return .refused(Self.error(TransitError.permissionDenied))
        }
        if !selfService {
            let (capability, sudo) = self.requirement(target)
            guard self.auth.allows(principal, path: target.policyPath, listing: target.listing, capability: capability, needsSudo: sudo) else {
                return .refused(
                    self.audited(target.path, target.method, presented, [:], Self.error(TransitError.permissionDenied), error: .fixed("permission denied")))
            }
        }
        if let limiter = self.limiter, !limiter.admit(presented) {
            return .refused(
                self.audited(
                    target.path, target.method, presented, [:], Self.error(TransitError(429, "rate limit exceeded for this token")), error: .fixed("rate limited")))
        }
        return .admitted(Call(path: target.path, method: target.method, token: presented, principal: principal))
    }

    /// The key an unauthenticated client is limited under: its IPv4 address, or its IPv6 /64
    /// (one host holds a whole /64, and could rotate through it).
    static func addressKey(_ address: String?) -> String {
        guard let address else { return "" }
        guard address.contains(":") else { return address }
        return address.split(separator: ":", omittingEmptySubsequences: false).prefix(4).joined(separator: ":") + "::/64"
    }

    /// The answer to a request whose method or target ``RequestTarget/parse(method:target:)``
    /// refused, before authentication. Its audit line is bounded: the target is truncated and
    /// hashed, and no token is read.
    func refusedTarget(_ refusal: RequestTarget.Refusal, method: String, target: String) -> Reply {
        guard self.audit.refusal(method: method, target: target, status: refusal.status, reason: refusal.reason) else {
            return self.auditRefusal()
        }
        return Self.error(TransitError(refusal.status, refusal.reason.description))
    }

    /// The answer to a body over ``TransitServer/Options/maximumBodyBytes`` (audited).
    func tooLarge(_ call: Call) -> Reply {
        self.audited(call.path, call.method, call.token, [:], Self.error(TransitError(413, "request body too large")), error: .fixed("request body too large"))
    }

    static let vaultToken = HTTPField.Name("X-Vault-Token")!

    /// The token a request presents: `X-Vault-Token`, or `Authorization: Bearer`.
    /// A request that repeats either header presents no token (the fast path and the router must
    /// never read two different ones).
    static func token(_ headers: HTTPFields) -> String? {
        let tokens = headers[values: Self.vaultToken]
        let bearers = headers[values: .authorization]
        guard tokens.count <= 1, bearers.count <= 1 else { return nil }
        if let token = tokens.first { return token }
        if let bearer = bearers.first, bearer.hasPrefix("Bearer ") { return String(bearer.dropFirst(7)) }
        return nil
    }

    /// A URL path without `/v1/` (for metrics labels; the policy check uses
    /// ``RequestTarget/policyPath``).
    static func aclPath(_ path: String) -> String {
        path.hasPrefix("/v1/") ? String(path.dropFirst(4)) : path
    }

    /// The capability a request needs, as Vault maps its operation to one, and whether its path
    /// also needs `sudo` (an endpoint there is ``Endpoint/Access/sudo`` in the table).
    ///
    /// A list request needs `list`, a read `read`, a delete `delete`, a write `update`, except a
    /// write that creates its key (``Endpoint/createsKey``: an encrypt with a key that does not
    /// exist yet, which Transit then creates), which needs `create` (checked against OpenBao:
    /// writing a new key or policy needs `update`, not `create`).
    func requirement(_ target: RequestTarget) -> (capability: String, sudo: Bool) {
        let positions = self.endpoints.positions(Substring(target.path))
        let table = self.endpoints.endpoints
        // Any endpoint at the path that needs sudo makes the path need it (erring towards more).
        let sudo = positions.contains { table[$0].access == .sudo }
        if target.listing { return ("list", sudo) }
        switch target.method {
        case "GET": return ("read", sudo)
        case "DELETE": return ("delete", sudo)
        default:
            // `create` only for the endpoint that serves this very request.
            let routed = positions.first { position in
                table[position].operation.methods.contains { $0.rawValue == target.method } && table[position].operation.listing.accepts(target)
            }
            guard let routed, table[routed].createsKey, table[routed].operation == .write, let position = table[routed].nameSegment,
                let name = Endpoints.segment(Substring(target.path), at: position)
            else { return ("update", sudo) }
            // A write to an endpoint that creates its key, naming a key that does not exist yet.
            return (self.backend.hasKey(String(name)) ? "update" : "create", sudo)
        }
    }
}
