import Crypto
import Foundation
import Testing

@testable import Bulwark

/// ``Keyset/standardMAC(for:version:hash:)``: Vault's bare HMAC with every key type, each
/// version under its own HMAC key (checked against OpenBao in `Tests/Interop/transit_signatures.py`).
@Suite("Standard MACs (any key type)")
struct StandardMACTests {
    let message = Data("pay 100 to account 7".utf8)

    @Test("An HMAC key's version uses its own key; other types a key of their own per version, exported as hmac-key",
          arguments: [KeyType.hmacSHA256, .hmacSHA512, .aes256GCM, .chacha20Poly1305, .ed25519, .ecdsaP256, .hpkeX25519])
    func everyType(type: KeyType) throws {
        var key = try Keyset.generate(name: "k", type: type, exportable: true)
        let hmacKey = SymmetricKey(data: try key.exportHMACKey(version: 1, access: .token))
        if type.purpose == .mac {
            #expect(try key.exportHMACKey(version: 1, access: .token) == key.exportRawKeyMaterial(version: 1, access: .token))
        } else {
            #expect(try key.exportHMACKey(version: 1, access: .token) != key.exportRawKeyMaterial(version: 1, access: .token))
        }
        let defaultMAC = try key.standardMAC(for: self.message)
        let expected = type == .hmacSHA512
            ? Data(HMAC<SHA512>.authenticationCode(for: self.message, using: hmacKey))
            : Data(HMAC<SHA256>.authenticationCode(for: self.message, using: hmacKey))
        #expect(defaultMAC == expected)
        #expect(try key.standardMAC(for: self.message, hash: .sha3_384) == Data(HMAC<SHA3_384>.authenticationCode(for: self.message, using: hmacKey)))
        try key.verify(standardMAC: defaultMAC, for: self.message, version: 1)
        let wrong = #expect(throws: BulwarkError.self) { try key.verify(standardMAC: defaultMAC, for: self.message + [0], version: 1) }
        #expect(wrong?.code == .authenticationFailed)
        // Rotation: a new HMAC key; the old version's MACs still verify under v1 only.
        try key.rotate()
        #expect(try key.exportHMACKey(version: 2, access: .token) != key.exportHMACKey(version: 1, access: .token))
        #expect(try key.standardMAC(for: self.message) != defaultMAC)
        #expect(try key.standardMAC(for: self.message, version: 1) == defaultMAC)
        #expect(throws: BulwarkError.self) { try key.verify(standardMAC: defaultMAC, for: self.message, version: 2) }
        try key.setMinimumDecryptionVersion(2)
        #expect(throws: BulwarkError.self) { try key.standardMAC(for: self.message, version: 1) }
        #expect(throws: BulwarkError.self) { try key.verify(standardMAC: defaultMAC, for: self.message, version: 1) }
    }

    @Test("The derivation binds the key id (the same material under another id gives another HMAC key) and is HKDF-SHA256 as documented; a key not exportable refuses export")
    func separation() throws {
        let one = try Keyset.generate(name: "a", type: .aes256GCM, exportable: true)
        let twin = Keyset(
            name: "a", id: one.id ^ 1, type: .aes256GCM, createdAt: one.createdAt, isExportable: true, primaryVersion: 1,
            minimumDecryptionVersion: 1, rotationPeriod: nil, versions: one.versions)
        #expect(try one.exportRawKeyMaterial(version: 1, access: .token) == twin.exportRawKeyMaterial(version: 1, access: .token))
        #expect(try one.standardMAC(for: self.message) != twin.standardMAC(for: self.message))
        // Recomputed from the documented recipe: HKDF-SHA256(material, info = label ‖ key id ‖ version).
        var info = Array("bulwark hmac key v1".utf8)
        info += withUnsafeBytes(of: one.id.bigEndian, Array.init) + withUnsafeBytes(of: UInt32(1).bigEndian, Array.init)
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: try one.exportRawKeyMaterial(version: 1, access: .token)), info: info, outputByteCount: 32)
        #expect(try one.exportHMACKey(version: 1, access: .token) == derived.withUnsafeBytes { Data($0) })
        let closed = try Keyset.generate(name: "b", type: .aes256GCM)
        let refused = #expect(throws: BulwarkError.self) { try closed.exportHMACKey(version: 1, access: .token) }
        #expect(refused?.code == .notExportable)
    }
}
