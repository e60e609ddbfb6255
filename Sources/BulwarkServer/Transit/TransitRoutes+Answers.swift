import Bulwark
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answers: the body parsed and checked, the result turned into Vault's envelope or error, and
/// the exchange audited (fail closed).
extension TransitRoutes {
    /// Parses the JSON body, refuses unknown fields, and writes the request's audit line: no
    /// request is served unless it was written to the audit log first (fail closed).
    /// - Parameter auditNow: `false` for an operation whose only effect is its answer: its
    ///   request line is then written with the response line (``exchange(_:request:_:)``).
    func begin(_ call: Call, body buffer: ByteBuffer, fields: Set<String>, auditNow: Bool = true) -> Beginning {
        var body: [String: Any] = [:]
        if buffer.readableBytes > 0 {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
                return .refused(self.audited(call.path, call.method, call.token, [:], Self.error(.badRequest("failed to parse JSON input")), error: .fixed("malformed JSON")))
            }
            body = parsed
        }
        // Outside Transit and Transform, `nonce` is an operation's id (the unseal key rotation's).
        if let problem = Fields.check(body, allowed: fields, operationNonce: call.path.hasPrefix("/v1/sys/rotate/") || call.path.hasPrefix("/v1/sys/generate-root-token/")) {
            return .refused(self.audited(call.path, call.method, call.token, [:], Self.error(.badRequest(problem)), error: .text(problem)))
        }
        guard auditNow else { return .ready(body) }
        do {
            try self.audit.append(["type": "request", "path": call.path, "method": call.method, "token": call.token, "request": body])
        } catch {
            self.metrics.auditFailure()
            return .refused(Self.error(TransitError(500, "the audit log cannot be written; request refused")))
        }
        return .ready(body)
    }

    /// Turns an operation's result into the answer and audits it.
    func finish(_ call: Call, status: HTTPResponse.Status, _ result: Result<[String: Any]?, any Error>) -> Reply {
        let (reply, data, message) = Self.answer(result, status: status)
        return self.audited(call.path, call.method, call.token, data, reply, error: message)
    }

    /// Turns the result of an operation with no effect besides its answer into the answer and
    /// the audit lines of the exchange (request and response), which must be written (see
    /// ``AuditBatch``) before the answer may leave; if they cannot be, ``auditRefusal()`` is sent.
    func exchange(_ call: Call, request: [String: Any], _ result: Result<[String: Any], any Error>) -> (Reply, [[UInt8]]) {
        let (reply, data, message) = Self.answer(result.map { $0 }, status: .ok)
        let lines = self.audit.exchangeLines(
            path: call.path, method: call.method, token: call.token, request: request, status: Int(reply.status.code), response: data,
            error: message)
        return (reply, lines)
    }

    /// The answer and audit lines of a typed exchange that succeeded (``TypedBody``): the same
    /// answer and lines ``exchange(_:request:_:)`` makes for the same request and data (fields
    /// in the order given).
    func exchange(_ call: Call, request: TypedBody, response: TypedBody) -> (Reply, [[UInt8]]) {
        let reply = Self.json(.ok, data: { response.write(into: &$0) }, auth: { $0.append(contentsOf: "null".utf8) })
        let lines = self.audit.exchangeLines(
            path: call.path, method: call.method, token: call.token, status: 200, error: nil,
            request: { request.write(into: &$0, redactedBy: self.audit) },
            response: { response.write(into: &$0, redactedBy: self.audit) })
        return (reply, lines)
    }

    /// An operation's result as the answer, the data to audit, and the error message to audit.
    private static func answer(_ result: Result<[String: Any]?, any Error>, status: HTTPResponse.Status) -> (Reply, [String: Any], AuditError?) {
        switch result {
        case .success(let data):
            var audited = data ?? [:]
            if audited["keys_base64"] != nil {
                // New unseal key shares (sys/rotate/root/update) are never written, not even hashed:
                // `keys` is allowlisted for key names, never for shares.
                audited["keys"] = "(withheld: new unseal key shares)"
                audited["keys_base64"] = nil
            }
            return (Self.json(status, data), audited, nil)
        case .failure(let error):
            let failure = TransitError(error)
            return (Self.error(failure), [:], .text(failure.message))
        }
    }

    /// The answer that replaces one whose audit lines could not be written (counted).
    func auditRefusal() -> Reply {
        self.metrics.auditFailure()
        return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
    }

    /// Writes the response entry; if that fails the response becomes a 500 (fail closed).
    func audited(_ path: String, _ method: String, _ token: String?, _ data: [String: Any], _ reply: Reply, error: AuditError?) -> Reply {
        var entry: [String: Any] = ["type": "response", "path": path, "method": method, "status": Int(reply.status.code), "response": data]
        if let token { entry["token"] = token }
        do {
            try self.audit.append(entry, error: error)
        } catch {
            self.metrics.auditFailure()
            return Self.error(TransitError(500, "the audit log cannot be written; request refused"))
        }
        return reply
    }

    /// The headers of every JSON answer: content type and the security headers.
    static func headers() -> HTTPFields {
        Self.standardHeaders
    }

    private static let standardHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=63072000; includeSubDomains"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'"
        return headers
    }()

    static func json(_ status: HTTPResponse.Status, _ data: [String: Any]?) -> Reply {
        guard var data else { return Reply(status: status == .ok ? .noContent : status, body: nil) }
        let auth = data.removeValue(forKey: "__auth")
        return Self.json(status, data: { JSONText.write(auth == nil ? data : nil, into: &$0) }, auth: { JSONText.write(auth, into: &$0) })
    }

    /// Vault's answer with `data` written by `data` (and `auth` by `auth`).
    static func json(_ status: HTTPResponse.Status, data: (inout [UInt8]) -> Void, auth: (inout [UInt8]) -> Void) -> Reply {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(384)
        bytes.append(contentsOf: #"{"request_id":""#.utf8)
        Self.writeRequestID(into: &bytes)
        bytes.append(contentsOf: #"","lease_id":"","renewable":false,"lease_duration":0,"wrap_info":null,"warnings":null,"data":"#.utf8)
        data(&bytes)
        bytes.append(contentsOf: #","auth":"#.utf8)
        auth(&bytes)
        bytes.append(UInt8(ascii: "}"))
        return Reply(status: status, body: ByteBuffer(bytes: bytes))
    }

    /// Appends a random UUID-shaped request id (version 4 layout).
    static func writeRequestID(into out: inout [UInt8]) {
        var bytes = SecureRandom.bytes(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(Hex.digits[Int(byte >> 4)])
            out.append(Hex.digits[Int(byte & 0x0F)])
        }
    }

    /// `data` itself as the body, with no envelope (Vault's `sys/health`, `sys/seal-status`).
    static func raw(_ status: HTTPResponse.Status, _ data: [String: Any]) -> Reply {
        var bytes: [UInt8] = []
        JSONText.write(data, into: &bytes)
        return Reply(status: status, body: ByteBuffer(bytes: bytes))
    }

    static func error(_ error: TransitError) -> Reply {
        Reply(status: .init(code: error.status), body: ByteBuffer(bytes: JSONText.encode(["errors": [error.message]])))
    }
}
