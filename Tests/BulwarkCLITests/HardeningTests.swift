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
        for method in ["PATCH", "OPTIONS", "TRACE", "LIST"] {
            let answer = try self.call(server, method, "/v1/transit/decrypt/secret", token: token, body: body)
            #expect(!(200..<300).contains(answer.status), "\(method) answered \(answer.status)")
        }
        #expect(server.stop() == 0)
    }

    @Test("Policy decisions match OpenBao's (the real `bao` server) on 630 generated (policy set, path, method) cases")
    func policyDecisionsMatchOpenBao() throws {
        let server = try DevServer()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/policy_oracle.py").path
        let result = try server.cli.shell("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text.suffix(4000))\n\(result.stderr.suffix(2000))")
        #expect(result.text.contains("policy oracle: 630 cases, 0 mismatches"))
        #expect(server.stop() == 0)
    }

    @Test("No number in a request can stop the server: out of range answers 400 naming the field")
    func hugeNumbersAreRefused() throws {
        let server = try DevServer()
        #expect(try self.call(server, "POST", "/v1/transit/keys/k", token: server.token, body: "{}").status == 204)
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
        ]
        for (path, body, field) in cases {
            let answer = try self.call(server, "POST", path, token: server.token, body: body)
            #expect(answer.status == 400 && answer.body.contains(field), "\(path) \(body): \(answer)")
        }
        #expect(try self.call(server, "GET", "/v1/sys/health", token: nil).status == 200, "the server is still up")
        #expect(server.stop() == 0)
    }
}
