import HTTPTypes
import NIOCore

/// One operation of the API, described once, as a Vault backend's `framework.Path` describes
/// its paths: where it is, what it takes, who may call it, how it is audited and counted.
///
/// Everything that depends on what an endpoint is reads it from the table (``Endpoints/all``):
/// the router's routes, the policy check (capability and `sudo`), the audit log's allowlist,
/// the body limit, the metrics labels, the fast path's matching, the `Allow` header of a 405,
/// and the manifest (`docs/endpoints.json`) from which the OpenAPI document and the generated
/// access matrix are built. Adding an endpoint is one descriptor and one line in the table.
///
/// A final class of constants rather than a struct: the router, the policy check and the fast
/// path pass descriptors around on every request, and a reference is one retain where a struct of
/// a dozen strings, sets and closures is a dozen.
final class Endpoint: Sendable {
    /// The kinds of request Vault tells apart, each with its HTTP methods. The capability a
    /// request needs follows from its method (see ``TransitRoutes/requirement(_:)``).
    enum Operation: String, Sendable {
        /// `GET`: needs `read`.
        case read
        /// `POST` and `PUT` (Vault takes both): needs `update`, or `create` (see ``Endpoint/createsKey``).
        case write
        /// `DELETE`: needs `delete`.
        case delete
        /// `LIST` or `GET ?list=true`: needs `list`.
        case list
        /// `GET` with or without `?list=true` (Vault's `sys/policy`): `read` or `list`.
        case readOrList
        /// `GET` or `POST` (Vault's `auth/token/lookup-self`).
        case readOrWrite

        /// The router methods the operation is registered for.
        var methods: [HTTPRequest.Method] {
            switch self {
            case .read, .list, .readOrList: [.get]
            case .write: [.post, .put]
            case .delete: [.delete]
            case .readOrWrite: [.get, .post]
            }
        }

        /// Whether the operation answers list requests, other requests, or both.
        var listing: Listing {
            switch self {
            case .list: .only
            case .readOrList: .either
            default: .never
            }
        }
    }

    /// Whether an endpoint answers list requests (`LIST`, `GET ?list=true`), other requests, or both.
    enum Listing: String, Sendable {
        /// Never a list request.
        case never
        /// Only a list request.
        case only
        /// Either.
        case either

        /// Whether a request of `target`'s form is answered.
        func accepts(_ target: RequestTarget) -> Bool {
            switch self {
            case .never: !target.listing
            case .only: target.listing
            case .either: true
            }
        }
    }

    /// Who may call an endpoint.
    enum Access: String, Sendable {
        /// Anyone, with no token (`sys/health`); not audited, as Vault does not audit it.
        case anyone
        /// Any valid token, whatever its policies (Vault's default policy grants the `-self` paths).
        case token
        /// A token whose policies grant the operation's capability on the path.
        case policy
        /// As ``policy``, and `sudo` on the path too.
        case sudo
    }

    /// One admitted call, as a handler sees it.
    struct Call {
        /// Whom the token stands for.
        let principal: AuthStore.Principal
        /// The presented token (or `cert:` and the client certificate's subject).
        let token: String
        /// The path's parameters by name (`name`, `algorithm`, `format`).
        let parameters: [String: String]
        /// The request's JSON body, its fields checked against ``Endpoint/fields``.
        let body: [String: Any]

        /// The `name` parameter, or "" for a path without one.
        var name: String { self.parameters["name"] ?? "" }
    }

    /// What an endpoint runs.
    enum Handler: Sendable {
        /// Vault's JSON envelope around the returned data (nil: no body, for 204).
        case json(@Sendable (TransitRoutes, Call) async throws -> [String: Any]?)
        /// A document served as it is (metrics text, the OpenAPI document), with its content type.
        case document(contentType: String, @Sendable (TransitRoutes) -> ByteBuffer)
        /// An answer computed with no caller at all (``Access/anyone``), from the JSON body of a
        /// write (empty for a read). A thrown error is answered as any other.
        case open(@Sendable (TransitRoutes, [String: Any]) throws -> [String: Any])
    }

    /// The router pattern without `/v1/` (`transit/encrypt/:name`; `:x` is one segment).
    let path: String
    /// The kind of request, and so its methods.
    let operation: Operation
    /// Who may call it.
    let access: Access
    /// The request fields it accepts (anything else is refused by name, see ``Fields/check(_:allowed:)``).
    let fields: Set<String>
    /// Request fields whose values are not sensitive: written in clear in the audit log (every
    /// other value is written as its keyed hash). A descriptor may pass its group's list; what
    /// the endpoint does not accept is dropped. The log's allowlist is by field name, the union
    /// of every endpoint's (as Vault's `audit_non_hmac_request_keys` is per mount, not per path):
    /// `EndpointTableTests` checks that no name is allowlisted on one endpoint and hashed on another.
    let auditClear: Set<String>
    /// The metrics label: low cardinality, one per operation (recorded for ``Handler/json(_:)``
    /// endpoints; health and documents are not counted).
    let label: String
    /// The parameter naming the key used, for per-key metrics (nil when none is).
    let keyParameter: String?
    /// Whether it takes `batch_input` (and so the larger body limit).
    let batchable: Bool
    /// The fast path's operation, when ``TransitFastPath`` may serve it.
    let fastPath: TransitFastPath.Operation?
    /// Whether a write to a key that does not exist creates it (an encrypt, as Vault's Transit):
    /// such a write needs `create` rather than `update`.
    let createsKey: Bool
    /// The status of a successful answer.
    let status: HTTPResponse.Status
    /// What it runs.
    let handler: Handler
    /// The Swift type its body decodes into, for a typed endpoint (its fields and their types:
    /// `OpenAPIDocumentTests` checks the document's request schemas against it).
    let requestType: (any EndpointRequest.Type)?
    /// The pattern's segments: a literal, or nil for a parameter (split once, here: the router's
    /// and the policy check's matching reads them on every request).
    let segments: [Substring?]
    /// The position among ``segments`` of the `:name` parameter, when there is one.
    let nameSegment: Int?

    /// Describes an endpoint.
    init(
        _ path: String, _ operation: Operation, access: Access = .policy, fields: Set<String> = [], auditClear: Set<String> = [],
        label: String, keyParameter: String? = nil, fastPath: TransitFastPath.Operation? = nil, createsKey: Bool = false,
        status: HTTPResponse.Status = .ok, requestType: (any EndpointRequest.Type)? = nil, _ handler: Handler
    ) {
        self.path = path
        self.operation = operation
        self.access = access
        self.fields = fields
        self.auditClear = auditClear.intersection(fields)
        self.label = label
        self.keyParameter = keyParameter
        self.batchable = fields.contains("batch_input")
        self.fastPath = fastPath
        self.createsKey = createsKey
        self.status = status
        self.handler = handler
        self.requestType = requestType
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        self.segments = segments.map { $0.hasPrefix(":") ? nil : $0 }
        self.nameSegment = segments.firstIndex(of: ":name")
        // Only an endpoint anyone may call answers without admission; any other access goes
        // through the token and policy checks, whatever its handler.
        if case .open = handler {
            precondition(access == .anyone, "\(path): an open handler is for access .anyone only")
        } else {
            precondition(access != .anyone, "\(path): access .anyone needs an open handler")
        }
    }

    /// The names of the pattern's parameters, in order.
    var parameterNames: [String] {
        self.path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
    }

    /// The path as OpenAPI writes it (`/v1/transit/encrypt/{name}`).
    var openAPIPath: String {
        "/v1/" + self.path.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }
}
