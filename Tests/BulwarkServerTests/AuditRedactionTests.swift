import Crypto
import Foundation
import Testing

@testable import BulwarkServer

/// Hash by default: no string reaches the audit log in clear unless its field is on the allowlist.
@Suite struct AuditRedactionTests {
    private let key = SymmetricKey(size: .bits256)

    private func log() throws -> (AuditLog, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).log").path
        return (try AuditLog(path: path, key: self.key), path)
    }

    private func text(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    /// The credential leak found on a45ba31: `auth/token/create` answered `auth.client_token` and
    /// the response line held it in clear.
    @Test func tokenCreateResponseHoldsNoCredential() throws {
        let (audit, path) = try self.log()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let secretToken = "bwt.SECRET-TOKEN-VALUE-0123456789"
        let accessor = "ACCESSOR-VALUE-abcdef"
        try audit.append([
            "type": "response", "path": "/v1/auth/token/create", "method": "POST", "status": 200, "token": "bwr.root-token-value",
            "response": ["__auth": ["client_token": secretToken, "accessor": accessor, "policies": ["orders"], "lease_duration": 3600,
                                    "metadata": ["owner": "alice@example.org"]] as [String: Any]] as [String: Any],
        ])
        let written = try self.text(path)
        for secret in [secretToken, accessor, "bwr.root-token-value", "alice@example.org", "owner"] {
            #expect(!written.contains(secret), "\(secret) in \(written)")
        }
        #expect(written.contains(#""policies":["orders"]"#) && written.contains(#""path":"/v1/auth/token/create""#))
    }

    @Test func everyStringAtAnyDepthIsHashedUnlessAllowlisted() throws {
        let (audit, path) = try self.log()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try audit.append([
            "type": "request", "path": "/v1/transit/encrypt/k", "method": "POST", "token": "t0k3n-value",
            "request": [
                "batch_input": [["plaintext": "UExBSU5URVhU", "associated_data": "YWQ=", "reference": "ref-123-secret"]],
                "some_future_field": "future-secret", "nested": ["deep": ["deeper": "deep-secret"]], "value": 4_111_111_111_111_111,
                "key_version": 2, "name": "k", "type": "aes256-gcm96",
            ] as [String: Any],
        ], error: .text(#"unknown field "sneaky-input""#))
        let written = try self.text(path)
        for secret in ["UExBSU5URVhU", "YWQ=", "ref-123-secret", "future-secret", "deep-secret", "deeper", "t0k3n-value", "sneaky-input", "4111111111111111"] {
            #expect(!written.contains(secret), "\(secret) in \(written)")
        }
        #expect(written.contains(#""key_version":2"#) && written.contains(#""name":"k""#) && written.contains(#""type":"aes256-gcm96""#))
        #expect(written.components(separatedBy: "hmac-sha256:").count >= 8)
        #expect(try AuditLog.verify(paths: [path], key: self.key).lines == 1)
    }

    @Test func constantErrorsStayReadable() throws {
        let (audit, path) = try self.log()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try audit.append(["type": "response", "path": "/v1/transit/keys/k", "method": "GET", "status": 403], error: .fixed("permission denied"))
        #expect(try self.text(path).contains(#""error":"permission denied""#))
    }

    /// Refusals before authentication cannot be made long: whatever the target, the line is bounded.
    @Test func refusalLinesAreBounded() throws {
        let (audit, path) = try self.log()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let huge = "/v1/" + String(repeating: "%41", count: 100_000)
        #expect(audit.refusal(method: String(repeating: "X", count: 10_000), target: huge, status: 400, reason: "percent-encoded path"))
        let written = try self.text(path)
        #expect(written.utf8.count < 600, "\(written.utf8.count) bytes")
        #expect(written.contains(#""method":"other""#) && written.contains("path_hmac"))
        #expect(try AuditLog.verify(paths: [path], key: self.key).lines == 1)
    }
}
