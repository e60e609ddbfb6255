import Bulwark
import BulwarkTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import BulwarkClient

/// `TransitClient` as an attacker would use its inputs: addresses that only look like loopback,
/// key names that are paths, a server that redirects; and against a real `bulwark server`.
@Suite("TransitClient: addresses, names, redirects and connection reuse", .serialized)
struct TransitClientTests {
    @Test("https:// anywhere; http:// only to exactly 127.0.0.1, localhost or [::1]; no user, path, query or fragment")
    func addresses() throws {
        for good in ["https://keys.internal:8200", "https://keys.internal:8200/", "https://10.0.0.5", "http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:8200", "HTTP://LOCALHOST:1"] {
            #expect(throws: Never.self, "\(good)") { _ = try TransitClient.checkedAddress(good) }
        }
        #expect(try TransitClient.checkedAddress("https://keys.internal:8200///") == "https://keys.internal:8200")
        let bad = [
            // Names that only start like loopback are other hosts: the token would cross the network in clear.
            "http://localhost.attacker.example:8200", "http://127.0.0.1.nip.io:8200", "http://127.0.0.10:8200", "http://keys.internal:8200",
            // Credentials, paths, queries and fragments in the address.
            "https://user:pass@keys.internal", "https://keys.internal/v1/transit", "https://keys.internal?x=1", "https://keys.internal#f",
            "ftp://keys.internal", "keys.internal:8200", "", "https://",
        ]
        for address in bad {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(address)") { _ = try TransitClient.checkedAddress(address) }
        }
    }

    @Test("BULWARK_ADDR, BULWARK_TOKEN and BULWARK_CACERT as Vault's CLI reads VAULT_*; no token is refused")
    func environment() async throws {
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitClient.fromEnvironment([:]) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitClient.fromEnvironment(["BULWARK_TOKEN": ""]) }
        let defaulted = try TransitClient.fromEnvironment(["BULWARK_TOKEN": "t"])
        #expect(defaulted.address == "https://127.0.0.1:8200")
        try await defaulted.shutdown()
        #expect(throws: BulwarkError(.invalidArgument, "")) {
            _ = try TransitClient.fromEnvironment(["BULWARK_TOKEN": "t", "BULWARK_ADDR": "http://localhost.attacker.example"])
        }
    }

    @Test("Against bulwark server: data keys and decrypt bound to associated data; names that are paths never leave the client; an untrusted certificate is refused; one connection serves many calls")
    func againstTheServer() async throws {
        let server = try DevServer()
        defer { _ = server.stop() }
        let client = try TransitClient(address: server.url, token: server.token, caFile: server.caFile)
        let untrusting = try TransitClient(address: server.url, token: server.token)
        do {
            try await self.exercise(client, untrusting, server)
        } catch {
            Issue.record(error)
        }
        try await client.shutdown()
        try await untrusting.shutdown()
    }

    /// The body of ``againstTheServer()`` (its clients are shut down however it ends).
    private func exercise(_ client: TransitClient, _ untrusting: TransitClient, _ server: DevServer) async throws {
        let created = try server.cli.shell(
            "curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' -X POST \(server.url)/v1/transit/keys/client-kek")
        #expect(created.text == "204")
        let context = Data("tenant 7".utf8)
        let (plaintext, wrapped) = try await client.dataKey(key: "client-kek", associatedData: context)
        #expect(plaintext.count == 32 && wrapped.hasPrefix("vault:v1:"))
        #expect(try await client.decrypt(key: "client-kek", ciphertext: wrapped, associatedData: context) == plaintext)
        // Other associated data: refused by the server, and the error names no key bytes.
        do {
            _ = try await client.decrypt(key: "client-kek", ciphertext: wrapped, associatedData: Data("tenant 8".utf8))
            Issue.record("decrypt with other associated data succeeded")
        } catch let error as BulwarkError {
            #expect(!error.description.contains(plaintext.base64EncodedString()))
        }
        // Key names that are paths or queries are refused before any request is sent.
        let auditBefore = try String(contentsOfFile: server.cli.home + "/audit.log", encoding: .utf8)
        for name in ["../sys/policy/root", "k?list=true", "k/../../sys/seal", "", ".", "..", "k%2Fx", String(repeating: "k", count: 129)] {
            await #expect(throws: BulwarkError(.invalidArgument, ""), "\(name)") { _ = try await client.dataKey(key: name) }
            await #expect(throws: BulwarkError(.invalidArgument, ""), "\(name)") { _ = try await client.decrypt(key: name, ciphertext: wrapped) }
        }
        #expect(try String(contentsOfFile: server.cli.home + "/audit.log", encoding: .utf8) == auditBefore)
        // Twenty calls in a row: the client side of every connection open after each, collected.
        var clientPorts = Set<String>()
        for _ in 0..<20 {
            _ = try await client.dataKey(key: "client-kek")
            clientPorts.formUnion(Self.clientPorts(toPort: server.port))
        }
        #expect(clientPorts.count == 1, "connections used: \(clientPorts.count)")
        // Without the dev CA, the server's certificate does not verify: refused.
        await #expect(throws: BulwarkError(.ioFailure, "")) { _ = try await untrusting.dataKey(key: "client-kek") }
    }

    @Test("A redirect is not followed: the token is sent once, to the address given, and the call fails")
    func redirectsAreNotFollowed() async throws {
        let cli = try CLIRunner()
        let port = try TestPorts.free()
        let log = cli.path("requests.log")
        // A plain HTTP server on loopback that answers every request with a redirect to itself.
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    with open(sys.argv[2], "a") as f: f.write(self.path + " " + str(self.headers.get("X-Vault-Token")) + "\\n")
                    self.send_response(307); self.send_header("Location", "http://127.0.0.1:%s/v1/landed" % sys.argv[1])
                    self.send_header("Content-Length", "0"); self.end_headers()
                def log_message(self, *a): pass
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """
        let process = try Self.startServer(script, in: cli, port: port, arguments: [log])
        defer { Self.stop(process) }
        let client = try TransitClient(address: "http://127.0.0.1:\(port)", token: "redirect-test-token")
        await #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try await client.dataKey(key: "k") }
        try await client.shutdown()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["/v1/transit/datakey/plaintext/k redirect-test-token"])
    }

    /// The local ends (address:port, hex) of the established IPv4 connections whose remote end
    /// is `port` on this host: this process's client connections to it (from `/proc/net/tcp`).
    static func clientPorts(toPort port: Int) -> Set<String> {
        let table = Self.socketTable()
        let hexPort = String(format: "%04X", port)
        return Set(table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2].hasSuffix(":" + hexPort) && fields[3] == "01" ? String(fields[1]) : nil
        })
    }

    /// Waits (10 s at most) until something listens on `port`.
    /// Runs a Python HTTP server `script` (argv: port, then `arguments`) until it listens on `port`.
    static func startServer(_ script: String, in cli: CLIRunner, port: Int, arguments: [String]) throws -> Process {
        let path = cli.path("server-\(port).py")
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path, String(port)] + arguments
        try process.run()
        try Self.waitForListener(port: port)
        return process
    }

    /// Stops a process of ``startServer(_:in:port:arguments:)``. SIGKILL: a child of the test
    /// process may start with SIGTERM blocked (the mask of the thread that spawned it).
    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func waitForListener(port: Int) throws {
        let hexPort = String(format: "%04X", port)
        for _ in 0..<200 {
            let table = Self.socketTable()
            if table.split(separator: "\n").contains(where: { $0.split(separator: " ").count > 3 && $0.split(separator: " ")[1].hasSuffix(":" + hexPort) && $0.split(separator: " ")[3] == "0A" }) {
                return
            }
            usleep(50_000)
        }
        Issue.record("nothing listens on \(port)")
    }

    /// `/proc/net/tcp`, read to its end (it reports a size of 0 and comes a page per read, so a
    /// read sized by the file's length would stop after the first page).
    static func socketTable() -> String {
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return "" }
        defer { try? handle.close() }
        var table = Data()
        while true {
            let chunk = handle.readData(ofLength: 65536)
            if chunk.isEmpty { break }
            table.append(chunk)
        }
        return String(decoding: table, as: UTF8.self)
    }
}
