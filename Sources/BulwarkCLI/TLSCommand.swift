import ArgumentParser
import Bulwark
import BulwarkClient
import Foundation

/// `bulwark tls …`: TLS tools for operators.
struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls", abstract: "TLS tools: public-key pins of servers and keys.", subcommands: [Pins.self])

    /// `bulwark tls pins [HOST:PORT] [--file PEM …]`.
    struct Pins: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print RFC 7469 pins (base64 SHA-256 of the SubjectPublicKeyInfo) of a live endpoint's certificate or of PEM files.",
            discussion: """
                A live endpoint is reached over a verified connection (the system's roots, or --cacert); nothing is \
                sent after the handshake. --file reads a certificate, a public key or an EC private key, so the \
                backup key's pin can be printed before any certificate exists for it (docs/PINNING.md). \
                Clients take the pins as BULWARK_PINS=primary,backup[,…] or CertificatePins in BulwarkClient.
                """)
        @Argument(help: "HOST:PORT of a TLS server ([::1]:8200 for IPv6).") var endpoint: String?
        @Option(name: .customLong("cacert"), help: "A PEM CA file to trust instead of the system's roots.") var caFile: String?
        @Option(name: .customLong("file"), help: "A PEM certificate, public key or EC private key (repeatable).") var files: [String] = []

        func validate() throws {
            guard self.endpoint != nil || !self.files.isEmpty else {
                throw ValidationError("give HOST:PORT, --file PEM, or both")
            }
        }

        func run() async throws {
            try await reportingClientErrors {
                if let endpoint = self.endpoint {
                    let (host, port) = try Self.parse(endpoint)
                    let pin = try await CertificatePins.probe(host: host, port: port, caFile: self.caFile)
                    print("\(pin)  \(endpoint)")
                }
                for file in self.files {
                    let text: String
                    do {
                        text = try String(contentsOfFile: file, encoding: .utf8)
                    } catch {
                        throw BulwarkError(.ioFailure, "cannot read \(file)")
                    }
                    print("\(try CertificatePins.pin(pem: text))  \(file)")
                }
            }
        }

        /// `HOST:PORT` or `[IPv6]:PORT`.
        static func parse(_ endpoint: String) throws -> (host: String, port: Int) {
            let refused = BulwarkError(.invalidArgument, "the endpoint is HOST:PORT or [IPv6]:PORT")
            guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]), (1...65535).contains(port)
            else { throw refused }
            var host = String(endpoint[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") {
                host = String(host.dropFirst().dropLast())
            } else if host.contains(":") {
                throw refused  // an IPv6 address needs its brackets: 2001:db8::1:8200 is ambiguous
            }
            guard !host.isEmpty, !host.contains("/"), !host.contains("[") else { throw refused }
            return (host, port)
        }
    }
}
