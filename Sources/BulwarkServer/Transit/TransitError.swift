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
