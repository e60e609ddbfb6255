import Bulwark
import BulwarkStorage
import Foundation
import Synchronization

// MARK: Rotating the unseal key (OpenBao's `sys/rotate/root`, Vault's rekey)

extension SealGate {
    /// A rotation in progress: the new counts, its nonce, whom it belongs to, the current shares
    /// entered so far, and once they opened the master key, the new record waiting for a quorum of
    /// its own shares (verification) before it replaces the stored one.
    struct Rotation {
        let nonce: String
        let shares: Int
        let threshold: Int
        /// The token (or certificate subject) that started it: only it may go on or cancel.
        let owner: String
        var collected: [[UInt8]] = []
        var lastActivity: ContinuousClock.Instant = .now
        /// The new record and the one it replaces, once the current shares opened the master key.
        var pending: (record: SealConfiguration, replacing: SealConfiguration, verificationNonce: String)?

        mutating func forget() {
            for index in self.collected.indices { SealGate.wipe(&self.collected[index]) }
            self.collected = []
        }
    }

    /// Forgets a rotation idle for longer than ``progressLifetime`` (its shares wiped).
    private static func expireRotation(_ state: inout State, now: ContinuousClock.Instant) {
        if let rotation = state.rotation, now - rotation.lastActivity > Self.progressLifetime {
            state.rotation?.forget()
            state.rotation = nil
        }
    }

    /// `GET sys/rotate/root/init`.
    func rotationStatus() -> RotationStatus {
        self.state.withLock { state in
            Self.expireRotation(&state, now: .now)
            return Self.rotationStatus(state)
        }
    }

    private static func rotationStatus(_ state: State) -> RotationStatus {
        let required = state.configuration?.threshold ?? 0
        guard let rotation = state.rotation else { return RotationStatus(started: false, threshold: 0, shares: 0, required: required) }
        var status = RotationStatus(
            started: true, threshold: rotation.threshold, shares: rotation.shares, required: required, progress: rotation.collected.count,
            nonce: rotation.nonce)
        if let pending = rotation.pending {
            status.verificationNonce = pending.verificationNonce
            status.required = pending.record.threshold
        }
        return status
    }

    /// `POST sys/rotate/root/init`: starts a rotation to `shares` shares of which `threshold` unseal.
    /// - Throws: ``TransitError`` 400 on a static seal, out-of-range counts, or a rotation in progress.
    func startRotation(shares: Int, threshold: Int, owner: String) throws -> RotationStatus {
        guard self.backend != nil, let configuration = self.configuration else {
            throw TransitError.badRequest("this server's master key comes from its configuration (static seal): there are no key shares to rotate")
        }
        guard !configuration.kind.isAutomatic else {
            throw TransitError.badRequest("this store is sealed by \(configuration.kind.rawValue): it has no unseal key shares to rotate")
        }
        guard (2...Shamir.maximumShares).contains(threshold), (threshold...Shamir.maximumShares).contains(shares) else {
            throw TransitError.badRequest("invalid rotate seal configuration: 2 to 255 shares, a threshold of 2 to the number of shares")
        }
        return try self.state.withLock { state in
            Self.expireRotation(&state, now: .now)
            guard state.rotation == nil else { throw TransitError.badRequest("a rotation is already in progress (cancel it with DELETE sys/rotate/root/init)") }
            state.rotation = Rotation(nonce: UUID().uuidString.lowercased(), shares: shares, threshold: threshold, owner: owner)
            return Self.rotationStatus(state)
        }
    }

    /// `DELETE sys/rotate/root/init`: forgets the rotation and its shares (its owner only; the
    /// stored record is unchanged unless verification completed).
    /// - Parameter byRoot: The root token asks: it may cancel anyone's.
    func cancelRotation(owner: String, byRoot: Bool = false) throws {
        try self.state.withLock { state in
            guard let rotation = state.rotation else { return }
            guard byRoot || constantTimeEquals(Array(owner.utf8), Array(rotation.owner.utf8)) else {
                throw TransitError(403, "the rotation in progress was started by another token")
            }
            state.rotation?.forget()
            state.rotation = nil
        }
    }

    /// Takes one share for the rotation in progress (`verifying`: a new share, else a current one);
    /// answers the shares to combine once there are enough.
    private func collect(_ share: [UInt8], nonce: String, owner: String, verifying: Bool) throws -> ([[UInt8]], Rotation)? {
        try self.state.withLock { state in
            Self.expireRotation(&state, now: .now)
            guard !state.sealed else { throw TransitError(503, "Vault is sealed") }
            guard var rotation = state.rotation else { throw TransitError.badRequest("no rotation is in progress") }
            guard constantTimeEquals(Array(owner.utf8), Array(rotation.owner.utf8)) else {
                throw TransitError(403, "the rotation in progress was started by another token")
            }
            let expected = verifying ? rotation.pending?.verificationNonce : (rotation.pending == nil ? rotation.nonce : nil)
            guard let expected else {
                throw TransitError.badRequest(verifying ? "the rotation has no new shares to verify yet" : "the rotation's new shares wait for verification (sys/rotate/root/verify)")
            }
            guard constantTimeEquals(Array(nonce.utf8), Array(expected.utf8)) else {
                throw TransitError.badRequest("incorrect nonce supplied for the rotation in progress")
            }
            rotation.lastActivity = .now
            if !rotation.collected.contains(where: { $0.last == share.last }) { rotation.collected.append(share) }
            let required = (verifying ? rotation.pending?.record.threshold : state.configuration?.threshold) ?? 2
            guard rotation.collected.count >= required else {
                state.rotation = rotation
                return nil
            }
            let full = rotation.collected
            rotation.collected = []
            state.rotation = rotation
            return (full, rotation)
        }
    }

    /// `POST sys/rotate/root/update`: one current share. At the current threshold the shares must
    /// open the stored master key; then a new unseal key wraps it and the new shares are answered,
    /// once. The stored record is not changed yet: a quorum of the new shares must come back
    /// through ``rotationVerify(key:nonce:owner:)`` first, so that shares lost on the way (an answer
    /// that never arrived) cannot leave a store nobody can unseal.
    /// - Throws: ``TransitError`` 400 for no rotation, a wrong nonce, a malformed share, or shares
    ///   that do not open the master key (the progress resets; the rotation stays).
    func rotationUpdate(key: String, nonce: String, owner: String) async throws -> RotationAnswer {
        var share = try Self.share(key)
        defer { Self.wipe(&share) }
        guard case .some((var ready, let rotation)) = try self.collect(share, nonce: nonce, owner: owner, verifying: false) else {
            return RotationAnswer(status: self.rotationStatus())
        }
        defer { for index in ready.indices { Self.wipe(&ready[index]) } }
        let (record, masterKey) = try await self.openStored(with: &ready)
        var (replacement, split) = try SealConfiguration.shamir(wrapping: masterKey, shares: rotation.shares, threshold: rotation.threshold)
        defer { for index in split.indices { Self.wipe(&split[index]) } }
        let verificationNonce = UUID().uuidString.lowercased()
        try self.state.withLock { state in
            guard state.rotation?.nonce == rotation.nonce, !state.sealed else { throw TransitError.badRequest("the rotation was cancelled meanwhile") }
            state.rotation?.pending = (replacement, record, verificationNonce)
        }
        return RotationAnswer(
            complete: true, keys: split.map { Hex.encode($0) }, keysBase64: split.map { Data($0).base64EncodedString() }, nonce: rotation.nonce,
            verificationNonce: verificationNonce)
    }

    /// `POST sys/rotate/root/verify`: one new share. At the new threshold the new shares must open
    /// the pending record's master key; then it replaces the stored record (only if that is still
    /// the one the rotation started from) and the old shares stop working.
    func rotationVerify(key: String, nonce: String, owner: String) async throws -> RotationVerification {
        var share = try Self.share(key)
        defer { Self.wipe(&share) }
        guard case .some((var ready, let rotation)) = try self.collect(share, nonce: nonce, owner: owner, verifying: true),
            let pending = rotation.pending
        else {
            let status = self.rotationStatus()
            return RotationVerification(nonce: status.verificationNonce ?? "", started: true, progress: status.progress ?? 0, required: status.required)
        }
        defer { for index in ready.indices { Self.wipe(&ready[index]) } }
        do {
            _ = try Self.open(pending.record, with: &ready)
        } catch {
            throw TransitError.badRequest("invalid key: the new shares entered do not open the new record; the verification progress is reset")
        }
        guard let backend = self.backend else { throw TransitError.badRequest("this store has no seal record") }
        guard !self.isSealed else { throw TransitError(503, "Vault is sealed") }
        do {
            try await SealConfiguration.replace(pending.replacing, with: pending.record, in: backend)
        } catch {
            throw TransitError(error)
        }
        self.state.withLock { state in
            state.configuration = pending.record
            if state.rotation?.nonce == rotation.nonce { state.rotation = nil }
        }
        return RotationVerification(nonce: pending.verificationNonce, started: false, progress: 0, required: pending.record.threshold, complete: true)
    }
}
