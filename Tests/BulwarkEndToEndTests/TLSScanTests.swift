import BulwarkTestSupport
import Foundation
import Testing

/// sslyze against a real `bulwark server` over TLS (`Tests/Interop/tls_scan.py`, run with the
/// python of sslyze's own venv, which `scripts/test.sh` makes and exports as
/// `BULWARK_SSLYZE_PYTHON`): Mozilla's "modern" profile by default, "intermediate" with
/// `--allow-tls12`. A scan takes 1-2 s.
@Suite("TLS scan: sslyze against Mozilla's profiles", .serialized)
struct TLSScanTests {
    /// One run of tls_scan.py: exit status, its JSON summary, its output for messages.
    struct Scan {
        let status: Int32
        let summary: [String: Any]
        let output: String
        var failures: [String] { self.summary["failures"] as? [String] ?? [] }
        var accepted: [String: [String]] { self.summary["accepted"] as? [String: [String]] ?? [:] }
    }

    static var python: String {
        ProcessInfo.processInfo.environment["BULWARK_SSLYZE_PYTHON"] ?? NSHomeDirectory() + "/.cache/bulwark/sslyze-venv/bin/python"
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/tls_scan.py").path
    }

    /// A CA and a server certificate for 127.0.0.1/localhost that Mozilla's certificate rules accept
    /// in both profiles (P-256 keys, ECDSA with SHA-256, 30 days), made with openssl. The chain file
    /// holds the server certificate only (the CA is not sent).
    static func makeCompliantCertificate(_ cli: CLIRunner) throws -> (ca: String, chain: String, key: String) {
        let ca = cli.path("scan-ca.pem"), caKey = cli.path("scan-ca-key.pem")
        let chain = cli.path("scan-server.pem"), key = cli.path("scan-server-key.pem")
        let request = cli.path("scan-server.csr"), extensions = cli.path("scan-server.ext")
        let serverExtensions = [
            "basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]
        try (serverExtensions.joined(separator: "\n") + "\n").write(toFile: extensions, atomically: true, encoding: .utf8)
        let made = try cli.shell(
            """
            set -e
            {
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '\(caKey)'
            openssl req -x509 -new -key '\(caKey)' -sha256 -days 30 -subj '/CN=Bulwark TLS scan CA' \
              -addext 'basicConstraints=critical,CA:TRUE,pathlen:0' -addext 'keyUsage=critical,keyCertSign,cRLSign' -out '\(ca)'
            openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '\(key)'
            openssl req -new -key '\(key)' -subj '/CN=localhost' -out '\(request)'
            openssl x509 -req -in '\(request)' -CA '\(ca)' -CAkey '\(caKey)' -set_serial "0x$(openssl rand -hex 16)" \
              -days 30 -sha256 -extfile '\(extensions)' -out '\(chain)'
            } 2>&1
            """)
        try #require(made.status == 0, "openssl: \(made.text)")
        return (ca, chain, key)
    }

    /// Runs tls_scan.py against `server` for `profile`, trusting `caFile`.
    private func scan(_ server: DevServer, profile: String, caFile: String) throws -> Scan {
        let python = Self.python
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "no sslyze venv at \(python): run scripts/test.sh (it makes one) or set BULWARK_SSLYZE_PYTHON")
        let result = try server.cli.shell(
            "'\(python)' '\(Self.script)' 127.0.0.1:\(server.port) --profile \(profile) --ca-file '\(caFile)'")
        let output = "\(result.text.suffix(6000))\n\(result.stderr.suffix(3000))"
        let summary = try #require(
            (try? JSONSerialization.jsonObject(with: result.stdout)) as? [String: Any], "tls_scan.py printed no JSON summary: \(output)")
        return Scan(status: result.status, summary: summary, output: output)
    }

    /// Expects every check to pass.
    private func expectPasses(_ scan: Scan) {
        #expect(scan.status == 0 || scan.status == 1, "tls_scan.py did not finish: \(scan.output)")
        for failure in scan.failures { Issue.record("\(failure)\n\(scan.output)") }
        if scan.failures.isEmpty {
            #expect(scan.status == 0, "\(scan.output)")
        }
    }

    @Test(
        "A production server with a compliant certificate: Mozilla modern by default, intermediate with --allow-tls12 (ECDHE + AEAD on TLS 1.2)",
        arguments: [false, true])
    func productionServer(allowTLS12: Bool) throws {
        let cli = try CLIRunner()
        let certificate = try Self.makeCompliantCertificate(cli)
        let storage = "sqlite:" + cli.path("tls-scan.db")
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", "root-token-for-the-tls-scan"]).status == 0)
        let server = try DevServer(
            extra: ["--storage", storage, "--tls-cert", certificate.chain, "--tls-key", certificate.key] + (allowTLS12 ? ["--allow-tls12"] : []),
            dev: false, cli: cli)
        let scan = try self.scan(server, profile: allowTLS12 ? "intermediate" : "modern", caFile: certificate.ca)
        self.expectPasses(scan)
        #expect(scan.summary["mozilla_compliant"] as? Bool == true, "\(scan.output)")
        for old in ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"] {
            #expect(scan.accepted[old]?.isEmpty == true, "\(old) accepted: \(scan.accepted[old] ?? [])")
        }
        #expect(scan.accepted["TLSv1.3"]?.count == 3, "\(scan.accepted)")
        let tls12 = scan.accepted["TLSv1.2"] ?? []
        if allowTLS12 {
            #expect(!tls12.isEmpty && tls12.allSatisfy({ $0.hasPrefix("TLS_ECDHE_") }), "\(tls12)")
            // The scan sees what the modern profile forbids: the same server fails it on TLS 1.2.
            let modern = try self.scan(server, profile: "modern", caFile: certificate.ca)
            #expect(modern.status == 1 && modern.failures.contains(where: { $0.hasPrefix("TLS 1.2 accepted") }), "\(modern.output)")
        } else {
            #expect(tls12.isEmpty, "TLS 1.2 accepted: \(tls12)")
        }
        #expect(server.stop() == 0)
    }

    @Test("Dev mode's own certificate meets Mozilla modern (at most 90 days; a longer one from an older version is replaced)")
    func devCertificate() throws {
        let cli = try CLIRunner()
        // A home whose dev certificate an older version made for 397 days: replaced at start.
        let old = try cli.shell(
            """
            mkdir -p '\(cli.home)' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 397 -subj /CN=localhost \
              -keyout '\(cli.home)/server-key.pem' -out '\(cli.home)/server.pem' 2>&1 && cp '\(cli.home)/server.pem' '\(cli.home)/ca.pem'
            """)
        try #require(old.status == 0, "\(old.text)")
        let server = try DevServer(cli: cli)
        let scan = try self.scan(server, profile: "modern", caFile: server.caFile)
        self.expectPasses(scan)
        #expect(server.stop() == 0)
    }
}
