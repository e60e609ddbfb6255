import AsyncHTTPClient
import Bulwark
public import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client of the Transit API (`bulwark server`, or HashiCorp Vault) for the calls applications
/// make: data keys, encrypt and decrypt. TLS is always verified (against `caFile` when given);
/// failures are ``BulwarkError``s naming the server's message, never a plaintext or a key.
public final class TransitClient: Sendable {
    /// The server, e.g. `https://keys.internal:8200`.
    public let address: String
    private let token: String
    private let client: HTTPClient

    /// - Parameters:
    ///   - address: `https://HOST:PORT` (plain `http://` only to a loopback address).
    ///   - token: The API token (`X-Vault-Token`).
    ///   - caFile: A PEM CA file to trust instead of the system's roots.
    public init(address: String, token: String, caFile: String? = nil) throws {
        let trimmed = address.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { trimmed.hasPrefix($0) }
        guard trimmed.hasPrefix("https://") || loopback else {
            throw BulwarkError(.invalidArgument, "the key service address must be an https:// URL")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.trustRoots = .file(caFile) }
        self.address = trimmed
        self.token = token
        self.client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(30))))
    }

    /// Builds a client from `BULWARK_ADDR`, `BULWARK_TOKEN` and `BULWARK_CACERT`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TransitClient {
        guard let token = environment["BULWARK_TOKEN"], !token.isEmpty else {
            throw BulwarkError(.invalidArgument, "set BULWARK_TOKEN")
        }
        return try TransitClient(
            address: environment["BULWARK_ADDR"] ?? "https://127.0.0.1:8200", token: token,
            caFile: environment["BULWARK_CACERT"].flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Closes the connections (call before the client goes away).
    public func shutdown() async throws {
        try await self.client.shutdown()
    }

    /// Posts `body` to `/v1/path` and returns the response's `data` object.
    func post(_ path: String, _ body: [String: Any]) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: self.address + "/v1/" + path)
        request.method = .POST
        request.headers.add(name: "X-Vault-Token", value: self.token)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await self.client.execute(request, timeout: .seconds(30))
            bytes = try await response.body.collect(upTo: 16 << 20)
        } catch {
            throw BulwarkError(.ioFailure, "cannot reach the key service at \(self.address): \(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        guard (200..<300).contains(Int(response.status.code)) else {
            let messages = (json?["errors"] as? [String])?.joined(separator: "; ") ?? "HTTP \(response.status.code)"
            throw BulwarkError(.invalidArgument, "the key service refused \(path): \(messages)")
        }
        return json?["data"] as? [String: Any] ?? [:]
    }

    /// A fresh data key from `transit/datakey/plaintext/:key`: its bytes and its wrapped form
    /// (`vault:v…`), bound to `associatedData`.
    public func dataKey(key: String, bits: Int = 256, associatedData: Data? = nil) async throws -> (plaintext: Data, ciphertext: String) {
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
        var body: [String: Any] = ["ciphertext": ciphertext]
        if let associatedData { body["associated_data"] = associatedData.base64EncodedString() }
        let data = try await self.post("transit/decrypt/" + key, body)
        guard let plaintext = (data["plaintext"] as? String).flatMap({ Data(base64Encoded: $0) }) else {
            throw BulwarkError(.invalidFormat, "the key service's decrypt answer is malformed")
        }
        return plaintext
    }
}
