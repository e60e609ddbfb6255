import Bulwark
import BulwarkStorage
import Foundation
import Synchronization

/// Tokens as Vault has them: a child lives no longer than its parent (it dies with it, whatever
/// its own TTL) and no longer than its own `explicit_max_ttl`; `num_uses` counts down and the last use ends
/// it; periodic tokens renew to their period; orphans (`no_parent`, root or `sudo` only) stand
/// alone; accessors look tokens up and revoke them without the token; the root token can be
/// revoked too (with everything it made).
extension AuthStore {
    /// The life of a token made without `ttl`, and the most any token gets from a renewal since
    /// its creation: Vault's system defaults (768h).
    static let defaultTTL: Double = 768 * 3600

    /// What a caller may make (the route decides from its policy).
    struct Privileges {
        /// Root, or `sudo` on `auth/token/create`: may make orphans and periodic tokens.
        let mayOrphan: Bool
    }

    /// `auth/token/create` (and `create-orphan`).
    func createToken(
        _ request: TokenCreation, creator: Principal, privileges: Privileges = Privileges(mayOrphan: false), orphan forced: Bool = false
    ) async throws -> AuthAnswer {
        if let type = request.type, type != "service" {
            throw BulwarkError(.invalidArgument, "type: only service tokens are supported")
        }
        let parentRecord: Token?
        let parentHash: String?
        switch creator {
        case .root:
            parentRecord = nil
            parentHash = self.state.withLock { $0.rootHash }
        case .token(let hash, let record):
            // A certificate is no token: what it made would outlive its mapping.
            guard !hash.hasPrefix("cert:") else { throw BulwarkError(.permissionDenied, "a client certificate cannot create tokens; use a token") }
            parentRecord = record
            parentHash = hash
            if record.usesLeft != nil { throw BulwarkError(.permissionDenied, "a token with limited uses cannot create tokens") }
        }
        let noParent = forced || (request.noParent ?? false)
        let period = Self.seconds(request.period)
        if (noParent && !forced) || period != nil, !privileges.mayOrphan {
            throw BulwarkError(.permissionDenied, "no_parent and period need the root token or sudo on auth/token/create")
        }
        var policies: [String]
        if let given = request.policies {
            policies = given
        } else {
            policies = parentRecord?.policies ?? []  // a child inherits its parent's policies, as in Vault
        }
        policies = Array(Set(policies)).sorted()
        if let record = parentRecord, !Set(policies).isSubset(of: Set(record.policies)) {
            throw BulwarkError(.permissionDenied, "a token can only create tokens with a subset of its own policies")
        }
        let now = Date().timeIntervalSince1970
        let requested = Self.seconds(request.ttl ?? request.lease)
        let explicit = Self.seconds(request.explicitMaxTTL)
        let uses = request.numUses ?? 0
        guard (0...Int(Int32.max)).contains(uses) else { throw BulwarkError(.invalidArgument, "num_uses must be an integer from 0 to \(Int32.max)") }
        var ttl = period ?? min(requested ?? Self.defaultTTL, Self.defaultTTL)
        if let explicit { ttl = min(ttl, explicit) }
        // A child's own TTL may be longer than its parent's remaining life (OpenBao reports it so);
        // it dies with its parent all the same (``AuthStore/isLive(_:state:now:)``).
        let expires = now + ttl
        let meta = request.meta ?? request.metadata
        let renewable = request.renewable ?? true
        let displayName = request.displayName.map { "token-" + $0 } ?? "token"
        let token = "bwt." + Base64Token.random(32)
        let record = Token(
            policies: policies, accessor: Base64Token.random(16), displayName: displayName, created: now, expires: expires,
            parent: noParent ? nil : parentHash, explicitMaximum: explicit.map { now + $0 }, period: period, ttl: ttl,
            usesLeft: uses > 0 ? uses : nil, renewable: renewable, meta: meta)
        try await self.put(record, hash: Self.hash(token))
        return AuthAnswer(auth: TokenAuth(
            clientToken: token, accessor: record.accessor, policies: record.policies, leaseDuration: Int(expires - now), renewable: renewable,
            metadata: meta ?? [:], orphan: noParent, numUses: uses))
    }

    /// A duration field as seconds; nil when absent or zero (zero turns the setting off, as in Vault).
    private static func seconds(_ duration: Duration?) -> Double? {
        guard let duration, duration != .zero else { return nil }
        return Double(duration.components.seconds)
    }

    /// Changes a stored token in one store transaction (what is stored now, not what memory held:
    /// a token revoked meanwhile, here or on another node, stays revoked, and its use count is
    /// the store's), then memory.
    /// - Throws: 403 when the token is no longer stored.
    @discardableResult
    func amend(hash: String, _ change: @escaping @Sendable (inout Token) -> Void) async throws -> Token {
        let result = Mutex<Token?>(nil)
        try await self.store.updateDocument(Self.tokenPrefix + hash) { data in
            guard let data, var record = try? JSONDecoder().decode(Token.self, from: data) else { throw BulwarkError(.permissionDenied, "bad token") }
            change(&record)
            result.withLock { $0 = record }
            return try JSONEncoder().encode(record)
        }
        guard let record = result.withLock({ $0 }) else { throw BulwarkError(.permissionDenied, "bad token") }
        self.state.withLock {
            $0.tokens[hash] = record
            Self.wrote(Self.tokenPrefix + hash, in: &$0)
        }
        return record
    }

    /// Writes a new token's record (store first, then memory).
    private func put(_ record: Token, hash: String) async throws {
        let encoded = try JSONEncoder().encode(record)
        try await self.store.updateDocument(Self.tokenPrefix + hash) { _ in encoded }
        self.state.withLock {
            $0.tokens[hash] = record
            Self.wrote(Self.tokenPrefix + hash, in: &$0)
        }
    }

    /// Vault's lookup answer for a principal (`include` the token itself for lookup and lookup-self).
    func lookup(_ principal: Principal, id: String? = nil) -> TokenDescription {
        switch principal {
        case .root:
            return TokenDescription(
                policies: ["root"], displayName: "root", ttl: 0, expireTime: nil, accessor: "", orphan: true, numUses: 0, renewable: false,
                path: "auth/token/root", id: id, writesID: true, details: nil)
        case .token(let hash, let record):
            return Self.describe(record, hash: hash, state: self.state.withLock { $0 }, id: id)
        }
    }

    private static func describe(_ record: Token, hash: String, state: State, id: String?) -> TokenDescription {
        let now = Date().timeIntervalSince1970
        let time = { (value: Double) in ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: value)) }
        return TokenDescription(
            policies: record.policies, displayName: record.displayName, ttl: record.expires.map { max(0, Int($0 - now)) } ?? 0,
            expireTime: record.expires.map(time), accessor: record.accessor, orphan: record.parent == nil, numUses: record.usesLeft ?? 0,
            renewable: record.renewable ?? false, path: "auth/token/create", id: id, writesID: id != nil,
            details: .init(
                creationTime: Int(record.created), creationTTL: Int(record.ttl ?? 0), issueTime: time(record.created),
                explicitMaxTTL: Int(record.explicitMaximum.map { $0 - record.created } ?? 0), period: Int(record.period ?? 0), meta: record.meta ?? [:]))
    }

    /// The hash and record of the live token with this accessor.
    private func byAccessor(_ accessor: String) throws -> (String, Token) {
        let now = Date().timeIntervalSince1970
        let found = self.state.withLock { state in
            state.tokens.first { Self.equal($0.value.accessor, accessor) && Self.isLive($0.value, state: state, now: now) }
        }
        guard let found, !accessor.isEmpty else { throw BulwarkError(.invalidArgument, "invalid accessor") }
        return (found.key, found.value)
    }

    /// `auth/token/lookup-accessor`.
    func lookup(accessor: String) throws -> TokenDescription {
        let (hash, record) = try self.byAccessor(accessor)
        return Self.describe(record, hash: hash, state: self.state.withLock { $0 }, id: nil)
    }

    /// `auth/token/lookup` (another token, given in the body).
    func lookup(token: String) throws -> TokenDescription {
        guard let principal = self.principal(token) else { throw BulwarkError(.permissionDenied, "bad token") }
        return self.lookup(principal, id: token)
    }

    /// `auth/token/accessors` (LIST): every live token's accessor.
    func accessors() -> ListAnswer {
        let now = Date().timeIntervalSince1970
        let keys = self.state.withLock { state in state.tokens.values.filter { Self.isLive($0, state: state, now: now) }.map(\.accessor) }
        return ListAnswer(keys: keys.sorted())
    }

    /// `auth/token/renew-self` and `auth/token/renew`: a periodic token gets its period again; any
    /// other gets `increment` (or its TTL), never past its `explicit_max_ttl` or 768h from its
    /// creation (and it still dies with its parent).
    func renew(hash: String, increment: Duration?) async throws -> AuthAnswer {
        let wanted = Self.seconds(increment)
        let now = Date().timeIntervalSince1970
        let record = try self.state.withLock { state -> Token in
            guard let record = state.tokens[hash], Self.isLive(record, state: state, now: now) else { throw BulwarkError(.permissionDenied, "bad token") }
            return record
        }
        guard record.renewable == true else { throw BulwarkError(.invalidArgument, "lease is not renewable") }
        var expires = now + (record.period ?? wanted ?? record.ttl ?? Self.defaultTTL)
        if record.period == nil { expires = min(expires, record.created + Self.defaultTTL) }
        if let explicit = record.explicitMaximum { expires = min(expires, explicit) }
        let until = max(expires, now)
        let renewed = try await self.amend(hash: hash) { $0.expires = until }
        return AuthAnswer(auth: TokenAuth(
            clientToken: nil, accessor: renewed.accessor, policies: renewed.policies, leaseDuration: Int(renewed.expires.map { $0 - now } ?? 0),
            renewable: true, metadata: renewed.meta ?? [:], orphan: nil, numUses: nil))
    }

    /// Counts one use of a limited-use token, atomically in the store (so nodes share the count);
    /// its last use deletes it.
    /// - Throws: 403 when no use is left.
    func consumeUse(hash: String) async throws {
        let counted = Mutex(0)
        try await self.store.updateDocument(Self.tokenPrefix + hash) { data in
            guard let data, var record = try? JSONDecoder().decode(Token.self, from: data), let uses = record.usesLeft, uses > 0 else {
                throw BulwarkError(.permissionDenied, "permission denied")
            }
            counted.withLock { $0 = uses - 1 }
            if uses == 1 { return nil }
            record.usesLeft = uses - 1
            return try JSONEncoder().encode(record)
        }
        let remaining = counted.withLock { $0 }
        self.state.withLock {
            if remaining == 0 { $0.tokens[hash] = nil } else { $0.tokens[hash]?.usesLeft = remaining }
            Self.wrote(Self.tokenPrefix + hash, in: &$0)
        }
    }

    /// Drops a token deleted from the store (by retention) from memory.
    func forget(hash: String) {
        self.state.withLock {
            $0.tokens[hash] = nil
            Self.wrote(Self.tokenPrefix + hash, in: &$0)
        }
    }

    /// Revokes a token and, unless `orphaningChildren`, every token it made, recursively (their
    /// records are deleted, children first). Revoking the root token makes it unusable for good
    /// (a new one comes from `bulwark operator init` in dev mode, or the key-custody procedure).
    func revoke(token: String, orphaningChildren: Bool = false) async throws {
        try await self.revoke(hash: Self.hash(token), orphaningChildren: orphaningChildren)
    }

    /// `auth/token/revoke-accessor`.
    func revoke(accessor: String) async throws {
        let (hash, _) = try self.byAccessor(accessor)
        try await self.revoke(hash: hash, orphaningChildren: false)
    }

    private func revoke(hash: String, orphaningChildren: Bool) async throws {
        let (isRoot, isFormerRoot, children) = self.state.withLock { state in
            let isRoot = Self.equal(hash, state.rootHash)
            // Revoking the root revokes what the roots it replaced made too (one lineage).
            return (
                isRoot, state.formerRoots.contains(hash),
                state.tokens.filter { $0.value.parent == hash || (isRoot && $0.value.parent.map(state.formerRoots.contains) == true) }
            )
        }
        // A replaced root's children cannot be made orphans (out of reach of the root's revocation).
        if isFormerRoot && orphaningChildren {
            throw BulwarkError(.permissionDenied, "a replaced root token's tokens cannot be orphaned; revoke them with it")
        }
        for (child, record) in children {
            if orphaningChildren {
                _ = record
                try await self.amend(hash: child) { $0.parent = nil }
            } else {
                try await self.revoke(hash: child, orphaningChildren: false)
            }
        }
        if isFormerRoot {
            // A replaced root (leaked, say): its tokens are gone; it stops being a parent.
            try await self.store.dropFormerRootToken(hash: hash)
            self.state.withLock {
                $0.formerRoots.remove(hash)
                Self.wrote(Self.rootKey, in: &$0)
            }
            return
        }
        if isRoot {
            // Only if it is still the stored root: a node that has not seen a newer root yet must
            // not overwrite it (and its lineage) with a revoked one.
            try await self.store.revokeRootToken(hash: hash, replacement: "revoked:" + Base64Token.random(32))
            let fresh = try await self.store.rootTokenHash()
            self.state.withLock {
                $0.rootHash = fresh
                $0.formerRoots = []
                Self.wrote(Self.rootKey, in: &$0)
            }
            return
        }
        try await self.store.updateDocument(Self.tokenPrefix + hash) { _ in nil }
        self.state.withLock {
            $0.tokens[hash] = nil
            Self.wrote(Self.tokenPrefix + hash, in: &$0)
        }
    }
}

extension AuthStore {
    /// A new root token (`sys/generate-root-token`, once a quorum of unseal key shares was
    /// entered): it replaces the current root token, which stops working; the tokens the former
    /// root created stay valid.
    /// - Returns: The new root token (shown once, encoded with the caller's one-time pad).
    func generateRoot() async throws -> String {
        let token = "bwr." + Base64Token.random(32)
        let hash = Self.hash(token)
        let formers = try await self.store.replaceRootToken(hash: hash)
        self.state.withLock {
            $0.rootHash = hash
            $0.formerRoots = Set(formers)
            Self.wrote(Self.rootKey, in: &$0)
        }
        return token
    }

    /// The length of a generated root token (`bwr.` and 43 base64url characters): the one-time
    /// pad's length.
    static let generatedRootLength = 47
}
