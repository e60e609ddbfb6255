import Foundation
import Logging
import ServiceLifecycle

/// Rotates keys whose `auto_rotate_period` has passed, checking once a minute; stops with the
/// server's graceful shutdown.
struct AutoRotationService: Service {
    let backend: TransitBackend
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let rotated = try await self.backend.rotateDueKeys()
                if !rotated.isEmpty { self.logger.info("auto-rotated keys", metadata: ["keys": .array(rotated.map { .string($0) })]) }
            } catch {
                self.logger.error("auto-rotation failed", metadata: ["error": .string(String(describing: error))])
            }
            // Wakes at once when the server shuts down.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
        }
    }
}
