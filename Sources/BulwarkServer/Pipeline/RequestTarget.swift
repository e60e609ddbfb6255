/// A request's method and target as the key service understands them, decided once for the router,
/// the fast path and the policy check alike (``parse(method:target:)`` is the only place where a
/// spelling is accepted or refused).
///
/// Only one spelling of each path is accepted: `/v1/` followed by non-empty segments made of
/// letters, digits and `-_.~:@+,=`, with no `.` or `..` segment, no percent-encoding, no trailing
/// slash except on a list request (as Vault lists `transit/keys/`), at most 1,024 bytes. Every
/// other spelling is refused before authentication, so the router (which would drop an empty
/// segment) and the policy check (which would not) can never disagree on what a request names.
/// Methods are `GET`, `PUT`, `POST`, `DELETE` and Vault's `LIST` (arriving as `GET ?list=true`).
package struct RequestTarget: Sendable, Equatable {
    /// The HTTP method (`LIST` for list requests, however they were spelled).
    let method: String
    /// The URL path, canonical, without a trailing slash (what the router matches).
    let path: String
    /// Whether this is a list request (`LIST`, or `GET` with a true `list` query parameter).
    let listing: Bool

    /// The path the policy check matches: without `/v1/`, and with a trailing slash for list
    /// requests, as Vault checks them.
    package var policyPath: String {
        let bare = String(self.path.utf8.dropFirst(4))!
        return self.listing ? bare + "/" : bare
    }

    /// Why a request's target was refused.
    package struct Refusal: Error {
        /// 400 for a malformed target, 404 outside `/v1/`, 405 for a method the service does not take.
        let status: Int
        /// What is wrong: a constant, never quoting the target.
        let reason: StaticString
    }

    /// The longest path accepted.
    static let maximumPathBytes = 1024

    /// Accepts or refuses a request target (`/v1/…[?query]`) and its method.
    package static func parse(method: String, target: String) throws(Refusal) -> RequestTarget {
        var listing = false
        switch method {
        case "GET", "PUT", "POST", "DELETE": break
        case "LIST": listing = true
        default: throw Refusal(status: 405, reason: "unsupported method")
        }
        let utf8 = target.utf8
        let queryStart = utf8.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = target[..<(queryStart ?? utf8.endIndex)]
        if let queryStart {
            let query = target[utf8.index(after: queryStart)...]
            if let asked = try Self.listParameter(query) {
                guard method == "GET" || method == "LIST" else { throw Refusal(status: 405, reason: "list applies to GET requests only") }
                listing = listing || asked
            }
        }
        guard rawPath.utf8.count <= Self.maximumPathBytes else { throw Refusal(status: 400, reason: "request path too long") }
        guard rawPath.utf8.starts(with: "/v1/".utf8) else { throw Refusal(status: 404, reason: "unsupported path") }
        var path = Substring(rawPath)
        if listing, path.utf8.count > 4, path.utf8.last == UInt8(ascii: "/") { path = path.dropLast() }
        var segmentLength = 0
        var dots = 0
        for byte in path.utf8.dropFirst(4) {
            if byte == UInt8(ascii: "/") {
                guard segmentLength > 0 else { throw Refusal(status: 400, reason: "empty path segment") }
                guard dots != segmentLength || dots > 2 else { throw Refusal(status: 400, reason: "dot path segment") }
                segmentLength = 0
                dots = 0
                continue
            }
            guard Self.allowed[Int(byte)] else {
                throw Refusal(status: 400, reason: byte == UInt8(ascii: "%") ? "percent-encoded path" : "invalid character in path")
            }
            segmentLength += 1
            if byte == UInt8(ascii: ".") { dots += 1 }
        }
        guard segmentLength > 0 else {
            throw Refusal(status: 400, reason: path.utf8.count == 4 ? "unsupported path" : "trailing slash in path")
        }
        guard dots != segmentLength || dots > 2 else { throw Refusal(status: 400, reason: "dot path segment") }
        return RequestTarget(method: listing ? "LIST" : method, path: String(path), listing: listing)
    }

    /// The value of the `list` query parameter, read as Vault reads it (Go's `ParseBool`), or nil
    /// when absent; given twice, or with another value, it is refused.
    private static func listParameter(_ query: Substring) throws(Refusal) -> Bool? {
        var found: Bool?
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "list" else { continue }
            guard found == nil else { throw Refusal(status: 400, reason: "list given more than once") }
            switch parts.count == 2 ? parts[1] : "" {
            case "1", "t", "T", "true", "TRUE", "True": found = true
            case "0", "f", "F", "false", "FALSE", "False": found = false
            default: throw Refusal(status: 400, reason: "list must be true or false")
            }
        }
        return found
    }

    /// Bytes allowed inside a path segment.
    private static let allowed: [Bool] = (0..<256).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "@"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="):
            true
        default: false
        }
    }
}
