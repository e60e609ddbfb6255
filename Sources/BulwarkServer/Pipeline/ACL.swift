/// The access-control list of one set of policies, merged and matched as Vault merges and matches
/// them (`vault/acl.go`), so that a policy set means here exactly what it means there.
///
/// - Rules with the same pattern, in any of the policies, are merged: their capabilities add up,
///   and a `deny` in any of them leaves `deny` alone.
/// - A path is decided by one rule: the exact rule for it if there is one (for a list request,
///   also the exact rule without the trailing slash, whose `+` rules match either form); otherwise the highest-priority glob rule
///   that matches, among the longest matching `*` prefix and every matching `+` pattern. Vault's
///   priority, lowest first: the first `+` or `*` comes earlier; ends in `*`; more `+` segments;
///   shorter; lexically smaller.
/// - That rule's capabilities decide; `deny` refuses everything. Nothing matching refuses.
struct ACL: Sendable {
    /// A glob rule: a pattern with `+` segments and/or a trailing `*`.
    private struct Glob: Sendable {
        /// The pattern without its trailing `*`.
        let stem: String
        let segments: [Substring]
        let isPrefix: Bool
        let wildcards: Int
        /// Where the first `+` or `*` stands.
        let firstWildcard: Int
        let capabilities: Set<String>
    }

    private let exact: [String: Set<String>]
    private let globs: [Glob]

    /// Merges the rules of `policies`.
    init(policies: [ACLPolicy]) {
        var merged: [String: Set<String>] = [:]
        var order: [String] = []
        for policy in policies {
            for rule in policy.rules {
                guard let existing = merged[rule.pattern] else {
                    merged[rule.pattern] = rule.capabilities.contains("deny") ? ["deny"] : rule.capabilities
                    order.append(rule.pattern)
                    continue
                }
                if existing.contains("deny") { continue }
                merged[rule.pattern] = rule.capabilities.contains("deny") ? ["deny"] : existing.union(rule.capabilities)
            }
        }
        var exact: [String: Set<String>] = [:]
        var globs: [Glob] = []
        for pattern in order {
            let capabilities = merged[pattern]!
            let isPrefix = pattern.hasSuffix("*")
            let stem = isPrefix ? String(pattern.dropLast()) : pattern
            let segments = stem.split(separator: "/", omittingEmptySubsequences: false)
            let plus = segments.contains("+")
            guard isPrefix || plus else {
                exact[pattern] = capabilities
                continue
            }
            let firstPlus = plus ? Self.firstPlusOffset(segments) : Int.max
            globs.append(
                Glob(
                    stem: stem, segments: segments, isPrefix: isPrefix, wildcards: segments.filter { $0 == "+" }.count,
                    firstWildcard: min(firstPlus, isPrefix ? stem.utf8.count : Int.max), capabilities: capabilities))
        }
        self.exact = exact
        self.globs = globs
    }

    /// The byte offset of the first `+` segment.
    private static func firstPlusOffset(_ segments: [Substring]) -> Int {
        var offset = 0
        for segment in segments {
            if segment == "+" { return offset }
            offset += segment.utf8.count + 1
        }
        return Int.max
    }

    /// The capabilities of the rule that decides `path` (policy form: no `/v1/`; a list request's
    /// path ends in `/`), or nil when no rule matches.
    func capabilities(for path: String, listing: Bool) -> Set<String>? {
        if let found = self.exact[path] { return found }
        if listing, path.hasSuffix("/"), let found = self.exact[String(path.dropLast())] { return found }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // A list request's `+` rules also match its path without the trailing slash (as OpenBao
        // lets `transit/+` list `transit/keys`).
        let bareParts = listing && parts.count > 1 && parts.last == "" ? Array(parts.dropLast()) : nil
        var best: Glob?
        var longestPlainPrefix: Glob?
        for glob in self.globs
        where Self.matches(glob, path: path, parts: parts) || (glob.wildcards > 0 && bareParts.map { Self.matches(glob, path: path, parts: $0) } == true) {
            if glob.wildcards == 0 {
                // Vault consults only the longest matching plain prefix rule.
                if longestPlainPrefix == nil || glob.stem.utf8.count > longestPlainPrefix!.stem.utf8.count { longestPlainPrefix = glob }
                continue
            }
            if best == nil || Self.lowerPriority(best!, than: glob) { best = glob }
        }
        if let prefix = longestPlainPrefix, best == nil || Self.lowerPriority(best!, than: prefix) { best = prefix }
        return best?.capabilities
    }

    /// Whether the rule decides `path` with a capability in `wanted`, plus `sudo` when
    /// `needsSudo`.
    func allows(_ path: String, listing: Bool, capability wanted: String, needsSudo: Bool) -> Bool {
        guard let granted = self.capabilities(for: path, listing: listing), !granted.contains("deny") else { return false }
        return granted.contains(wanted) && (!needsSudo || granted.contains("sudo"))
    }

    private static func matches(_ glob: Glob, path: String, parts: [Substring]) -> Bool {
        if glob.wildcards == 0 { return path.hasPrefix(glob.stem) }
        guard parts.count >= glob.segments.count, glob.isPrefix || parts.count == glob.segments.count else { return false }
        for (index, segment) in glob.segments.enumerated() {
            if segment == "+" || segment == parts[index] { continue }
            if glob.isPrefix, index == glob.segments.count - 1, parts[index].hasPrefix(segment) { continue }
            return false
        }
        return true
    }

    /// Vault's order of glob rules (`CheckAllowedFromNonExactPaths`).
    private static func lowerPriority(_ a: Glob, than b: Glob) -> Bool {
        if a.firstWildcard != b.firstWildcard { return a.firstWildcard < b.firstWildcard }
        if a.isPrefix != b.isPrefix { return a.isPrefix }
        if a.wildcards != b.wildcards { return a.wildcards > b.wildcards }
        if a.stem.utf8.count != b.stem.utf8.count { return a.stem.utf8.count < b.stem.utf8.count }
        return a.stem < b.stem
    }
}
