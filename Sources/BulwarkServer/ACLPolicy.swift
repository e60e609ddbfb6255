import Bulwark

/// A Vault ACL policy: `path "…" { capabilities = [...] }` blocks, with `*` (prefix) and `+`
/// (one segment) globs. The most specific matching path of a policy applies; across a token's
/// policies capabilities add up, and `deny` wins.
public struct ACLPolicy: Sendable, Hashable {
    /// One `path` block.
    public struct Rule: Sendable, Hashable {
        /// The path pattern.
        public let pattern: String
        /// The capabilities granted (`create`, `read`, `update`, `delete`, `list`, `sudo`, `deny`).
        public let capabilities: Set<String>
    }

    /// The rules, in the order written.
    public let rules: [Rule]
    static let known: Set<String> = ["create", "read", "update", "patch", "delete", "list", "sudo", "deny"]

    /// Parses Vault's HCL policy text (the subset policies use).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` with the problem.
    public init(hcl text: String) throws {
        var rules: [Rule] = []
        var rest = Substring(Self.strippingComments(text))
        func skipSpace() { rest = rest.drop(while: { $0.isWhitespace }) }
        func expect(_ token: String) throws {
            skipSpace()
            guard rest.hasPrefix(token) else { throw BulwarkError(.invalidFormat, "policy: expected '\(token)'") }
            rest = rest.dropFirst(token.count)
        }
        func quoted() throws -> String {
            skipSpace()
            guard rest.first == "\"" else { throw BulwarkError(.invalidFormat, "policy: expected a quoted string") }
            rest = rest.dropFirst()
            guard let end = rest.firstIndex(of: "\"") else { throw BulwarkError(.invalidFormat, "policy: unterminated string") }
            let value = String(rest[..<end])
            rest = rest[rest.index(after: end)...]
            return value
        }
        skipSpace()
        while !rest.isEmpty {
            try expect("path")
            let pattern = try quoted()
            try expect("{")
            var capabilities: Set<String> = []
            skipSpace()
            while !rest.hasPrefix("}") {
                guard !rest.isEmpty else { throw BulwarkError(.invalidFormat, "policy: unterminated path block") }
                let name = rest.prefix(while: { $0.isLetter || $0 == "_" })
                guard !name.isEmpty else { throw BulwarkError(.invalidFormat, "policy: expected an attribute") }
                rest = rest.dropFirst(name.count)
                try expect("=")
                if name == "capabilities" {
                    try expect("[")
                    skipSpace()
                    while !rest.hasPrefix("]") {
                        let capability = try quoted()
                        guard Self.known.contains(capability) else {
                            throw BulwarkError(.invalidFormat, "policy: unknown capability '\(capability)'")
                        }
                        capabilities.insert(capability)
                        skipSpace()
                        if rest.hasPrefix(",") { rest = rest.dropFirst() }
                        skipSpace()
                    }
                    try expect("]")
                } else {
                    throw BulwarkError(.invalidFormat, "policy: unsupported attribute '\(name)'")
                }
                skipSpace()
            }
            try expect("}")
            rules.append(Rule(pattern: pattern, capabilities: capabilities))
            skipSpace()
        }
        self.rules = rules
    }

    static func strippingComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var inString = false
            var index = line.startIndex
            while index < line.endIndex {
                let character = line[index]
                if character == "\"" { inString.toggle() }
                if !inString, character == "#" || (character == "/" && line[line.index(after: index)...].hasPrefix("/")) {
                    return line[..<index]
                }
                index = line.index(after: index)
            }
            return line
        }.joined(separator: "\n")
    }

    /// The capabilities this policy grants on `path` (no leading `/v1/`), from its most specific
    /// matching rule; nil when none matches.
    func capabilities(for path: String) -> Set<String>? {
        var best: (rank: Int, capabilities: Set<String>)?
        for rule in self.rules {
            guard let rank = Self.match(rule.pattern, path) else { continue }
            if best == nil || rank > best!.rank { best = (rank, rule.capabilities) }
        }
        return best?.capabilities
    }

    /// How specifically `pattern` matches `path` (higher is more specific), or nil.
    static func match(_ pattern: String, _ path: String) -> Int? {
        if pattern == path { return Int.max }
        let patternParts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let pathParts = path.split(separator: "/", omittingEmptySubsequences: false)
        var rank = 0
        for (index, part) in patternParts.enumerated() {
            let isLast = index == patternParts.count - 1
            if isLast, part.hasSuffix("*") {
                let prefix = part.dropLast()
                guard index < pathParts.count, pathParts[index].hasPrefix(prefix) else {
                    return index == pathParts.count && prefix.isEmpty ? rank : nil
                }
                return rank + prefix.count
            }
            guard index < pathParts.count else { return nil }
            if part == "+" {
                rank += 1
            } else {
                guard part == pathParts[index] else { return nil }
                rank += 2 + part.count
            }
        }
        return patternParts.count == pathParts.count ? rank + 1000 : nil
    }
}
