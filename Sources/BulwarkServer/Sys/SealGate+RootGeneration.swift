import Bulwark
import BulwarkStorage
import Foundation
import Synchronization

// MARK: Generating a root token from a quorum of unseal key shares (OpenBao's `sys/generate-root-token`)

extension SealGate {
    /// A root token generation in progress: its nonce, the one-time pad that encodes the new
    /// token (shown once, when it starts), whom it belongs to and the shares entered so far.
    struct RootGeneration {
        let nonce: String
        let otp: String
        /// The token (or certificate subject) that started it: only it may go on or cancel.
        let owner: String
        var collected: [[UInt8]] = []
        var lastActivity: ContinuousClock.Instant = .now
        /// When it started: a generation lasts an hour at most, however busy (a sudo holder
        /// cannot keep one alive with fake shares to block everyone else's).
        let started: ContinuousClock.Instant = .now

        mutating func forget() {
            for index in self.collected.indices { SealGate.wipe(&self.collected[index]) }
            self.collected = []
        }
    }

    /// The one-time pad's alphabet (base62, as OpenBao's).
    private static let otpAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// A one-time pad of `length` base62 characters from the CSPRNG (rejection sampling: no bias).
    static func oneTimePad(length: Int) -> String {
        var out: [UInt8] = []
        while out.count < length {
            for byte in SecureRandom.bytes(length * 2) where byte < 248 && out.count < length {
                out.append(Self.otpAlphabet[Int(byte % 62)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The new root token encoded for its requester: `token XOR otp`, base64 without padding
    /// (what `bao operator generate-root -decode … -otp …` decodes).
    static func encode(token: String, otp: String) throws -> String {
        guard token.utf8.count == otp.utf8.count else { throw TransitError(500, "the new root token does not have the pad's length") }
        let encoded = zip(Array(token.utf8), Array(otp.utf8)).map { $0 ^ $1 }
        return Data(encoded).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// Forgets a generation idle for longer than ``progressLifetime`` (its shares wiped).
    private static func expireRootGeneration(_ state: inout State, now: ContinuousClock.Instant) {
        if let generation = state.rootGeneration, now - generation.lastActivity > Self.progressLifetime || now - generation.started > .seconds(3600) {
            state.rootGeneration?.forget()
            state.rootGeneration = nil
        }
    }

    /// The seal record as stored now, once `shares` (wiped) proved a quorum: they open its master
    /// key (Shamir), or combine to its recovery key (auto-unseal).
    /// - Throws: ``TransitError`` 503 when the record cannot be read, 400 when the shares do not.
    private func verifyQuorum(with shares: inout [[UInt8]]) async throws -> SealConfiguration {
        guard self.configuration?.kind.isAutomatic == true else { return try await self.openStored(with: &shares).0 }
        defer { for index in shares.indices { Self.wipe(&shares[index]) } }
        let record = try await self.storedRecord()
        var recoveryKey = (try? Shamir.combine(shares)) ?? []
        defer { Self.wipe(&recoveryKey) }
        guard record.isRecoveryKey(recoveryKey) else {
            throw TransitError.badRequest("invalid key: the recovery shares entered do not make this store's recovery key; the progress is reset")
        }
        return record
    }

    private static func rootGenerationStatus(_ state: State) -> RootGenerationStatus {
        let required = state.configuration?.threshold ?? 0
        guard let generation = state.rootGeneration else { return RootGenerationStatus(started: false, required: required) }
        return RootGenerationStatus(started: true, required: required, progress: generation.collected.count, nonce: generation.nonce)
    }

    /// `GET sys/generate-root-token/attempt`.
    func rootGenerationStatus() -> RootGenerationStatus {
        self.state.withLock { state in
            Self.expireRootGeneration(&state, now: .now)
            return Self.rootGenerationStatus(state)
        }
    }

    /// `POST sys/generate-root-token/attempt`: starts a generation and answers its nonce and the
    /// one-time pad (once: it is never shown again, and without it the new token cannot be decoded).
    /// - Throws: ``TransitError`` 400 on a static or auto-unseal seal, for a caller's `otp` or
    ///   `pgp_key` (the pad is always the server's), or when a generation is in progress.
    func startRootGeneration(otp: String?, pgpKey: String?, owner: String) throws -> RootGenerationStatus {
        guard self.backend != nil, self.configuration != nil else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): there are no key shares to authorise a root token")
        }
        guard (otp ?? "").isEmpty else {
            throw TransitError.badRequest("otp: the one-time pad is made by the server (leave it out)")
        }
        guard (pgpKey ?? "").isEmpty else {
            throw TransitError.badRequest("pgp_key is not supported: the new token is encoded with the one-time pad the server answers")
        }
        return try self.state.withLock { state in
            Self.expireRootGeneration(&state, now: .now)
            guard state.rootGeneration == nil else {
                throw TransitError.badRequest("root generation already in progress (cancel it with DELETE sys/generate-root-token/attempt)")
            }
            let pad = Self.oneTimePad(length: AuthStore.generatedRootLength)
            state.rootGeneration = RootGeneration(nonce: UUID().uuidString.lowercased(), otp: pad, owner: owner)
            var status = Self.rootGenerationStatus(state)
            status.otp = pad
            return status
        }
    }

    /// `DELETE sys/generate-root-token/attempt`: forgets the generation and its shares (its owner only).
    /// - Parameter byRoot: The root token asks: it may cancel anyone's (a sudo holder cannot hold
    ///   a generation against the operators).
    func cancelRootGeneration(owner: String, byRoot: Bool = false) throws {
        try self.state.withLock { state in
            guard let generation = state.rootGeneration else { return }
            guard byRoot || constantTimeEquals(Array(owner.utf8), Array(generation.owner.utf8)) else {
                throw TransitError(403, "the root generation in progress was started by another token")
            }
            state.rootGeneration?.forget()
            state.rootGeneration = nil
        }
    }

    /// `POST sys/generate-root-token/update`: one unseal key share (a recovery key share for an
    /// auto-unseal store). At the threshold the shares must open the stored master key (with the
    /// expected seal id), or make the store's recovery key; then `mint` makes the new root token,
    /// answered encoded with the generation's one-time pad.
    /// - Throws: ``TransitError`` 400 for no generation, a wrong nonce, a malformed share, or
    ///   shares that do not open the master key (the progress resets; the generation stays).
    func rootGenerationUpdate(key: String, nonce: String, owner: String, mint: () async throws -> String) async throws -> RootGenerationStatus {
        guard !nonce.isEmpty else { throw TransitError.badRequest("nonce is required") }
        var share = try Self.share(key)
        defer { Self.wipe(&share) }
        let step: (ready: [[UInt8]], generation: RootGeneration)? = try self.state.withLock { state in
            Self.expireRootGeneration(&state, now: .now)
            guard !state.sealed else { throw TransitError(503, "Vault is sealed") }
            guard var generation = state.rootGeneration else { throw TransitError.badRequest("no root generation is in progress") }
            guard constantTimeEquals(Array(owner.utf8), Array(generation.owner.utf8)) else {
                throw TransitError(403, "the root generation in progress was started by another token")
            }
            guard constantTimeEquals(Array(nonce.utf8), Array(generation.nonce.utf8)) else {
                throw TransitError.badRequest("incorrect nonce supplied for the root generation in progress")
            }
            generation.lastActivity = .now
            if !generation.collected.contains(where: { $0.last == share.last }) { generation.collected.append(share) }
            guard generation.collected.count >= (state.configuration?.threshold ?? 2) else {
                state.rootGeneration = generation
                return nil
            }
            let full = generation.collected
            generation.collected = []
            state.rootGeneration = generation
            return (full, generation)
        }
        guard var (ready, generation) = step else { return self.rootGenerationStatus() }
        defer { for index in ready.indices { Self.wipe(&ready[index]) } }
        let record = try await self.verifyQuorum(with: &ready)
        // Only once: a generation cancelled (or sealed) meanwhile mints nothing.
        try self.state.withLock { state in
            guard !state.sealed, state.rootGeneration?.nonce == generation.nonce else {
                throw TransitError.badRequest("the root generation was cancelled meanwhile")
            }
            state.rootGeneration = nil
        }
        let token = try await mint()
        var status = RootGenerationStatus(started: true, required: record.threshold, progress: record.threshold, nonce: generation.nonce)
        status.complete = true
        status.encodedToken = try Self.encode(token: token, otp: generation.otp)
        generation.forget()
        return status
    }
}
