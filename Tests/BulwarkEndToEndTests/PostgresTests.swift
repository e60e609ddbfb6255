import BulwarkTestSupport
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

    /// Two non-dev nodes on one fresh PostgreSQL database, and a curl helper.
    func twoNodes(_ cli: CLIRunner, storage: String, env: [String: String], root: String) throws -> (DevServer, DevServer, String) {
        #expect(try cli.bulwark(["operator", "init", "--storage", storage, "--root-token", root], env: env).status == 0)
        let (cert, key) = try makeCertificate(cli, name: "server")
        let common = ["--storage", storage, "--tls-cert", cert, "--tls-key", key]
        let a = try DevServer(extra: common + ["--audit-file", cli.path("audit-a.log")], dev: false, cli: cli, env: env)
        let b = try DevServer(extra: common + ["--audit-file", cli.path("audit-b.log")], dev: false, cli: cli, env: env)
        return (a, b, cert)
    }

    @Test("A node killed with SIGKILL mid-batch loses nothing acknowledged; the other keeps serving; the restarted node catches up")
    func killedNode() throws {
        let cli = try CLIRunner()
        let storage = try PostgresFixture.makeDatabase()
        let env = PostgresFixture.environment
        let root = "root-token-for-the-kill-test"
        var (a, b, cert) = try self.twoNodes(cli, storage: storage, env: env, root: root)
        // A stream of key creations and rotations on A, each logged when acknowledged; A is killed mid-stream.
        let script = """
            for i in $(seq 1 400); do
              code=$(curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -X POST \(a.url)/v1/transit/keys/k$i)
              [ "$code" = 204 ] && echo "k$i" >> '\(cli.path("acked"))'
            done
            """
        try script.write(toFile: cli.path("load.sh"), atomically: true, encoding: .utf8)
        let load = Process()
        load.executableURL = URL(fileURLWithPath: "/bin/sh")
        load.arguments = [cli.path("load.sh")]
        try load.run()
        // Killed once a few keys are acknowledged (waiting on the count, not a fixed time: a busy
        // machine writes more slowly).
        let waitUntil = Date().addingTimeInterval(20)
        while Date() < waitUntil,
            ((try? String(contentsOfFile: cli.path("acked"), encoding: .utf8)) ?? "").split(separator: "\n").count < 6
        {
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(a.process.processIdentifier, SIGKILL)
        load.waitUntilExit()
        let acked = try String(contentsOfFile: cli.path("acked"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(acked.count > 5)
        let list = { (node: DevServer) throws -> Set<String> in
            let text = try cli.shell("curl -s --cacert '\(cert)' -H 'X-Vault-Token: \(root)' '\(node.url)/v1/transit/keys?list=true'").text
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return Set(((json?["data"] as? [String: Any])?["keys"] as? [String]) ?? [])
        }
        // B kept serving and sees every acknowledged key.
        Thread.sleep(forTimeInterval: 1.0)
        #expect(Set(acked).isSubset(of: try list(b)))
        #expect(try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -d '{\"plaintext\":\"aGk=\"}' \(b.url)/v1/transit/encrypt/\(acked[0])").text == "200")
        // A restarted catches up with everything, including what B wrote meanwhile.
        #expect(try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -X POST \(b.url)/v1/transit/keys/made-on-b").text == "204")
        let (cert2, key2) = (cert, cli.path("server-key.pem"))
        a = try DevServer(
            extra: ["--storage", storage, "--tls-cert", cert2, "--tls-key", key2, "--audit-file", cli.path("audit-a.log")], dev: false, cli: cli, env: env)
        let restarted = try list(a)
        #expect(Set(acked).isSubset(of: restarted) && restarted.contains("made-on-b"))
        // Both audit logs still verify (A's chain continues after the kill).
        #expect(try a.verifyAudit(cli.path("audit-a.log")).status == 0)
        #expect(a.stop() == 0 && b.stop() == 0)
    }

    @Test("The database stopped under load: writes answer 503 while it is gone, cached keys keep encrypting, and writes succeed again without restarting")
    func databaseRestart() throws {
        // A cluster of its own, so stopping it disturbs no other test.
        let cli = try CLIRunner()
        let directory = "/tmp/bulwark-test-pg-" + UUID().uuidString.prefix(8).lowercased()  // postgres must reach it
        let port = try DevServer.freePort()
        let clusterEnv = ["BULWARK_PG_DIR": directory, "BULWARK_PG_PORT": String(port)]
        let started = try cli.shell("'\(PostgresFixture.repository)/scripts/test-postgres.sh' start < /dev/null", env: clusterEnv)
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? cli.shell("'\(PostgresFixture.repository)/scripts/test-postgres.sh' stop < /dev/null", env: clusterEnv) }
        var settings: [String: String] = [:]
        for line in started.text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { settings[parts[0]] = parts[1] }
        }
        let password = try #require(settings["BULWARK_TEST_PG_PASSWORD"])
        let storage = "postgres://bulwark@localhost:\(port)/bulwark?sslmode=verify-full&sslrootcert=\(directory)/ca.pem&connect_timeout=2"
        let env = ["PGPASSWORD": password]
        let root = "root-token-for-the-restart-test"
        let (a, b, cert) = try self.twoNodes(cli, storage: storage, env: env, root: root)
        let call = { (node: DevServer, method: String, path: String, body: String) throws -> String in
            try cli.shell("curl -s -o /dev/null -w '%{http_code}' -m 10 --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -X \(method) -d '\(body)' \(node.url)/v1/\(path)").text
        }
        #expect(try call(a, "POST", "transit/keys/before", "") == "204")
        #expect(try cli.shell("'\(PostgresFixture.repository)/scripts/test-postgres.sh' halt < /dev/null", env: clusterEnv).status == 0)
        #expect(try call(a, "POST", "transit/keys/during", "") == "503")
        #expect(try call(b, "POST", "transit/keys/before/rotate", "") == "503")
        #expect(try call(a, "POST", "transit/encrypt/before", #"{"plaintext":"aGk="}"#) == "200")
        #expect(try cli.shell("'\(PostgresFixture.repository)/scripts/test-postgres.sh' resume < /dev/null", env: clusterEnv).status == 0)
        var code = ""
        for _ in 0..<20 where code != "204" {
            code = try call(a, "POST", "transit/keys/after", "")
            if code != "204" { Thread.sleep(forTimeInterval: 0.5) }
        }
        #expect(code == "204")
        #expect(try call(b, "POST", "transit/keys/before/rotate", "") == "204")
        #expect(a.stop() == 0 && b.stop() == 0)
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
        // The tokenisation vault moves too.
        _ = try curl(before, root, "transform/transformations/tokenization/cards", #"{"allowed_roles":["pay"]}"#)
        _ = try curl(before, root, "transform/role/pay", #"{"transformations":["cards"]}"#)
        let pans = (0..<2500).map { String(format: "4%015d", $0 * 7919) }
        let batch = String(decoding: try JSONSerialization.data(withJSONObject: ["batch_input": pans.map { ["value": $0] }]), as: UTF8.self)
        try batch.write(toFile: cli.path("batch.json"), atomically: true, encoding: .utf8)
        let tokenized = try cli.shell("curl -s --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -d @'\(cli.path("batch.json"))' \(before.url)/v1/transform/encode/pay").stdout
        let tokenResults = try #require((try JSONSerialization.jsonObject(with: tokenized) as? [String: Any])?["data"] as? [String: Any])["batch_results"] as? [[String: Any]]
        let tokens = (tokenResults ?? []).compactMap { $0["encoded_value"] as? String }
        #expect(tokens.count == pans.count)
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
        #expect(resumed.text.contains("copied and verified 2500 token(s)"))
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
        let detokenize = String(decoding: try JSONSerialization.data(withJSONObject: ["batch_input": tokens.map { ["value": $0] }]), as: UTF8.self)
        try detokenize.write(toFile: cli.path("tokens.json"), atomically: true, encoding: .utf8)
        let decoded = try cli.shell("curl -s --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -d @'\(cli.path("tokens.json"))' \(after.url)/v1/transform/decode/pay").stdout
        let decodedResults = try #require((try JSONSerialization.jsonObject(with: decoded) as? [String: Any])?["data"] as? [String: Any])["batch_results"] as? [[String: Any]]
        #expect((decodedResults ?? []).compactMap { $0["decoded_value"] as? String } == pans)
        // The moved store is written (key a rotated); copying the old store again overwrites nothing.
        #expect(try cli.shell("curl -s -o /dev/null -w '%{http_code}' --cacert '\(cert)' -H 'X-Vault-Token: \(root)' -X POST \(after.url)/v1/transit/keys/a/rotate").text == "204")
        let rotated = try curl(after, root, "transit/encrypt/a", #"{"plaintext":"c2VjcmV0"}"#)
        #expect(rotated.contains("vault:v2:"))
        #expect(after.stop() == 0)
        let stale = try cli.bulwark(["operator", "migrate-storage", "--from", sqlite, "--to", postgres], env: env)
        #expect(stale.status == 1 && stale.stderr.contains("transit/keys/a") && stale.stderr.contains("left as"), "\(stale.text) \(stale.stderr)")
        let still = try DevServer(extra: ["--storage", postgres] + common, dev: false, cli: cli, env: env)
        let object = try JSONSerialization.jsonObject(with: Data(rotated.utf8)) as? [String: Any]
        let v2 = try #require((object?["data"] as? [String: Any])?["ciphertext"] as? String)
        #expect(try curl(still, root, "transit/decrypt/a", "{\"ciphertext\":\"\(v2)\"}").contains("c2VjcmV0"))
        #expect(still.stop() == 0)
    }
}
