import AsyncHTTPClient
import Bulwark
public import Foundation
import NIOCore
package import NIOHTTP1
import NIOSSL

/// A client of the Transit API (`bulwark server`, or HashiCorp Vault) for the calls applications
/// make: data keys, encrypt and decrypt; the `bulwark` CLI's client commands use it too. One
/// client keeps its connections across calls (make one and reuse it). TLS is always verified
/// (against `caFile` when given); failures are ``BulwarkError``s naming the server's message,
/// never a plaintext or a key.
public final class TransitClient: Sendable {
    /// The server, e.g. `https://keys.internal:8200`.
    public let address: String
    private let token: String
    private let client: HTTPClient
    /// The transport of a pinned client (nil: ``client``).
    private let pinned: PinnedTransport?

    /// - Parameters:
    ///   - address: `https://HOST:PORT` (plain `http://` only to a loopback address).
    ///   - token: The API token (`X-Vault-Token`).
    ///   - caFile: A PEM CA file to trust instead of the system's roots.
    ///   - pins: Pins of the server certificate's key (``CertificatePins``): when given, a
    ///     certificate that verifies but whose key is not pinned is refused with
    ///     ``BulwarkError/Code/pinMismatch`` before anything is sent; `https://` only. Each call
    ///     then uses its own connection, checked anew.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for an address that is not one, or pins
    ///   with `http://`; `ioFailure` for a CA file that cannot be read.
    public init(address: String, token: String, caFile: String? = nil, pins: CertificatePins? = nil) throws {
        self.address = try Self.checkedAddress(address)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.trustRoots = .file(caFile) }
        self.token = token
        if let pins {
            guard let components = URLComponents(string: self.address), components.scheme?.lowercased() == "https", var host = components.host else {
                throw BulwarkError(.invalidArgument, "certificate pins need an https:// address")
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            do {
                self.pinned = PinnedTransport(host: host, port: components.port ?? 443, context: try NIOSSLContext(configuration: tls), pins: pins)
            } catch {
                throw BulwarkError(.ioFailure, "the TLS settings cannot be loaded (CA file?): \(error)")
            }
        } else {
            self.pinned = nil
        }
        self.client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            // A certificate that does not verify is retried until the connect timeout: keep it short.
            // No redirects: a redirect would carry the token to wherever the answer points.
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(3), read: .seconds(60))))
    }

    /// The address as requests use it (no trailing `/`): `https://HOST[:PORT]`, or `http://` to
    /// exactly `127.0.0.1`, `localhost` or `[::1]` (a name that merely starts with one, such as
    /// `localhost.example.com`, is another host, and the token must not travel to it in clear).
    /// No user, path, query or fragment.
    static func checkedAddress(_ address: String) throws -> String {
        let refused = BulwarkError(.invalidArgument, "the key service address must be https://HOST[:PORT] (http:// only to 127.0.0.1, localhost or [::1])")
        var trimmed = Substring(address)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let components = URLComponents(string: String(trimmed)), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil,
            components.path.isEmpty, components.query == nil, components.fragment == nil
        else { throw refused }
        switch scheme {
        case "https": break
        case "http" where ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()): break
        default: throw refused
        }
        return String(trimmed)
    }

    /// Builds a client as Vault's CLI finds Vault: `BULWARK_ADDR` (default
    /// `https://127.0.0.1:8200`), `BULWARK_TOKEN`, `BULWARK_CACERT` (a PEM CA file; the
    /// system's roots otherwise), and `BULWARK_PINS` (``CertificatePins``: the primary pin, then
    /// the backups, separated by commas).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TransitClient {
        try Self.fromEnvironment(environment, requiringToken: true)
    }

    /// As ``fromEnvironment(_:)``; with `requiringToken` false a missing `BULWARK_TOKEN` sends
    /// no token (for `sys/unseal` and `sys/seal-status`, which need none).
    package static func fromEnvironment(_ environment: [String: String], requiringToken: Bool) throws -> TransitClient {
        let token = environment["BULWARK_TOKEN"] ?? ""
        guard !token.isEmpty || !requiringToken else {
            throw BulwarkError(.invalidArgument, "set BULWARK_TOKEN to a token of the key service")
        }
        var pins: CertificatePins?
        if let list = environment["BULWARK_PINS"], !list.isEmpty {
            let values = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let primary = values.first, !values.contains(where: \.isEmpty) else {
                throw BulwarkError(.invalidArgument, "BULWARK_PINS is the primary pin and the backups, separated by commas, none empty")
            }
            pins = try CertificatePins(primary: primary, backups: Array(values.dropFirst()))
        }
        return try TransitClient(
            address: environment["BULWARK_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://127.0.0.1:8200", token: token,
            caFile: environment["BULWARK_CACERT"].flatMap { $0.isEmpty ? nil : $0 }, pins: pins)
    }

    /// Runs `body` with a client from the environment (``fromEnvironment(_:)``), shut down
    /// however `body` ends.
    package static func withEnvironment<R>(requiringToken: Bool = true, _ body: (TransitClient) async throws -> R) async throws -> R {
        let client = try Self.fromEnvironment(ProcessInfo.processInfo.environment, requiringToken: requiringToken)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Closes the connections (call before the client goes away).
    public func shutdown() async throws {
        try await self.client.shutdown()
    }

    /// The answer of the server: its status and JSON object (nil for an empty body).
    package struct Answer {
        /// The HTTP status.
        package let status: Int
        /// The body, parsed.
        package let json: [String: Any]?

        /// Vault's `data` object.
        package var data: [String: Any] { self.json?["data"] as? [String: Any] ?? [:] }
        /// Vault's `auth` object.
        package var auth: [String: Any] { self.json?["auth"] as? [String: Any] ?? [:] }
    }

    /// Sends one request to `/v1/path`; an answer other than 2xx throws with the server's error
    /// messages.
    package func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Answer {
        let encoded = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let status: Int
        let bytes: ByteBuffer
        if let pinned = self.pinned {
            var headers = HTTPHeaders()
            if !self.token.isEmpty { headers.add(name: "X-Vault-Token", value: self.token) }
            if encoded != nil { headers.add(name: "Content-Type", value: "application/json") }
            let answer = try await pinned.execute(method: method, path: "/v1/" + path, headers: headers, body: encoded)
            status = answer.status
            bytes = ByteBuffer(bytes: answer.body)
        } else {
            var request = HTTPClientRequest(url: self.address + "/v1/" + path)
            request.method = method
            if !self.token.isEmpty { request.headers.add(name: "X-Vault-Token", value: self.token) }
            if let encoded {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: encoded))
            }
            do {
                let response = try await self.client.execute(request, timeout: .seconds(60))
                bytes = try await response.body.collect(upTo: 16 << 20)
                status = Int(response.status.code)
            } catch {
                throw BulwarkError(.ioFailure, "cannot reach the key service at \(self.address): \(error)")
            }
        }
        let json = bytes.readableBytes == 0 ? nil : (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        guard (200..<300).contains(status) else {
            let messages = (json?["errors"] as? [String])?.joined(separator: "; ") ?? "HTTP \(status)"
            throw BulwarkError(.invalidArgument, "the key service refused \(path): \(messages) (HTTP \(status))")
        }
        return Answer(status: status, json: json)
    }

    /// Posts `body` to `/v1/path` and returns the response's `data` object.
    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.call(.POST, path, body: body).data
    }

    /// A fresh data key from `transit/datakey/plaintext/:key`: its bytes and its wrapped form
    /// (`vault:v…`), bound to `associatedData`.
    public func dataKey(key: String, bits: Int = 256, associatedData: Data? = nil) async throws -> (plaintext: Data, ciphertext: String) {
        try Self.checkKey(key)
        var body: [String: Any] = ["bits": bits]
        if let associatedData { body["associated_data"] = associatedData.base64EncodedString() }
        let data = try await self.post("transit/datakey/plaintext/" + key, body)
        guard let plaintext = (data["plaintext"] as? String).flatMap({ Data(base64Encoded: $0) }), let wrapped = data["ciphertext"] as? String else {
            throw BulwarkError(.invalidFormat, "the key service's data key answer is malformed")
        }
        return (plaintext, wrapped)
    }

    /// Decrypts a `vault:v…` ciphertext with `transit/decrypt/:key`.
    public func decrypt(key: String, ciphertext: String, associatedData: Data? = nil) async throws -> Data {
        try Self.checkKey(key)
        var body: [String: Any] = ["ciphertext": ciphertext]
        if let associatedData { body["associated_data"] = associatedData.base64EncodedString() }
        let data = try await self.post("transit/decrypt/" + key, body)
        guard let plaintext = (data["plaintext"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw BulwarkError(.invalidFormat, "the key service's decrypt answer is malformed")
        }
        return plaintext
    }

    /// Refuses a key name that is not one (it becomes a path segment: `../sys/…` or `k?list=true`
    /// must not reach the server as another request).
    static func checkKey(_ key: String) throws {
        guard Names.isValid(key) else {
            throw BulwarkError(.invalidArgument, "a key name is 1 to 128 characters from A-Z a-z 0-9 . _ - (not . or ..)")
        }
    }
}
