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
    let logger: Logger

    func run() async throws {
        let seen = SequenceBox(try? await self.backend.store.backend.changeSequence())
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

    /// The last change sequence this node loaded.
    final class SequenceBox: Sendable {
        let value: Mutex<Int64?>
        init(_ value: Int64?) { self.value = Mutex(value) }
    }

    func refreshIfChanged(_ seen: SequenceBox) async {
        do {
            let current = try await self.backend.store.backend.changeSequence()
            guard current != seen.value.withLock({ $0 }) else { return }
            // Each reload that raced a local write is retried at the next tick (seen stays behind).
            let keys = try await self.backend.refresh()
            let transform = try await self.transform.refresh()
            let auth = try await self.auth.reload()
            if keys && transform && auth { seen.value.withLock { $0 = current } }
        } catch {
            self.logger.error("refreshing from the store failed", metadata: ["error": .string(String(describing: error))])
        }
    }
}
