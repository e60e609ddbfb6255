import Crypto
import Foundation
import Testing

@testable import Bulwark

/// HMAC keys of Vault's other sizes (`key_size`, 32 to 512 bytes); the same against OpenBao and
/// Python in `Tests/Interop/transit_signatures.py`.
@Suite("HMAC key sizes: 32 to 512 bytes, kept by every version, RFC 4231's long-key vectors")
struct HMACKeySizeTests {
    @Test("RFC 4231 test cases 6 and 7 (a 131-byte key, hashed first) through a stored hmac key of that size")
    func rfc4231LongKey() throws {
        // Source: RFC 4231 §4.7 and §4.8 (HMAC-SHA-256 and HMAC-SHA-512 with a 131-byte key of 0xaa).
        let cases: [(KeyType, String, String)] = [
            (.hmacSHA256, "Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (.hmacSHA256,
             "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
            (.hmacSHA512, "Test Using Larger Than Block-Size Key - Hash Key First",
             "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
        ]
        for (type, message, expected) in cases {
            let record: [String: Any] = [
                "name": "long", "id": 7, "type": type.rawValue, "createdAt": 0.0, "exportable": false, "primaryVersion": 1,
                "minimumDecryptionVersion": 1, "keySize": 131,
                "versions": [["version": 1, "status": "enabled", "createdAt": 0.0, "material": Data(repeating: 0xAA, count: 131).base64EncodedString()]],
            ]
            let key = try JSONDecoder().decode(KeysetRecord.self, from: try JSONSerialization.data(withJSONObject: record)).keyset()
            #expect(key.keySize == 131)
            #expect(try key.standardMAC(for: Data(message.utf8)) == Data(hex: expected), "\(type) \(message.prefix(20))")
        }
    }

    @Test("Every version keeps the size; sizes outside 32...512 and sizes for other types are refused; records keep it")
    func sizes() throws {
        var key = try Keyset.generate(name: "mac", type: .hmacSHA256, exportable: true, keySize: 100)
        try key.rotate()
        #expect(try key.exportHMACKey(version: 1, access: .token).count == 100)
        #expect(try key.exportHMACKey(version: 2, access: .token).count == 100)
        let back = try JSONDecoder().decode(KeysetRecord.self, from: try JSONEncoder().encode(KeysetRecord(key))).keyset()
        #expect(back.keySize == 100)
        // Material made for another size (or for the type's default) does not go into this key.
        #expect(throws: BulwarkError(.invalidArgument, "")) { try key.rotate(using: try PreparedKeyMaterial(for: .hmacSHA256)) }
        try key.rotate(using: try PreparedKeyMaterial(for: key))
        #expect(try key.exportHMACKey(version: 3, access: .token).count == 100)
        // The type's own size is no size at all.
        #expect(try Keyset.generate(name: "mac", type: .hmacSHA256, keySize: 32).keySize == nil)
        for size in [0, 16, 31, 513, 4096] {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(size)") { _ = try Keyset.generate(name: "mac", type: .hmacSHA256, keySize: size) }
        }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try Keyset.generate(name: "aes", type: .aes256GCM, keySize: 64) }
    }

    @Test("A stored record whose versions are not of its key size (or of its type's) is refused")
    func recordsKeepTheirSize() throws {
        func record(_ type: KeyType, keySize: Int?, material: Int) throws -> Keyset {
            var object: [String: Any] = [
                "name": "mac", "id": 9, "type": type.rawValue, "createdAt": 0.0, "exportable": false, "primaryVersion": 1,
                "minimumDecryptionVersion": 1,
                "versions": [["version": 1, "status": "enabled", "createdAt": 0.0, "material": Data(repeating: 1, count: material).base64EncodedString()]],
            ]
            if let keySize { object["keySize"] = keySize }
            return try JSONDecoder().decode(KeysetRecord.self, from: try JSONSerialization.data(withJSONObject: object)).keyset()
        }
        #expect(try record(.hmacSHA256, keySize: 100, material: 100).keySize == 100)
        #expect(try record(.hmacSHA256, keySize: nil, material: 32).keySize == nil)
        #expect(try record(.hmacSHA256, keySize: 32, material: 32).keySize == nil)
        #expect(throws: BulwarkError.self) { _ = try record(.hmacSHA256, keySize: 100, material: 48) }
        #expect(throws: BulwarkError.self) { _ = try record(.hmacSHA256, keySize: nil, material: 512) }
        #expect(throws: BulwarkError.self) { _ = try record(.hmacSHA512, keySize: nil, material: 32) }
        #expect(throws: BulwarkError.self) { _ = try record(.aes256GCM, keySize: 64, material: 32) }
    }
}
