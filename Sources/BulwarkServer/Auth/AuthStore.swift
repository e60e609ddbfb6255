import Bulwark
import BulwarkStorage
import Crypto
import Foundation
import Synchronization

/// Tokens and ACL policies of the key service, each a sealed entry in the store.
///
/// Tokens are random 256-bit values handed out once and stored only as SHA-256 hashes (the
/// entry path is `auth/tokens/<hash>`), with their policies, an expiry and an accessor; a revoked
/// or expired token is refused. Policies are Vault's HCL (``ACLPolicy``) at
/// `auth/policies/<name>`. The root token (its hash recorded at initialisation) holds every
/// capability. Lookups are served from memory; ``reload()`` picks up other nodes' changes.
final class AuthStore: Sendable {
    /// A token's record (see `AuthStore+Tokens.swift` for its life as Vault has it).
    struct Token: Codable {
        var policies: [String]
        var accessor: String
        var displayName: String
        var created: Double
        var expires: Double?
        /// The hash of the token that made it (revoking that one revokes this one); nil for an orphan.
        var parent: String?
        /// The latest moment it may live to, however renewed (`explicit_max_ttl`).
        var explicitMaximum: Double?
        /// A periodic token's period: each renewal gives it this long again.
        var period: Double?
        /// The TTL it was made with (what a renewal without `increment` gives).
        var ttl: Double?
        /// Uses left (nil: unlimited); the last use revokes it.
        var usesLeft: Int?
        var renewable: Bool?
        var meta: [String: String]?
    }

    struct State {
        /// This node's token and policy writes, against the snapshots a reload applies.
        var local = LocalWrites()
        var rootHash: String
        /// Root tokens replaced by generated ones: no longer credentials, still parents.
        var formerRoots: Set<String> = []
        var policies: [String: String] = [:]
        var parsed: [String: ACLPolicy] = [:]
        var tokens: [String: Token] = [:]
        /// Merged ACLs by policy set (emptied whenever a policy changes).
        var acls: [[String]: ACL] = [:]
        /// Entries the last load could not read (path → reason), skipped: a token that cannot be
        /// read is refused, a policy that cannot be read grants nothing.
        var unreadable: [String: String] = [:]
    }

    /// The token and policy entries the last load skipped because they could not be read.
    var unreadableEntries: [String: String] { self.state.withLock { $0.unreadable } }

    enum Principal {
        case root
        case token(hash: String, Token)
    }

    let store: SealedStore
    let state: Mutex<State>
    static let tokenPrefix = "auth/tokens/"
    static let policyPrefix = "auth/policies/"

    private init(store: SealedStore, state: State) {
        self.store = store
        self.state = Mutex(state)
    }

    static func open(store: SealedStore) async throws -> AuthStore {
        AuthStore(store: store, state: try await Self.load(store))
    }

    private static func load(_ store: SealedStore, from snapshot: StoreSnapshot? = nil) async throws -> State {
        let snapshot = if let snapshot { snapshot } else { try await store.snapshot() }
        var state: State
        do {
            state = State(rootHash: try store.rootTokenHash(in: snapshot))
            state.formerRoots = Set(store.formerRootTokenHashes(in: snapshot))
        } catch let error as BulwarkError where error.code != .notInitialized {
            // The root record cannot be read: no root token until it is repaired; everything else loads.
            state = State(rootHash: "unreadable:" + Base64Token.random(32))
            state.unreadable["sys/init"] = "\(error.code): \(error.message)"
        }
        let policies = try await store.readableDocuments(prefix: Self.policyPrefix, in: snapshot)
        state.unreadable.merge(policies.unreadable) { $1 }
        for (path, data) in policies.values {
            let name = String(path.dropFirst(Self.policyPrefix.count))
            let text = String(decoding: data, as: UTF8.self)
            guard let parsed = try? ACLPolicy(hcl: text) else {
                state.unreadable[path] = "not a valid policy"
                continue
            }
            state.policies[name] = text
            state.parsed[name] = parsed
        }
        let tokens = try await store.readableDocuments(prefix: Self.tokenPrefix, in: snapshot)
        state.unreadable.merge(tokens.unreadable) { $1 }
        for (path, data) in tokens.values {
            guard let token = try? JSONDecoder().decode(Token.self, from: data) else {
                state.unreadable[path] = "not a valid token record"
                continue
            }
            state.tokens[String(path.dropFirst(Self.tokenPrefix.count))] = token
        }
        return state
    }

    /// Local writes so far (read before a snapshot is taken; see ``reload(from:writesBefore:)``).
    var writeCount: UInt64 { self.state.withLock { $0.local.count } }

    /// Reloads tokens and policies from the store (after another node changed them).
    ///
    /// The snapshot is applied unless a newer one was (see ``LocalWrites``), even while this node
    /// writes, but the entries this node wrote while it was being read
    /// keep their in-memory value (the snapshot may predate the write: a token revoked here must
    /// not come back). So a stream of local writes (renewals, say) cannot keep other nodes'
    /// changes out.
    /// - Returns: False when such entries were kept: refresh again to settle them.
    @discardableResult
    func reload(from snapshot: StoreSnapshot? = nil, writesBefore: UInt64? = nil) async throws -> Bool {
        let before = writesBefore ?? self.writeCount
        let snapshot = if let snapshot { snapshot } else { try await self.store.snapshot() }
        var fresh = try await Self.load(self.store, from: snapshot)
        return self.state.withLock { state in
            // A newer snapshot was applied meanwhile: this one would bring back what it replaced.
            guard let kept = state.local.admit(snapshot.sequence, writesBefore: before) else { return true }
            for key in kept {
                if key == Self.rootKey {
                    fresh.rootHash = state.rootHash
                    fresh.formerRoots = state.formerRoots
                } else if key.hasPrefix(Self.tokenPrefix) {
                    let hash = String(key.dropFirst(Self.tokenPrefix.count))
                    fresh.tokens[hash] = state.tokens[hash]
                } else if key.hasPrefix(Self.policyPrefix) {
                    let name = String(key.dropFirst(Self.policyPrefix.count))
                    fresh.policies[name] = state.policies[name]
                    fresh.parsed[name] = state.parsed[name]
                }
            }
            fresh.local = state.local
            state = fresh
            return kept.isEmpty
        }
    }

    /// The key under which a change to the root token is noted in ``State/local``.
    static let rootKey = "sys/init"

    /// Notes a local write of the entry at `key` (a token or policy path, or ``rootKey``).
    static func wrote(_ key: String, in state: inout State) {
        state.local.note(key)
    }

    /// Constant-time comparison of two hashes (specialised: the generic helper is slow per request).
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs, rhs = rhs
        return lhs.withUTF8 { a in
            rhs.withUTF8 { b in
                guard a.count == b.count else { return false }
                var difference: UInt8 = 0
                for index in 0..<a.count { difference |= a[index] ^ b[index] }
                return difference == 0
            }
        }
    }

    static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    /// Who presents `token`, or nil when it is unknown, revoked or expired, or when any token
    /// it descends from is (a child never outlives its parent).
    func principal(_ token: String) -> Principal? {
        let hashed = Self.hash(token)
        let now = Date().timeIntervalSince1970
        return self.state.withLock { state -> Principal? in
            if Self.equal(hashed, state.rootHash) { return .root }
            guard let record = state.tokens[hashed], Self.isLive(record, state: state, now: now) else { return nil }
            return .token(hash: hashed, record)
        }
    }

    /// Whether a token and each of its ancestors are unexpired and still there.
    static func isLive(_ record: Token, state: State, now: Double) -> Bool {
        var current = record
        for _ in 0..<64 {
            if let expires = current.expires, now >= expires { return false }
            guard let parent = current.parent else { return true }
            if Self.equal(parent, state.rootHash) || state.formerRoots.contains(parent) { return true }
            guard let next = state.tokens[parent] else { return false }
            current = next
        }
        return false
    }

    /// The principal of a request authenticated by a verified client certificate (mutual TLS).
    func certificatePrincipal(_ subject: String, policies: [String]) -> Principal {
        .token(hash: "cert:" + subject, Token(policies: policies, accessor: "", displayName: "cert:" + subject, created: 0, expires: nil))
    }

    /// Whether `principal` may use `capability` on `path` (policy form, see
    /// ``RequestTarget/policyPath``), with `sudo` as well when `needsSudo`, under Vault's rules
    /// (``ACL``). The root token may do everything.
    func allows(_ principal: Principal, path: String, listing: Bool = false, capability: String, needsSudo: Bool = false) -> Bool {
        guard case .token(_, let record) = principal else { return true }
        return self.acl(for: record.policies).allows(path, listing: listing, capability: capability, needsSudo: needsSudo)
    }

    /// The merged ACL of a set of policies (cached until a policy changes).
    private func acl(for policies: [String]) -> ACL {
        self.state.withLock { state in
            if let cached = state.acls[policies] { return cached }
            // A policy whose entry cannot be read might have held a deny: a token that carries one
            // gets nothing at all until it is repaired (fail closed, not "the others grant more").
            let damaged = policies.contains { state.unreadable[Self.policyPrefix + $0] != nil }
            let made = ACL(policies: damaged ? [] : policies.compactMap { state.parsed[$0] })
            if state.acls.count >= 1024 { state.acls.removeAll(keepingCapacity: true) }
            state.acls[policies] = made
            return made
        }
    }

    /// Whether a policy of that name exists.
    func hasPolicy(_ name: String) -> Bool {
        self.state.withLock { $0.policies[name] != nil }
    }

    func writePolicy(_ name: String, _ request: PolicyWrite) async throws {
        guard let text = request.policy ?? request.rules,
            !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw BulwarkError(.invalidArgument, "missing policy")
        }
        guard name != "root", !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw BulwarkError(.invalidArgument, "invalid policy name")
        }
        let policy: ACLPolicy
        do { policy = try ACLPolicy(hcl: text) } catch let error as BulwarkError {
            throw BulwarkError(.invalidArgument, "failed to parse policy: \(error.message)")
        }
        try await self.store.updateDocument(Self.policyPrefix + name) { _ in Data(text.utf8) }
        self.state.withLock {
            $0.policies[name] = text
            $0.parsed[name] = policy
            $0.acls.removeAll()
            Self.wrote(Self.policyPrefix + name, in: &$0)
        }
    }

    func readPolicy(_ name: String) throws -> PolicyDescription {
        guard let text = self.state.withLock({ $0.policies[name] }) else { throw BulwarkError(.notFound, "policy not found") }
        return PolicyDescription(name: name, rules: text, policy: text)
    }

    func deletePolicy(_ name: String) async throws {
        guard name != "root" else { throw BulwarkError(.invalidArgument, "cannot delete the root policy") }
        try await self.store.updateDocument(Self.policyPrefix + name) { _ in nil }
        self.state.withLock {
            $0.policies[name] = nil
            $0.parsed[name] = nil
            $0.acls.removeAll()
            Self.wrote(Self.policyPrefix + name, in: &$0)
        }
    }

    func listPolicies() -> PolicyList {
        let names = ["root"] + self.state.withLock { $0.policies.keys.sorted() }
        return PolicyList(keys: names, policies: names)
    }

}

/// Random URL-safe token text.
enum Base64Token {
    /// `bytes` random bytes as unpadded base64url.
    static func random(_ bytes: Int) -> String {
        Base64URL.encode(SecureRandom.bytes(bytes))
    }
}
