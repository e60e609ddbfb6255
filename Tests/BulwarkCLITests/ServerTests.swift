import BulwarkKeystore
import BulwarkServer
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `bulwark server --dev` process on a free loopback port, stopped with SIGTERM.
final class DevServer {
    let cli: CLIRunner
    let port: Int
    let token = "dev-root-token-for-tests"
    let process = Process()
    let output = Pipe()

    init(extra: [String] = []) throws {
        self.cli = try CLIRunner()
        self.port = try Self.freePort()
        self.process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        self.process.arguments = ["server", "--dev", "--listen", "127.0.0.1:\(self.port)", "--dev-root-token", self.token] + extra
        self.process.environment = self.cli.environment
        self.process.standardOutput = self.output
        self.process.standardError = self.output
        try self.process.run()
        // Ready when it says so (bounded: 30 s).
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: seen, as: UTF8.self).contains("Root token:"), Date() < deadline {
            let chunk = self.output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        #expect(String(decoding: seen, as: UTF8.self).contains("listening on https://127.0.0.1:\(self.port)"))
    }

    var url: String { "https://127.0.0.1:\(self.port)" }
    var caFile: String { self.cli.home + "/ca.pem" }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func stop() -> Int32 {
        self.process.terminate()
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}

@Suite("bulwark server (Vault Transit over TLS)", .serialized)
struct ServerTests {
    @Test("hvac, a real Vault client, runs the Transit flow; SIGTERM stops the server cleanly")
    func hvacFlow() throws {
        let server = try DevServer()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/transit_hvac.py").path
        let result = try server.cli.shell("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr)")
        #expect(result.text.contains("all hvac checks passed"))
        // Keys made through the API live in the sealed keystore: the CLI sees them.
        #expect(server.stop() == 0)
    }

    @Test("Access matrix: only a token whose policy grants the capability gets through; tokens revoke and expire")
    func accessMatrix() throws {
        let server = try DevServer()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/access_matrix.py").path
        let result = try server.cli.shell("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)'")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr)")
        #expect(result.text.contains("access matrix passed"))
        #expect(server.stop() == 0)
    }

    @Test("TLS 1.3 only by default: openssl s_client with TLS 1.2 or 1.1 is refused; 1.2 with ECDHE-AEAD when allowed")
    func tlsVersions() throws {
        let server = try DevServer()
        let probe = { (flags: String) throws -> Bool in
            let result = try server.cli.shell(
                "echo | timeout 10 openssl s_client -connect 127.0.0.1:\(server.port) -CAfile '\(server.caFile)' \(flags) 2>&1")
            // A completed handshake names its protocol and cipher; a refused one says "(NONE)".
            return result.text.contains("New, TLSv1.") && !result.text.contains("Cipher is (NONE)")
        }
        #expect(try probe("-tls1_3"))
        #expect(try !probe("-tls1_2"))
        #expect(try !probe("-tls1_1"))
        #expect(server.stop() == 0)
        let relaxed = try DevServer(extra: ["--allow-tls12"])
        let check = { (flags: String) throws -> String in
            try relaxed.cli.shell("echo | timeout 10 openssl s_client -connect 127.0.0.1:\(relaxed.port) -CAfile '\(relaxed.caFile)' \(flags) 2>&1").text
        }
        #expect(try check("-tls1_2").contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES256-GCM-SHA384"))
        #expect(try check("-tls1_2 -cipher AES256-SHA256").contains("Cipher is (NONE)"))
        #expect(try check("-tls1_2 -cipher ECDHE-ECDSA-AES256-SHA384").contains("Cipher is (NONE)"))
        #expect(try check("-tls1_1").contains("Cipher is (NONE)"))
        #expect(relaxed.stop() == 0)
    }

    @Test("Audit: every request leaves chained lines without secrets; an edit is detected; an unwritable log fails closed")
    func audit() throws {
        let server = try DevServer()
        let curl = { (args: String) throws -> String in
            try server.cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' \(args)").text
        }
        let secret = Data("card 4111 1111 1111 1111".utf8).base64EncodedString()
        for _ in 0..<5 {
            #expect(try curl("-d '{\"plaintext\":\"\(secret)\"}' \(server.url)/v1/transit/encrypt/audited") == "200")
        }
        #expect(try server.cli.shell("curl -s -o /dev/null --cacert '\(server.caFile)' -H 'X-Vault-Token: wrong' \(server.url)/v1/transit/keys/audited").status == 0)
        #expect(server.stop() == 0)
        let logPath = server.cli.home + "/audit.log"
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 11, "request and response lines for each call")
        #expect(!log.contains(secret) && !log.contains(server.token) && !log.contains("\"wrong\""))
        #expect(log.contains("hmac-sha256:") && log.contains("permission denied"))
        let verified = try server.cli.bulwark(["audit", "verify", logPath])
        #expect(verified.status == 0 && verified.text.contains("intact: \(lines.count) lines"))
        // Edit one line: verification names it.
        var edited = lines.map(String.init)
        edited[3] = edited[3].replacingOccurrences(of: "\"status\":200", with: "\"status\":201")
        edited[2] = edited[2].replacingOccurrences(of: "encrypt", with: "decrypt")
        try (edited.joined(separator: "\n") + "\n").write(toFile: logPath, atomically: true, encoding: .utf8)
        let tampered = try server.cli.bulwark(["audit", "verify", logPath])
        #expect(tampered.status == 1 && tampered.stderr.contains("line 4"))
        // Deleting a line is caught as well.
        try (lines.enumerated().filter { $0.offset != 5 }.map { String($0.element) }.joined(separator: "\n") + "\n")
            .write(toFile: logPath, atomically: true, encoding: .utf8)
        #expect(try server.cli.bulwark(["audit", "verify", logPath]).status == 1)
        // A log that cannot be written refuses every request.
        let closed = try DevServer(extra: ["--audit-file", "/dev/full"])
        let refused = try closed.cli.shell(
            "curl -s -w ' %{http_code}' --cacert '\(closed.caFile)' -H 'X-Vault-Token: \(closed.token)' -d '{\"plaintext\":\"aGk=\"}' \(closed.url)/v1/transit/encrypt/k").text
        #expect(refused.hasSuffix(" 500") && refused.contains("audit log"))
        #expect(closed.stop() == 0)
    }

    @Test("No token, a bad token, malformed JSON and oversize bodies get clear 4xx answers")
    func refusals() throws {
        let server = try DevServer()
        let curl = { (args: String) throws -> String in
            try server.cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(server.caFile)' \(args)").text
        }
        let encrypt = "\(server.url)/v1/transit/encrypt/k"
        #expect(try curl("-d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "403")
        #expect(try curl("-H 'X-Vault-Token: nope' -d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "403")
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{not json' \(encrypt)") == "400")
        #expect(try curl("-H 'Authorization: Bearer \(server.token)' -d '{\"plaintext\":\"aGk=\"}' \(encrypt)") == "200")
        #expect(try curl("-H 'X-Vault-Token: \(server.token)' -d '{\"plaintext\":\"***\"}' \(encrypt)") == "400")
        #expect(try curl("\(server.url)/v1/sys/health") == "200")
        let headers = try server.cli.shell("curl -s -D - -o /dev/null --cacert '\(server.caFile)' \(server.url)/v1/sys/health").text.lowercased()
        #expect(headers.contains("strict-transport-security") && headers.contains("x-content-type-options: nosniff"))
        #expect(server.stop() == 0)
    }
}
