@testable import BulwarkServer
import Crypto
import Foundation
import Testing

/// The key forms written by hand (`KeyPEM`): read back by swift-crypto's own parsers, and the
/// ML-DSA SubjectPublicKeyInfo with RFC 9881's layout (Python's `cryptography` loads it too, in
/// `Tests/Interop/transit_signatures.py`).
@Suite("Key PEM forms")
struct KeyPEMTests {
    @Test("EC PRIVATE KEY (RFC 5915) for P-256, P-384 and P-521 parses back to the same key")
    func ecPrivateKeys() throws {
        let p256 = P256.Signing.PrivateKey()
        let pem256 = KeyPEM.ecPrivateKey(scalar: p256.rawRepresentation, publicPoint: p256.publicKey.x963Representation, curve: KeyPEM.p256)
        #expect(pem256.hasPrefix("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI"))
        #expect(try P256.Signing.PrivateKey(pemRepresentation: pem256).rawRepresentation == p256.rawRepresentation)
        let p384 = P384.Signing.PrivateKey()
        let pem384 = KeyPEM.ecPrivateKey(scalar: p384.rawRepresentation, publicPoint: p384.publicKey.x963Representation, curve: KeyPEM.p384)
        #expect(try P384.Signing.PrivateKey(pemRepresentation: pem384).rawRepresentation == p384.rawRepresentation)
        let p521 = P521.Signing.PrivateKey()
        let pem521 = KeyPEM.ecPrivateKey(scalar: p521.rawRepresentation, publicPoint: p521.publicKey.x963Representation, curve: KeyPEM.p521)
        #expect(try P521.Signing.PrivateKey(pemRepresentation: pem521).rawRepresentation == p521.rawRepresentation)
        // The curve OIDs are RFC 5480's (swift-crypto does not check them; OpenSSL, in the interop test, does).
        func der(_ pem: String) -> [UInt8] { Array(Data(base64Encoded: pem.split(separator: "\n").dropFirst().dropLast().joined()) ?? Data()) }
        func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
            haystack.indices.contains { haystack[$0...].starts(with: needle) }
        }
        #expect(contains(der(pem384), [0xA0, 0x07, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]))
        #expect(contains(der(pem521), [0xA0, 0x07, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23]))
    }

    @Test("ML-DSA-65 SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ml-dsa-65 }, BIT STRING 0 ‖ key }")
    func mldsaPublicKey() throws {
        let key = try MLDSA65.PrivateKey()
        let pem = KeyPEM.publicKey(algorithm: KeyPEM.mlDSA65, key: key.publicKey.rawRepresentation)
        let body = pem.split(separator: "\n").dropFirst().dropLast().joined()
        let der = try #require(Data(base64Encoded: body))
        #expect(Array(der.prefix(22)) == [0x30, 0x82, 0x07, 0xB2, 0x30, 0x0B, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12,
                                         0x03, 0x82, 0x07, 0xA1, 0x00])
        #expect(der.dropFirst(22) == key.publicKey.rawRepresentation)
        #expect(KeyPEM.tlv(0x04, [UInt8](repeating: 0, count: 300)).prefix(4) == [0x04, 0x82, 0x01, 0x2C])
        #expect(KeyPEM.tlv(0x04, [UInt8](repeating: 0, count: 0x80)).prefix(3) == [0x04, 0x81, 0x80])
    }
}
