import Bulwark
import BulwarkStorage
import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a retention run removed (or, in a dry run, would remove).
public struct RetentionReport: Encodable, Sendable {
    /// Closed audit segments, by file name.
    public var auditSegments: [String] = []
    /// Tokens, by accessor.
    public var tokens: [String] = []
    /// Expired tokens of the tokenisation vault (they can never decode again).
    public var transformTokens = 0
    /// Whether nothing was deleted.
    public var dryRun: Bool

    enum CodingKeys: String, CodingKey {
        case tokens
        case dryRun = "dry_run"
        case auditSegments = "audit_segments"
        case transformTokens = "transform_tokens"
    }
}

/// Enforces a ``RetentionPolicy``: deletes expired tokens and audit segments, one item at a time
/// (each deletion is its own transaction or unlink, so a crash midway leaves the rest for the next
/// run, which finds exactly what is still expired), records what it removed in the audit log and
/// the metrics, and can instead only report (dry run).
final class RetentionJob: Sendable {
    let policy: RetentionPolicy
    let store: SealedStore
    let audit: AuditLog
    let auth: AuthStore

    init(policy: RetentionPolicy, store: SealedStore, audit: AuditLog, auth: AuthStore) {
        self.policy = policy
        self.store = store
        self.audit = audit
        self.auth = auth
    }

    /// Finds what is expired at `now` and, unless `dryRun`, deletes it.
    func run(now: Date = Date(), dryRun: Bool) async throws -> RetentionReport {
        var report = RetentionReport(dryRun: dryRun)
        let crashMidway = ProcessInfo.processInfo.environment["BULWARK_TEST_CRASH_POINT"] == "retention-midway"
        var deleted = 0
        func deletedOne() {
            deleted += 1
            // Fault injection for the tests: die after the first deletion, as a crash would.
            if crashMidway && deleted == 1 { _exit(70) }
        }
        // Tokens: expired ones always; all older than the period when one is set.
        let tokenCutoff = self.policy.cutoff("tokens", now: now)?.timeIntervalSince1970
        for (path, data) in try await self.store.documents(prefix: AuthStore.tokenPrefix).sorted(by: { $0.key < $1.key }) {
            guard let token = try? JSONDecoder().decode(AuthStore.Token.self, from: data) else { continue }
            let expired = token.expires.map { $0 <= now.timeIntervalSince1970 } ?? false
            let old = tokenCutoff.map { token.created < $0 } ?? false
            guard expired || old else { continue }
            report.tokens.append(token.accessor)
            if !dryRun {
                // Recorded before it happens, so a crash right after still leaves the trace.
                try self.audit.append(["type": "retention-delete", "class": "tokens", "item": token.accessor])
                try await self.store.updateDocument(path) { _ in nil }
                self.auth.forget(hash: String(path.dropFirst(AuthStore.tokenPrefix.count)))
                deletedOne()
            }
        }
        // The tokenisation vault's expired tokens (always: they can never decode again, and each
        // still holds a sealed value), in chunks of 1,000, announced in the audit log first.
        let seconds = Int64(now.timeIntervalSince1970)
        report.transformTokens = try await self.store.backend.expiredTokenCount(now: seconds)
        if !dryRun && report.transformTokens > 0 {
            try self.audit.append(["type": "retention-delete", "class": "transform-tokens", "count": report.transformTokens])
            var removed = 0
            while true {
                let chunk = try await self.store.backend.deleteExpiredTokens(now: seconds, limit: 1000)
                removed += chunk
                if chunk == 0 { break }
            }
            report.transformTokens = removed
        }
        // Audit segments closed before the cutoff (never the active file).
        if let cutoff = self.policy.cutoff("audit", now: now) {
            for segment in AuditLog.segments(of: self.audit.path) where segment.closed < cutoff {
                report.auditSegments.append(URL(fileURLWithPath: segment.path).lastPathComponent)
                if !dryRun {
                    try self.audit.append(["type": "retention-delete", "class": "audit", "item": URL(fileURLWithPath: segment.path).lastPathComponent])
                    guard unlink(segment.path) == 0 || errno == ENOENT else {
                        throw BulwarkError(.ioFailure, "cannot delete the audit segment \(segment.path): \(String(cString: strerror(errno)))")
                    }
                    deletedOne()
                }
            }
        }
        try self.audit.append(["type": "retention", "report": try AnswerEncoder.encode(report)])
        if !dryRun {
            Counter(label: "bulwark_retention_removed_total", dimensions: [("class", "tokens")]).increment(by: report.tokens.count)
            Counter(label: "bulwark_retention_removed_total", dimensions: [("class", "audit")]).increment(by: report.auditSegments.count)
            Counter(label: "bulwark_retention_removed_total", dimensions: [("class", "transform-tokens")]).increment(by: report.transformTokens)
        }
        return report
    }
}

/// Runs retention every `interval` and closes the active audit segment once it is older than
/// `rotation`; stops with the server's graceful shutdown.
struct RetentionService: Service {
    let job: RetentionJob
    let interval: Duration
    let rotation: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if Date().timeIntervalSince(self.job.audit.activeSince) >= Double(self.rotation.components.seconds) {
                    try self.job.audit.rotate()
                }
                let report = try await self.job.run(dryRun: false)
                if !report.tokens.isEmpty || !report.auditSegments.isEmpty || report.transformTokens > 0 {
                    self.logger.notice(
                        "retention removed expired data",
                        metadata: [
                            "tokens": "\(report.tokens.count)", "audit_segments": "\(report.auditSegments.count)",
                            "transform_tokens": "\(report.transformTokens)",
                        ])
                }
            } catch {
                self.logger.error("retention run failed", metadata: ["error": .string(String(describing: error))])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
