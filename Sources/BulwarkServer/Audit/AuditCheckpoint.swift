public import BulwarkStorage
public import Crypto
import Foundation
import Logging
import ServiceLifecycle

extension AuditLog {
    /// The audit key of a key service's store (nil when no server has run on it yet).
    /// - Parameter store: The sealed store.
    public static func key(in store: SealedStore) async throws -> SymmetricKey? {
        try await store.document(TransitBackend.auditKeyPath).map { SymmetricKey(data: $0) }
    }

    /// Where a log's checkpoint lives in the store: under ``StoragePaths/unannounced`` (frequent
    /// writes move no other node to refresh), named by a keyed hash of the log's absolute path, so
    /// each node's log has its own and the store does not reveal where logs are kept.
    static func checkpointPath(log path: String, key: SymmetricKey) -> String {
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let name = HMAC<SHA256>.authenticationCode(for: Array(("audit checkpoint " + canonical).utf8), using: key)
        return StoragePaths.unannounced + "audit-checkpoint/" + Hex.encode(name.prefix(16))
    }

    /// The last checkpoint the key service kept for the log at `path`, or nil.
    /// - Parameters:
    ///   - store: The sealed store the server used.
    ///   - path: The active log file, as the server was given it (symbolic links resolved).
    ///   - key: The audit key (``key(in:)``).
    public static func checkpoint(in store: SealedStore, log path: String, key: SymmetricKey) async throws -> Checkpoint? {
        guard let data = try await store.document(Self.checkpointPath(log: path, key: key)) else { return nil }
        return try JSONDecoder().decode(Checkpoint.self, from: data)
    }

    /// Keeps the log's current ``checkpoint`` in the store.
    func saveCheckpoint(in store: SealedStore) async throws -> Checkpoint {
        let checkpoint = self.checkpoint
        let data = try JSONEncoder().encode(checkpoint)
        try await store.updateDocument(Self.checkpointPath(log: self.path, key: self.key)) { _ in data }
        return checkpoint
    }
}

/// Writes the audit log's checkpoint to the sealed store every `interval` while lines are being
/// written, and once more at shutdown: `bulwark audit verify` then finds a tail cut off the log
/// (only the lines of the last interval can go unnoticed).
struct AuditCheckpointService: Service {
    let audit: AuditLog
    let store: SealedStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        var saved: AuditLog.Checkpoint?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            saved = await self.save(unless: saved)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
        _ = await self.save(unless: saved)
    }

    private func save(unless saved: AuditLog.Checkpoint?) async -> AuditLog.Checkpoint? {
        guard self.audit.checkpoint != saved else { return saved }
        do {
            return try await self.audit.saveCheckpoint(in: self.store)
        } catch {
            self.logger.error("cannot keep the audit log's checkpoint", metadata: ["error": .string(String(describing: error))])
            return saved
        }
    }
}
