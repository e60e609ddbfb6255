import Bulwark
import BulwarkKeystore
@testable import BulwarkServer
import BulwarkStorage
import BulwarkTestSupport
import Foundation
import Testing

@Suite("Tokenisation, FPE and masking (Vault's Transform API)", .serialized)
struct TransformTests {
    static var panFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("BulwarkTests/Vectors/pan.txt").path
    }

    @Test("hvac's Transform methods run against the server; no plaintext in the vault's tables; refused decodes are audited",
          arguments: StorageKind.allCases)
    func hvacTransform(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let location = storage == .sqlite ? "sqlite:" + cli.path("vault.db") : try PostgresFixture.makeDatabase(withPassword: true)
        let server = try DevServer(extra: ["--storage", location], cli: cli, env: PostgresFixture.environment)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/transform_hvac.py").path
        let result = try await cli.shellDetached("python3 '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)' '\(Self.panFile)'")
        #expect(result.status == 0, "\(result.text)\n\(result.stderr)")
        #expect(result.text.contains("all hvac transform checks passed"))
        #expect(server.stop() == 0)

        // What an attacker with the database (file or dump) sees holds none of the values.
        let dump = storage == .sqlite
            ? "cat '\(cli.path("vault.db"))'*" : "pg_dump '\(location.replacingOccurrences(of: "postgres://", with: "postgresql://"))'"
        let pans = try String(contentsOfFile: Self.panFile, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "\t").first.map(String.init) }
        #expect(pans.count > 40)
        let needles = pans + ["ada@example.org", "eve@example.org", "123-45-6789", "4111-1111-1111-1111", "crm"]
        let found = try cli.shell("\(dump) | grep -c -a -F \(needles.map { "-e '\($0)'" }.joined(separator: " ")) || true", env: PostgresFixture.environment)
        #expect(found.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let tables = try cli.shell("\(dump) | grep -c -a bulwark_tokens || true", env: PostgresFixture.environment)
        #expect((Int(tables.text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0)

        // The refused detokenisation is in the audit log, which itself holds no value in clear.
        let audit = try String(contentsOfFile: cli.home + "/audit.log", encoding: .utf8)
        let denied = audit.split(separator: "\n").filter {
            $0.contains("\"path\":\"/v1/transform/decode/payments\"") && $0.contains("\"status\":403") && $0.contains("permission denied")
        }
        #expect(denied.count >= 1)
        #expect(!pans.contains { audit.contains($0) } && !audit.contains("ada@example.org"))
        #expect(try server.verifyAudit(cli.home + "/audit.log").status == 0)
    }

    @Test("bulwark tokenize/detokenize: one value, 25,000 lines from standard input in order with progress, and refusal without decode")
    func cliTokenize() throws {
        let server = try DevServer()
        let cli = server.cli
        let env = ["BULWARK_ADDR": server.url, "BULWARK_TOKEN": server.token, "BULWARK_CACERT": server.caFile]
        let curl = "curl -s --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)'"
        #expect(try cli.shell("\(curl) -d '{\"allowed_roles\":[\"bulk\"]}' \(server.url)/v1/transform/transformations/tokenization/pan").status == 0)
        #expect(try cli.shell("\(curl) -d '{\"transformations\":[\"pan\"]}' \(server.url)/v1/transform/role/bulk").status == 0)
        let one = try cli.bulwark(["tokenize", "--role", "bulk", "4111111111111111"], env: env)
        let token = one.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(one.status == 0 && token.hasPrefix("tok_"), "\(one.stderr)")
        let back = try cli.bulwark(["detokenize", "--role", "bulk", "--transformation", "pan", token], env: env)
        #expect(back.text == "4111111111111111\n")

        var generator = SystemRandomNumberGenerator()
        let values = (0..<25_000).map { _ in Self.cardNumber(&generator) }
        try (values.joined(separator: "\n") + "\n").write(toFile: cli.path("pans.txt"), atomically: true, encoding: .utf8)
        let bulk = try cli.shell("\"$BULWARK\" tokenize --role bulk < '\(cli.path("pans.txt"))' > '\(cli.path("tokens.txt"))'", env: env)
        #expect(bulk.status == 0, "\(bulk.stderr)")
        #expect(bulk.stderr.contains("25000/25000 values"))
        let tokens = try String(contentsOfFile: cli.path("tokens.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(tokens.count == values.count && Set(tokens).count == values.count && tokens.allSatisfy { $0.hasPrefix("tok_") })
        // Through a pipe (no known size) and back, in order.
        let piped = try cli.shell("cat '\(cli.path("tokens.txt"))' | \"$BULWARK\" detokenize --role bulk --batch-size 700", env: env)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.text.split(separator: "\n").map(String.init) == values)
        #expect(piped.stderr.contains("values/s"))

        // A service holding only encode cannot detokenise; the refusal is audited.
        let policy = try JSONSerialization.data(withJSONObject: ["policy": #"path "transform/encode/bulk" { capabilities = ["update"] }"#])
        try policy.write(to: URL(fileURLWithPath: cli.path("policy.json")))
        #expect(try cli.shell("\(curl) -X PUT -d @'\(cli.path("policy.json"))' \(server.url)/v1/sys/policy/enc").status == 0)
        let created = try cli.bulwark(["token", "create", "--policy", "enc", "--json"], env: env)
        let limited = try #require(try JSONSerialization.jsonObject(with: created.stdout) as? [String: Any])["client_token"] as? String
        let limitedEnv = env.merging(["BULWARK_TOKEN": limited ?? ""]) { $1 }
        #expect(try cli.bulwark(["tokenize", "--role", "bulk", "5555555555554444"], env: limitedEnv).status == 0)
        let refused = try cli.bulwark(["detokenize", "--role", "bulk", token], env: limitedEnv)
        #expect(refused.status == 1 && refused.stderr.contains("permission denied"))
        #expect(server.stop() == 0)
        let audit = try String(contentsOfFile: cli.home + "/audit.log", encoding: .utf8)
        #expect(audit.contains("\"path\":\"/v1/transform/decode/bulk\"") && audit.contains("\"status\":403"))
    }

    /// A random Luhn-valid 16-digit card number.
    static func cardNumber(_ generator: inout some RandomNumberGenerator) -> String {
        var digits = [Int.random(in: 3...6, using: &generator)] + (0..<14).map { _ in Int.random(in: 0...9, using: &generator) }
        digits.append(Luhn.checkDigit(for: digits))
        return String(digits.map { Character(String($0)) })
    }

    static func ssn(_ generator: inout some RandomNumberGenerator) -> String {
        let n = (0..<9).map { _ in String(Int.random(in: 0...9, using: &generator)) }
        return n[0..<3].joined() + "-" + n[3..<5].joined() + "-" + n[5..<9].joined()
    }

    static func email(_ index: Int, _ generator: inout some RandomNumberGenerator) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let name = String((0..<8).map { _ in letters[Int.random(in: 0..<26, using: &generator)] })
        return "\(name).\(index)@example.org"
    }

    /// 1,000,000 values of each kind through the vault in batches of 1,000, as the API runs them.
    @Test("Token-vault rows authenticate every column: a row moved to another value, token or expiry is refused, never served", arguments: StorageKind.allCases)
    func vaultRowsAuthenticateEveryColumn(storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(storage, cli).open()
        let transform = try await TransformBackend.open(store: store)
        try await transform.writeTransformation("cards", type: "tokenization", TransformationWrite(allowedRoles: ["pay"], convergent: true))
        try await transform.writeRole("pay", RoleWrite(transformations: ["cards"]))
        let item = { (value: String) in TransformRequest(batchInput: [TransformRequest(value: value, transformation: "cards")]) }
        let encode = { (value: String) async throws -> TransformResult in
            try #require(try await transform.encode(role: "pay", item(value)).items?.first)
        }
        let decode = { (token: String) async throws -> TransformResult in
            try #require(try await transform.decode(role: "pay", format: nil, item(token)).items?.first)
        }
        let tokenized = { (value: String) async throws -> Bool? in
            try await transform.tokenized(role: "pay", item(value)).items?.first?.tokenized
        }
        let (a, b) = ("4111111111111111", "5500000000000004")
        let tokenA = try #require(try await encode(a).encodedValue)
        let tokenB = try #require(try await encode(b).encodedValue)
        #expect(try await encode(a).encodedValue == tokenA, "convergent")
        #expect(try await tokenized(a) == true)
        let rows = try await store.backend.tokenPage(after: nil, limit: 10)
        try #require(rows.count == 2)
        let (rowA, rowB) = (rows[0], rows[1])  // in token-hash order: which value each holds does not matter here
        let replace = { (records: [TokenRecord]) async throws in
            try await store.backend.deleteTokens("cards", tokenIDs: rows.map(\.tokenID))
            #expect(try await store.backend.insertTokens(records).allSatisfy { $0 })
        }
        // Value hashes swapped between the rows: neither value gets the other's token, and
        // neither row opens any more.
        var swappedA = rowA, swappedB = rowB
        swap(&swappedA.valueID, &swappedB.valueID)
        try await replace([swappedA, swappedB])
        for (value, other) in [(a, tokenB), (b, tokenA)] {
            let again = try await encode(value)
            #expect(again.encodedValue != other && again.error != nil, "\(again)")
            #expect(try await tokenized(value) == false)
        }
        for token in [tokenA, tokenB] {
            #expect(try await decode(token).error != nil)
        }
        // An expiry pushed out (or a token hash moved) breaks the row's authentication.
        var extended = rowA
        extended.expiresAt = Int64(Date().timeIntervalSince1970) + 86400
        var moved = rowB
        moved.tokenID = rowA.tokenID.reversed()
        try await replace([extended, moved])
        for token in [tokenA, tokenB] {
            #expect(try await decode(token).error != nil)
        }
        // The rows as they were: served again.
        try await store.backend.deleteTokens("cards", tokenIDs: [extended.tokenID, moved.tokenID])
        #expect(try await store.backend.insertTokens([rowA, rowB]).allSatisfy { $0 })
        #expect(try await decode(tokenA).decodedValue == a)
        #expect(try await decode(tokenB).decodedValue == b)
    }

    @Test("1,000,000 card numbers, SSNs and emails tokenise to distinct tokens and detokenise exactly (SQLite)")
    func millionRoundTrips() async throws {
        try await Self.roundTrips(count: Int(ProcessInfo.processInfo.environment["BULWARK_TEST_MILLION"] ?? "") ?? 1_000_000, storage: .sqlite)
    }

    @Test("100,000 values of each kind round-trip on PostgreSQL")
    func postgresRoundTrips() async throws {
        try await Self.roundTrips(count: 100_000, storage: .postgres)
    }

    static func roundTrips(count: Int, storage: StorageKind) async throws {
        let cli = try CLIRunner()
        let store = try await TestStore(storage, cli).open()
        let transform = try await TransformBackend.open(store: store)
        try await transform.writeTransformation("cards", type: "tokenization", TransformationWrite(
            template: ["builtin/creditcardnumber"], allowedRoles: ["bulk"], preservePrefix: 6, preserveSuffix: 4, luhn: "invalid"))
        try await transform.writeTransformation("opaque", type: "tokenization", TransformationWrite(allowedRoles: ["bulk"]))
        try await transform.writeTransformation("ssn-fpe", type: "fpe", TransformationWrite(
            template: ["builtin/socialsecuritynumber"], tweakSource: "internal", allowedRoles: ["bulk"]))
        try await transform.writeTemplate("last4", TemplateWrite(pattern: #"(\d{3})-(\d{2})-\d{4}"#, alphabet: "builtin/numeric"))
        try await transform.writeTransformation("ssn-mask", type: "masking", TransformationWrite(template: ["last4"], maskingCharacter: "X", allowedRoles: ["bulk"]))
        try await transform.writeRole("bulk", RoleWrite(transformations: ["cards", "opaque", "ssn-fpe", "ssn-mask"]))
        var generator = SystemRandomNumberGenerator()
        for kind in ["card", "ssn", "email"] {
            var tokens = Set<String>()
            tokens.reserveCapacity(count)
            var done = 0
            while done < count {
                let values: [String] = (0..<1000).map { offset in
                    switch kind {
                    case "card": return Self.cardNumber(&generator)
                    case "ssn": return Self.ssn(&generator)
                    default: return Self.email(done + offset, &generator)
                    }
                }
                let transformation = kind == "card" ? "cards" : "opaque"
                let batch = { (values: [String], transformation: String) in
                    TransformRequest(batchInput: values.map { TransformRequest(value: $0, transformation: transformation) })
                }
                let results = try #require(try await transform.encode(role: "bulk", batch(values, transformation)).items)
                let batchTokens = results.compactMap(\.encodedValue)
                try #require(batchTokens.count == values.count, "\(results.first { $0.error != nil }?.error ?? "")")
                for (value, token) in zip(values, batchTokens) {
                    tokens.insert(token)
                    if kind == "card" {
                        // Same length, digits only, BIN and last four kept, never Luhn-valid, never the value.
                        guard token.count == 16, token.allSatisfy(\.isNumber), token.prefix(6) == value.prefix(6), token.suffix(4) == value.suffix(4),
                            !Luhn.isValid(token), token != value
                        else {
                            Issue.record("bad card token for a value ending \(value.suffix(4))")
                            return
                        }
                    } else if !token.hasPrefix("tok_") || token.count != 26 {
                        Issue.record("bad opaque token")
                        return
                    }
                }
                let decoded = try await transform.decode(role: "bulk", format: nil, batch(batchTokens, transformation))
                let plain = try #require(decoded.items).compactMap(\.decodedValue)
                guard plain == values else {
                    Issue.record("\(kind): a batch did not detokenise to its values")
                    return
                }
                if kind == "ssn" && done < 100_000 {
                    // FPE keeps the SSN layout and alphabet and inverts; masking keeps only the last four
                    // (the first 100,000 SSNs: FF1 in a debug build is the slow part of this test).
                    let fpe = try #require(try await transform.encode(role: "bulk", batch(values, "ssn-fpe")).items).compactMap(\.encodedValue)
                    let layout = try Regex(#"^\d{3}-\d{2}-\d{4}$"#)
                    #expect(fpe.count == values.count && fpe.allSatisfy { $0.wholeMatch(of: layout) != nil })
                    let back = try #require(try await transform.decode(role: "bulk", format: nil, batch(fpe, "ssn-fpe")).items).compactMap(\.decodedValue)
                    #expect(back == values)
                    let masked = try #require(try await transform.encode(role: "bulk", batch(values, "ssn-mask")).items).compactMap(\.encodedValue)
                    #expect(masked == values.map { "XXX-XX-" + $0.suffix(4) })
                }
                done += values.count
            }
            // Non-convergent: no two values share a token.
            #expect(tokens.count == count, "\(kind): \(count - tokens.count) shared tokens")
        }
        #expect(try await store.backend.tokenCount("cards") == count)
        #expect(try await store.backend.tokenCount("opaque") == 2 * count)
    }
}
