import HTTPTypes

/// The API's endpoint table: every ``Endpoint`` the server serves, and what is read from it.
///
/// `Endpoints.all` is the one list; a group of endpoints lives in its own file, as Vault's
/// `path_*.go` (``SysEndpoints``, ``SealEndpoints``, ``PolicyEndpoints``, ``TransitKeyEndpoints``,
/// ``TransitCryptoEndpoints``, ``TokenEndpoints``, ``TransformEndpoints``).
package struct Endpoints: Sendable {
    /// The API as served.
    static let all: [Endpoint] =
        SysEndpoints.all
        + SealEndpoints.all
        + PolicyEndpoints.all
        + TransitKeyEndpoints.all
        + TransitCryptoEndpoints.all
        + TokenEndpoints.all
        + TransformEndpoints.all

    /// The fields the table's endpoint that takes a body (`POST`/`PUT`) at `pattern` accepts, or
    /// nil when the table has none there: for the fuzz harnesses, which send bodies to the
    /// backends directly and must refuse what the server refuses.
    package static func writeFields(ofPattern pattern: String) -> Set<String>? {
        Self.all.first { $0.path == pattern && $0.operation.methods.contains(.post) }?.fields
    }

    /// The methods the API takes, in the order an `Allow` header lists them.
    static let methodOrder = ["GET", "PUT", "POST", "DELETE"]

    /// The methods any path may take, for a target that names none of the API's paths.
    static let anyMethods = methodOrder.joined(separator: ", ")

    /// The table's endpoints, in order.
    let endpoints: [Endpoint]
    /// Indices into ``endpoints`` by the pattern's first two segments (every pattern starts with
    /// two literal ones: `transit/encrypt`, `sys/policy`, …).
    private let index: [Substring: [Int]]
    /// The endpoints the fast path serves, with the path prefix before their `:name`.
    let fastPaths: [(prefix: String, endpoint: Endpoint)]
    /// Every request field some endpoint writes in clear in the audit log.
    let auditClear: Set<String>

    /// Indexes a table.
    init(_ endpoints: [Endpoint] = Endpoints.all) {
        self.endpoints = endpoints
        var index: [Substring: [Int]] = [:]
        for (position, endpoint) in endpoints.enumerated() {
            let segments = endpoint.path.split(separator: "/", omittingEmptySubsequences: false)
            precondition(segments.count >= 2 && !segments[0].hasPrefix(":") && !segments[1].hasPrefix(":"), "an endpoint's path starts with two literal segments")
            index[endpoint.path[segments[0].startIndex..<segments[1].endIndex], default: []].append(position)
        }
        self.index = index
        self.fastPaths = endpoints.compactMap { endpoint in
            guard endpoint.fastPath != nil, endpoint.path.hasSuffix("/:name"),
                endpoint.path.dropLast(6).allSatisfy({ $0 != ":" })
            else { return nil }
            return ("/v1/" + endpoint.path.dropLast(5), endpoint)
        }
        self.auditClear = endpoints.reduce(into: []) { $0.formUnion($1.auditClear) }
    }

    /// The positions in ``endpoints`` of the endpoints whose pattern matches `path` (canonical,
    /// from ``RequestTarget``: `/v1/…`), whatever their methods, in table order. Runs on every
    /// request (the policy check's requirement), so it allocates only its answer and copies no
    /// descriptor.
    func positions(_ path: Substring) -> [Int] {
        guard path.utf8.starts(with: "/v1/".utf8) else { return [] }
        let rest = path.dropFirst(4)
        // The index's key: the first two segments.
        guard let first = rest.utf8.firstIndex(of: UInt8(ascii: "/")) else { return [] }
        let second = rest.utf8[rest.utf8.index(after: first)...].firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        guard let candidates = self.index[rest[..<second]] else { return [] }
        return candidates.filter { Self.matches(self.endpoints[$0].segments, rest) }
    }

    /// Whether a pattern's segments match a path's (after `/v1/`), segment by segment.
    private static func matches(_ pattern: [Substring?], _ path: Substring) -> Bool {
        var segment = 0
        var start = path.startIndex
        while true {
            let end = path.utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
            guard segment < pattern.count else { return false }
            if let literal = pattern[segment], literal != path[start..<end] { return false }
            segment += 1
            guard end < path.endIndex else { return segment == pattern.count }
            start = path.utf8.index(after: end)
        }
    }

    /// The segment of `path` (canonical: `/v1/…`) at `position` among the segments after `/v1/`.
    static func segment(_ path: Substring, at position: Int) -> Substring? {
        path.dropFirst(4).split(separator: "/", maxSplits: position + 1, omittingEmptySubsequences: false).dropFirst(position).first
    }

    /// The endpoints whose pattern matches `path` (canonical, from ``RequestTarget``: `/v1/…`),
    /// whatever their methods.
    func matches(_ path: Substring) -> [Endpoint] {
        self.positions(path).map { self.endpoints[$0] }
    }

    /// The methods `path` (canonical) takes, or nil when it is not one of the API's paths.
    func methods(_ path: Substring) -> [String]? {
        let matched = self.matches(path)
        guard !matched.isEmpty else { return nil }
        let methods = Set(matched.flatMap { $0.operation.methods.map(\.rawValue) })
        return Self.methodOrder.filter(methods.contains)
    }

    /// Whether `path` is one of the API's paths.
    func isKnown(_ path: String) -> Bool { !self.matches(Substring(path)).isEmpty }

    /// The `Allow` header for a 405 answer: the methods of `path` (canonical), or every method
    /// for nil or a path the API does not have.
    func allow(path: String?) -> String {
        guard let path, let methods = self.methods(Substring(path)) else { return Self.anyMethods }
        return methods.joined(separator: ", ")
    }
}
