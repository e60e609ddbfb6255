import Foundation
import NIOCore

/// `sys/`: health, metrics, the API's own description, retention and the audit log's rotation.
enum SysEndpoints {
    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("sys/health", .read, access: .anyone, label: "sys/health", .open { routes, _ in
            // Degraded: some store entries cannot be read and are skipped (see the server's log).
            let unreadable = StoreRefreshService.unreadable(backend: routes.backend, transform: routes.transform, auth: routes.auth).count
            let mismatches = routes.backend.manifestMismatches
            let status = HealthStatus(
                serverTimeUTC: Int(Date().timeIntervalSince1970), degraded: unreadable > 0 || mismatches > 0, unreadableEntries: unreadable,
                manifestMismatches: mismatches)
            return (try? AnswerEncoder.encode(status)) ?? [:]
        }),
        Endpoint("sys/metrics", .read, label: "sys/metrics", .document(contentType: "text/plain; version=0.0.4; charset=utf-8") { routes in
            ByteBuffer(string: routes.exportMetrics?() ?? "")
        }),
        // The API's own description, as Vault serves its own (a token with `read` on the path).
        Endpoint("sys/internal/specs/openapi", .read, label: "sys/internal", .document(contentType: "application/json") { _ in
            ByteBuffer(string: OpenAPIDocument.json)
        }),
        Endpoint("sys/retention", .write, access: .sudo, request: RetentionRequest.self, label: "sys/retention", answer: { routes, _, request in
            // Only a real `false` (or no field) runs the job for real.
            try await routes.retention.run(dryRun: request.dryRun ?? false)
        }),
        Endpoint("sys/audit/rotate", .write, access: .sudo, request: NoFields.self, label: "sys/audit", answer: { routes, _, _ in
            AuditRotation(segment: URL(fileURLWithPath: try routes.audit.rotate().path).lastPathComponent)
        }),
    ]
}

/// `POST sys/retention`: run the retention job, or only report what it would remove.
struct RetentionRequest: EndpointRequest {
    /// Report only (`true`); only an absent field or a real `false` deletes.
    var dryRun: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case dryRun = "dry_run"
    }
}

/// `POST sys/audit/rotate`: the closed segment's file name.
struct AuditRotation: Encodable, Sendable {
    /// The file name of the segment just closed.
    let segment: String
}

/// `GET sys/health`: Vault's fields, and whether some of the store cannot be served.
struct HealthStatus: Encodable, Sendable {
    /// Always true: a server runs only on an initialised store.
    let initialized = true
    /// Always false here: a sealed server answers from ``SealedServer`` (503, `sealed: true`).
    let sealed = false
    /// Always false: every node serves.
    let standby = false
    /// The server's version.
    let version = "bulwark-0.1"
    /// Now, in Unix seconds.
    let serverTimeUTC: Int
    /// Whether some entries are skipped (unreadable, or not matching the store's manifest).
    let degraded: Bool
    /// How many entries cannot be read.
    let unreadableEntries: Int
    /// How many manifest buckets do not match the store.
    let manifestMismatches: Int

    enum CodingKeys: String, CodingKey {
        case initialized, sealed, standby, version, degraded
        case serverTimeUTC = "server_time_utc"
        case unreadableEntries = "unreadable_entries"
        case manifestMismatches = "manifest_mismatches"
    }
}
