import Bulwark
import BulwarkTestSupport
import Crypto
import Foundation
import NIOHTTP1
import Testing

@testable import BulwarkClient

#if canImport(Glibc)
import Glibc
#endif

/// RFC 7469-style pinning of the key service's certificate key, against a real `bulwark server`
/// whose certificates come from a test CA (made with `openssl`): a CA-valid certificate for an
/// unpinned key is refused before the token is sent, the backup key takes over with no client
/// change, and a pinned key does not excuse a chain that does not verify.
@Suite("CertificatePins: pinned connections to the key service, bulwark tls pins", .serialized)
struct CertificatePinningTests {
    /// A CA and certificates it issues, all P-256, for 127.0.0.1 and localhost.
    struct TestCA {
        let cli: CLIRunner
        var file: String { self.cli.path("ca.pem") }

        init(_ cli: CLIRunner) throws {
            self.cli = cli
            let made = try cli.shell(
                "cd '\(cli.scratch)' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem "
                    + "-days 2 -subj '/CN=Pinning Test CA' 2>&1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext")
            #expect(made.status == 0, "\(made.text)")
        }

        /// A new key (`NAME-key.pem`) and its certificate (`NAME.pem`), CA-signed unless `selfSigned`.
        func issue(_ name: String, key existing: String? = nil, selfSigned: Bool = false) throws -> (cert: String, key: String) {
            let key = existing ?? self.cli.path(name + "-key.pem")
            let cert = self.cli.path(name + ".pem")
            var script = "cd '\(self.cli.scratch)' && "
            if existing == nil { script += "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '\(key)' 2>&1 && " }
            script += "openssl req -new -key '\(key)' -subj '/CN=localhost' -out '\(name).csr' 2>&1 && "
            script += selfSigned
                ? "openssl x509 -req -in '\(name).csr' -signkey '\(key)' -days 2 -extfile san.ext -out '\(cert)' 2>&1"
                : "openssl x509 -req -in '\(name).csr' -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile san.ext -out '\(cert)' 2>&1"
            let made = try self.cli.shell(script)
            #expect(made.status == 0, "\(made.text)")
            return (cert, key)
        }
    }

    /// The pin by the usual OpenSSL recipe (HPKP's documentation), from a certificate or a private key.
    static func opensslPin(_ cli: CLIRunner, certificate: String? = nil, privateKey: String? = nil) throws -> String {
        let source = certificate.map { "openssl x509 -in '\($0)' -pubkey -noout" } ?? "openssl pkey -in '\(privateKey ?? "")' -pubout"
        let result = try cli.shell("\(source) | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64")
        #expect(result.status == 0, "\(result.stderr)")
        return result.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Pinned: works for the primary key; a CA-valid certificate of an unpinned key is refused before anything is sent; the backup key takes over with no client change; a pinned key with a chain that does not verify is refused")
    func pinnedConnections() async throws {
        let cli = try CLIRunner()
        let ca = try TestCA(cli)
        let primary = try ca.issue("primary")
        let backupKey = cli.path("backup-key.pem")
        #expect(try cli.shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '\(backupKey)'").status == 0)
        let rogue = try ca.issue("rogue")

        // Pins: bulwark's, from files, agree with OpenSSL's recipe; the backup's from its key alone.
        let primaryPin = try Self.opensslPin(cli, certificate: primary.cert)
        let backupPin = try Self.opensslPin(cli, privateKey: backupKey)
        let filePins = try cli.bulwark(["tls", "pins", "--file", primary.cert, "--file", backupKey])
        #expect(filePins.status == 0, "\(filePins.stderr)")
        #expect(filePins.text == "\(primaryPin)  \(primary.cert)\n\(backupPin)  \(backupKey)\n")
        #expect(try CertificatePins.pin(pem: try String(contentsOfFile: primary.key, encoding: .utf8)) == primaryPin)

        let storage = "sqlite:" + cli.path("state.db")
        let root = "root-token-for-the-pinning-test"
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", root]).status == 0)
        let cert = cli.path("served.pem"), key = cli.path("served-key.pem")
        #expect(try cli.shell("cp '\(primary.cert)' '\(cert)' && cp '\(primary.key)' '\(key)'").status == 0)
        let server = try DevServer(extra: ["--storage", storage, "--tls-cert", cert, "--tls-key", key], dev: false, cli: cli)
        defer { _ = server.stop() }
        let endpoint = "127.0.0.1:\(server.port)"

        // The live endpoint's pin: bulwark tls pins and openssl s_client agree.
        let live = try cli.bulwark(["tls", "pins", endpoint, "--cacert", ca.file])
        #expect(live.text == "\(primaryPin)  \(endpoint)\n", "\(live.stderr)")
        let viaOpenSSL = try cli.shell(
            "echo | timeout 10 openssl s_client -connect \(endpoint) 2>/dev/null | openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64")
        #expect(viaOpenSSL.text.trimmingCharacters(in: .whitespacesAndNewlines) == primaryPin)
        // Without the CA, the endpoint does not verify: no pin printed.
        let unverified = try cli.bulwark(["tls", "pins", endpoint])
        #expect(unverified.status == 1 && unverified.stderr.contains("I/O failure"), "\(unverified.stderr)")

        let pins = try CertificatePins(primary: primaryPin, backups: [backupPin])
        let pinned = try TransitClient(address: server.url, token: root, caFile: ca.file, pins: pins)
        let unpinned = try TransitClient(address: server.url, token: root, caFile: ca.file)
        let otherPins = try CertificatePins(primary: backupPin, backups: [try Self.opensslPin(cli, certificate: rogue.cert)])
        let wrong = try TransitClient(address: server.url, token: root, caFile: ca.file, pins: otherPins)
        do {
            #expect(try await pinned.call(.GET, "auth/token/lookup-self").data["policies"] as? [String] == ["root"])
            _ = try await pinned.call(.POST, "transit/keys/pinned-key")
            // The certificate verifies but its key is not pinned: refused, and the token never
            // reached the server (its audit log has no new line).
            let audit = cli.home + "/audit.log"
            let before = (try? Data(contentsOf: URL(fileURLWithPath: audit)))?.count ?? 0
            #expect(before > 0, "the pinned client's requests were audited")
            await #expect(throws: BulwarkError(.pinMismatch, "")) { _ = try await wrong.call(.GET, "auth/token/lookup-self") }
            #expect(((try? Data(contentsOf: URL(fileURLWithPath: audit)))?.count ?? 0) == before)
            // Pins are of the server certificate's key, never of a CA in its chain.
            let caPinned = try TransitClient(
                address: server.url, token: root, caFile: ca.file,
                pins: try CertificatePins(primary: try Self.opensslPin(cli, certificate: ca.file), backups: [backupPin]))
            await #expect(throws: BulwarkError(.pinMismatch, "")) { _ = try await caPinned.call(.GET, "auth/token/lookup-self") }
            try await caPinned.shutdown()
            // By name: `localhost` (the certificate's DNS name, sent as SNI; it may resolve to ::1
            // first, where nothing listens: the connection that wins carries the exchange).
            let byName = try TransitClient(address: "https://localhost:\(server.port)", token: root, caFile: ca.file, pins: pins)
            #expect(try await byName.call(.GET, "auth/token/lookup-self").status == 200)
            try await byName.shutdown()

            // A rogue certificate from the same (trusted) CA for another key: pinned refuses,
            // unpinned would have talked to it.
            try Self.serve(rogue, at: (cert, key), until: try Self.opensslPin(cli, certificate: rogue.cert), endpoint: server, ca: ca.file)
            await #expect(throws: BulwarkError(.pinMismatch, "")) { _ = try await pinned.call(.GET, "auth/token/lookup-self") }
            #expect(try await unpinned.call(.GET, "auth/token/lookup-self").status == 200)
            // The primary key in a self-signed certificate: the pin matches but the chain does
            // not verify, refused (pins add to verification, never replace it).
            let selfSigned = try ca.issue("self-signed", key: primary.key, selfSigned: true)
            #expect(try cli.shell("cp '\(selfSigned.cert)' '\(cli.path("next.pem"))'").status == 0)
            try Self.swap((cli.path("next.pem"), primary.key), into: (cert, key))
            try await Self.waitForSubject(cli, endpoint: endpoint, issuer: "localhost")
            await #expect(throws: BulwarkError(.ioFailure, "")) { _ = try await pinned.call(.GET, "auth/token/lookup-self") }
            // Rotation onto the backup key (its certificate issued only now): the same client,
            // unchanged, connects.
            let backup = try ca.issue("backup", key: backupKey)
            try Self.serve(backup, at: (cert, key), until: backupPin, endpoint: server, ca: ca.file)
            #expect(try await pinned.call(.GET, "auth/token/lookup-self").status == 200)
            _ = try await pinned.call(.GET, "transit/keys/pinned-key")
        } catch {
            Issue.record(error)
        }
        try await pinned.shutdown()
        try await unpinned.shutdown()
        try await wrong.shutdown()

        // The CLI's client commands take the pins from BULWARK_PINS.
        let env = ["BULWARK_ADDR": server.url, "BULWARK_TOKEN": root, "BULWARK_CACERT": ca.file]
        let good = try cli.bulwark(["token", "lookup"], env: env.merging(["BULWARK_PINS": "\(primaryPin),\(backupPin)"]) { $1 })
        #expect(good.status == 0 && good.text.contains("root"), "\(good.stderr)")
        let bad = try cli.bulwark(["token", "lookup"], env: env.merging(["BULWARK_PINS": "\(primaryPin),\(try Self.opensslPin(cli, certificate: rogue.cert))"]) { $1 })
        #expect(bad.status == 1 && bad.stderr.contains("pin mismatch"), "\(bad.stderr)")
        let lone = try cli.bulwark(["token", "lookup"], env: env.merging(["BULWARK_PINS": backupPin]) { $1 })
        #expect(lone.status == 1 && lone.stderr.contains("backup"), "\(lone.stderr)")
        for malformed in [",", ",,", "\(primaryPin),", "\(primaryPin),,\(backupPin)"] {
            let refused = try cli.bulwark(["token", "lookup"], env: env.merging(["BULWARK_PINS": malformed]) { $1 })
            #expect(refused.status == 1 && refused.stderr.contains("BULWARK_PINS"), "\(malformed): \(refused.stderr)")
        }
        for endpoint in ["::1:8200", "2001:db8::1:8200", ":443", "host:", "[::1]", "host:99999"] {
            #expect(try cli.bulwark(["tls", "pins", endpoint]).status != 0, "\(endpoint)")
        }
    }

    @Test("Pins are checked when made: a backup is required, no repeats, base64 of 32 bytes; http:// cannot be pinned")
    func pinValues() throws {
        let pin = Data(repeating: 1, count: 32).base64EncodedString()
        let other = Data(repeating: 2, count: 32).base64EncodedString()
        #expect(try CertificatePins(primary: pin, backups: [other]).pins == [pin, other])
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try CertificatePins(primary: pin, backups: []) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try CertificatePins(primary: pin, backups: [pin]) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try CertificatePins(primary: pin, backups: ["AAAA"]) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try CertificatePins(primary: "not base64!", backups: [other]) }
        let pins = try CertificatePins(primary: pin, backups: [other])
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try TransitClient(address: "http://127.0.0.1:8200", token: "t", pins: pins) }
        #expect(throws: BulwarkError(.invalidFormat, "")) { _ = try CertificatePins.pin(pem: "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n") }
        // A PUBLIC KEY block must hold a whole SubjectPublicKeyInfo: a cut one gives no pin.
        let spki = P256.Signing.PrivateKey().publicKey.derRepresentation
        let whole = "-----BEGIN PUBLIC KEY-----\n\(spki.base64EncodedString())\n-----END PUBLIC KEY-----\n"
        #expect(try CertificatePins.pin(pem: whole) == CertificatePins.pin(subjectPublicKeyInfo: spki))
        let cut = "-----BEGIN PUBLIC KEY-----\n\(spki.dropLast(3).base64EncodedString())\n-----END PUBLIC KEY-----\n"
        #expect(throws: BulwarkError(.invalidFormat, "")) { _ = try CertificatePins.pin(pem: cut) }
        // Pins compare in canonical form.
        #expect(try CertificatePins(primary: " \(pin)", backups: [other]).pins == [pin, other])
    }

    /// Moves a certificate and key into the served files and waits until the endpoint presents `pin`.
    static func serve(_ pair: (cert: String, key: String), at served: (cert: String, key: String), until pin: String, endpoint: DevServer, ca: String) throws {
        try Self.swap(pair, into: served)
        for _ in 0..<40 {
            let live = try endpoint.cli.bulwark(["tls", "pins", "127.0.0.1:\(endpoint.port)", "--cacert", ca])
            if live.text.hasPrefix(pin) { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        Issue.record("the server did not start presenting the new certificate")
    }

    /// certbot-style: copies made beside the served files, then renamed into place (key first).
    static func swap(_ pair: (cert: String, key: String), into served: (cert: String, key: String)) throws {
        let copies = (cert: served.cert + ".new", key: served.key + ".new")
        try? FileManager.default.removeItem(atPath: copies.cert)
        try? FileManager.default.removeItem(atPath: copies.key)
        try FileManager.default.copyItem(atPath: pair.cert, toPath: copies.cert)
        try FileManager.default.copyItem(atPath: pair.key, toPath: copies.key)
        #expect(rename(copies.key, served.key) == 0 && rename(copies.cert, served.cert) == 0)
    }

    /// Waits until the endpoint's certificate has `issuer` as its issuer's common name.
    static func waitForSubject(_ cli: CLIRunner, endpoint: String, issuer: String) async throws {
        for _ in 0..<40 {
            let seen = try cli.shell("echo | timeout 10 openssl s_client -connect \(endpoint) 2>/dev/null | openssl x509 -noout -issuer").text
            if seen.contains("CN=\(issuer)") || seen.contains("CN = \(issuer)") { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("the server did not start presenting the certificate issued by \(issuer)")
    }
}
