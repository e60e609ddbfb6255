import Foundation
import Testing

@testable import Bulwark

@Suite("Argon2 and BLAKE2b")
struct Argon2Tests {
    struct RFCFile: Decodable {
        struct Vector: Decodable {
            let type: String
            let version: UInt32
            let m_cost_kib: UInt32
            let t_cost: UInt32
            let parallelism: UInt32
            let tag_len: Int
            let password_hex: String
            let salt_hex: String
            let secret_hex: String
            let ad_hex: String
            let tag_hex: String
        }
        let vectors: [Vector]
    }

    @Test("BLAKE2b: RFC 7693 Appendix A and lengths around the block size")
    func blake2b() throws {
        #expect(Data(BLAKE2b.hash(Array("abc".utf8), outputLength: 64)).hex
            == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
        // The empty message (BLAKE2b-512), a published value.
        #expect(Data(BLAKE2b.hash([], outputLength: 64)).hex
            == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce")
    }

    @Test("RFC 9106 §5 vectors (Argon2d, Argon2i, Argon2id)")
    func rfcVectors() throws {
        let file = try JSONDecoder().decode(RFCFile.self, from: try vectorData("rfc9106.json"))
        #expect(file.vectors.count == 3)
        for vector in file.vectors {
            let parameters = Argon2.Parameters(
                variant: try #require(Argon2.Variant(rawValue: vector.type)), memoryKiB: vector.m_cost_kib,
                iterations: vector.t_cost, parallelism: vector.parallelism, tagLength: vector.tag_len, version: vector.version)
            let tag = try Argon2.hash(
                password: Array(Data(hex: vector.password_hex)), salt: Array(Data(hex: vector.salt_hex)),
                secret: Array(Data(hex: vector.secret_hex)), associatedData: Array(Data(hex: vector.ad_hex)), parameters: parameters)
            #expect(Data(tag).hex == vector.tag_hex, "\(vector.type)")
        }
    }

    @Test("Parameters out of range are refused")
    func ranges() throws {
        let salt = [UInt8](repeating: 1, count: 16)
        for bad in [
            Argon2.Parameters(memoryKiB: 4, iterations: 1, parallelism: 1),
            Argon2.Parameters(memoryKiB: 64, iterations: 0, parallelism: 1),
            Argon2.Parameters(memoryKiB: 64, iterations: 1, parallelism: 0),
            Argon2.Parameters(memoryKiB: UInt32.max, iterations: 1, parallelism: 1),
            Argon2.Parameters(memoryKiB: 64, iterations: 1, parallelism: 1, tagLength: 2),
        ] {
            expectCode(.invalidArgument) { try Argon2.hash(password: [], salt: salt, parameters: bad) }
        }
        expectCode(.invalidArgument) { try Argon2.hash(password: [], salt: [1, 2, 3], parameters: .owasp) }
    }
}
