import Foundation
import Testing

@testable import Bulwark

/// Differential tests against the libraries people already use (installed by .ci/run):
/// argon2-cffi, pyca bcrypt, hashlib scrypt and PBKDF2, over randomised passwords and parameters.
@Suite("Password interop with Python peers")
struct PasswordInteropTests {
    static func python(_ request: [String: Any]) throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/passwords.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: request))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python: \(problems)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Random passwords: empty to 200 bytes, ASCII, multi-byte UTF-8 and NUL bytes.
    static func passwords(count: Int, allowNUL: Bool, maxBytes: Int, generator: inout some RandomNumberGenerator) -> [[UInt8]] {
        let pieces: [[UInt8]] = [Array("a".utf8), Array("Z".utf8), Array("7".utf8), Array(" ".utf8), Array("é".utf8),
                                 Array("密".utf8), Array("🔐".utf8), [0x00], [0xFF]]
        var out: [[UInt8]] = [[]]
        while out.count < count {
            let target = Int.random(in: 0...maxBytes, using: &generator)
            var password: [UInt8] = []
            while password.count < target {
                let piece = pieces.randomElement(using: &generator)!
                if !allowNUL && (piece == [0x00] || piece == [0xFF]) { continue }
                if password.count + piece.count > maxBytes { break }
                password += piece
            }
            out.append(password)
        }
        return out
    }

    /// A different password of at most the same length (bcrypt refuses more than 72 bytes) and
    /// without NUL bytes.
    static func wrong(_ password: [UInt8]) -> [UInt8] {
        guard password.count >= 72, let last = password.last else { return password + [0x21] }
        return Array(password.dropLast()) + [last == 0x21 ? 0x3F : 0x21]
    }

    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("Peers' hashes verify in Bulwark, and Bulwark's verify in the peers")
    func differential() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SeededGenerator(state: seed)
        var make: [[String: Any]] = []
        var ours: [(String, [UInt8])] = []
        for password in Self.passwords(count: 12, allowNUL: true, maxBytes: 200, generator: &generator) {
            let p = Int.random(in: 1...4, using: &generator)
            let m = Int.random(in: (8 * p)...512, using: &generator)
            let t = Int.random(in: 1...3, using: &generator)
            make.append(["alg": "argon2id", "password_hex": Data(password).hex, "m": m, "t": t, "p": p])
            make.append(["alg": "scrypt-passlib", "password_hex": Data(password).hex, "ln": Int.random(in: 4...10, using: &generator), "r": 8, "p": 1])
            make.append(["alg": "scrypt-django", "password_hex": Data(password).hex, "ln": Int.random(in: 4...10, using: &generator), "r": Int.random(in: 1...8, using: &generator), "p": 1])
            make.append(["alg": "pbkdf2-django", "password_hex": Data(password).hex, "iterations": Int.random(in: 1...5000, using: &generator)])
            let argon = try PasswordHasher(policy: PasswordPolicy(algorithm: .argon2id(Argon2.Parameters(
                memoryKiB: UInt32(m), iterations: UInt32(t), parallelism: UInt32(p)))))
            ours.append((try argon.hash(bytes: password), password))
            ours.append((try PasswordHasher(policy: PasswordPolicy(algorithm: .scrypt(logN: 8, blockSize: 8, parallelism: 1))).hash(bytes: password), password))
            ours.append((try PasswordHasher(policy: PasswordPolicy(algorithm: .pbkdf2SHA256(iterations: 210_000))).hash(bytes: password), password))
        }
        for password in Self.passwords(count: 10, allowNUL: false, maxBytes: 72, generator: &generator) {
            make.append(["alg": "bcrypt", "password_hex": Data(password).hex, "cost": 4])
            ours.append((try PasswordHasher(policy: PasswordPolicy(algorithm: .bcrypt(cost: 4))).hash(bytes: password), password))
        }
        ours.append((try PasswordHasher(policy: PasswordPolicy(algorithm: .pbkdf2SHA512(iterations: 210_000))).hash("sha512 ✓"), Array("sha512 ✓".utf8)))

        let theirs = try #require(try Self.python(["make": make])["hashes"] as? [String])
        #expect(theirs.count == make.count)
        let hasher = try PasswordHasher()
        for (hash, request) in zip(theirs, make) {
            let password = Array(Data(hex: request["password_hex"] as? String ?? ""))
            #expect(try hasher.verify(bytes: password, against: hash).isValid, "seed \(seed): \(hash)")
            #expect(try !hasher.verify(bytes: Self.wrong(password), against: hash).isValid, "seed \(seed): \(hash)")
        }
        var checks: [[String: Any]] = []
        for (hash, password) in ours {
            checks.append(["hash": hash, "password_hex": Data(password).hex])
            checks.append(["hash": hash, "password_hex": Data(Self.wrong(password)).hex])
        }
        let results = try #require(try Self.python(["check": checks])["results"] as? [Bool])
        #expect(results.count == checks.count)
        for (index, result) in results.enumerated() {
            #expect(result == (index % 2 == 0), "seed \(seed): \(checks[index]["hash"] ?? "")")
        }
    }
}
