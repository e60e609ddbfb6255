import ArgumentParser
import Bulwark
import BulwarkClient
import BulwarkRedaction
import Crypto
import Logging
import Foundation

/// `bulwark benchmark`: throughput of each AEAD through the same APIs users call.
struct BenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure small-field and streaming throughput, in the spirit of 'cryptsetup benchmark'.")
    @Flag(help: "One JSON object a line.") var json = false
    @Option(help: "Seconds to measure each case.") var seconds: Double = 1.0
    @Option(name: .customLong("stream-mib"), help: "MiB to push through each stream case.") var streamMiB: Int = 256
    @Flag(help: "Measure password hashing (Argon2id, bcrypt) instead of encryption.") var passwords = false
    @Flag(help: "Measure log redaction instead of encryption.") var redaction = false
    @Flag(help: "Measure envelope-encrypted database fields instead.") var fields = false
    @Option(
        help: """
            With --fields, the key-encryption key: local (a keyset in memory, the default); transit (BULWARK_ADDR, \
            BULWARK_TOKEN, BULWARK_CACERT, the key BULWARK_KEK_NAME); awskms (AWS_REGION, AWS_KMS_ENDPOINT, AWS \
            credentials, the key BULWARK_AWSKMS_KEY_ID).
            """)
    var kek = "local"
    @Option(help: "Measure only the cases whose algorithm or case name contains this text (jwe, hpke, sign-32B …).") var only: String?

    func run() async throws {
        if self.fields {
            do {
                try await self.fieldCases()
            } catch let error as BulwarkError {
                note("bulwark: \(error.code): \(error.message)")
                throw ExitCode(1)
            }
            return
        }
        try reportingErrors {
            if self.passwords {
                try self.passwordCases()
                return
            }
            if self.redaction {
                try self.redactionCases()
                return
            }
            let value = Data(repeating: 0x42, count: 32)
            let context = Data(repeating: 0x07, count: 16)
            if !self.json { print(pad("ALGORITHM", 22) + pad("CASE", 24) + "VALUE") }
            for type in [KeyType.aes256GCM, .chacha20Poly1305] {
                let key = try Keyset.generate(name: "bench", type: type)
                let sealed = try key.encrypt(value, context: context)
                try self.report(type.rawValue, "field-encrypt-32B", try self.rate { _ = try key.encrypt(value, context: context) }, "ops/s")
                try self.report(type.rawValue, "field-decrypt-32B", try self.rate { _ = try key.decrypt(sealed, context: context) }, "ops/s")
                try self.report(type.rawValue, "field-roundtrip-32B", try self.rate {
                    _ = try key.decrypt(try key.encrypt(value, context: context), context: context)
                }, "ops/s")
                if self.selected(type.rawValue, "stream-encrypt") || self.selected(type.rawValue, "stream-decrypt") {
                    let (encrypt, decrypt) = try self.streamRates(key)
                    self.report(type.rawValue, "stream-encrypt", encrypt, "MB/s")
                    self.report(type.rawValue, "stream-decrypt", decrypt, "MB/s")
                }
            }
            let siv = try Keyset.generate(name: "bench", type: .aes256SIV)
            try self.report("aes256-siv", "field-roundtrip-32B", try self.rate {
                _ = try siv.decryptDeterministically(try siv.encryptDeterministically(value, context: context), context: context)
            }, "ops/s")
            let ff1 = try FF1(rawKey: SecureRandom.bytes(32), access: .token)
            var cardIndex = 0
            try self.report("ff1-aes256", "encode-16-digits", try self.rate {
                cardIndex &+= 1
                _ = try ff1.encrypt(numerals: Self.cardNumerals(cardIndex), radix: 10, tweak: [UInt8]())
            }, "ops/s")
            let card = try ff1.encrypt(numerals: Self.cardNumerals(7), radix: 10, tweak: [UInt8]())
            try self.report("ff1-aes256", "decode-16-digits", try self.rate {
                _ = try ff1.decrypt(numerals: card, radix: 10, tweak: [UInt8]())
            }, "ops/s")
            let ssn = FPEAlphabet.numeric
            try self.report("ff1-aes256", "encode-ssn-string", try self.rate {
                _ = try ff1.encrypt("123456789", alphabet: ssn)
            }, "ops/s")
            let mac = try Keyset.generate(name: "bench", type: .hmacSHA256)
            try self.report("hmac-sha256", "mac-32B", try self.rate { _ = try mac.authenticate(value) }, "ops/s")
            // Public-key (hybrid) encryption: a 1 KiB message sealed to the public key and opened
            // with the keyset (one HPKE encapsulation and decapsulation each).
            let kibibyte = Data(repeating: 0x42, count: 1024)
            for type in [KeyType.hpkeX25519, .hpkeX25519ChaCha20Poly1305, .hpkeP256, .hpkeXWing] {
                let key = try Keyset.generate(name: "bench", type: type)
                let publicKey = try key.hybridPublicKey()
                try self.report(type.rawValue, "hybrid-roundtrip-1KiB", try self.rate(minimumBatch: 64) {
                    _ = try key.hybridDecrypt(try publicKey.encrypt(kibibyte, context: context), context: context)
                }, "ops/s")
            }
            // Signatures as the key service makes them (the bare signature of 32 bytes), one per call.
            for type in [KeyType.ed25519, .ecdsaP256, .ecdsaP384, .mlDSA65, .rsa2048] {
                let signer = try Keyset.generate(name: "bench", type: type)
                try self.report(type.rawValue, "sign-32B", try self.rate(minimumBatch: 16) { _ = try signer.standardSignature(for: value) }, "ops/s")
                let signature = try signer.standardSignature(for: value)
                try self.report(type.rawValue, "verify-32B", try self.rate(minimumBatch: 16) {
                    try signer.verify(standardSignature: signature, for: value, version: 1)
                }, "ops/s")
            }
            // The P-256 operations under a JWE (what is left once the format costs nothing).
            let agreement = P256.KeyAgreement.PrivateKey()
            let peer = P256.KeyAgreement.PrivateKey().publicKey
            try self.report("p256", "ecdh", try self.rate(minimumBatch: 64) { _ = try agreement.sharedSecretFromKeyAgreement(with: peer) }, "ops/s")
            let scalar = agreement.rawRepresentation
            try self.report("p256", "key-from-scalar", try self.rate(minimumBatch: 64) { _ = try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar) }, "ops/s")
            let made = try P256.KeyAgreement.PrivateKey(rawRepresentation: scalar)
            try self.report("p256", "x963", try self.rate(minimumBatch: 64) { _ = made.publicKey.x963Representation }, "ops/s")
            let point = made.publicKey.x963Representation
            try self.report("p256", "parse-x963", try self.rate(minimumBatch: 64) { _ = try P256.KeyAgreement.PublicKey(x963Representation: point) }, "ops/s")
            // JOSE: a 1 KiB JWE to a P-256 key (ECDH-ES+A256KW, A256GCM), encrypted and decrypted.
            let jweKey = JWK.generateP256(keyID: "bench")
            let jweKeys = JWKSet(keys: [jweKey])
            let jweRecipient = JWE.Recipient(key: jweKey.publicKey, algorithm: .ecdhESA256KW)
            try self.report("jwe-ecdh-es+a256kw-a256gcm", "jwe-roundtrip-1KiB", try self.rate(minimumBatch: 64) {
                let token = try JWE.encrypt(kibibyte, to: jweRecipient, content: .a256GCM)
                _ = try JWE.decrypt(token, keys: jweKeys, accepting: [.ecdhESA256KW], acceptingContent: [.a256GCM])
            }, "ops/s")
            // The reference point: swift-crypto's AES-GCM called directly (fresh key schedule per call).
            let raw = SymmetricKey(size: .bits256)
            try self.report("swift-crypto-aes-gcm", "field-roundtrip-32B", try self.rate {
                let box = try AES.GCM.seal(value, using: raw, authenticating: context)
                _ = try AES.GCM.open(box, using: raw, authenticating: context)
            }, "ops/s")
        }
    }

    /// A 16-digit numeral string that changes with `index`.
    static func cardNumerals(_ index: Int) -> [Int] {
        var out = [4, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        var rest = index
        var position = 15
        while rest > 0 && position > 5 {
            out[position] = rest % 10
            rest /= 10
            position -= 1
        }
        return out
    }

    private func passwordCases() throws {
        if !self.json { print(pad("ALGORITHM", 22) + pad("CASE", 24) + "VALUE") }
        let salt = [UInt8](repeating: 7, count: 16)
        let password = Array("correct horse battery staple".utf8)
        for (name, parameters) in [
            ("m19456-t2-p1", Argon2.Parameters.owasp),
            ("m65536-t3-p1", Argon2.Parameters(memoryKiB: 65536, iterations: 3, parallelism: 1)),
            ("m65536-t3-p4", Argon2.Parameters.high),
        ] {
            let perSecond = try self.rate(minimumBatch: 1) { _ = try Argon2.hash(password: password, salt: salt, parameters: parameters) }
            self.report("argon2id", name, 1000 / perSecond, "ms/hash")
        }
        let bcryptRate = try self.rate(minimumBatch: 1) { _ = try BCrypt.hash(password: password, cost: 12) }
        self.report("bcrypt", "cost-12", 1000 / bcryptRate, "ms/hash")
    }

    /// Typical application log lines, a few of them carrying secrets.
    static func sampleLogLines() -> [String] {
        [
            "2026-11-26T14:28:15.123Z info request_id=550e8400-e29b-41d4-a716-446655440000 GET /api/v1/orders/1234567 200 12ms",
            "2026-11-26T14:28:15.456Z warn payment declined card=4111 1111 1111 1111 user=jane@example.com amount=42.50",
            "2026-11-26T14:28:16.001Z info {\"event\":\"login\",\"user\":\"bob\",\"ip\":\"10.1.2.3\",\"ok\":true,\"ms\":87}",
            "2026-11-26T14:28:16.101Z debug cache hit key=session:8f14e45fceea167a5a36dedd4bea2543 ttl=300",
            "2026-11-26T14:28:16.250Z info POST /oauth/token?grant_type=refresh_token&refresh_token=rt_abc123def456 200",
            "2026-11-26T14:28:17.000Z error upstream timeout after 3000ms host=db-primary.internal port=5432 attempt=3",
        ]
    }

    /// The key-encryption key ``kek`` names, and what closes its client.
    private func keyEncryptionKey() throws -> (any KeyEncryptionKeyProvider, close: @Sendable () async -> Void) {
        let environment = ProcessInfo.processInfo.environment
        switch self.kek {
        case "local":
            return (try LocalKeyEncryptionKey(keyset: try Keyset.generate(name: "kek")), {})
        case "transit":
            let client = try TransitClient.fromEnvironment(environment)
            return (TransitKeyEncryptionKey(client: client, keyName: environment["BULWARK_KEK_NAME"] ?? "fields-kek"), { try? await client.shutdown() })
        case "awskms":
            guard let key = environment["BULWARK_AWSKMS_KEY_ID"], !key.isEmpty else {
                throw BulwarkError(.invalidArgument, "--kek awskms needs BULWARK_AWSKMS_KEY_ID")
            }
            let client = try AWSKMSClient.fromEnvironment(environment)
            return (try AWSKMSKeyEncryptionKey(client: client, keyID: key, context: ["table": "users"]), { try? await client.shutdown() })
        default:
            throw BulwarkError(.invalidArgument, "--kek takes local, transit or awskms")
        }
    }

    private func fieldCases() async throws {
        if !self.json { print(pad("ALGORITHM", 22) + pad("CASE", 24) + "VALUE") }
        let (kek, close) = try self.keyEncryptionKey()
        do {
            try await self.fieldCases(kek)
        } catch {
            await close()
            throw error
        }
        await close()
    }

    private func fieldCases(_ kek: any KeyEncryptionKeyProvider) async throws {
        let suffix = self.kek == "local" ? "" : "-\(self.kek)"
        let value = Data(repeating: 0x42, count: 32)
        for (name, policy) in [("cached", DataKeyCachePolicy.standard), ("uncached", DataKeyCachePolicy.none)] {
            let encryptor = FieldEncryptor(keyEncryptionKey: kek, policy: policy)
            let clock = ContinuousClock()
            var row = 0
            var count = 0
            let start = clock.now
            let limit = Duration.milliseconds(Int(self.seconds * 1000))
            while clock.now - start < limit {
                for _ in 0..<256 {
                    let context = FieldContext(table: "users", column: "ssn", rowKey: String(row))
                    _ = try await encryptor.decrypt(try await encryptor.encrypt(value, context: context), context: context)
                    row += 1
                }
                count += 256
            }
            self.report("envelope-aes256-gcm", "field-roundtrip-\(name)\(suffix)", Double(count) / self.seconds(clock.now - start), "ops/s")
        }
        let index = try BlindIndex(name: "ssn", key: try Keyset.generate(name: "idx", type: .hmacSHA256), bits: 16, normalization: .digitsOnly)
        try self.report("blind-index", "hmac-16bit", try self.rate { _ = try index.value(for: "078-05-1120") }, "ops/s")
        // Through the Codable API: a record with one 32-byte protected property.
        struct Row: Codable {
            var id: Int
            var secret: String
        }
        let codec = EncryptedRecordCodec(
            schema: try EncryptedRecordSchema(table: "users", properties: ["secret": .encrypted]),
            encryptor: FieldEncryptor(keyEncryptionKey: kek))
        let clock = ContinuousClock()
        var count = 0
        let start = clock.now
        let limit = Duration.milliseconds(Int(self.seconds * 1000))
        let secret = String(repeating: "s", count: 32)
        while clock.now - start < limit {
            for _ in 0..<256 {
                let columns = try await codec.encode(Row(id: count, secret: secret), rowKey: String(count))
                _ = try await codec.decode(Row.self, from: columns, rowKey: String(count))
                count += 1
            }
        }
        self.report("codable-record", "roundtrip-1-field\(suffix)", Double(count) / self.seconds(clock.now - start), "ops/s")
    }

    private func redactionCases() throws {
        if !self.json { print(pad("ALGORITHM", 22) + pad("CASE", 24) + "VALUE") }
        let redactor = Redactor()
        let lines = Self.sampleLogLines()
        var index = 0
        let perLine = try self.rate(minimumBatch: 1024) {
            _ = redactor.redact(lines[index % lines.count])
            index += 1
        }
        self.report("redactor", "typical-line", 1_000_000 / perLine, "us/line")
        var handler = RedactingLogHandler(wrapping: DiscardingLogHandler())
        handler.logLevel = .trace
        let logger = Logger(label: "bench") { _ in handler }
        let logged = try self.rate(minimumBatch: 1024) {
            logger.info("\(lines[index % lines.count])")
            index += 1
        }
        self.report("redacting-log-handler", "typical-line", 1_000_000 / logged, "us/line")
        var corpus = [UInt8]()
        while corpus.count < 64 << 20 {
            for line in lines { corpus += Array(line.utf8) + [0x0A] }
        }
        let clock = ContinuousClock()
        var out: [UInt8] = []
        out.reserveCapacity(corpus.count + (1 << 20))
        var state = Redactor.StreamState()
        let start = clock.now
        corpus.withUnsafeBufferPointer { redactor.redact($0, into: &out, state: &state) }
        let elapsed = self.seconds(clock.now - start)
        self.report("redactor", "stream", Double(corpus.count) / 1_000_000 / elapsed, "MB/s")
    }

    /// Whether `--only` (when given) picks this case.
    private func selected(_ algorithm: String, _ name: String) -> Bool {
        guard let only = self.only else { return true }
        return algorithm.contains(only) || name.contains(only)
    }

    /// Measures (only when ``selected(_:_:)``) and prints one case.
    private func report(_ algorithm: String, _ name: String, _ measure: @autoclosure () throws -> Double, _ unit: String) rethrows {
        guard self.selected(algorithm, name) else { return }
        let value = try measure()
        if self.json {
            print(jsonLine(["algorithm": algorithm, "case": name, "value": (value * 10).rounded() / 10, "unit": unit]))
        } else {
            print(pad(algorithm, 22) + pad(name, 24) + String(format: "%.1f %@", value, unit))
        }
    }

    private func rate(minimumBatch: Int = 1024, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        for _ in 0..<min(1000, minimumBatch) { try body() }
        var count = 0
        let start = clock.now
        let limit = Duration.milliseconds(Int(self.seconds * 1000))
        var elapsed = Duration.zero
        repeat {
            for _ in 0..<minimumBatch { try body() }
            count += minimumBatch
            elapsed = clock.now - start
        } while elapsed < limit
        return Double(count) / seconds(elapsed)
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func streamRates(_ key: Keyset) throws -> (Double, Double) {
        var encryptor = try key.makeStreamEncryptor(context: Data("bench".utf8))
        let header = try StreamHeader(parsing: encryptor.header)
        var decryptor = try key.makeStreamDecryptor(header: header, context: Data("bench".utf8))
        let plain = [UInt8](repeating: 0x5A, count: encryptor.plaintextSegmentSize)
        var sealed = [UInt8](repeating: 0, count: encryptor.segmentSize)
        var opened = [UInt8](repeating: 0, count: encryptor.plaintextSegmentSize)
        let segments = max(1, self.streamMiB << 20 / plain.count)
        let clock = ContinuousClock()
        var start = clock.now
        for index in 0..<segments {
            try plain.withUnsafeBytes { source in
                try sealed.withUnsafeMutableBytes { try encryptor.sealSegment(source, isFinal: index == segments - 1, into: $0) }
            }
        }
        let encryptSeconds = self.seconds(clock.now - start)
        // Decrypt the same segment repeatedly would fail (indices), so re-seal each index first.
        var prepared: [[UInt8]] = []
        var reseal = try key.makeStreamEncryptor(context: Data("bench".utf8))
        let resealHeader = try StreamHeader(parsing: reseal.header)
        decryptor = try key.makeStreamDecryptor(header: resealHeader, context: Data("bench".utf8))
        let decryptSegments = min(segments, 512)
        for index in 0..<decryptSegments {
            prepared.append(Array(try reseal.sealSegment(plain, isFinal: index == decryptSegments - 1)))
        }
        start = clock.now
        for (index, segment) in prepared.enumerated() {
            try segment.withUnsafeBytes { source in
                try opened.withUnsafeMutableBytes { try decryptor.openSegment(source, isFinal: index == decryptSegments - 1, into: $0) }
            }
        }
        let decryptSeconds = self.seconds(clock.now - start)
        let megabytes = Double(plain.count) / 1_000_000
        return (megabytes * Double(segments) / encryptSeconds, megabytes * Double(decryptSegments) / decryptSeconds)
    }
}

/// Accepts every event and drops it: measures the redacting handler's own cost.
struct DiscardingLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }
    func log(event: LogEvent) {}
}
