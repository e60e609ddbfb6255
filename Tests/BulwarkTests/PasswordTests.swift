import Foundation
import Testing

@testable import Bulwark

@Suite("Password hashing: formats, policy, pepper, vectors")
struct PasswordTests {
    struct KDFFile: Decodable {
        struct Scrypt: Decodable {
            let password_hex: String
            let salt_hex: String
            let N: Int
            let r: Int
            let p: Int
            let dkLen: Int
            let dk_hex: String
        }
        struct PBKDF2: Decodable {
            let password_hex: String
            let salt_hex: String
            let c: Int
            let dkLen: Int
            let dk_hex: String
        }
        let scrypt: [Scrypt]
        let pbkdf2_hmac_sha256: [PBKDF2]
    }

    struct PHCFile: Decodable {
        struct HashTest: Decodable {
            let type: String
            let version: UInt32
            let t_cost: UInt32
            let m_cost_kib: UInt32
            let parallelism: UInt32
            let password: String
            let salt: String
            let tag_hex: String
            let encoded: String
            let requires_large_ram: Bool
        }
        struct ErrorTest: Decodable {
            let encoded: String
            let password: String
            let expected_error: String
        }
        let hash_tests: [HashTest]
        let verify_error_tests: [ErrorTest]
    }

    @Test("scrypt and PBKDF2-HMAC-SHA256 vectors (RFC 7914 and others)")
    func kdfVectors() throws {
        let file = try JSONDecoder().decode(KDFFile.self, from: try vectorData("kdf.json"))
        var checked = 0
        for vector in file.scrypt where vector.N <= 1 << 14 {
            let key = try PasswordHash.scrypt(
                Array(Data(hex: vector.password_hex)), salt: Array(Data(hex: vector.salt_hex)),
                logN: vector.N.trailingZeroBitCount, r: vector.r, p: vector.p, length: vector.dkLen)
            #expect(Data(key).hex == vector.dk_hex)
            checked += 1
        }
        for vector in file.pbkdf2_hmac_sha256 where vector.c <= 100_000 {
            let key = try PasswordHash.pbkdf2(
                Array(Data(hex: vector.password_hex)), salt: Array(Data(hex: vector.salt_hex)), sha512: false,
                iterations: vector.c, length: vector.dkLen)
            #expect(Data(key).hex == vector.dk_hex)
            checked += 1
        }
        #expect(checked >= 8)
    }

    @Test("The reference implementation's test.c vectors (encoded strings, v=16 and v=19)")
    func phcVectors() throws {
        let file = try JSONDecoder().decode(PHCFile.self, from: try vectorData("phc_test_c_vectors.json"))
        let hasher = try PasswordHasher()
        // Debug builds run Argon2 slowly: the 64 MiB+ cases are exercised by the release benchmarks
        // and by the differential tests; here every case up to 1 MiB runs, plus one 64 MiB case.
        var checked = 0
        var bigOnes = 0
        for test in file.hash_tests where !test.requires_large_ram {
            if test.m_cost_kib > 1024 {
                guard bigOnes == 0, test.version == 19, test.type == "argon2id" else { continue }
                bigOnes += 1
            }
            let parameters = Argon2.Parameters(
                variant: try #require(Argon2.Variant(rawValue: test.type)), memoryKiB: test.m_cost_kib,
                iterations: test.t_cost, parallelism: test.parallelism, tagLength: 32, version: test.version)
            let tag = try Argon2.hash(password: Array(test.password.utf8), salt: Array(test.salt.utf8), parameters: parameters)
            #expect(Data(tag).hex == test.tag_hex, "\(test.encoded)")
            #expect(try hasher.verify(test.password, against: test.encoded).isValid, "\(test.encoded)")
            checked += 1
        }
        #expect(checked >= 7)
        for test in file.verify_error_tests {
            if test.expected_error == "ARGON2_VERIFY_MISMATCH" {
                #expect(try !hasher.verify(test.password, against: test.encoded).isValid)
            } else {
                #expect(throws: BulwarkError.self, "\(test.encoded)") { try hasher.verify(test.password, against: test.encoded) }
            }
        }
    }

    @Test("Every policy algorithm round-trips and flags weaker hashes for rehash")
    func policies() throws {
        let cheap = Argon2.Parameters(memoryKiB: 256, iterations: 1, parallelism: 1)
        let policies: [PasswordPolicy.Algorithm] = [
            .argon2id(cheap), .argon2id(Argon2.Parameters(memoryKiB: 256, iterations: 1, parallelism: 2)), .bcrypt(cost: 4),
            .scrypt(logN: 10, blockSize: 8, parallelism: 1), .pbkdf2SHA256(iterations: 210_000), .pbkdf2SHA512(iterations: 210_000),
        ]
        for algorithm in policies {
            let hasher = try PasswordHasher(policy: PasswordPolicy(algorithm: algorithm))
            let stored = try hasher.hash("correct horse ✓")
            let good = try hasher.verify("correct horse ✓", against: stored)
            #expect(good.isValid && !good.needsRehash, "\(stored)")
            #expect(try !hasher.verify("correct horse", against: stored).isValid)
            #expect(try hasher.hash("correct horse ✓") != stored)
        }
        let weak = try PasswordHasher(policy: PasswordPolicy(algorithm: .argon2id(cheap)))
        let strong = try PasswordHasher(policy: PasswordPolicy(algorithm: .argon2id(Argon2.Parameters(memoryKiB: 512, iterations: 2, parallelism: 1))))
        let old = try weak.hash("pw")
        let checked = try strong.verify("pw", against: old)
        #expect(checked.isValid && checked.needsRehash)
        let bcryptHash = try PasswordHasher(policy: PasswordPolicy(algorithm: .bcrypt(cost: 4))).hash("pw")
        #expect(try strong.verify("pw", against: bcryptHash).needsRehash)
        #expect(try PasswordHasher(policy: PasswordPolicy(algorithm: .bcrypt(cost: 5))).verify("pw", against: bcryptHash).needsRehash)
        expectCode(.invalidArgument) { try PasswordHasher(policy: PasswordPolicy(algorithm: .bcrypt(cost: 99))) }
        expectCode(.invalidArgument) { try PasswordHasher(policy: PasswordPolicy(algorithm: .pbkdf2SHA256(iterations: 1000))) }
    }

    @Test("Malformed, truncated and out-of-range strings throw; they never verify as false")
    func malformed() throws {
        let hasher = try PasswordHasher()
        for text in [
            "", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$",
            "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
            "$argon2id$v=19$m=4,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
            "$argon2id$v=18$m=19456,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
            "$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "$2b$12$short",
            "$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g", "scrypt$salt$1000$8$1$aGFzaA==",
            "pbkdf2_sha256$0$salt$aGFzaGhhc2hoYXNoaGFzaA==", "pbkdf2_sha256$600000$salt", "md5$abc$def",
            "$pepper$k=1$$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ",
        ] {
            #expect(throws: BulwarkError.self, "\(text)") { try hasher.verify("pw", against: text) }
        }
    }

    @Test("At most maximumConcurrentHashes hashes run at once")
    func concurrencyLimit() async throws {
        let cheap = PasswordPolicy(algorithm: .argon2id(Argon2.Parameters(memoryKiB: 512, iterations: 1, parallelism: 1)))
        let hasher = try PasswordHasher(policy: cheap, maximumConcurrentHashes: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<12 {
                group.addTask { _ = try hasher.hash("password \(index)") }
            }
            try await group.waitForAll()
        }
        #expect(hasher.gate.peak >= 1 && hasher.gate.peak <= 2)
        expectCode(.invalidArgument) { try PasswordHasher(maximumConcurrentHashes: 0) }
    }

    @Test("Peppers: applied before hashing, version recorded, rotation triggers rehash")
    func pepper() throws {
        var pepper = try Keyset.generate(name: "pepper", type: .hmacSHA256)
        let cheap = PasswordPolicy.Algorithm.argon2id(Argon2.Parameters(memoryKiB: 64, iterations: 1, parallelism: 1))
        let hasher = try PasswordHasher(policy: PasswordPolicy(algorithm: cheap, pepper: pepper))
        let stored = try hasher.hash("hunter2")
        #expect(stored.hasPrefix("$pepper$k=\(pepper.id),v=1$$argon2id$"))
        #expect(try hasher.verify("hunter2", against: stored) == PasswordVerification(isValid: true, needsRehash: false))
        #expect(try !hasher.verify("hunter3", against: stored).isValid)
        // Without the pepper the inner hash is useless.
        let inner = String(stored.split(separator: "$", maxSplits: 3, omittingEmptySubsequences: false)[3])
        #expect(try !PasswordHasher(policy: PasswordPolicy(algorithm: cheap)).verify("hunter2", against: inner).isValid)
        expectCode(.unknownKey) { try PasswordHasher(policy: PasswordPolicy(algorithm: cheap)).verify("hunter2", against: stored) }
        try pepper.rotate()
        let rotated = try PasswordHasher(policy: PasswordPolicy(algorithm: cheap, pepper: pepper))
        #expect(try rotated.verify("hunter2", against: stored) == PasswordVerification(isValid: true, needsRehash: true))
        #expect(try rotated.hash("hunter2").hasPrefix("$pepper$k=\(pepper.id),v=2$"))
        expectCode(.wrongPurpose) { try PasswordHasher(policy: PasswordPolicy(pepper: try Keyset.generate(name: "x"))) }
        // bcrypt takes the peppered (base64) input, so long passwords are fine there.
        let bcryptPeppered = try PasswordHasher(policy: PasswordPolicy(algorithm: .bcrypt(cost: 4), pepper: pepper))
        let long = String(repeating: "x", count: 200)
        #expect(try bcryptPeppered.verify(long, against: try bcryptPeppered.hash(long)).isValid)
    }
}
