import BulwarkTestSupport
import Foundation
import Testing

/// Regressions for the three defects an attacker found on a45ba31, each run against a real
/// `bulwark server --dev` over TLS with curl, through the fast path and through the router.
@Suite("Hardening: the a45ba31 defects stay fixed", .serialized)
struct HardeningTests {
    /// One call: status and body.
    private func call(
        _ server: DevServer, _ method: String, _ path: String, token: String?, body: String? = nil
    ) throws -> (status: Int, body: String) {
        let header = token.map { "-H 'X-Vault-Token: \($0)' " } ?? ""
        let data = body.map { "--data-binary '\($0)' " } ?? ""
        let result = try server.cli.shell(
            "curl -s --path-as-is -X \(method) -w '\\n%{http_code}' --cacert '\(server.caFile)' \(header)\(data)'\(server.url)\(path)'")
        let text = result.text
        let split = text.lastIndex(of: "\n").map { (String(text[..<$0]), Int(text[text.index(after: $0)...]) ?? 0) } ?? ("", 0)
        return (split.1, split.0)
    }

    private func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("A token made by auth/token/create never reaches the audit log (nor its accessor)")
    func noCredentialInTheAuditLog() throws {
        let server = try DevServer()
        _ = try self.call(server, "PUT", "/v1/sys/policy/reader", token: server.token, body: #"{"policy":"path \"transit/*\" { capabilities = [\"read\"] }"}"#)
        let made = try self.call(server, "POST", "/v1/auth/token/create", token: server.token, body: #"{"policies":["reader"],"ttl":"1h"}"#)
        #expect(made.status == 200, "\(made)")
        let auth = self.json(made.body)["auth"] as? [String: Any] ?? [:]
        let token = try #require(auth["client_token"] as? String)
        let accessor = try #require(auth["accessor"] as? String)
        // The new token is used, then revokes itself: both lines name it only by its keyed hash.
        #expect(try self.call(server, "GET", "/v1/auth/token/lookup-self", token: token).status == 200)
        #expect(try self.call(server, "POST", "/v1/auth/token/revoke-self", token: token).status == 204)
        #expect(server.stop() == 0)
        let log = try String(contentsOfFile: server.cli.home + "/audit.log", encoding: .utf8)
        #expect(log.contains("/v1/auth/token/create") && log.contains(#""policies":["reader"]"#))
        for secret in [token, accessor, server.token] {
            #expect(!log.contains(secret), "a credential is in the audit log")
        }
    }

    @Test("A deny rule holds for every spelling of its path, on the fast path and the router", arguments: [true, false])
    func denyHoldsForEverySpelling(fastPath: Bool) throws {
        let server = try DevServer(extra: fastPath ? [] : ["--no-fast-path"])
        let policy = #"{"policy":"path \"transit/decrypt/*\" { capabilities = [\"update\"] }\npath \"transit/decrypt/secret\" { capabilities = [\"deny\"] }"}"#
        #expect(try self.call(server, "PUT", "/v1/sys/policy/decryptor", token: server.token, body: policy).status == 204)
        let made = try self.call(server, "POST", "/v1/auth/token/create", token: server.token, body: #"{"policies":["decryptor"]}"#)
        let token = try #require((self.json(made.body)["auth"] as? [String: Any])?["client_token"] as? String)
        for key in ["secret", "other"] {
            #expect(try self.call(server, "POST", "/v1/transit/keys/\(key)", token: server.token, body: "{}").status == 204)
        }
        let sealed = self.json(try self.call(server, "POST", "/v1/transit/encrypt/secret", token: server.token, body: #"{"plaintext":"aGk="}"#).body)
        let ciphertext = try #require((sealed["data"] as? [String: Any])?["ciphertext"] as? String)
        let body = #"{"ciphertext":"\#(ciphertext)"}"#
        #expect(try self.call(server, "POST", "/v1/transit/decrypt/secret", token: token, body: body).status == 403)
        // The grant itself works where no deny applies.
        let other = self.json(try self.call(server, "POST", "/v1/transit/encrypt/other", token: server.token, body: #"{"plaintext":"aGk="}"#).body)
        let otherText = try #require((other["data"] as? [String: Any])?["ciphertext"] as? String)
        #expect(try self.call(server, "POST", "/v1/transit/decrypt/other", token: token, body: #"{"ciphertext":"\#(otherText)"}"#).status == 200)
        let spellings = [
            "/v1/transit/decrypt/secret/", "/v1/transit/decrypt//secret", "/v1/transit//decrypt/secret", "/v1/transit/./decrypt/secret",
            "/v1/transit/decrypt/./secret", "/v1/transit/decrypt/../decrypt/secret", "/v1/transit/decrypt/%73ecret",
            "/v1/transit/decrypt%2Fsecret", "/v1/transit/decrypt/secret?x=1", "/v1/transit/decrypt/secret?list=false",
            "/v1/Transit/decrypt/secret", "/v1/transit/DECRYPT/secret", "/v1/transit/decrypt/SECRET", "//v1/transit/decrypt/secret",
        ]
        for spelling in spellings {
            let answer = try self.call(server, "POST", spelling, token: token, body: body)
            #expect(!(200..<300).contains(answer.status) && !answer.body.contains("plaintext"), "\(spelling) answered \(answer.status)")
        }
        // Two tokens in one request: neither path picks one.
        let twice = try server.cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' -H 'X-Vault-Token: junk' --data-binary '\(body)' '\(server.url)/v1/transit/decrypt/other'")
        #expect(twice.text == "403")
        // The metrics endpoint takes the same target check (no 80 kB audit line from slashes).
        #expect(try self.call(server, "GET", "/v1//sys/metrics", token: nil).status == 400)
        #expect(try self.call(server, "GET", "/v1/sys/metrics/" + String(repeating: "/", count: 5000), token: nil).status == 400)
        for method in ["PATCH", "OPTIONS", "TRACE", "LIST"] {
            let answer = try self.call(server, method, "/v1/transit/decrypt/secret", token: token, body: body)
            #expect(!(200..<300).contains(answer.status), "\(method) answered \(answer.status)")
        }
        // A path no route serves, as OpenBao answers it: 403 without a valid token (which paths
        // exist is not told), 404 with one; the security headers either way.
        for (presented, status) in [(nil, 403), ("not-a-token", 403), (server.token, 404)] as [(String?, Int)] {
            #expect(try self.call(server, "GET", "/v1/transit/nothing-here/x", token: presented).status == status)
        }
        // A path the API has, with a method it does not take there: 405 for an authenticated caller.
        for (method, path) in [("GET", "/v1/transit/encrypt/secret"), ("DELETE", "/v1/transit/decrypt/secret"), ("GET", "/v1/auth/token/create")] {
            #expect(try self.call(server, method, path, token: server.token).status == 405, "\(method) \(path)")
            #expect(try self.call(server, method, path, token: nil).status == 403, "\(method) \(path)")
        }
        let headers = try server.cli.shell("curl -s -D - -o /dev/null --cacert '\(server.caFile)' '\(server.url)/v1/nothing'").text.lowercased()
        #expect(headers.contains("strict-transport-security: max-age=63072000") && headers.contains("x-content-type-options: nosniff"))
        #expect(server.stop() == 0)
    }

    @Test("The access matrix generated from the served OpenAPI document: every operation x every kind of caller x other spellings")
    func generatedAccessMatrix() async throws {
        let server = try DevServer()
        // The table is the one the server serves (a token with read on its path).
        let spec = server.cli.path("openapi.json")
        let fetched = try server.cli.shell(
            "curl -s -o '\(spec)' -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' '\(server.url)/v1/sys/internal/specs/openapi'")
        #expect(fetched.text == "200")
        #expect(try self.call(server, "GET", "/v1/sys/internal/specs/openapi", token: nil).status == 403)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/access_matrix_full.py").path
        let result = try await server.cli.shellDetached("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)' '\(spec)'")
        #expect(result.status == 0, "\(result.stderr.suffix(4000))")
        #expect(result.text.contains(" 0 mismatches"), "\(result.text.suffix(500))")
        #expect(server.stop() == 0)
    }

    @Test("Defects schemathesis found stay fixed: wrong types, empty batches and unimplemented options are refused by name")
    func schemathesisFindings() throws {
        let server = try DevServer()
        let root = server.token
        #expect(try self.call(server, "POST", "/v1/transit/keys/k", token: root, body: "{}").status == 204)
        let refused: [(String, String, String)] = [
            // A malformed dry run must never run the real job.
            ("POST", "/v1/sys/retention", #"{"dry_run":{}}"#),
            ("POST", "/v1/sys/retention", #"{"dry_run":"yes"}"#),
            ("POST", "/v1/transit/encrypt/k", #"{"batch_input":[]}"#),
            ("POST", "/v1/transit/hmac/k/sha2-256", #"{"batch_input":[]}"#),
            ("POST", "/v1/transit/random/null", "{}"),
            ("POST", "/v1/transit/random", #"{"source":"all"}"#),
            ("POST", "/v1/transit/hash", #"{"input":"","format":"AAA"}"#),
            ("POST", "/v1/transit/keys/k/config", #"{"allow_plaintext_backup":true}"#),
            ("POST", "/v1/transit/keys/k/config", #"{"deletion_allowed":"true"}"#),
            ("POST", "/v1/transit/keys/k/config", #"{"exportable":true}"#),
            ("POST", "/v1/transit/keys/k2", #"{"exportable":{}}"#),
            ("POST", "/v1/transit/keys/k3", #"{"key_size":64}"#),
            ("POST", "/v1/transit/keys/k4", #"{"derived":"true"}"#),
            ("POST", "/v1/sys/policy/p", #"{"policy":""}"#),
            ("DELETE", "/v1/sys/policy/root", ""),
            ("POST", "/v1/transform/transformations/tokenization/t", #"{"stores":[{}]}"#),
            ("POST", "/v1/auth/token/create", #"{"display_name":7}"#),
            // Wrong JSON types are refused by name wherever the field is, batch items and a
            // batch's top level included (they were passed over as absent).
            ("POST", "/v1/transit/encrypt/k", #"{"batch_input":[{"plaintext":"aGk=","reference":{}}]}"#),
            ("POST", "/v1/transit/encrypt/k", #"{"batch_input":[{"plaintext":"aGk=","partial_failure_response_code":{}}]}"#),
            ("POST", "/v1/transit/encrypt/k", #"{"batch_input":[{"plaintext":"aGk="}],"nonce":{}}"#),
            ("POST", "/v1/transit/decrypt/k", #"{"batch_input":[{"ciphertext":"vault:v1:AAAA"}],"context":{}}"#),
            ("POST", "/v1/transform/encode/r", #"{"batch_input":[{"value":"1","ttl":2.5e-42}]}"#),
            ("POST", "/v1/transform/encode/r", #"{"batch_input":[{"value":"1","metadata":[null]}]}"#),
            // A key type that is none, even for an existing key (where a real type is ignored).
            ("POST", "/v1/transit/encrypt/k", #"{"plaintext":"aGk=","type":"AAA"}"#),
            // The path and the body must agree.
            ("POST", "/v1/transit/hash/sha2-256", #"{"input":"","algorithm":"sha3-512"}"#),
            ("POST", "/v1/transit/random/1", #"{"bytes":65535}"#),
            ("POST", "/v1/transit/random/1", #"{"bytes":65537}"#),
            ("POST", "/v1/transform/transformations/tokenization/t", #"{"type":"AAA"}"#),
            ("POST", "/v1/transform/transformations/tokenization/t", #"{"type":"fpe","template":"builtin/creditcardnumber"}"#),
        ]
        for (method, path, body) in refused {
            let answer = try self.call(server, method, path, token: root, body: body.isEmpty ? nil : body)
            #expect(answer.status == 400 && answer.body.contains("errors"), "\(method) \(path) \(body) answered \(answer.status) \(answer.body)")
        }
        #expect(try self.call(server, "GET", "/v1/transit/keys/missing", token: root).status == 404)
        #expect(try self.call(server, "POST", "/v1/transit/random/16", token: root, body: "{}").status == 200)
        #expect(try self.call(server, "POST", "/v1/transit/random/16", token: root, body: #"{"bytes":16}"#).status == 200)
        // JSON null is the same as absent (as in Vault), wherever the field is.
        let nulls = #"{"plaintext":"aGk=","associated_data":null,"reference":null,"type":null,"key_version":null,"nonce":null}"#
        #expect(try self.call(server, "POST", "/v1/transit/encrypt/k", token: root, body: nulls).status == 200)
        let batchNulls = #"{"batch_input":[{"input":"aGk=","algorithm":null}],"algorithm":null,"key_version":null}"#
        #expect(try self.call(server, "POST", "/v1/transit/keys/h", token: root, body: #"{"type":"hmac"}"#).status == 204)
        #expect(try self.call(server, "POST", "/v1/transit/hmac/h", token: root, body: batchNulls).status == 200)
        #expect(try self.call(server, "POST", "/v1/transit/hash/sha2-256", token: root, body: #"{"input":"","algorithm":"sha2-256"}"#).status == 200)
        // In a batch, an item whose value is refused is that item's error (200), as Vault answers.
        let perItem = try self.call(server, "POST", "/v1/transit/verify/k", token: root, body: #"{"batch_input":[{"input":"aGk=","hmac":"x"}]}"#)
        #expect(perItem.status == 200 && perItem.body.contains("batch_results") && perItem.body.contains("error"), "\(perItem.body)")
        // A 405 names the methods the path takes (RFC 9110) to a caller with a valid token; to
        // anyone else every method, so that it tells nobody which paths exist.
        for (method, path, token, allow) in [
            ("TRACE", "/v1/transit/keys/k", root, "GET, PUT, POST, DELETE"), ("PATCH", "/v1/transit/encrypt/k", root, "PUT, POST"),
            ("TRACE", "/v1/auth/token/accessors?list=true", root, "GET"), ("TRACE", "/v1/nowhere", root, "GET, PUT, POST, DELETE"),
            ("TRACE", "/v1/transit/encrypt/k/?list=true", root, "PUT, POST"),
            ("PATCH", "/v1/transit/encrypt/k", "not-a-token", "GET, PUT, POST, DELETE"),
            ("TRACE", "/v1/auth/token/accessors", "", "GET, PUT, POST, DELETE"),
        ] {
            let header = token.isEmpty ? "" : "-H 'X-Vault-Token: \(token)'"
            let headers = try server.cli.shell(
                "curl -s -D - -o /dev/null -X \(method) \(header) --cacert '\(server.caFile)' '\(server.url)\(path)'")
            #expect(headers.text.hasPrefix("HTTP/1.1 405") && headers.text.lowercased().contains("allow: \(allow.lowercased())\r\n"),
                "\(method) \(path): \(headers.text)")
        }
        // null in a batch item does not hide the request's own value.
        #expect(try self.call(server, "POST", "/v1/transit/keys/k/rotate", token: root, body: "{}").status == 204)
        let pinned = try self.call(server, "POST", "/v1/transit/encrypt/k", token: root,
            body: #"{"batch_input":[{"plaintext":"aGk=","key_version":null}],"key_version":1}"#)
        #expect(pinned.status == 200 && pinned.body.contains("vault:v1:"), "\(pinned.body)")
        #expect(try self.call(server, "POST", "/v1/transit/keys/k/config", token: root, body: #"{"allow_plaintext_backup":false}"#).status == 204)
        #expect(server.stop() == 0)
    }

    /// Runs `Tests/Interop/NAME` against a fresh dev server and expects its summary line.
    private func runOracle(_ name: String, expecting summary: String) async throws {
        let server = try DevServer()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/" + name).path
        let result = try await server.cli.shellDetached("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text.suffix(4000))\n\(result.stderr.suffix(2000))")
        #expect(result.text.contains(summary))
        #expect(server.stop() == 0)
    }

    @Test("Policy decisions match OpenBao's (the real `bao` server) on 630 generated (policy set, path, method) cases")
    func policyDecisionsMatchOpenBao() async throws {
        try await self.runOracle("policy_oracle.py", expecting: "policy oracle: 630 cases, 0 mismatches")
    }

    @Test("Token life as OpenBao has it: caps, inheritance, orphans, num_uses, accessors, renewal, cascading and root revocation")
    func tokensMatchOpenBao() async throws {
        try await self.runOracle("token_oracle.py", expecting: "token oracle: 37 steps, 0 mismatches")
    }

    @Test("No number in a request can stop the server: out of range answers 400 naming the field")
    func hugeNumbersAreRefused() throws {
        let server = try DevServer()
        #expect(try self.call(server, "POST", "/v1/transit/keys/k", token: server.token, body: "{}").status == 204)
        #expect(try self.call(server, "POST", "/v1/transit/keys/m", token: server.token, body: #"{"type":"hmac"}"#).status == 204)
        let cases: [(String, String, String)] = [
            ("/v1/auth/token/create", #"{"ttl":"999999999999999999d"}"#, "ttl"),
            ("/v1/auth/token/create", #"{"ttl":9223372036854775807}"#, "ttl"),
            ("/v1/auth/token/create", #"{"ttl":"-5s"}"#, "ttl"),
            ("/v1/auth/token/create", #"{"ttl":1e308}"#, "ttl"),
            ("/v1/transit/keys/k/config", #"{"auto_rotate_period":"99999999999999999h"}"#, "auto_rotate_period"),
            ("/v1/transit/keys/k/config", #"{"min_decryption_version":99999999999999999999}"#, "min_decryption_version"),
            ("/v1/transit/keys/k/config", #"{"min_decryption_version":-1}"#, "min_decryption_version"),
            ("/v1/transit/keys/k2", #"{"auto_rotate_period":"106752d"}"#, "auto_rotate_period"),
            ("/v1/transit/keys/k/trim", #"{"min_available_version":9223372036854775807}"#, "min_available_version"),
            ("/v1/transit/encrypt/k", #"{"plaintext":"aGk=","key_version":1e300}"#, "key_version"),
            ("/v1/transit/datakey/plaintext/k", #"{"bits":18446744073709551616}"#, "bits"),
            ("/v1/transit/random", #"{"bytes":9223372036854775807}"#, "bytes"),
            ("/v1/transit/random", #"{"bytes":"abc"}"#, "bytes"),
            ("/v1/transit/encrypt/k", #"{"batch_input":[{"plaintext":"aGk="},"x"]}"#, "batch_input"),
            ("/v1/transit/hmac/m/sha1", #"{"input":"aGk="}"#, "algorithm"),
            ("/v1/transit/hmac/m", #"{"input":"aGk=","key_version":4294967296}"#, "key_version"),
            ("/v1/transit/sign/m", #"{"input":"aGk=","key_version":-1}"#, "key_version"),
        ]
        for (path, body, field) in cases {
            let answer = try self.call(server, "POST", path, token: server.token, body: body)
            #expect(answer.status == 400 && answer.body.contains(field), "\(path) \(body): \(answer)")
        }
        #expect(try self.call(server, "GET", "/v1/sys/health", token: nil).status == 200, "the server is still up")
        #expect(server.stop() == 0)
    }
}

/// The server under attack (bounded: 12 s of slowloris, a connection flood and unauthenticated
/// 32 MiB bodies) keeps answering an authenticated encrypt client.
@Suite("Hardening: resources", .serialized)
struct ResourceTests {
    @Test("Slowloris heads, a connection flood and unauthenticated 32 MiB bodies leave memory bounded and the encrypt client served")
    func servesWhileAttacked() throws {
        let server = try DevServer(extra: ["--head-timeout", "3", "--max-connections", "256"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/under_attack.py").path
        // A debug build sharing two cores with the rest of the suite: the latency bound here is loose;
        // the release figure (p99 under 50 ms) is measured by Benchmarks/under-attack.sh.
        let result = try server.cli.shell(
            "python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)' \(server.process.processIdentifier) 12 1000 600")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr.suffix(3000))")
        #expect(result.text.contains("under attack: served"))
        #expect(server.stop() == 0)
    }
}

/// A store entry that cannot be read stalls nothing: it is skipped and reported, and every
/// other change (a revocation, say) still reaches every node.
@Suite("Hardening: refresh", .serialized)
struct RefreshHardeningTests {
    @Test("One unreadable entry is skipped and reported (health, metric); a revocation on one node still reaches the other")
    func unreadableEntryDoesNotStallRefresh() throws {
        // The manifest's buckets are chosen by a random per-store key: in 1 store of 64 the damaged
        // policy shares the root record's bucket, and (fail closed) the whole bucket is refused,
        // root token included. That store is set aside and the test runs again on a fresh one.
        for attempt in 1...3 {
            if try self.refreshScenario(lastAttempt: attempt == 3) { break }
        }
    }

    /// One run; false when the damaged entry's bucket held the root record too (and not the last attempt).
    private func refreshScenario(lastAttempt: Bool) throws -> Bool {
        let cli = try CLIRunner()
        let database = cli.path("shared.db")
        let storage = "sqlite:" + database
        let (cert, key) = try makeCertificate(cli, name: "server")
        let root = "root-token-for-the-refresh-test"
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", root]).status == 0)
        let common = ["--storage", storage, "--tls-cert", cert, "--tls-key", key]
        let a = try DevServer(extra: common + ["--audit-file", cli.path("audit-a.log")], dev: false, cli: cli)
        let b = try DevServer(extra: common + ["--audit-file", cli.path("audit-b.log")], dev: false, cli: cli)
        func call(_ node: DevServer, _ token: String, _ method: String, _ path: String, _ body: String? = nil) throws -> (Int, String) {
            let data = body.map { "--data-binary '\($0)' " } ?? ""
            let out = try cli.shell("curl -s -w '\\n%{http_code}' -X \(method) --cacert '\(cert)' -H 'X-Vault-Token: \(token)' \(data)\(node.url)/v1/\(path)").text
            let split = out.lastIndex(of: "\n")!
            return (Int(out[out.index(after: split)...]) ?? 0, String(out[..<split]))
        }
        let policy = #"{"policy":"path \"transit/keys/*\" { capabilities = [\"list\", \"read\"] }"}"#
        #expect(try call(a, root, "PUT", "sys/policy/p1", policy).0 == 204)
        #expect(try call(a, root, "PUT", "sys/policy/p2", policy).0 == 204)
        let made = try call(a, root, "POST", "auth/token/create", #"{"policies":["p2"]}"#).1
        let token = try #require(
            ((try? JSONSerialization.jsonObject(with: Data(made.utf8))) as? [String: Any]).flatMap { ($0["auth"] as? [String: Any])?["client_token"] as? String })
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try call(b, token, "GET", "transit/keys?list=true").0 != 403, "the token works on B")
        // Someone with the database (not the master key) damages one entry.
        let damaged = try cli.shell(
            "python3 -c \"import sqlite3; c = sqlite3.connect('\(database)'); c.execute(\\\"UPDATE bulwark_entries SET value = x'00ff00' WHERE path = 'auth/policies/p1'\\\"); c.commit()\"")
        #expect(damaged.status == 0, "\(damaged.stderr)")
        #expect(try call(a, root, "POST", "auth/token/revoke", #"{"token":"\#(token)"}"#).0 == 204)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try call(b, token, "GET", "transit/keys?list=true").0 == 403, "the revocation reached B despite the damaged entry")
        let health = try call(b, root, "GET", "sys/health").1
        if !lastAttempt, health.contains(#""unreadable_entries":2"#), try call(b, root, "GET", "auth/token/lookup-self").0 == 403 {
            _ = a.stop()
            _ = b.stop()
            return false
        }
        #expect(health.contains(#""degraded":true"#) && health.contains(#""unreadable_entries":1"#), "\(health)")
        let metrics = try call(b, root, "GET", "sys/metrics").1
        #expect(metrics.contains("bulwark_store_unreadable_entries 1"), "\(metrics.prefix(2000))")
        // The damaged policy grants nothing; the server keeps serving everything else.
        #expect(try call(b, root, "POST", "transit/keys/still-served").0 == 204)
        #expect(a.stop() == 0 && b.stop() == 0)
        return true
    }
}
