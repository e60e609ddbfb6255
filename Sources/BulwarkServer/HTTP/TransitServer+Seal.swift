public import Bulwark
public import BulwarkStorage
public import Logging
import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization
import UnixSignals

extension TransitServer {
    /// Runs the key service behind a Shamir seal until the process is asked to stop (SIGTERM,
    /// SIGINT): sealed (``SealedServer``) until enough shares are entered, then the store is
    /// opened with the unsealed master key and the full service runs until `sys/seal`, after
    /// which it is sealed again. Each change shuts the running listener down gracefully (answers
    /// in flight are sent) and starts the next one on the same address.
    /// - Parameters:
    ///   - gate: The seal (sealed at start).
    ///   - options: Listening and TLS settings (its `seal` is set to `gate`).
    ///   - logger: The server's logger.
    ///   - exportMetrics: Renders `/v1/sys/metrics`.
    ///   - openStore: Opens the store with the master key the shares unsealed. When it throws the
    ///     server logs why and seals again.
    ///   - onReady: Called each time a listener is up, with whether it is the sealed one.
    public static func runBehindSeal(
        gate: SealGate, options: Options, logger: Logger, exportMetrics: (@Sendable () -> String)? = nil,
        openStore: @escaping @Sendable (MasterKey) async throws -> SealedStore,
        onReady: @escaping @Sendable (_ sealed: Bool) async -> Void = { _ in }
    ) async throws {
        var options = options
        options.seal = gate
        // Unsealed master keys that did not open the store in a row: an auto-unseal store waits
        // longer before each new try (a storage outage is not retried in a tight loop).
        var failedOpens = 0
        while true {
            if gate.isSealed {
                // The record as stored now (a rotation on another node may have replaced it).
                _ = try? await gate.currentRecord()
                let changes = gate.changes()
                let app = try SealedServer.application(gate: gate, options: options, logger: logger) { await onReady(true) }
                // An auto-unseal store asks its HSM or KMS at once, and again until it answers.
                let delay = failedOpens == 0 ? Duration.zero : .seconds(min(30, 1 << min(failedOpens, 5)))
                let unsealer: [ServiceGroupConfiguration.ServiceConfiguration] =
                    gate.wantsAutoUnseal
                    ? [.init(service: AutoUnsealer(gate: gate, logger: logger, firstDelay: delay), successTerminationBehavior: .ignore)] : []
                guard try await Self.run(app, until: changes, also: unsealer, logger: logger) else { return }
            }
            guard let masterKey = gate.takeMasterKey() else { continue }
            let store: SealedStore
            do {
                store = try await openStore(masterKey)
            } catch {
                logger.error("the unsealed master key did not open the store; sealed again", metadata: ["error": "\(ServiceError.normalized(error))"])
                // Not the operator's seal: an auto-unseal store tries again.
                try? gate.seal(byOperator: false)
                failedOpens += 1
                continue
            }
            failedOpens = 0
            let changes = gate.changes()
            let app = try await Self.application(store: store, options: options, logger: logger, exportMetrics: exportMetrics) {
                await onReady(false)
            }
            guard try await Self.run(app, until: changes, also: [], logger: logger) else { return }
            if gate.configuration?.kind.isAutomatic == true {
                logger.warning("sealed by sys/seal: the server holds no master key and does not unseal itself until it restarts")
            } else {
                logger.warning("sealed by sys/seal: the server holds no master key until it is unsealed again")
            }
        }
    }

    /// Runs `app` until `event` yields (true) or a termination signal shuts it down (false).
    private static func run(
        _ app: some ApplicationProtocol, until event: AsyncStream<Void>, also: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger
    ) async throws -> Bool {
        let watch = SealWatch(event: event)
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: app),
                .init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup),
            ] + also,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Answers in flight get this long; a connection still open after it (a handshake begun
        // as the listener closed, a client that never lets go) is cut, so a seal, an unseal or a
        // SIGTERM never waits on a client for ever. Idle keep-alive connections close at once
        // (TLS close_notify waits 300 ms, see ``TransitServer/tlsConfiguration(_:)``).
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
        return watch.fired.withLock { $0 }
    }
}

/// Ends its service group when the seal changes (see ``TransitServer/runBehindSeal(gate:options:logger:exportMetrics:openStore:onReady:)``).
private final class SealWatch: Service {
    let event: AsyncStream<Void>
    let fired = Mutex(false)

    init(event: AsyncStream<Void>) {
        self.event = event
    }

    func run() async throws {
        for await _ in self.event.cancelOnGracefulShutdown() {
            self.fired.withLock { $0 = true }
            return
        }
    }
}

/// Asks an auto-unseal store's HSM or KMS to unwrap its unseal key, at once and then with a
/// growing pause (1 s doubling to 30 s) until it answers, logging each refusal with its reason
/// (never key bytes). Ends when the server is unsealed or shuts down.
private struct AutoUnsealer: Service {
    let gate: SealGate
    let logger: Logger
    /// A wait before the first try (after the store failed to open).
    let firstDelay: Duration

    func run() async throws {
        if self.firstDelay > .zero {
            let wait = self.firstDelay
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        var pause = Duration.seconds(1)
        while !Task.isCancelled, !Task.isShuttingDownGracefully, self.gate.wantsAutoUnseal {
            do {
                if try await self.gate.autoUnseal() {
                    self.logger.notice("unsealed by \(self.gate.configuration?.kind.rawValue ?? "its seal")")
                    return
                }
            } catch {
                // The operator's view: what the HSM or KMS said (its error type and message name keys, never key bytes).
                let reason = (error as? BulwarkError).map { "\($0)" } ?? "\(ServiceError.normalized(error))"
                self.logger.error(
                    "auto-unseal failed; the server stays sealed and retries",
                    metadata: ["seal": "\(self.gate.configuration?.kind.rawValue ?? "")", "retry_in": "\(pause)", "error": "\(reason)"])
                // Also on standard error: an operator starting the server sees why it is sealed.
                FileHandle.standardError.write(Data("bulwark: auto-unseal failed (retrying in \(pause)): \(reason)\n".utf8))
            }
            let wait = pause
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            pause = min(pause * 2, .seconds(30))
        }
    }
}
