import Foundation
import NIOCore

/// `sys/`: health, metrics, the API's own description, retention and the audit log's rotation.
enum SysEndpoints {
    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("sys/health", .read, access: .anyone, label: "sys/health", .open { routes in
            // Degraded: some store entries cannot be read and are skipped (see the server's log).
            let unreadable = StoreRefreshService.unreadable(backend: routes.backend, transform: routes.transform, auth: routes.auth).count
            let mismatches = routes.backend.manifestMismatches
            return [
                "initialized": true, "sealed": false, "standby": false, "version": "bulwark-0.1",
                "server_time_utc": Int(Date().timeIntervalSince1970), "degraded": unreadable > 0 || mismatches > 0,
                "unreadable_entries": unreadable, "manifest_mismatches": mismatches,
            ]
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
