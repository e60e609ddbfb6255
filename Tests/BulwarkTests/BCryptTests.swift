import Foundation
import Testing

@testable import Bulwark

@Suite("bcrypt")
struct BCryptTests {
    struct File: Decodable {
        struct Vector: Decodable {
            let password_hex: String
            let password_len: Int
            let hash: String
            let note: String?
        }
        struct Invalid: Decodable {
            let hash: String?
            let setting: String?
        }
        struct Wrong: Decodable {
            let password: String
            let hash: String
        }
        let vectors: [Vector]
        let invalid_hashes: [Invalid]
        let wrong_password: [Wrong]
    }

    static func load() throws -> File {
        try JSONDecoder().decode(File.self, from: try vectorData("bcrypt.json"))
    }

    @Test("Published vectors ($2a$, $2b$, $2y$; $2x$ refused)")
    func vectors() throws {
        let file = try Self.load()
        var checked = 0
        for vector in file.vectors {
            let password = Array(Data(hex: vector.password_hex))
            if vector.hash.hasPrefix("$2x$") {
                expectCode(.invalidFormat) { try BCrypt.verify(password: password, against: vector.hash) }
                continue
            }
            if vector.note?.contains("countermeasure") == true {
                // crypt_blowfish alone alters $2a$ hashes of some 8-bit passwords; Bulwark follows
                // OpenBSD, pyca/bcrypt and Go, which give the $2b$ value instead.
                #expect(try !BCrypt.verifyTruncating(password: password, against: vector.hash))
                continue
            }
            // Published semantics: the first 72 bytes count.
            #expect(try BCrypt.verifyTruncating(password: password, against: vector.hash), "\(vector.hash)")
            if vector.password_len <= 72 && !password.contains(0) {
                #expect(try BCrypt.verify(password: password, against: vector.hash), "\(vector.hash)")
                // Rehashing with the same salt and cost reproduces the digest (as $2b$).
                let parsed = try BCrypt.parse(vector.hash)
                let again = try BCrypt.hash(password: password, cost: parsed.cost, mode: .refuse, salt: parsed.salt)
                #expect(again.dropFirst(4) == vector.hash.dropFirst(4))
            } else if vector.password_len > 72 {
                // Bulwark refuses to truncate silently.
                expectCode(.invalidArgument) { try BCrypt.verify(password: password, against: vector.hash) }
            }
            checked += 1
        }
        #expect(checked == 63)
        for wrong in file.wrong_password {
            #expect(try BCrypt.verify(password: Array(wrong.password.utf8), against: wrong.hash) == false)
        }
    }

    @Test("Malformed hashes give clear errors, never false")
    func invalid() throws {
        let file = try Self.load()
        for invalid in file.invalid_hashes {
            let text = invalid.hash ?? invalid.setting ?? ""
            expectCode(.invalidFormat) { try BCrypt.verify(password: Array("x".utf8), against: text) }
        }
        expectCode(.invalidFormat) { try BCrypt.verify(password: [], against: "$2b$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW") }
    }

    @Test("Long passwords are refused by default and work with the prehash mode")
    func longPasswords() throws {
        let long = Array(String(repeating: "p", count: 100).utf8)
        expectCode(.invalidArgument) { try BCrypt.hash(password: long, cost: 4) }
        expectCode(.invalidArgument) { try BCrypt.hash(password: [0x61, 0, 0x62], cost: 4) }
        let hashed = try BCrypt.hash(password: long, cost: 4, mode: .prehash)
        #expect(hashed.hasPrefix("$bcrypt-sha256$v=2,t=2b,r=04$"))
        #expect(try BCrypt.verify(password: long, against: hashed))
        // The 101st byte matters: nothing is truncated.
        #expect(try !BCrypt.verify(password: long + [0x71], against: hashed))
        #expect(try !BCrypt.verify(password: Array(long.prefix(72)), against: hashed))
    }
}
