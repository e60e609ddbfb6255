import BulwarkStorage
import Logging
import ServiceLifecycle

/// Keeps this node's in-memory keys, tokens and policies in step with the store: polls the
/// store's change sequence every `interval` and reloads when another node (or process) committed
/// a change, so a rotation or a revocation elsewhere takes effect here within the interval.
struct StoreRefreshService: Service {
    let backend: TransitBackend
    let auth: AuthStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var seen = try? await self.backend.store.backend.changeSequence()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            do {
                let current = try await self.backend.store.backend.changeSequence()
                guard current != seen else { continue }
                try await self.backend.refresh()
                try await self.auth.reload()
                seen = current
            } catch {
                self.logger.error("refreshing from the store failed", metadata: ["error": .string(String(describing: error))])
            }
        }
    }
}
