/// The error text of an audit line. A compile-time constant cannot quote a request, so it is
/// written as it is; any other text (a backend's message, which may quote input) is hashed.
enum AuditError: Sendable {
    /// A constant message, written in clear.
    case fixed(StaticString)
    /// Any other message, written as its keyed hash.
    case text(String)
}
