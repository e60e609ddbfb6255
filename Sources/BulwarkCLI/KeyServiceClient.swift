import AsyncHTTPClient
import Bulwark
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client of `bulwark server` for the CLI's client commands, found as Vault's CLI finds Vault:
/// `BULWARK_ADDR` (default `https://127.0.0.1:8200`), `BULWARK_TOKEN`, and `BULWARK_CACERT` (a PEM
/// CA file; the system's roots otherwise). Certificates are always verified; plain `http://` is
/// refused except to a loopback address.
struct KeyServiceClient {
    let address: String
    let token: String
    let caFile: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.address = (environment["BULWARK_ADDR"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://127.0.0.1:8200")
            .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let token = environment["BULWARK_TOKEN"], !token.isEmpty else {
            throw BulwarkError(.invalidArgument, "set BULWARK_TOKEN to a token of the key service")
        }
        self.token = token
        self.caFile = environment["BULWARK_CACERT"].flatMap { $0.isEmpty ? nil : $0 }
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { self.address.hasPrefix($0) }
        guard self.address.hasPrefix("https://") || loopback else {
            throw BulwarkError(.invalidArgument, "BULWARK_ADDR must be an https:// URL")
        }
    }

    /// The answer of the server: status and the JSON object (nil for an empty body).
    struct Answer {
        let status: Int
        let json: [String: Any]?

        var data: [String: Any] { self.json?["data"] as? [String: Any] ?? [:] }
        var auth: [String: Any] { self.json?["auth"] as? [String: Any] ?? [:] }
    }

    /// Sends one request; a non-2xx answer throws with the server's error messages.
    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> Answer {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile = self.caFile {
            tls.trustRoots = .file(caFile)
        }
        // A certificate that does not verify is retried until the connect timeout: keep it short.
        let configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(3), read: .seconds(60)))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: self.address + "/v1/" + path)
            request.method = method
            request.headers.add(name: "X-Vault-Token", value: self.token)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            }
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            try await client.shutdown()
            let json = bytes.readableBytes == 0 ? nil : try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                let messages = (json?["errors"] as? [String])?.joined(separator: "; ") ?? "HTTP \(status)"
                throw BulwarkError(.invalidArgument, "the key service refused: \(messages) (HTTP \(status))")
            }
            return Answer(status: status, json: json)
        } catch let error as BulwarkError {
            try? await client.shutdown()
            throw error
        } catch {
            try? await client.shutdown()
            throw BulwarkError(.ioFailure, "cannot reach the key service at \(self.address): \(error)")
        }
    }
}
