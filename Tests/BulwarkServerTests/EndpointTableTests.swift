import BulwarkKeystore
import BulwarkStorage
import BulwarkTestSupport
import Crypto
import Foundation
import Hummingbird
import Testing

@testable import BulwarkServer

/// The endpoint table is the one description of the API: the committed manifest and OpenAPI
/// document follow it, and an endpoint added through one descriptor is routed, policy-checked,
/// audited, described and covered by the access matrix with nothing else changed.
@Suite struct EndpointTableTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private static let interop = Self.root.appendingPathComponent("Tests/Interop")

    @Test func manifestIsCommitted() async throws {
        let file = Self.root.appendingPathComponent("docs/endpoints.json")
        let manifest = Endpoints().manifest
        if ProcessInfo.processInfo.environment["BULWARK_WRITE_ENDPOINTS"] == "1" {
            try manifest.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(
            (try? String(contentsOf: file, encoding: .utf8)) == manifest,
            "docs/endpoints.json is stale: BULWARK_WRITE_ENDPOINTS=1 swift test --filter EndpointTableTests.manifestIsCommitted, then python3 Tests/Interop/openapi_build.py && python3 scripts/embed-openapi.py")
        // And the OpenAPI document is the one the builder makes from it.
        let check = try await TestProcess.run("/usr/bin/env", ["python3", Self.interop.appendingPathComponent("openapi_build.py").path, "--check"])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test func tableIsConsistent() {
        let table = Endpoints()
        var seen: Set<String> = []
        for endpoint in table.endpoints {
            for method in endpoint.operation.methods {
                let key = "\(String(describing: method)) \(endpoint.path) \(endpoint.operation.listing)"
                #expect(seen.insert(key).inserted, "registered twice: \(key)")
            }
            #expect(endpoint.auditClear.isSubset(of: endpoint.fields), "\(endpoint.path): audit allowlist outside its fields")
            #expect(endpoint.auditClear.isDisjoint(with: AuditLog.credentials), "\(endpoint.path): a credential on the allowlist")
            #expect(endpoint.batchable == endpoint.fields.contains("batch_input"))
            #expect(!endpoint.label.isEmpty && endpoint.label.split(separator: "/").count <= 3)
        }
        // The audit allowlist is by field name: a name allowlisted anywhere is not hashed data
        // on any other endpoint.
        let clear = table.auditClear.union(AuditLog.nonSensitive)
        for endpoint in table.endpoints {
            let hashed = endpoint.fields.subtracting(endpoint.auditClear).subtracting(["batch_input"])
            #expect(hashed.isDisjoint(with: clear), "\(endpoint.path): \(hashed.intersection(clear).sorted()) hashed here, in clear elsewhere")
        }
        // sudo: exactly Vault's audit-device-like paths, sealing, and the token paths that need it.
        let sudo = Set(table.endpoints.filter { $0.access == .sudo }.map(\.openAPIPath))
        #expect(sudo == [
            "/v1/sys/audit/rotate", "/v1/sys/retention", "/v1/sys/seal", "/v1/sys/rotate/root/init", "/v1/sys/rotate/root/update",
            "/v1/sys/rotate/root/verify", "/v1/sys/generate-root-token/attempt", "/v1/sys/generate-root-token/update",
            "/v1/auth/token/accessors", "/v1/auth/token/revoke-orphan",
        ])
        #expect(table.matches("/v1/sys/retention").contains { $0.access == .sudo } && !table.matches("/v1/transit/encrypt/k").contains { $0.access == .sudo })
        // Self-service: only the `-self` paths; health and the seal's status and unseal for anyone (as Vault).
        #expect(Set(table.endpoints.filter { $0.access == .token }.map(\.path)) == ["auth/token/revoke-self", "auth/token/renew-self", "auth/token/lookup-self"])
        #expect(table.endpoints.filter { $0.access == .anyone }.map(\.path) == ["sys/health", "sys/seal-status", "sys/unseal"])
        // The fast path's matching comes from the table.
        #expect(table.fastPaths.map(\.prefix) == ["/v1/transit/encrypt/", "/v1/transit/decrypt/"])
        #expect(table.endpoints.filter(\.createsKey).map(\.path) == ["transit/encrypt/:name"])
        // Matching: literal and parameter segments, list forms, unknown paths.
        #expect(table.methods("/v1/transit/keys/k") == ["GET", "PUT", "POST", "DELETE"])
        #expect(table.methods("/v1/transit/hmac/k/sha2-256") == ["PUT", "POST"])
        #expect(table.methods("/v1/auth/token/lookup-self") == ["GET", "POST"])
        #expect(table.methods("/v1/transit/nothing/k") == nil && table.methods("/v1/transit") == nil && table.methods("/other") == nil)
        #expect(table.allow(path: "/v1/nope") == Endpoints.anyMethods)
    }

    @Test func throwAwayEndpointIsPickedUpEverywhere() async throws {
        // One typed descriptor: its fields come from the request type, its answer is encoded.
        let probe = Endpoint(
            "transit/probe/:name", .write, request: ProbeRequest.self, auditClear: ["label"], label: "transit/probe", keyParameter: "name",
            answer: { _, call, request in ProbeAnswer(label: request.label, name: call.name, secretLength: request.secret?.utf8.count ?? 0) })
        #expect(probe.fields == ["label", "secret"])
        let table = Endpoints(Endpoints.all + [probe])
        #expect(table.methods("/v1/transit/probe/p1") == ["PUT", "POST"] && Endpoints().methods("/v1/transit/probe/p1") == nil)
        #expect(table.auditClear.contains("label") && !Endpoints().auditClear.contains("label"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let master = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
        let store = try await SealedStore.open(backend: try SQLiteStorage(path: directory + "/state.db"), masterKey: .base64(master), dataDirectory: directory)
        let rootToken = try await TransitServer.initialize(store: store, rootToken: "probe-root-token-0123456789")
        let certificates = try DevCertificateAuthority.ensure(in: directory)
        let port = try TestPorts.free()
        var options = TransitServer.Options(
            port: port, certificateChain: certificates.serverChain, privateKey: certificates.serverKey, auditPath: directory + "/audit.log")
        options.unauthenticatedRate = 0
        let (ready, readiness) = AsyncStream.makeStream(of: Void.self)
        let app = try await TransitServer.application(store: store, options: options, endpoints: table, onReady: { readiness.yield() })
        let server = Task(executorPreference: DedicatedTaskExecutor.shared) { try await app.runService() }
        defer { server.cancel() }
        for await _ in ready { break }
        let url = "https://127.0.0.1:\(port)"

        // Routing, policy, 405 and audit hashing, as a client sees them.
        let probed = try await TestProcess.run("/usr/bin/env", [
            "python3", Self.interop.appendingPathComponent("probe_endpoint.py").path, url, rootToken, certificates.caCertificate,
            directory + "/audit.log",
        ])
        #expect(probed.status == 0, "\(probed.output)")

        // The OpenAPI document built from this table describes it.
        let manifest = directory + "/endpoints.json"
        try table.manifest.write(toFile: manifest, atomically: true, encoding: .utf8)
        let spec = directory + "/openapi.json"
        let built = try await TestProcess.run("/usr/bin/env", [
            "python3", Self.interop.appendingPathComponent("openapi_build.py").path, "--endpoints", manifest, "--output", spec,
        ])
        #expect(built.status == 0, "\(built.output)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: spec))) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let item = try #require(paths["/v1/transit/probe/{name}"])
        #expect(Set(item.keys) == ["post", "put"])
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let request = schemas?["TableTransitProbeNameRequest"] as? [String: Any]
        #expect(Set(((request?["properties"] as? [String: Any]) ?? [:]).keys) == ["label", "secret"])

        // The generated access matrix covers it: every kind of caller and spelling.
        var only = document
        only["paths"] = ["/v1/transit/probe/{name}": item]
        let onlySpec = directory + "/probe-openapi.json"
        try JSONSerialization.data(withJSONObject: only).write(to: URL(fileURLWithPath: onlySpec))
        let matrix = try await TestProcess.run("/usr/bin/env", [
            "MINIMUM_OPERATIONS=2", "python3", Self.interop.appendingPathComponent("access_matrix_full.py").path, url, rootToken, certificates.caCertificate, onlySpec,
        ])
        #expect(matrix.status == 0 && matrix.output.contains(" 0 mismatches"), "\(matrix.output.suffix(3000))")
        #expect(matrix.output.contains("/v1/transit/probe/"), "\(matrix.output.suffix(3000))")
        server.cancel()
        _ = await server.result
    }
}

/// The throw-away endpoint's request: a non-sensitive label and a secret.
private struct ProbeRequest: EndpointRequest {
    var label: String
    var secret: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case label, secret
    }
}

/// The throw-away endpoint's answer.
private struct ProbeAnswer: Encodable, Sendable {
    let label: String
    let name: String
    let secretLength: Int

    enum CodingKeys: String, CodingKey {
        case label, name
        case secretLength = "secret_length"
    }
}
