import Bulwark
import BulwarkStorage
import Foundation
import Synchronization

/// Counts the encryptions each key version makes with a random 96-bit nonce (AES-GCM,
/// ChaCha20-Poly1305) against NIST SP 800-38D §8.3's bound: no more than 2^32 invocations of
/// the encryption function with random IVs under one key.
///
/// The count lives in the store as the number of encryptions *reserved* per version
/// (`transit/usage/<key>/<version>`), raised a block at a time in one transaction, so nodes
/// sharing the store share the count and a crash can only over-count (the unused rest of a
/// block is lost, never reused). Each node spends its blocks in memory and reserves the next one
/// in the background when half of the current one is gone. When a version's reservations reach
/// the limit, the key rotates (``TransitBackend`` does it when `auto_rotate_period` is set) or
/// its encryptions are refused.
final class EncryptionBudget: Sendable {
    /// A key version.
    struct Version: Hashable, Sendable {
        let key: String
        let version: UInt32
    }

    private struct Account {
        /// Encryptions this node may still make from the blocks it reserved.
        var available: UInt64 = 0
        /// All nodes' reservations as of this node's last one.
        var reserved: UInt64 = 0
        /// A background reservation was asked for and has not finished.
        var reserving = false
        /// Reservations under way (background or awaited).
        var inFlight = 0
    }

    /// How a request to spend went.
    enum Spend: Equatable {
        case granted
        /// No reserved encryptions left here: reserve (``reserve(_:store:)``) and try again.
        case needsReservation
    }

    /// The most encryptions per version (2^32 by default).
    let limit: UInt64
    /// How many encryptions one reservation takes.
    let block: UInt64
    private let accounts = Mutex<[Version: Account]>([:])
    /// Told of every reservation: the version and all nodes' reservations for it.
    private let observer = Mutex<(@Sendable (Version, UInt64) -> Void)?>(nil)

    /// Sets what is told of every reservation (the server's gauge and warning).
    func observe(_ body: @escaping @Sendable (Version, UInt64) -> Void) {
        self.observer.withLock { $0 = body }
    }

    init(limit: UInt64 = 1 << 32, block: UInt64 = 1 << 20) {
        self.limit = limit
        self.block = max(1, min(block, limit))
    }

    /// Whether `type` draws random 96-bit nonces (and so is counted).
    static func counts(_ type: KeyType) -> Bool {
        switch type {
        case .aes256GCM, .aes128GCM, .chacha20Poly1305: true
        default: false
        }
    }

    /// Spends `count` encryptions of `version` from this node's reservation.
    /// - Returns: `.granted`, and whether a background reservation should start now (half a
    ///   block or less left), or `.needsReservation`.
    func spend(_ version: Version, count: Int) -> (Spend, prefetch: Bool) {
        let wanted = UInt64(max(0, count))
        return self.accounts.withLock { accounts in
            var account = accounts[version] ?? Account()
            guard account.available >= wanted else { return (.needsReservation, false) }
            account.available -= wanted
            let prefetch = account.available < self.block / 2 && !account.reserving && account.reserved < self.limit
            if prefetch { account.reserving = true }
            accounts[version] = account
            return (.granted, prefetch)
        }
    }

    /// Marks a background reservation of `version` as started, unless one is under way already.
    /// - Returns: Whether the caller should start it.
    func startReserving(_ version: Version) -> Bool {
        self.accounts.withLock { accounts in
            var account = accounts[version] ?? Account()
            guard !account.reserving, account.reserved < self.limit else { return false }
            account.reserving = true
            accounts[version] = account
            return true
        }
    }

    /// Whether this node holds at least `count` reserved encryptions of `version`.
    func hasAvailable(_ version: Version, count: Int) -> Bool {
        self.accounts.withLock { ($0[version]?.available ?? 0) >= UInt64(max(0, count)) }
    }

    /// Reserves one more block for `version` in the store (one transaction).
    /// - Returns: False when the version's reservations have reached the limit.
    @discardableResult
    func reserve(_ version: Version, store: SealedStore) async throws -> Bool {
        let limit = self.limit
        let block = self.block
        let path = "transit/usage/\(version.key)/\(version.version)"
        let granted = Mutex<(UInt64, UInt64)>((0, 0))
        self.accounts.withLock { $0[version, default: Account()].inFlight += 1 }
        do {
            try await store.updateDocument(path) { current in
                let reserved = current.flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
                let take = reserved >= limit ? 0 : min(block, limit - reserved)
                granted.withLock { $0 = (take, reserved + take) }
                return take == 0 ? current : Data(String(reserved + take).utf8)
            }
        } catch {
            self.accounts.withLock {
                $0[version]?.reserving = false
                $0[version]?.inFlight -= 1
            }
            throw error
        }
        let (take, total) = granted.withLock { $0 }
        self.accounts.withLock { accounts in
            var account = accounts[version] ?? Account()
            account.available += take
            account.reserved = max(account.reserved, total)
            account.reserving = false
            account.inFlight -= 1
            accounts[version] = account
        }
        self.observer.withLock { $0 }?(version, total)
        return take > 0
    }

    /// Waits (up to two seconds) for this node's reservations of `version` under way to land: the
    /// last block of a version may have been taken by a background reservation that has
    /// committed in the store but not yet been counted here.
    func settle(_ version: Version) async {
        for _ in 0..<400 {
            let busy = self.accounts.withLock { ($0[version]?.inFlight ?? 0) > 0 || ($0[version]?.reserving ?? false) }
            guard busy else { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// All nodes' reservations for `version` as this node last saw them (for metrics and tests).
    func reserved(_ version: Version) -> UInt64 {
        self.accounts.withLock { $0[version]?.reserved ?? 0 }
    }
}
