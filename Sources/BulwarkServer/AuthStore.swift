import Bulwark
import BulwarkKeystore
import Crypto
import Foundation
import Synchronization

/// Tokens and ACL policies of the key service, sealed in the keystore with the keys.
///
/// Tokens are random 256-bit values handed out once and stored only as SHA-256 hashes, with their
/// policies, an expiry and an accessor; a revoked or expired token is refused. Policies are
/// Vault's HCL (``ACLPolicy``). The root token holds every capability.
final class AuthStore: Sendable {
    struct Token: Codable {
        var policies: [String]
        var accessor: String
        var displayName: String
        var created: Double
        var expires: Double?
    }

    struct State: Codable {
        var policies: [String: String] = [:]
        var tokens: [String: Token] = [:]
    }

    enum Principal {
        case root
        case token(hash: String, Token)
    }

    private let backend: TransitBackend
    private let rootHash: String
    private let state: Mutex<State>
    private let parsed: Mutex<[String: ACLPolicy]>
    static let document = "bulwark.auth"

    init(backend: TransitBackend, rootToken: String) throws {
        self.backend = backend
        self.rootHash = Self.hash(rootToken)
        let stored = try backend.keystore.load().documents[Self.document]
        let state = try stored.map { try JSONDecoder().decode(State.self, from: $0) } ?? State()
        var parsed: [String: ACLPolicy] = [:]
        for (name, text) in state.policies { parsed[name] = try ACLPolicy(hcl: text) }
        self.state = Mutex(state)
        self.parsed = Mutex(parsed)
    }

    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    /// Who presents `token`, or nil when it is unknown, revoked or expired.
    func principal(_ token: String) -> Principal? {
        let hashed = Self.hash(token)
        if hashed == self.rootHash { return .root }
        guard let record = self.state.withLock({ $0.tokens[hashed] }) else { return nil }
        if let expires = record.expires, Date().timeIntervalSince1970 >= expires { return nil }
        return .token(hash: hashed, record)
    }

    /// Whether `principal` may use `capability` (or one of `alternatives`) on `path`.
    func allows(_ principal: Principal, path: String, capabilities wanted: [String]) -> Bool {
        guard case .token(_, let record) = principal else { return true }
        let policies = self.parsed.withLock { parsed in record.policies.compactMap { parsed[$0] } }
        var granted: Set<String> = []
        for policy in policies {
            guard let capabilities = policy.capabilities(for: path) else { continue }
            if capabilities.contains("deny") { return false }
            granted.formUnion(capabilities)
        }
        return wanted.contains { granted.contains($0) }
    }

    private func save(_ change: (inout State) throws -> Void) throws {
        try self.backend.mutate { contents in
            var state = self.state.withLock { $0 }
            try change(&state)
            contents.documents[Self.document] = try JSONEncoder().encode(state)
            let snapshot = state
            self.state.withLock { $0 = snapshot }
        }
    }

    func writePolicy(_ name: String, _ body: [String: Any]) throws {
        guard let text = body["policy"] as? String ?? body["rules"] as? String else {
            throw TransitError.badRequest("missing policy")
        }
        guard name != "root", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw TransitError.badRequest("invalid policy name")
        }
        let policy: ACLPolicy
        do { policy = try ACLPolicy(hcl: text) } catch let error as BulwarkError {
            throw TransitError.badRequest("failed to parse policy: \(error.message)")
        }
        try self.save { $0.policies[name] = text }
        self.parsed.withLock { $0[name] = policy }
    }

    func readPolicy(_ name: String) throws -> [String: Any] {
        guard let text = self.state.withLock({ $0.policies[name] }) else { throw TransitError(404, "policy not found") }
        return ["name": name, "rules": text, "policy": text]
    }

    func deletePolicy(_ name: String) throws {
        try self.save { $0.policies[name] = nil }
        self.parsed.withLock { $0[name] = nil }
    }

    func listPolicies() -> [String: Any] {
        let names = ["root"] + self.state.withLock { $0.policies.keys.sorted() }
        return ["keys": names, "policies": names]
    }

    func createToken(_ body: [String: Any], creator: Principal) throws -> [String: Any] {
        let policies = (body["policies"] as? [String]) ?? []
        if case .token(_, let record) = creator, !Set(policies).isSubset(of: Set(record.policies)) {
            throw TransitError(403, "a token can only create tokens with a subset of its own policies")
        }
        let ttl = try TransitBackend.duration(body["ttl"]).map { Double($0.components.seconds) }
        let token = "bwt." + Base64Token.random(32)
        let record = Token(
            policies: policies.sorted(), accessor: Base64Token.random(16), displayName: body["display_name"] as? String ?? "token",
            created: Date().timeIntervalSince1970, expires: ttl.map { Date().timeIntervalSince1970 + $0 })
        try self.save { $0.tokens[Self.hash(token)] = record }
        return ["__auth": [
            "client_token": token, "accessor": record.accessor, "policies": record.policies, "token_policies": record.policies,
            "lease_duration": Int(ttl ?? 0), "renewable": false, "metadata": NSNull(),
        ] as [String: Any]]
    }

    func lookup(_ principal: Principal) -> [String: Any] {
        switch principal {
        case .root:
            return ["policies": ["root"], "display_name": "root", "ttl": 0, "expire_time": NSNull(), "accessor": ""]
        case .token(_, let record):
            let ttl = record.expires.map { max(0, Int($0 - Date().timeIntervalSince1970)) } ?? 0
            return ["policies": record.policies, "display_name": record.displayName, "ttl": ttl, "accessor": record.accessor,
                    "expire_time": record.expires.map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } as Any? ?? NSNull()]
        }
    }

    func revoke(token: String) throws {
        try self.save { $0.tokens[Self.hash(token)] = nil }
    }
}

/// Random URL-safe token text.
enum Base64Token {
    static func random(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
