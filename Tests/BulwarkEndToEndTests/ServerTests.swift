import BulwarkKeystore
import BulwarkServer
import BulwarkTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("bulwark server (Vault Transit over TLS)", .serialized)
struct ServerTests {
    /// Runs `Tests/Interop/<script> URL TOKEN CA_FILE` against `server`; it must exit 0 and print `marker`.
    static func runInterop(_ server: DevServer, _ script: String, passes marker: String) async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/\(script)").path
        let result = try await server.cli.shellDetached("python3 '\(path)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr)")
        #expect(result.text.contains(marker))
    }

    @Test("hvac, a real Vault client, runs the Transit flow; SIGTERM stops the server cleanly", arguments: StorageKind.allCases)
    func hvacFlow(storage: StorageKind) async throws {
        let server = try DevServer(storage: storage)
        try await Self.runInterop(server, "transit_hvac.py", passes: "all hvac checks passed")
        // Keys made through the API live in the sealed keystore: the CLI sees them.
        #expect(server.stop() == 0)
    }

    @Test("Hybrid keys: Python's HPKE encrypts to the public key a key read gives, the service decrypts; hvac, rotation, minimum versions, tampering; public keys in OpenBao's shape")
    func hybridKeys() async throws {
        let server = try DevServer()
        try await Self.runInterop(server, "transit_hybrid.py", passes: "all hybrid checks passed")
        #expect(server.stop() == 0)
    }

    @Test("Signatures as Vault's: Python's cryptography verifies them with the public key alone (every hash, prehashed, JWS), joserfc a JWS the service signed, hvac; the same statuses as OpenBao but the listed differences")
    func signaturesAsVault() async throws {
        let server = try DevServer()
        try await Self.runInterop(server, "transit_signatures.py", passes: "all signature checks passed")
        #expect(server.stop() == 0)
    }

    @Test("Derived and convergent keys as Vault's: Python decrypts each server's ciphertext from the exported base key, convergent ciphertexts are byte for byte Python's, a Python ciphertext decrypts on both; rotation, rewrap, datakey, batches, upserts, hvac; the same statuses as OpenBao but the listed differences")
    func derivedKeysAsVault() async throws {
        let server = try DevServer()
        try await Self.runInterop(server, "transit_derived.py", passes: "all derived-key checks passed")
        #expect(server.stop() == 0)
    }

    @Test("encrypt/decrypt answered in the connection pipeline match the router's answers, audit and order (pipelined requests)")
    func fastPathMatchesRouter() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/fast_path.py").path
        let limit = ["BULWARK_LIMITS_MAX_REQUEST_BYTES": "65536"]
        var outputs: [String] = []
        var lineCounts: [[Int]] = []
        var auditLines: [[String]] = []
        for extra in [[], ["--no-fast-path"]] {
            let server = try DevServer(extra: extra, env: limit)
            let run = try await server.cli.shellDetached("python3 '\(script)' '\(server.url)' '\(server.caFile)' '\(server.token)' 65536")
            #expect(run.status == 0, "\(run.text)\n\(run.stderr)")
            outputs.append(run.text)
            let result = try #require(try JSONSerialization.jsonObject(with: Data(run.text.utf8)) as? [String: Any])
            // Pipelined answers come back in order; the encrypt sent after the rotate sees version 2.
            let pipelined = try #require(result["pipelined"] as? [[Any]])
            #expect(pipelined.map { $0[0] as? Int } == [200, 200, 204, 200, 200, 200, 200])
            #expect(pipelined.map { $0[1] as? Int } == [1, 1, nil, 2, 2, 2, 2])
            let fastPipelined = try #require(result["pipelined_fast"] as? [[Any]])
            #expect(fastPipelined.map { $0[0] as? Int } == [200, 200, 403, 200, 200, 400])
            #expect(fastPipelined.map { $0[1] as? String } == ["ciphertext,key_version", "plaintext", "", "key", "ciphertext,key_version", ""])
            #expect(result["oversize"] as? Int == 413)
            #expect(result["large"] as? [Int] == [200, 1000])
            let close = result["close"] as? [Any]
            #expect(close?.first as? Int == 200 && close?.last as? Bool == true, "Connection: close is honoured")
            let cases = try #require(result["cases"] as? [String: [String: Any]])
            #expect(cases["encrypt"]?["status"] as? Int == 200 && cases["decrypt"]?["status"] as? Int == 200)
            #expect(cases["no token"]?["status"] as? Int == 403 && cases["decrypt wrong AD"]?["status"] as? Int == 400)
            let headers = cases["encrypt"]?["security"] as? [String: String] ?? [:]
            #expect(headers["strict-transport-security"] == "max-age=63072000; includeSubDomains" && headers["cache-control"] == "no-store")
            // Which path answered: the fast path counts its answers.
            let metrics = try server.cli.shell(
                "curl -s --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' \(server.url)/v1/sys/metrics | grep '^bulwark_fast_path_' || true").text
            if extra.isEmpty {
                // Both decodings answered: the typed one (common shapes) and the general one.
                let counts = Dictionary(metrics.split(separator: "\n").compactMap { line -> (String, Int)? in
                    let parts = line.split(separator: " ")
                    return parts.count == 2 ? (String(parts[0]), Int(Double(parts[1]) ?? 0)) : nil
                }, uniquingKeysWith: { $1 })
                let all = counts["bulwark_fast_path_requests_total"] ?? 0
                let typed = counts["bulwark_fast_path_typed_requests_total"] ?? 0
                #expect(typed >= 10 && all > typed, "\(metrics)")
            } else {
                #expect(metrics.split(separator: "\n").allSatisfy { $0.hasSuffix(" 0") }, "\(metrics)")
            }
            #expect(server.stop() == 0)
            // Both logs chain, hold request and response lines, and no plaintext.
            let logPath = server.cli.home + "/audit.log"
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(!log.contains(Data("4111 1111 1111 1111".utf8).base64EncodedString()) && !log.contains(server.token))
            lineCounts.append([log.components(separatedBy: "\"type\":\"request\"").count, log.components(separatedBy: "\"type\":\"response\"").count])
            auditLines.append(try Self.comparableAuditLines(log))
            #expect(try server.verifyAudit(logPath).status == 0)
            // The same home with a log that cannot be written: the key exists, so encrypt and
            // decrypt take this server's path, and both fail closed.
            let closed = try DevServer(extra: extra + ["--audit-file", "/dev/full"], cli: server.cli)
            for (operation, body) in [("encrypt", #"{"plaintext":"aGk="}"#), ("decrypt", #"{"ciphertext":"vault:v1:AAAA"}"#)] {
                let refused = try closed.cli.shell(
                    "curl -s -w ' %{http_code}' --cacert '\(closed.caFile)' -H 'X-Vault-Token: \(closed.token)' -d '\(body)' \(closed.url)/v1/transit/\(operation)/fast"
                ).text
                #expect(refused.hasSuffix(" 500") && refused.contains("audit log"), "\(operation): \(refused)")
            }
            #expect(closed.stop() == 0)
        }
        #expect(outputs.count == 2 && outputs[0] == outputs[1], "the fast path and the router answer alike")
        #expect(lineCounts.count == 2 && lineCounts[0] == lineCounts[1], "and leave the same request and response lines")
        // Line by line, the same fields and values (each server's keyed hashes differ: compared as
        // "<hmac>"), whether the fast path decoded the request typed or the router decoded it.
        #expect(auditLines.count == 2 && auditLines[0].count > 40)
        if auditLines.count == 2 {
            for (fast, router) in zip(auditLines[0], auditLines[1]) where fast != router {
                Issue.record("audit lines differ:\n fast:   \(fast)\n router: \(router)")
            }
            #expect(auditLines[0].count == auditLines[1].count)
        }
    }

    /// A log's request and response lines as sorted-key JSON, without `time` and `prev`, with
    /// every keyed hash as `"<hmac>"` (so two servers with different audit keys compare) and key
    /// versions' creation times as `"<time>"`.
    static func comparableAuditLines(_ log: String) throws -> [String] {
        func normalise(_ value: Any, field: String = "") -> Any {
            if let text = value as? String { return text.hasPrefix("hmac-sha256:") ? "<hmac>" : text }
            // A key's versions map to their creation times, which differ between the servers.
            if field == "keys", let versions = value as? [String: Any] { return versions.mapValues { _ in "<time>" } }
            if let object = value as? [String: Any] { return Dictionary(uniqueKeysWithValues: object.map { ($0, normalise($1, field: $0)) }) }
            if let array = value as? [Any] { return array.map { normalise($0) } }
            return value
        }
        return try log.split(separator: "\n").compactMap { line -> String? in
            guard var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                ["request", "response"].contains(object["type"] as? String)
            else { return nil }
            object["time"] = nil
            object["prev"] = nil
            let data = try JSONSerialization.data(withJSONObject: normalise(object), options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test("Access matrix: only a token whose policy grants the capability gets through; tokens revoke and expire", arguments: StorageKind.allCases)
    func accessMatrix(storage: StorageKind) async throws {
        let server = try DevServer(storage: storage)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/access_matrix.py").path
        let result = try await server.cli.shellDetached("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr)")
        #expect(result.text.contains("access matrix passed"))
        #expect(server.stop() == 0)
    }

    @Test("TLS 1.3 only by default: openssl s_client with TLS 1.2 or 1.1 is refused; 1.2 with ECDHE-AEAD when allowed", arguments: StorageKind.allCases)
    func tlsVersions(storage: StorageKind) throws {
        let server = try DevServer(storage: storage)
        let probe = { (flags: String) throws -> Bool in
            let result = try server.cli.shell(
                "echo | timeout 10 openssl s_client -connect 127.0.0.1:\(server.port) -CAfile '\(server.caFile)' \(flags) 2>&1")
            // A completed handshake names its protocol and cipher; a refused one says "(NONE)".
            return result.text.contains("New, TLSv1.") && !result.text.contains("Cipher is (NONE)")
        }
        #expect(try probe("-tls1_3"))
        #expect(try !probe("-tls1_2"))
        #expect(try !probe("-tls1_1"))
        #expect(server.stop() == 0)
        let relaxed = try DevServer(extra: ["--allow-tls12"], storage: storage)
        let check = { (flags: String) throws -> String in
            try relaxed.cli.shell("echo | timeout 10 openssl s_client -connect 127.0.0.1:\(relaxed.port) -CAfile '\(relaxed.caFile)' \(flags) 2>&1").text
        }
        #expect(try check("-tls1_2").contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384"))
        #expect(try check("-tls1_2 -cipher AES256-SHA256").contains("Cipher is (NONE)"))
        #expect(try check("-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384").contains("Cipher is (NONE)"))
        #expect(try check("-tls1_1").contains("Cipher is (NONE)"))
        #expect(relaxed.stop() == 0)
    }

    @Test("Audit: every request leaves chained lines without secrets; an edit is detected; an unwritable log fails closed", arguments: StorageKind.allCases)
    func audit(storage: StorageKind) throws {
        let server = try DevServer(storage: storage)
        let curl = { (args: String) throws -> String in
            try server.cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' \(args)").text
        }
        let secret = Data("card 4111 1111 1111 1111".utf8).base64EncodedString()
        for _ in 0..<5 {
            #expect(try curl("-d '{\"plaintext\":\"\(secret)\"}' \(server.url)/v1/transit/encrypt/audited") == "200")
        }
        #expect(try server.cli.shell("curl -s -o /dev/null --cacert '\(server.caFile)' -H 'X-Vault-Token: wrong' \(server.url)/v1/transit/keys/audited").status == 0)
        #expect(server.stop() == 0)
        let logPath = server.cli.home + "/audit.log"
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 11, "request and response lines for each call")
        #expect(!log.contains(secret) && !log.contains(server.token) && !log.contains("\"wrong\""))
        #expect(log.contains("hmac-sha256:") && log.contains("permission denied"))
        let verified = try server.verifyAudit(logPath)
        #expect(verified.status == 0 && verified.text.contains("intact: \(lines.count) lines; reaches the store's checkpoint"), "\(verified.stderr)")
        // The tail cut off: the rest chains, but no longer reaches the checkpoint in the store.
        try (lines.dropLast(2).joined(separator: "\n") + "\n").write(toFile: logPath, atomically: true, encoding: .utf8)
        let cut = try server.verifyAudit(logPath)
        #expect(cut.status == 1 && cut.stderr.contains("cut from its end"), "\(cut.text) \(cut.stderr)")
        // Edit one line: verification names it.
        var edited = lines.map(String.init)
        edited[3] = edited[3].replacingOccurrences(of: "\"status\":200", with: "\"status\":201")
        edited[2] = edited[2].replacingOccurrences(of: "encrypt", with: "decrypt")
        try (edited.joined(separator: "\n") + "\n").write(toFile: logPath, atomically: true, encoding: .utf8)
        let tampered = try server.verifyAudit(logPath)
        #expect(tampered.status == 1 && tampered.stderr.contains("line 4"))
        // Deleting a line is caught as well.
        try (lines.enumerated().filter { $0.offset != 5 }.map { String($0.element) }.joined(separator: "\n") + "\n")
            .write(toFile: logPath, atomically: true, encoding: .utf8)
        #expect(try server.verifyAudit(logPath).status == 1)
        // A log that cannot be written refuses every request.
        let closed = try DevServer(extra: ["--audit-file", "/dev/full"])
        let refused = try closed.cli.shell(
            "curl -s -w ' %{http_code}' --cacert '\(closed.caFile)' -H 'X-Vault-Token: \(closed.token)' -d '{\"plaintext\":\"aGk=\"}' \(closed.url)/v1/transit/encrypt/k").text
        #expect(refused.hasSuffix(" 500") && refused.contains("audit log"))
        let failures = try closed.cli.shell(
            "curl -s --cacert '\(closed.caFile)' -H 'X-Vault-Token: \(closed.token)' \(closed.url)/v1/sys/metrics | grep '^bulwark_audit_failures_total'").text
        #expect(failures.hasPrefix("bulwark_audit_failures_total ") && !failures.hasSuffix(" 0\n"))
        #expect(closed.stop() == 0)
    }

    @Test("No token, a bad token, malformed JSON and oversize bodies get clear 4xx answers", arguments: StorageKind.allCases)
    func refusals(storage: StorageKind) throws {
        let server = try DevServer(storage: storage)
        let curl = { (args: String) throws -> String in
            try server.cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' \(args)").text
        }
        let encrypt = "\(server.url)/v1/transit/encrypt/k"
        #expect(try curl("-d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "403")
        #expect(try curl("-H 'X-Vault-Token: nope' -d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "403")
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{not json' \(encrypt)") == "400")
        #expect(try curl("-H 'Authorization: Bearer \(server.token)' -d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "200")
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{\"plaintext\":\"***\"}' \(encrypt)") == "400")
        #expect(try curl("\(server.url)/v1/sys/health") == "200")
        let headers = try server.cli.shell("curl -s -D - -o /dev/null --cacert '\(server.caFile)' \(server.url)/v1/sys/health").text.lowercased()
        #expect(headers.contains("strict-transport-security: max-age=63072000; includesubdomains"))
        #expect(headers.contains("x-content-type-options: nosniff") && headers.contains("x-frame-options: deny"))
        #expect(headers.contains("cache-control: no-store") && headers.contains("content-security-policy: default-src 'none'"))
        // Unknown fields and caller-chosen nonces are refused by name.
        let typo = try server.cli.shell(
            "curl -s --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' -d '{\"plaintxt\":\"aGk=\"}' \(encrypt)").text
        #expect(typo.contains("unknown field") && typo.contains("plaintxt"))
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{\"plaintext\":\"aGk=\",\"nonce\":\"AAAAAAAAAAAAAAAA\"}' \(encrypt)") == "400")
        // Metrics: Prometheus text behind a token, per operation, status and key.
        #expect(try curl("\(server.url)/v1/sys/metrics") == "403")
        let metrics = try server.cli.shell("curl -s --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' \(server.url)/v1/sys/metrics").text
        #expect(metrics.contains("bulwark_requests_total{operation=\"transit/encrypt\",status=\"200\"} 1"), "\(metrics)")
        #expect(metrics.contains("bulwark_requests_total{operation=\"transit/encrypt\",status=\"400\"}"))
        #expect(metrics.contains("bulwark_key_operations_total{key=\"k\",operation=\"transit/encrypt\"} 1"))
        #expect(metrics.contains("bulwark_request_duration_seconds_bucket{operation=\"transit/encrypt\""))
        // The server keeps serving after all of that.
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "200")
        #expect(server.stop() == 0)
    }
}

/// A certificate for 127.0.0.1/localhost, self-signed (its own CA), made with openssl.
func makeCertificate(_ cli: CLIRunner, name: String, commonName: String = "localhost") throws -> (cert: String, key: String) {
    let cert = cli.path(name + ".pem"), key = cli.path(name + "-key.pem")
    let made = try cli.shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '\(key)' -out '\(cert)' -days 2 "
            + "-subj '/CN=\(commonName)' -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' 2>&1")
    #expect(made.status == 0, "\(made.text)")
    return (cert, key)
}

@Suite("bulwark server outside dev mode: operator init, shared storage, certificate reload, limits", .serialized)
struct ServerOperationsTests {
    @Test(
        "operator init once; an uninitialised store refuses to start; two nodes on one store see each other's changes within a second",
        arguments: StorageKind.allCases)
    func twoNodes(kind: StorageKind) throws {
        let cli = try CLIRunner()
        let storage = kind == .sqlite ? "sqlite:" + cli.path("shared.db") : try PostgresFixture.makeDatabase()
        let empty = kind == .sqlite ? "sqlite:" + cli.path("empty.db") : try PostgresFixture.makeDatabase()
        let env = kind.environment
        let (cert, key) = try makeCertificate(cli, name: "server")
        let fresh = try cli.bulwark(["server", "--storage", empty, "--tls-cert", cert, "--tls-key", key, "--listen", "127.0.0.1:\(try DevServer.freePort())"], env: env)
        #expect(fresh.status == 1 && fresh.stderr.contains("not initialised"))
        let root = "root-token-for-the-two-node-test"
        let initialised = try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", root], env: env)
        #expect(initialised.status == 0 && initialised.text.contains("Root token: \(root)"))
        let again = try cli.bulwark(["operator", "init", "--storage", storage], env: env)
        #expect(again.status == 1 && again.stderr.contains("already initialised"))

        let common = ["--storage", storage, "--tls-cert", cert, "--tls-key", key]
        let a = try DevServer(extra: common + ["--audit-file", cli.path("audit-a.log")], dev: false, cli: cli, env: env)
        let b = try DevServer(extra: common + ["--audit-file", cli.path("audit-b.log")], dev: false, cli: cli, env: env)
        func call(_ node: DevServer, _ token: String, _ method: String, _ path: String, _ body: String? = nil) throws -> (Int, [String: Any]) {
            let data = body.map { "-d '\($0)'" } ?? ""
            let out = try cli.shell(
                "curl -s -w '\\n%{http_code}' -X \(method) --cacert '\(cert)' -H 'X-Vault-Token: \(token)' \(data) \(node.url)/v1/\(path)").text
            let parts = out.split(separator: "\n")
            let status = Int(parts.last ?? "") ?? 0
            let json = parts.count > 1 ? (try? JSONSerialization.jsonObject(with: Data(parts[0].utf8))) as? [String: Any] : nil
            return (status, (json?["data"] as? [String: Any]) ?? (json?["auth"] as? [String: Any]) ?? [:])
        }
        let plaintext = Data("shared".utf8).base64EncodedString()
        #expect(try call(a, root, "POST", "transit/keys/shared").0 == 204)
        Thread.sleep(forTimeInterval: 1.0)
        let (status, sealed) = try call(b, root, "POST", "transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}")
        #expect(status == 200 && (sealed["ciphertext"] as? String)?.hasPrefix("vault:v1:") == true)
        let opened = try call(a, root, "POST", "transit/decrypt/shared", "{\"ciphertext\":\"\(sealed["ciphertext"] as? String ?? "")\"}").1
        #expect(opened["plaintext"] as? String == plaintext)
        // Rotate on B: A encrypts with v2 within one second.
        #expect(try call(b, root, "POST", "transit/keys/shared/rotate").0 == 204)
        Thread.sleep(forTimeInterval: 1.0)
        let rotated = try call(a, root, "POST", "transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}").1
        #expect((rotated["ciphertext"] as? String)?.hasPrefix("vault:v2:") == true)
        // A token made on A works on B; revoked on A, B refuses it within one second.
        #expect(try call(a, root, "PUT", "sys/policy/enc", "{\"policy\":\"path \\\"transit/encrypt/*\\\" { capabilities = [\\\"update\\\"] }\"}").0 == 204)
        let child = try call(a, root, "POST", "auth/token/create", "{\"policies\":[\"enc\"]}").1["client_token"] as? String ?? ""
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try call(b, child, "POST", "transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}").0 == 200)
        #expect(try call(b, child, "GET", "transit/keys/shared").0 == 403)
        #expect(try call(a, root, "POST", "auth/token/revoke", "{\"token\":\"\(child)\"}").0 == 204)
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try call(b, child, "POST", "transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}").0 == 403)
        #expect(a.stop() == 0 && b.stop() == 0)
        // Each node's audit log verifies on its own; the database holds no token.
        for (node, log) in [(a, "audit-a.log"), (b, "audit-b.log")] {
            let verified = try node.verifyAudit(cli.path(log))
            #expect(verified.status == 0 && verified.text.contains("reaches the store's checkpoint"), "\(verified.stderr)")
        }
        let dumpCommand = kind == .sqlite
            ? "cat '\(cli.path("shared.db"))'*" : "pg_dump '\(storage.replacingOccurrences(of: "postgres://", with: "postgresql://"))'"
        let database = try cli.shell("\(dumpCommand) | grep -c -a -e '\(root)' -e '\(child)' || true", env: env).text
        #expect(database.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test("A renewed certificate on disk is served to new connections without a restart")
    func certificateReload() throws {
        let cli = try CLIRunner()
        let storage = "sqlite:" + cli.path("state.db")
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", "root-token-for-reload-test"]).status == 0)
        let (cert, key) = try makeCertificate(cli, name: "server", commonName: "first.example")
        let node = try DevServer(extra: ["--storage", storage, "--tls-cert", cert, "--tls-key", key], dev: false, cli: cli)
        let subject = { () throws -> String in
            try cli.shell("echo | timeout 10 openssl s_client -connect 127.0.0.1:\(node.port) 2>/dev/null | openssl x509 -noout -subject").text
        }
        #expect(try subject().contains("first.example"))
        // certbot-style renewal: new files moved into place.
        let renewed = try makeCertificate(cli, name: "renewed", commonName: "second.example")
        #expect(rename(renewed.key, key) == 0 && rename(renewed.cert, cert) == 0)
        var seen = ""
        for _ in 0..<20 where !seen.contains("second.example") {
            Thread.sleep(forTimeInterval: 0.5)
            seen = try subject()
        }
        #expect(seen.contains("second.example"))
        #expect(node.stop() == 0)
    }

    @Test("bulwark policy write and token create manage access through BULWARK_ADDR, BULWARK_TOKEN and BULWARK_CACERT", arguments: StorageKind.allCases)
    func clientCommands(storage: StorageKind) throws {
        let server = try DevServer(storage: storage)
        let cli = server.cli
        let env = ["BULWARK_ADDR": server.url, "BULWARK_TOKEN": server.token, "BULWARK_CACERT": server.caFile]
        try #"path "transit/encrypt/orders" { capabilities = ["create", "update"] }"#.write(toFile: cli.path("orders.hcl"), atomically: true, encoding: .utf8)
        let written = try cli.bulwark(["policy", "write", "orders-writer", cli.path("orders.hcl")], env: env)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try cli.bulwark(["policy", "list"], env: env).text.contains("orders-writer"))
        #expect(try cli.bulwark(["policy", "read", "orders-writer"], env: env).text.contains("transit/encrypt/orders"))
        let created = try cli.bulwark(["token", "create", "--policy", "orders-writer", "--ttl", "1h", "--json"], env: env)
        #expect(created.status == 0, "\(created.stderr)")
        let auth = try #require(try JSONSerialization.jsonObject(with: created.stdout) as? [String: Any])
        let token = try #require(auth["client_token"] as? String)
        #expect(auth["policies"] as? [String] == ["orders-writer"])
        let curl = { (path: String) throws -> String in
            try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(token)' -d '{\"plaintext\":\"aGk=\"}' \(server.url)/v1/\(path)").text
        }
        #expect(try curl("transit/encrypt/orders") == "200")
        #expect(try curl("transit/decrypt/orders") == "403")
        let lookup = try cli.bulwark(["token", "lookup"], env: env.merging(["BULWARK_TOKEN": token]) { $1 })
        #expect(lookup.text.contains("orders-writer"))
        #expect(try cli.bulwark(["token", "revoke", token], env: env).status == 0)
        #expect(try curl("transit/encrypt/orders") == "403")
        // The certificate is verified: without the CA the client refuses to talk.
        let unverified = try cli.bulwark(["policy", "list"], env: ["BULWARK_ADDR": server.url, "BULWARK_TOKEN": server.token, "BULWARK_CACERT": ""])
        #expect(unverified.status == 1 && unverified.stderr.contains("cannot reach"))
        let refused = try cli.bulwark(["policy", "delete", "orders-writer"], env: env.merging(["BULWARK_TOKEN": "bad-token"]) { $1 })
        #expect(refused.status == 1 && refused.stderr.contains("permission denied"))
        #expect(server.stop() == 0)
    }

    @Test("bulwark server --config FILE: settings from a JSON file, overridden by BULWARK_* variables; typos and wrong types refused")
    func configFile() throws {
        let cli = try CLIRunner()
        let storage = "sqlite:" + cli.path("state.db")
        try FileManager.default.createDirectory(atPath: cli.path("secrets"), withIntermediateDirectories: true)
        let keyFile = cli.path("secrets/master.key")
        try (cli.environment["BULWARK_MASTER_KEY"] ?? "").write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect(chmod(keyFile, 0o600) == 0)
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", "root-token-for-config-test"]).status == 0)
        let (cert, key) = try makeCertificate(cli, name: "server")
        let filePort = try DevServer.freePort()
        let config = """
            {"listen": "127.0.0.1:\(filePort)", "storage": "\(storage)",
             "tls": {"cert": "\(cert)", "key": "\(key)", "allow_tls12": false},
             "master_key": {"file": "\(keyFile)"}, "audit": {"file": "\(cli.path("logs/audit.log"))"},
             "limits": {"rate_limit": 1000, "max_request_bytes": 65536},
             "retention": {"audit": "400d", "tokens": "2y"}}
            """
        try config.write(toFile: cli.path("bulwark.json"), atomically: true, encoding: .utf8)
        // The master key comes from the file named in the configuration, not the environment.
        let noKey = ["BULWARK_MASTER_KEY": ""]
        let fromFile = try DevServer(extra: ["--config", cli.path("bulwark.json")], dev: false, cli: cli, env: noKey, port: filePort)
        let health = try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' https://127.0.0.1:\(filePort)/v1/sys/health").text
        #expect(health == "200")
        let big = String(repeating: "A", count: 70_000)
        try "{\"plaintext\":\"\(big)\"}".write(toFile: cli.path("big.json"), atomically: true, encoding: .utf8)
        let oversize = try cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' -H 'X-Vault-Token: root-token-for-config-test' --data-binary @\(cli.path("big.json")) https://127.0.0.1:\(filePort)/v1/transit/encrypt/k").text
        #expect(oversize == "413")
        #expect(fromFile.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: cli.path("logs/audit.log")))
        // An environment variable overrides the file.
        let envPort = try DevServer.freePort()
        let overridden = try DevServer(
            extra: ["--config", cli.path("bulwark.json")], dev: false, cli: cli,
            env: noKey.merging(["BULWARK_LISTEN": "127.0.0.1:\(envPort)"]) { $1 }, port: envPort)
        #expect(try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' https://127.0.0.1:\(envPort)/v1/sys/health").text == "200")
        #expect(overridden.stop() == 0)
        // Typos and wrong types stop start-up with a message naming the setting.
        try config.replacingOccurrences(of: "\"rate_limit\"", with: "\"rate_limt\"").write(toFile: cli.path("typo.json"), atomically: true, encoding: .utf8)
        let typo = try cli.bulwark(["server", "--config", cli.path("typo.json")])
        #expect(typo.status == 1 && typo.stderr.contains("limits.rate_limt"))
        try config.replacingOccurrences(of: "1000", with: "\"1000\"").write(toFile: cli.path("type.json"), atomically: true, encoding: .utf8)
        try config.replacingOccurrences(of: "400d", with: "400 days").write(toFile: cli.path("period.json"), atomically: true, encoding: .utf8)
        let badPeriod = try cli.bulwark(["server", "--config", cli.path("period.json")])
        #expect(badPeriod.status == 1 && badPeriod.stderr.contains("400 days"))
        let badClass = try cli.bulwark(["server", "--dev", "--retention", "session-logs=30d"])
        #expect(badClass.status == 1 && badClass.stderr.contains("unknown retention class"))
        let wrongType = try cli.bulwark(["server", "--config", cli.path("type.json")])
        #expect(wrongType.status == 1 && wrongType.stderr.contains("limits.rate_limit") && wrongType.stderr.contains("number"))
    }

    @Test("Mutual TLS: a client certificate from the configured CA is required, and its subject maps to policies", arguments: StorageKind.allCases)
    func mutualTLS(storage: StorageKind) throws {
        let cli = try CLIRunner()
        let made = try cli.shell("""
            set -e
            cd '\(cli.scratch)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout clients-ca-key.pem -out clients-ca.pem -days 2 -subj '/CN=Clients CA' 2>/dev/null
            for name in billing-service unmapped; do
              openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $name-key.pem -out $name.csr -subj "/O=Example/CN=$name" 2>/dev/null
              openssl x509 -req -in $name.csr -CA clients-ca.pem -CAkey clients-ca-key.pem -CAcreateserial -out $name.pem -days 2 2>/dev/null
            done
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue-key.pem -out rogue.pem -days 2 -subj '/CN=billing-service' 2>/dev/null
            """)
        #expect(made.status == 0, "\(made.stderr)")
        let server = try DevServer(
            extra: ["--tls-client-ca", cli.path("clients-ca.pem"), "--tls-client-policy", "billing-service=billing"], cli: cli, storage: storage)
        let curl = { (client: String?, token: String?, method: String, path: String, body: String) throws -> String in
            let identity = client.map { "--cert '\(cli.path($0 + ".pem"))' --key '\(cli.path($0 + "-key.pem"))'" } ?? ""
            let auth = token.map { "-H 'X-Vault-Token: \($0)'" } ?? ""
            return try cli.shell(
                "curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' \(identity) \(auth) -X \(method) -d '\(body)' \(server.url)/v1/\(path)"
            ).text
        }
        let encrypt = "{\"plaintext\":\"aGk=\"}"
        // No certificate, or one from another CA: the handshake fails.
        #expect(try curl(nil, server.token, "POST", "transit/encrypt/bills", encrypt) == "000")
        #expect(try curl("rogue", server.token, "POST", "transit/encrypt/bills", encrypt) == "000")
        // A trusted certificate with the root token works as before.
        let policy = #"{"policy":"path \"transit/encrypt/bills\" { capabilities = [\"create\", \"update\"] }"}"#
        #expect(try curl("billing-service", server.token, "PUT", "sys/policy/billing", policy) == "204")
        // Without a token, the certificate's common name grants its mapped policies, and only those.
        #expect(try curl("billing-service", nil, "POST", "transit/encrypt/bills", encrypt) == "200")
        #expect(try curl("billing-service", nil, "POST", "transit/decrypt/bills", "{\"ciphertext\":\"vault:v1:AAAA\"}") == "403")
        #expect(try curl("unmapped", nil, "POST", "transit/encrypt/bills", encrypt) == "403")
        #expect(server.stop() == 0)
    }

    @Test("Retention: expired tokens and old audit segments go, exactly; a dry run lists them; a crash midway is finished by the next run", arguments: StorageKind.allCases)
    func retention(storage: StorageKind) throws {
        let cli = try CLIRunner()
        let flags = try storage.serverArguments() + ["--retention", "tokens=3s", "--retention", "audit=3s"]
        let first = try DevServer(
            extra: flags, cli: cli, env: storage.environment.merging(["BULWARK_TEST_CRASH_POINT": "retention-midway"]) { $1 })
        let env = ["BULWARK_ADDR": first.url, "BULWARK_TOKEN": first.token, "BULWARK_CACERT": first.caFile]
        let call = { (node: DevServer, token: String, method: String, path: String, body: String) throws -> String in
            try cli.shell("curl -s -w ' %{http_code}' --cacert '\(node.caFile)' -H 'X-Vault-Token: \(token)' -X \(method) -d '\(body)' \(node.url)/v1/\(path)").text
        }
        let policy = #"{"policy":"path \"transit/encrypt/*\" { capabilities = [\"create\", \"update\"] }"}"#
        #expect(try call(first, first.token, "PUT", "sys/policy/enc", policy).hasSuffix("204"))
        let tokenOf = { (body: String) throws -> String in
            let text = try call(first, first.token, "POST", "auth/token/create", body)
            let json = try JSONSerialization.jsonObject(with: Data(text.dropLast(4).utf8)) as? [String: Any]
            return try #require((json?["auth"] as? [String: Any])?["client_token"] as? String)
        }
        for _ in 0..<2 { #expect(try call(first, first.token, "POST", "sys/audit/rotate", "").hasSuffix("200")) }
        let shortLived = try tokenOf(#"{"policies":["enc"],"ttl":"1s"}"#)
        let old = try tokenOf(#"{"policies":["enc"]}"#)
        Thread.sleep(forTimeInterval: 3.5)
        let fresh = try tokenOf(#"{"policies":["enc"]}"#)
        #expect(try call(first, first.token, "POST", "sys/audit/rotate", "").hasSuffix("200"))
        let auditPath = cli.home + "/audit.log"
        #expect(AuditLog.segments(of: auditPath).count == 3)
        // Dry run: lists exactly the two expired tokens and the two old segments, removes nothing.
        let plan = try cli.bulwark(["retention", "run", "--dry-run"], env: env)
        #expect(plan.text.contains("would remove 2 token(s) and 2 audit segment(s)"), "\(plan.text)\(plan.stderr)")
        #expect(try call(first, old, "POST", "transit/encrypt/k", #"{"plaintext":"aGk="}"#).hasSuffix("200"))
        #expect(AuditLog.segments(of: auditPath).count == 3)
        // A crash after the first deletion ...
        _ = try? cli.bulwark(["retention", "run"], env: env)
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 70)
        // ... is finished by the next run (the restarted server runs retention at start).
        let second = try DevServer(extra: flags, cli: cli, env: storage.environment)
        let env2 = env.merging(["BULWARK_ADDR": second.url]) { $1 }
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try call(second, old, "POST", "transit/encrypt/k", #"{"plaintext":"aGk="}"#).hasSuffix("403"))
        #expect(try call(second, shortLived, "POST", "transit/encrypt/k", #"{"plaintext":"aGk="}"#).hasSuffix("403"))
        #expect(try call(second, fresh, "POST", "transit/encrypt/k", #"{"plaintext":"aGk="}"#).hasSuffix("200"))
        #expect(AuditLog.segments(of: auditPath).count == 1)
        // Idempotent: nothing more to remove; the remaining audit chain still verifies.
        #expect(try cli.bulwark(["retention", "run"], env: env2).text.contains("removed 0 token(s) and 0 audit segment(s)"))
        let verified = try second.verifyAudit(auditPath)
        #expect(verified.status == 0 && verified.text.contains("in 2 files"), "\(verified.stderr)")
        let log = try String(contentsOfFile: auditPath, encoding: .utf8)
        #expect(log.contains("\"type\":\"retention\""))
        let metrics = try cli.shell("curl -s --cacert '\(second.caFile)' -H 'X-Vault-Token: \(second.token)' \(second.url)/v1/sys/metrics").text
        #expect(metrics.contains("bulwark_retention_removed_total{class=\"audit\"}"))
        #expect(second.stop() == 0)
    }

    @Test("A per-token rate limit answers 429 and leaves other tokens alone", arguments: StorageKind.allCases)
    func rateLimit(storage: StorageKind) throws {
        let server = try DevServer(extra: ["--rate-limit", "5"], storage: storage)
        let auth = "--cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)'"
        #expect(try server.cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' \(auth) -X PUT -d '{\"policy\":\"path \\\"transit/*\\\" { capabilities = [\\\"update\\\"] }\"}' \(server.url)/v1/sys/policy/p"
        ).text == "204")
        let created = try server.cli.shell("curl -s \(auth) -d '{\"policies\":[\"p\"]}' \(server.url)/v1/auth/token/create").text
        let other = try #require(((try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["auth"] as? [String: Any])?["client_token"] as? String)
        let codes = try server.cli.shell(
            "for i in $(seq 1 30); do curl -s -o /dev/null -w '%{http_code} ' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' "
                + "-d '{\"plaintext\":\"aGk=\"}' \(server.url)/v1/transit/encrypt/k; done").text
        #expect(codes.contains("200") && codes.contains("429"))
        let unaffected = try server.cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(other)' -d '{\"plaintext\":\"aGk=\"}' \(server.url)/v1/transit/encrypt/k").text
        #expect(unaffected == "200")
        #expect(server.stop() == 0)
    }
}
