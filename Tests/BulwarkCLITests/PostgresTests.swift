import Foundation
import Testing

/// The PostgreSQL backend's connection rules, failures and the move from SQLite.
@Suite("bulwark server on PostgreSQL: TLS to the database, fail-fast start, migration from SQLite", .serialized)
struct PostgresTests {
    /// Runs `operator init` against `url` and returns (status, stderr, seconds).
    func initialise(_ cli: CLIRunner, _ url: String, env: [String: String] = [:]) throws -> (Int32, String, Double) {
        let start = Date()
        let result = try cli.bulwark(["operator", "init", "--storage", url], env: PostgresFixture.environment.merging(env) { $1 })
        return (result.status, result.stderr, Date().timeIntervalSince(start))
    }

    @Test("Wrong password, unreachable host, untrusted CA, another name, plain TCP: each stops start-up within seconds, saying why")
    func failFast() throws {
        let server = try PostgresFixture.require()
        let cli = try CLIRunner()
        let good = try PostgresFixture.makeDatabase()
        let (ok, okError, _) = try self.initialise(cli, good)
        #expect(ok == 0, "\(okError)")

        let (badPassword, passwordError, passwordTime) = try self.initialise(cli, good, env: ["PGPASSWORD": "wrong"])
        #expect(badPassword == 1 && passwordError.contains("password authentication failed") && passwordTime < 5)
        #expect(!passwordError.contains("wrong"))

        let unreachable = good.replacingOccurrences(of: ":\(server.port)/", with: ":\(try DevServer.freePort())/")
        let (down, downError, downTime) = try self.initialise(cli, unreachable)
        #expect(down == 1 && downError.contains("cannot reach") && downTime < 5)

        // A CA that did not sign the server's certificate.
        #expect(try cli.shell(
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '\(cli.path("other-ca-key.pem"))' -out '\(cli.path("other-ca.pem"))' -days 1 -subj /CN=other 2>/dev/null"
        ).status == 0)
        let untrusted = good.replacingOccurrences(of: server.caFile, with: cli.path("other-ca.pem"))
        let (distrust, distrustError, distrustTime) = try self.initialise(cli, untrusted)
        #expect(distrust == 1 && distrustError.contains("does not verify") && distrustTime < 5)

        // The server's certificate names localhost only: by address it is the wrong name.
        let byAddress = good.replacingOccurrences(of: "@\(server.host):", with: "@127.0.0.1:")
        let (address, addressError, _) = try self.initialise(cli, byAddress)
        #expect(address == 1 && addressError.contains("certificate"), "\(addressError)")

        // Plain TCP is refused by the server (hostnossl reject) and named as such.
        let plain = good.replacingOccurrences(of: "sslmode=verify-full", with: "sslmode=disable")
        let (clear, clearError, _) = try self.initialise(cli, plain)
        #expect(clear == 1 && clearError.contains("no encryption"), "\(clearError)")
        // An unknown sslmode is an error, not a silent downgrade.
        let (typo, typoError, _) = try self.initialise(cli, good.replacingOccurrences(of: "verify-full", with: "verify_full"))
        #expect(typo == 1 && typoError.contains("sslmode"))
    }

    @Test("A certificate from the right CA for another name is refused even when its IP address SAN matches (NIOSSL alone would accept it)")
    func anotherNameSameAddress() throws {
        let server = try PostgresFixture.require()
        let cli = try CLIRunner()
        let caDirectory = URL(fileURLWithPath: server.caFile).deletingLastPathComponent().path
        // Issued by the cluster's own CA, for other.example, with IP SAN 127.0.0.1.
        let made = try cli.shell("""
            set -e
            cd '\(cli.scratch)'
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-key.pem -out other.csr -subj /CN=other.example 2>/dev/null
            printf 'subjectAltName=DNS:other.example,IP:127.0.0.1\\n' > other.ext
            openssl x509 -req -in other.csr -CA '\(server.caFile)' -CAkey '\(caDirectory)/ca-key.pem' -CAcreateserial -CAserial other.srl -out other.pem -days 1 -extfile other.ext 2>/dev/null
            """)
        #expect(made.status == 0, "\(made.stderr)")
        // A stand-in server that answers PostgreSQL's SSLRequest and completes TLS with that certificate.
        let port = try DevServer.freePort()
        let script = """
            import socket, ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain('\(cli.path("other.pem"))', '\(cli.path("other-key.pem"))')
            listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(('127.0.0.1', \(port))); listener.listen(8); print('ready', flush=True)
            listener.settimeout(20)
            for _ in range(4):
                try:
                    connection, _ = listener.accept()
                except socket.timeout:
                    break
                connection.recv(8); connection.sendall(b'S')
                try:
                    tls = context.wrap_socket(connection, server_side=True); tls.recv(1)
                except Exception:
                    pass
                connection.close()
            """
        try script.write(toFile: cli.path("fake.py"), atomically: true, encoding: .utf8)
        let fake = Process()
        fake.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        fake.arguments = ["python3", cli.path("fake.py")]
        let output = Pipe()
        fake.standardOutput = output
        try fake.run()
        defer { fake.terminate() }
        _ = output.fileHandleForReading.availableData  // "ready"
        let url = "postgres://bulwark@localhost:\(port)/any?sslmode=verify-full&sslrootcert=\(server.caFile)&connect_timeout=3"
        let (status, message, seconds) = try self.initialise(cli, url)
        #expect(status == 1 && message.contains("not for localhost") && message.contains("other.example"), "\(message)")
        #expect(seconds < 5)
    }

    @Test("A client certificate logs in to PostgreSQL (cert authentication) with no password")
    func clientCertificate() throws {
        let server = try PostgresFixture.require()
        let cli = try CLIRunner()
        let directory = URL(fileURLWithPath: server.caFile).deletingLastPathComponent().path
        // A database owned by the certificate's role.
        let name = "bw_cert_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let admin = "postgresql://\(server.user)@\(server.host):\(server.port)/postgres?sslmode=verify-full&sslrootcert=\(server.caFile)"
        #expect(try cli.shell("psql '\(admin)' -q -c 'CREATE DATABASE \(name) OWNER bulwark_cert'", env: ["PGPASSWORD": server.password]).status == 0)
        let url = "postgres://bulwark_cert@\(server.host):\(server.port)/\(name)?sslmode=verify-full&sslrootcert=\(server.caFile)"
            + "&sslcert=\(directory)/client.pem&sslkey=\(directory)/client-key.pem"
        let result = try cli.bulwark(["operator", "init", "--storage", url], env: ["PGPASSWORD": ""])
        #expect(result.status == 0, "\(result.stderr)")
        // Without the certificate the same role is refused.
        let bare = "postgres://bulwark_cert@\(server.host):\(server.port)/\(name)?sslmode=verify-full&sslrootcert=\(server.caFile)"
        let refused = try cli.bulwark(["operator", "init", "--storage", bare], env: ["PGPASSWORD": ""])
        #expect(refused.status == 1 && refused.stderr.contains("certificate"), "\(refused.stderr)")
    }

    @Test("operator migrate-storage moves a SQLite store into PostgreSQL, resumes after a crash, verifies; the moved store serves")
    func migrateFromSQLite() throws {
        let cli = try CLIRunner()
        let sqlite = "sqlite:" + cli.path("single.db")
        let root = "root-token-for-the-migration-test"
        #expect(try cli.bulwark(["operator", "init", "--storage", sqlite, "--root-token", root]).status == 0)
        let (cert, key) = try makeCertificate(cli, name: "server")
        let common = ["--tls-cert", cert, "--tls-key", key]
        let before = try DevServer(extra: ["--storage", sqlite] + common, dev: false, cli: cli)
        let curl = { (node: DevServer, token: String, path: String, body: String) throws -> String in
            try cli.shell("curl -s --cacert '\(cert)' -H 'X-Vault-Token: \(token)' -d '\(body)' \(node.url)/v1/\(path)").text
        }
        var ciphertexts: [String] = []
        for name in ["a", "b", "c"] {
            let sealed = try curl(before, root, "transit/encrypt/\(name)", #"{"plaintext":"c2VjcmV0"}"#)
            let object = try JSONSerialization.jsonObject(with: Data(sealed.utf8)) as? [String: Any]
            ciphertexts.append(try #require((object?["data"] as? [String: Any])?["ciphertext"] as? String))
        }
        #expect(before.stop() == 0)
        let postgres = try PostgresFixture.makeDatabase()
        let env = PostgresFixture.environment
        // Cut short after two entries, then resumed.
        let cut = try cli.bulwark(["operator", "migrate-storage", "--from", sqlite, "--to", postgres], env: env.merging(["BULWARK_TEST_CRASH_POINT": "migrate-midway"]) { $1 })
        #expect(cut.status == 70)
        let early = try cli.bulwark(["server", "--storage", postgres, "--listen", "127.0.0.1:\(try DevServer.freePort())"] + common, env: env)
        #expect(early.status == 1 && early.stderr.contains("not initialised"))
        let resumed = try cli.bulwark(["operator", "migrate-storage", "--from", sqlite, "--to", postgres], env: env)
        #expect(resumed.status == 0 && resumed.text.contains("(2 already there)") && resumed.text.contains("verified"), "\(resumed.stderr)")
        let again = try cli.bulwark(["operator", "migrate-storage", "--from", sqlite, "--to", postgres], env: env)
        #expect(again.text.contains("copied 0 entries"))
        // Another store's target is refused.
        let otherSQLite = "sqlite:" + cli.path("other.db")
        #expect(try cli.bulwark(["operator", "init", "--storage", otherSQLite]).status == 0)
        let mixed = try cli.bulwark(["operator", "migrate-storage", "--from", otherSQLite, "--to", postgres], env: env)
        #expect(mixed.status == 1 && mixed.stderr.contains("another store"))
        // The moved store serves the old keys and the root token.
        let after = try DevServer(extra: ["--storage", postgres] + common, dev: false, cli: cli, env: env)
        for (index, name) in ["a", "b", "c"].enumerated() {
            #expect(try curl(after, root, "transit/decrypt/\(name)", "{\"ciphertext\":\"\(ciphertexts[index])\"}").contains("c2VjcmV0"))
        }
        #expect(after.stop() == 0)
    }
}
