import Bulwark
import Foundation
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The server's TLS context, rebuilt when the certificate or key file changes on disk (certbot-
/// style renewal needs no restart). A file that does not load keeps the previous context and is
/// logged; connections already open keep the context they started with.
final class TLSContextProvider: Sendable {
    private struct State {
        var context: NIOSSLContext
        var stamp: [Double]
    }

    private let options: TransitServer.Options
    private let state: Mutex<State>

    init(options: TransitServer.Options) throws {
        self.options = options
        let stamp = Self.stamp(options)
        self.state = Mutex(State(context: try NIOSSLContext(configuration: try TransitServer.tlsConfiguration(options)), stamp: stamp))
    }

    /// Whether clients must present a certificate signed by the configured CA.
    var verifiesClients: Bool { self.options.clientCA != nil }

    /// The context for a new connection.
    var current: NIOSSLContext { self.state.withLock { $0.context } }

    /// Modification times (and sizes) of the certificate and key files.
    static func stamp(_ options: TransitServer.Options) -> [Double] {
        ([options.certificateChain, options.privateKey] + (options.clientCA.map { [$0] } ?? [])).flatMap { path -> [Double] in
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return [0, 0] }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return [modified, Double(attributes[.size] as? Int ?? 0)]
        }
    }

    /// Reloads when the files changed. - Returns: Whether a new context was installed.
    @discardableResult
    func reloadIfChanged(logger: Logger) -> Bool {
        let stamp = Self.stamp(self.options)
        guard stamp != self.state.withLock({ $0.stamp }) else { return false }
        do {
            let context = try NIOSSLContext(configuration: try TransitServer.tlsConfiguration(self.options))
            self.state.withLock { $0 = State(context: context, stamp: stamp) }
            logger.notice("reloaded the TLS certificate", metadata: ["certificate": .string(self.options.certificateChain)])
            return true
        } catch {
            // Half-written renewal: try again on the next check, keep serving the old certificate.
            logger.error("the new TLS certificate or key does not load; keeping the previous one", metadata: ["error": .string("\(error)")])
            return false
        }
    }
}

/// Checks the certificate files every `interval` and reloads them when they change.
struct CertificateReloadService: Service {
    let provider: TLSContextProvider
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            self.provider.reloadIfChanged(logger: self.logger)
        }
    }
}
