import Bulwark
import BulwarkKeystore
import Crypto
import Foundation
import Synchronization

/// What goes into a line: hash by default (the allowlists), and the lines of each kind.
extension AuditLog {
    /// The fields whose string values are written in clear in every line: names, types, versions,
    /// policy names, capabilities, algorithms, formats, statuses and times, of lines and answers.
    /// Each endpoint adds its own non-sensitive request fields (``Endpoint/auditClear``);
    /// everything else is hashed.
    static let nonSensitive: Set<String> = [
        // The line itself.
        "type", "path", "method", "status", "previous_segment", "reason",
        // Keys and their configuration.
        "name", "keys", "key_version", "latest_version", "min_decryption_version", "min_encryption_version",
        "min_available_version", "auto_rotate_period", "algorithm", "hash_algorithm", "signature_algorithm",
        "marshaling_algorithm", "format", "encode_format", "decode_format", "segment",
        // Policies and token properties (never the token or its accessor).
        "policies", "token_policies", "capabilities", "ttl", "explicit_max_ttl", "period", "creation_time", "expire_time",
        // Transform configuration names.
        "transformation", "transformations", "template", "templates", "allowed_roles", "stores", "mapping_mode",
        "tweak_source", "luhn",
        // Operator tools' lines (`bulwark subject erase`, `bulwark db decrypt`, retention).
        "operation", "table", "column", "class", "count", "versions_destroyed",
    ]

    /// Fields whose number values are written in clear besides ``nonSensitive``: statuses,
    /// counts, sizes, versions and key settings.
    static let numericNonSensitive: Set<String> = [
        "bits", "bytes", "lease_duration", "num_uses", "versions_destroyed", "key_size", "server_time_utc", "unreadable_entries", "manifest_mismatches",
        "preserve_prefix", "preserve_suffix", "max_ttl",
    ]

    /// Whether a field name is a version number (the entries of a key's `keys` map).
    private static func isVersionNumber(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 10 && name.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// Fields whose object values are walked (their field names written, their values redacted);
    /// an object under any other field is hashed whole.
    static let containers: Set<String> = ["request", "response", "data", "auth", "__auth", "batch_input", "batch_results", "keys"]

    /// Fields that hold credentials: always hashed, whatever else holds.
    static let credentials: Set<String> = ["token", "client_token", "accessor"]

    /// Writes `value` as JSON, hashing every string whose field is not on ``nonSensitive`` and
    /// every object outside ``containers`` (see the type's documentation).
    func writeRedacted(_ value: Any, key name: String?, into out: inout [UInt8]) {
        // Strings first: most values are, and each failed cast to a collection below costs.
        if let text = value as? String {
            self.writeRedacted(string: text, key: name, into: &out)
        } else if let object = value as? [String: Any] {
            if let name, !Self.containers.contains(name) {
                JSONText.write(string: self.mac(String(decoding: JSONText.encode(value), as: UTF8.self)), into: &out)
            } else {
                JSONText.write(object: object, into: &out) { field, element, out in self.writeRedacted(element, key: field, into: &out) }
            }
        } else if let array = value as? [Any] {
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                self.writeRedacted(element, key: name, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        } else if RequestValues.isNull(value) || RequestValues.isBoolean(value) {
            JSONText.write(value, into: &out)
        } else if value is Int || value is Double {
            // A number is data too (a card number sent as a JSON number): hashed unless its field is
            // allowlisted or it is a version map's entry (field "1", "2", …).
            var text: [UInt8] = []
            JSONText.write(value, into: &text)
            self.writeRedacted(number: text, key: name, into: &out)
        } else {
            // Anything else (a number type JSON does not produce, say) is hashed as text.
            self.writeMAC(String(describing: value), into: &out)
        }
    }

    /// Writes a string value as ``writeRedacted(_:key:into:)`` does: a credential's keyed hash,
    /// an allowlisted field's text, or any other field's keyed hash.
    func writeRedacted(string text: String, key name: String?, into out: inout [UInt8]) {
        if let name, Self.credentials.contains(name) {
            JSONText.write(string: self.tokenMAC(text), into: &out)
        } else if let name, self.clear.contains(name) {
            JSONText.write(string: text, into: &out)
        } else {
            self.writeMAC(text, into: &out)
        }
    }

    /// Writes a number (given as its JSON text) as ``writeRedacted(_:key:into:)`` does: in clear
    /// for an allowlisted field or a version map's entry (field "1", "2", …), else its keyed hash
    /// (a card number sent as a JSON number is data too).
    private func writeRedacted(number text: [UInt8], key name: String?, into out: inout [UInt8]) {
        if let name, self.clear.contains(name) || Self.numericNonSensitive.contains(name) || Self.isVersionNumber(name) {
            out.append(contentsOf: text)
        } else {
            self.writeMAC(String(decoding: text, as: UTF8.self), into: &out)
        }
    }

    /// Writes a decoded scalar as ``writeRedacted(_:key:into:)`` writes the same value.
    func writeRedacted(_ value: FlatJSONObject.Value, key name: String, into out: inout [UInt8]) {
        switch value {
        case .string(let text): self.writeRedacted(string: text, key: name, into: &out)
        case .integer(let number): self.writeRedacted(number: Array(String(number).utf8), key: name, into: &out)
        case .boolean(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        }
    }

    /// Writes an object of decoded scalars, each value as ``writeRedacted(_:key:into:)`` would.
    func writeRedacted(fields: some Sequence<(name: String, value: FlatJSONObject.Value)>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, value) in fields {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONText.write(string: name, into: &out)
            out.append(UInt8(ascii: ":"))
            self.writeRedacted(value, key: name, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Writes a bounded line for a request refused before authentication (a malformed target, an
    /// unsupported method, a missing or unknown token): the method if it is one the service
    /// knows, the first 96 bytes of the target's path (never its query) and the keyed hash of all of it, the status and a
    /// constant reason. Such lines cannot be made long, whatever the caller sends.
    /// - Returns: False when the line could not be written.
    @discardableResult
    func refusal(method: String, target: String, status: Int, reason: StaticString, token: String? = nil) -> Bool {
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line.append(contentsOf: #"{"type":"refusal","method":"#.utf8)
        JSONText.write(string: Self.knownMethods.contains(method) ? method : "other", into: &line)
        line.append(contentsOf: #","path":"#.utf8)
        let path = target.utf8.prefix { $0 != UInt8(ascii: "?") }.prefix(96)
        JSONText.write(string: String(decoding: path, as: UTF8.self), into: &line)
        line.append(contentsOf: #","path_hmac":"#.utf8)
        self.writeMAC(target, into: &line)
        if let token {
            line.append(contentsOf: #","token":"#.utf8)
            JSONText.write(string: self.tokenMAC(token), into: &line)
        }
        line.append(contentsOf: #","status":"#.utf8)
        line.append(contentsOf: String(status).utf8)
        line.append(contentsOf: #","reason":"#.utf8)
        JSONText.write(string: reason.description, into: &line)
        line.append(UInt8(ascii: ","))
        Self.endLine(&line)
        do {
            try self.commit([line])
            return true
        } catch {
            return false
        }
    }

    private static let knownMethods: Set<String> = ["GET", "PUT", "POST", "DELETE", "LIST", "HEAD", "OPTIONS", "PATCH"]

    /// Tokens recur on every request: their keyed hashes are remembered (a bounded table).
    private func tokenMAC(_ token: String) -> String {
        // Only token-sized strings are remembered: a caller sending huge junk tokens fills nothing.
        guard token.utf8.count <= 128 else { return self.mac(token) }
        if let known = self.tokenMACs.withLock({ $0[token] }) { return known }
        let made = self.mac(token)
        self.tokenMACs.withLock { table in
            if table.count >= 4096 { table.removeAll(keepingCapacity: true) }
            table[token] = made
        }
        return made
    }

    /// `hmac-sha256:` and the HMAC of `value` under the audit key. The keyed HMAC state is made
    /// once and copied per value (swift-crypto's `HMAC` is a value type), which spares the key
    /// schedule on each of a batch's thousands of values.
    func mac(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(78)
        self.writeMAC(value, into: &out)
        return String(decoding: out.dropFirst().dropLast(), as: UTF8.self)
    }

    private static let macPrefix = Array(#""hmac-sha256:"#.utf8)

    /// Appends `"hmac-sha256:<hex>"` (a JSON string, quotes included) for `value`.
    func writeMAC(_ value: String, into out: inout [UInt8]) {
        var text = value
        var hmac = self.keyedHMAC
        text.withUTF8 { hmac.update(data: UnsafeRawBufferPointer($0)) }
        out.append(contentsOf: Self.macPrefix)
        let code = hmac.finalize()
        code.withUnsafeBytes { bytes in
            // 64 hex digits and the closing quote, written into the reserved space at once.
            let start = out.count
            out.append(contentsOf: repeatElement(UInt8(ascii: "\""), count: 65))
            out.withUnsafeMutableBufferPointer { buffer in
                for (index, byte) in bytes.enumerated() {
                    buffer[start + 2 * index] = Hex.digits[Int(byte >> 4)]
                    buffer[start + 2 * index + 1] = Hex.digits[Int(byte & 0x0F)]
                }
            }
        }
    }

    /// Appends one entry; throws when it cannot be written (the caller then refuses the request).
    ///
    /// The line is built outside the lock; only chaining (`"prev"`), hashing and the write hold it.
    public func append(_ entry: [String: Any]) throws {
        try self.append(entry, error: nil)
    }

    /// Appends one entry with an error text (see ``AuditError``).
    func append(_ entry: [String: Any], error: AuditError?) throws {
        // One pass: sensitive values are replaced while the line is written.
        var line: [UInt8] = []
        line.reserveCapacity(512)
        line.append(UInt8(ascii: "{"))
        for (field, value) in entry {
            JSONText.write(string: field, into: &line)
            line.append(UInt8(ascii: ":"))
            self.writeRedacted(value, key: field, into: &line)
            line.append(UInt8(ascii: ","))
        }
        if let error {
            line.append(contentsOf: #""error":"#.utf8)
            self.write(error, into: &line)
            line.append(UInt8(ascii: ","))
        }
        Self.endLine(&line)
        try self.commit([line])
    }

    /// The lines of a request's entry and its response's entry, not yet chained: ``commit(_:)``
    /// writes them (with other exchanges' lines, in one write).
    ///
    /// For operations whose only effect is their answer (encrypt, decrypt): the answer leaves
    /// only after both lines are written, so the log is as fail-closed as with a write before the
    /// operation. The lines are the ones ``append(_:)`` would write for
    /// `["type": "request", …, "request": request]` and
    /// `["type": "response", …, "status": status, "response": response, "error": error]`.
    func exchangeLines(
        path: String, method: String, token: String, request: [String: Any], status: Int, response: [String: Any], error: AuditError?
    ) -> [[UInt8]] {
        self.exchangeLines(
            path: path, method: method, token: token, status: status, error: error,
            request: { self.writeRedacted(request, key: "request", into: &$0) },
            response: { self.writeRedacted(response, key: "response", into: &$0) })
    }

    /// The lines of an exchange whose request and response objects `request` and `response`
    /// write (redacted as ``writeRedacted(_:key:into:)`` redacts them).
    func exchangeLines(
        path: String, method: String, token: String, status: Int, error: AuditError?,
        request: (inout [UInt8]) -> Void, response: (inout [UInt8]) -> Void
    ) -> [[UInt8]] {
        var first = self.lineStart(type: "request", path: path, method: method, token: token)
        first.append(contentsOf: #""request":"#.utf8)
        request(&first)
        first.append(UInt8(ascii: ","))
        Self.endLine(&first)
        var second = self.lineStart(type: "response", path: path, method: method, token: token)
        second.append(contentsOf: #""status":"#.utf8)
        second.append(contentsOf: String(status).utf8)
        second.append(contentsOf: #","response":"#.utf8)
        response(&second)
        second.append(UInt8(ascii: ","))
        if let error {
            second.append(contentsOf: #""error":"#.utf8)
            self.write(error, into: &second)
            second.append(UInt8(ascii: ","))
        }
        Self.endLine(&second)
        return [first, second]
    }

    /// `{"type":…,"path":…,"method":…,"token":…,` with the token as its keyed hash.
    private func lineStart(type: String, path: String, method: String, token: String) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(512)
        line.append(contentsOf: #"{"type":"#.utf8)
        JSONText.write(string: type, into: &line)
        line.append(contentsOf: #","path":"#.utf8)
        JSONText.write(string: path, into: &line)
        line.append(contentsOf: #","method":"#.utf8)
        JSONText.write(string: method, into: &line)
        line.append(contentsOf: #","token":"#.utf8)
        JSONText.write(string: self.tokenMAC(token), into: &line)
        line.append(UInt8(ascii: ","))
        return line
    }

    /// Writes an error text: a constant as it is, any other text as its keyed hash.
    func write(_ error: AuditError, into out: inout [UInt8]) {
        switch error {
        case .fixed(let text): JSONText.write(string: text.description, into: &out)
        case .text(let text): self.writeMAC(text, into: &out)
        }
    }

    /// Appends the `time` field and the opening of `prev`, which ``commit(_:)`` completes.
    private static func endLine(_ line: inout [UInt8]) {
        line.append(contentsOf: #""time":"#.utf8)
        JSONText.write((Date().timeIntervalSince1970 * 1000).rounded() / 1000, into: &line)
        line.append(contentsOf: #","prev":""#.utf8)
    }
}
