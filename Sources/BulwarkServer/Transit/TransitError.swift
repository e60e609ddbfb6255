import Bulwark
/// An error answered to an API client: an HTTP status and Vault's `{"errors": [...]}` body.
public struct TransitError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status code.
    public let status: Int
    /// The message (never contains plaintext or key bytes).
    public let message: String

    /// Creates an error.
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The status and message.
    public var description: String { "\(self.status): \(self.message)" }

    static func badRequest(_ message: String) -> TransitError { TransitError(400, message) }
    static let permissionDenied = TransitError(403, "permission denied")
}

extension TransitError {
    /// The answer for an error an operation threw: what ``ServiceError/normalized(_:)`` lets the
    /// client see, with the status its code maps to (the one place codes become HTTP statuses).
    init(_ error: any Error) {
        if let answered = error as? TransitError {
            self = answered
            return
        }
        let shown = ServiceError.normalized(error)
        self.init(Self.status(shown.code), shown.message)
    }

    /// The HTTP status of a code, as Vault answers the same failures.
    static func status(_ code: BulwarkError.Code) -> Int {
        switch code {
        case .notFound: return 404
        case .permissionDenied: return 403
        case .unavailable: return 503
        case .internalFailure: return 500
        default: return 400
        }
    }
}
