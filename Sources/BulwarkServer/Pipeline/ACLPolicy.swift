import Bulwark

/// A Vault ACL policy: `path "…" { capabilities = [...] }` blocks, with `*` (prefix) and `+`
/// (one segment) globs. A token's policies are merged and matched as Vault does by ``ACL``.
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
}
