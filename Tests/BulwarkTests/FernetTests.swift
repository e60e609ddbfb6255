import Foundation
import Testing

@testable import Bulwark

@Suite("Fernet")
struct FernetTests {
    struct Vector: Decodable {
        let token: String
        let now: String
        let ttl_sec: Int?
        let src: String?
        let secret: String
        let iv: [UInt8]?
        let desc: String?
    }

    static func load(_ name: String) throws -> [Vector] {
        try JSONDecoder().decode([Vector].self, from: try vectorData(name))
    }

    static func date(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    @Test("Spec generate vectors")
    func generate() throws {
        for vector in try Self.load("generate.json") {
            let key = try Fernet.Key(base64: vector.secret)
            let token = try Fernet.encrypt(Data(try #require(vector.src).utf8), using: key, now: try Self.date(vector.now), iv: try #require(vector.iv))
            #expect(token == vector.token)
        }
    }

    @Test("Spec verify vectors")
    func verify() throws {
        for vector in try Self.load("verify.json") {
            let key = try Fernet.Key(base64: vector.secret)
            let plaintext = try Fernet.decrypt(vector.token, using: key, ttl: vector.ttl_sec.map(TimeInterval.init), now: try Self.date(vector.now))
            #expect(String(decoding: plaintext, as: UTF8.self) == vector.src)
        }
    }

    @Test("Spec invalid vectors are all refused")
    func invalid() throws {
        let vectors = try Self.load("invalid.json")
        #expect(vectors.count == 8)
        for vector in vectors {
            let key = try Fernet.Key(base64: vector.secret)
            #expect(throws: BulwarkError.self, "\(vector.desc ?? "")") {
                try Fernet.decrypt(vector.token, using: key, ttl: vector.ttl_sec.map(TimeInterval.init), now: try Self.date(vector.now))
            }
        }
    }

    @Test("MultiFernet: decrypt with any key, rotate to the first keeping the timestamp")
    func multi() throws {
        let old = Fernet.Key.generate()
        let new = Fernet.Key.generate()
        let stamp = Date(timeIntervalSince1970: 1_700_000_000)
        let token = try Fernet.encrypt(Data("hello".utf8), using: old, now: stamp)
        let keys = try Fernet.MultiKey([new, old])
        #expect(try keys.decrypt(token, now: stamp) == Data("hello".utf8))
        let rotated = try keys.rotate(token, now: stamp.addingTimeInterval(10))
        #expect(try Fernet.decrypt(rotated, using: new, now: stamp) == Data("hello".utf8))
        expectCode(.authenticationFailed) { try Fernet.decrypt(rotated, using: old, now: stamp) }
        expectCode(.tokenExpired) { try Fernet.decrypt(rotated, using: new, ttl: 60, now: stamp.addingTimeInterval(61)) }
        #expect(String(describing: new) == "Fernet.Key(redacted)")
    }

    /// Runs Python with `cryptography` (installed by .ci/run) and returns standard output.
    static func python(_ script: String, environment: [String: String]) throws -> String {
        let data = try runTool("python3", ["-c", script], environment: environment)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Interoperates both ways with Python cryptography (Fernet and MultiFernet)")
    func pythonInterop() throws {
        let k1 = Fernet.Key.generate()
        let k2 = Fernet.Key.generate()
        let env = [
            "K1": k1.base64EncodedString(access: .token), "K2": k2.base64EncodedString(access: .token),
        ]
        // Swift → Python.
        let swiftToken = try Fernet.encrypt(Data("from swift ✓".utf8), using: k1)
        let decoded = try Self.python(
            "import os; from cryptography.fernet import Fernet; print(Fernet(os.environ['K1']).decrypt(os.environ['T'].encode(), ttl=600).decode())",
            environment: env.merging(["T": swiftToken]) { $1 })
        #expect(decoded == "from swift ✓")
        // Python → Swift.
        let pythonToken = try Self.python(
            "import os; from cryptography.fernet import Fernet; print(Fernet(os.environ['K1']).encrypt('from python ✓'.encode()).decode())",
            environment: env)
        #expect(try Fernet.decrypt(pythonToken, using: k1, ttl: 600) == Data("from python ✓".utf8))
        // Python's MultiFernet rotates a Swift token; Swift reads it with the new key only.
        let rotatedByPython = try Self.python(
            "import os; from cryptography.fernet import Fernet, MultiFernet; m = MultiFernet([Fernet(os.environ['K2']), Fernet(os.environ['K1'])]); print(m.rotate(os.environ['T'].encode()).decode())",
            environment: env.merging(["T": swiftToken]) { $1 })
        #expect(try Fernet.decrypt(rotatedByPython, using: k2) == Data("from swift ✓".utf8))
        // Swift's MultiKey rotates a Python token; Python reads it with the new key only.
        let rotatedBySwift = try Fernet.MultiKey([k2, k1]).rotate(pythonToken)
        let back = try Self.python(
            "import os; from cryptography.fernet import Fernet; print(Fernet(os.environ['K2']).decrypt(os.environ['T'].encode()).decode())",
            environment: env.merging(["T": rotatedBySwift]) { $1 })
        #expect(back == "from python ✓")
    }
}
