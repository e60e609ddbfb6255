import Foundation
import HTTPTypes

extension Endpoints {
    /// The table as JSON, committed as `docs/endpoints.json`: what `Tests/Interop/openapi_build.py`
    /// builds the OpenAPI document's paths from (and the access matrix, which reads that
    /// document, in turn). One entry per endpoint: its OpenAPI path, operation and methods, list
    /// form, access, request fields with their JSON kinds, audit allowlist, metrics label,
    /// batching, fast path, key creation and success status.
    var manifest: String {
        let entries: [[String: Any]] = self.endpoints.map { endpoint in
            var fields: [String: String] = [:]
            for field in endpoint.fields { fields[field] = Self.kindName(Fields.kinds[field]) }
            return [
                "path": endpoint.openAPIPath,
                "operation": endpoint.operation.rawValue,
                "methods": endpoint.operation.methods.map { $0.rawValue.lowercased() },
                "list": endpoint.operation.listing.rawValue,
                "access": endpoint.access.rawValue,
                "fields": fields,
                "audit_clear": endpoint.auditClear.sorted(),
                "label": endpoint.label,
                "batchable": endpoint.batchable,
                "fast_path": endpoint.fastPath?.rawValue ?? NSNull(),
                "creates_key": endpoint.createsKey,
                "status": Int(endpoint.status.code),
            ]
        }
        let document: [String: Any] = [
            "description": "The key service's endpoint table (Sources/BulwarkServer/API/Endpoints.swift), written by "
                + "`BULWARK_WRITE_ENDPOINTS=1 swift test --filter EndpointTableTests`; read by Tests/Interop/openapi_build.py.",
            "endpoints": entries,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func kindName(_ kind: Fields.Kind?) -> String {
        switch kind {
        case .string?: "string"
        case .integer?: "integer"
        case .boolean?: "boolean"
        case .stringOrObject?: "string-or-object"
        case .duration?: "duration"
        case nil: "any"
        }
    }
}
