import BulwarkStorage
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps this node's in-memory keys, tokens and policies in step with the store: polls the
/// store's change sequence every `interval` and reloads when another node (or process) committed
/// a change, so a rotation or a revocation elsewhere takes effect here within the interval.
struct StoreRefreshService: Service {
    let backend: TransitBackend
    let transform: TransformBackend
    let auth: AuthStore
    let interval: Duration
    let metrics: ServerMetrics
    let logger: Logger

    func run() async throws {
        let seen = SequenceBox(try? await self.backend.store.backend.changeSequence())
        self.report(seen)
        await withTaskGroup(of: Void.self) { group in
            // Pushed changes (PostgreSQL LISTEN/NOTIFY) refresh at once ...
            if let notifications = self.backend.store.backend.changeNotifications() {
                group.addTask {
                    for await _ in notifications {
                        if Task.isCancelled { return }
                        await self.refreshIfChanged(seen)
                    }
                }
            }
            // ... and polling the change sequence is the safety net.
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
                    await self.refreshIfChanged(seen)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// The last change sequence this node loaded, and the unreadable entries already reported.
    final class SequenceBox: Sendable {
        let value: Mutex<Int64?>
        let reported = Mutex<Set<String>>([])
        init(_ value: Int64?) { self.value = Mutex(value) }
    }

    /// Every entry the stores skipped because it could not be read (path → reason).
    static func unreadable(backend: TransitBackend, transform: TransformBackend, auth: AuthStore) -> [String: String] {
        backend.unreadableEntries.merging(transform.unreadableEntries) { $1 }.merging(auth.unreadableEntries) { $1 }
    }

    /// Logs each newly unreadable entry once (a token's path shortened: it holds the token's
    /// hash) and sets the gauge; the health endpoint reports the count.
    private func report(_ seen: SequenceBox) {
        let unreadable = Self.unreadable(backend: self.backend, transform: self.transform, auth: self.auth)
        self.metrics.unreadableEntries(unreadable.count)
        let mismatches = self.backend.manifestMismatches
        self.metrics.manifestMismatches(mismatches)
        if mismatches > 0, seen.reported.withLock({ $0.insert("manifest:\(mismatches)").inserted }) {
            self.logger.error(
                "the store does not match its manifest: entries were rolled back, deleted or added outside Bulwark; their part of the store is not served",
                metadata: ["mismatched_buckets": .string("\(mismatches)")])
        }
        let fresh = seen.reported.withLock { reported -> [String] in
            let new = unreadable.keys.filter { !reported.contains($0) }
            reported = Set(unreadable.keys)
            return new.sorted()
        }
        for path in fresh {
            let shown = path.hasPrefix(AuthStore.tokenPrefix) ? String(path.prefix(AuthStore.tokenPrefix.count + 8)) + "…" : path
            self.logger.error(
                "a store entry cannot be read and is skipped (not served) until it is repaired",
                metadata: ["path": .string(shown), "reason": .string(unreadable[path] ?? "")])
        }
    }

    func refreshIfChanged(_ seen: SequenceBox) async {
        do {
            let current = try await self.backend.store.backend.changeSequence()
            guard current != seen.value.withLock({ $0 }) else { return }
            // Each reload that raced a local write is retried at the next tick (seen stays behind).
            // One read of the whole store, checked against its manifest, for every reloader; each
            // reloader's local writes are counted first, so those the read may predate are kept.
            let marks = (self.backend.writeCount, self.transform.writeCount, self.auth.writeCount)
            let snapshot = try await self.backend.store.snapshot()
            let keys = try await self.backend.refresh(from: snapshot, writesBefore: marks.0)
            let transform = try await self.transform.refresh(from: snapshot, writesBefore: marks.1)
            let auth = try await self.auth.reload(from: snapshot, writesBefore: marks.2)
            if keys && transform && auth { seen.value.withLock { $0 = current } }
            self.report(seen)
        } catch {
            self.logger.error("refreshing from the store failed", metadata: ["error": .string(String(describing: error))])
        }
    }
}
