import Crypto
import Foundation
import Testing

@testable import Bulwark

/// Derived and convergent keys (Vault's `derived`, `convergent_encryption`): each context's key
/// is HKDF-SHA256 of the version's, recomputed here independently of the implementation; the
/// same checks against Python's `cryptography` and OpenBao are in `Tests/Interop/transit_derived.py`.
@Suite("Derived keys: a key per context (HKDF-SHA256, as Vault), convergent encryption, Vault's layout")
struct DerivedKeyTests {
    static let types: [KeyType] = [.aes256GCM, .aes128GCM, .chacha20Poly1305]

    /// The version's base key, through the export path (the key is made exportable).
    static func base(_ key: Keyset, version: UInt32 = 1) throws -> SymmetricKey {
        SymmetricKey(data: try key.exportRawKeyMaterial(version: version, access: .token))
    }

    @Test("Round trip per type; the key is HKDF-SHA256(version key, no salt, info = context); another context, associated data or version refuses", arguments: types)
    func roundTrip(type: KeyType) throws {
        let key = try Keyset.generate(name: "tenants", type: type, exportable: true, derived: true)
        let (sealed, version) = try key.encrypt(Data("078-05-1120".utf8), context: Data("row 7".utf8), derivingFrom: Data("tenant-1".utf8))
        #expect(version == 1 && sealed.count == 12 + 11 + 16)
        #expect(try key.decrypt(sealed, context: Data("row 7".utf8), derivingFrom: Data("tenant-1".utf8), version: 1) == Data("078-05-1120".utf8))
        #expect(throws: BulwarkError(.authenticationFailed, "")) {
            _ = try key.decrypt(sealed, context: Data("row 7".utf8), derivingFrom: Data("tenant-2".utf8), version: 1)
        }
        #expect(throws: BulwarkError(.authenticationFailed, "")) {
            _ = try key.decrypt(sealed, context: Data("row 8".utf8), derivingFrom: Data("tenant-1".utf8), version: 1)
        }
        // Recomputed from the base key: the layout is nonce ‖ ciphertext ‖ tag under the derived key.
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: try Self.base(key), info: Data("tenant-1".utf8), outputByteCount: type == .aes128GCM ? 16 : 32)
        let opened: Data
        if type == .chacha20Poly1305 {
            opened = try ChaChaPoly.open(try ChaChaPoly.SealedBox(combined: sealed), using: derived, authenticating: Data("row 7".utf8))
        } else {
            opened = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed), using: derived, authenticating: Data("row 7".utf8))
        }
        #expect(opened == Data("078-05-1120".utf8))
        // Random nonces: two encryptions differ.
        #expect(try key.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8)).sealed
            != key.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8)).sealed)
        // Rotation: v2 has its own derived keys; v1's ciphertext still opens under v1 only.
        var rotated = key
        try rotated.rotate()
        let (second, secondVersion) = try rotated.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8))
        #expect(secondVersion == 2)
        #expect(try rotated.decrypt(sealed, context: Data("row 7".utf8), derivingFrom: Data("tenant-1".utf8), version: 1) == Data("078-05-1120".utf8))
        #expect(throws: BulwarkError(.authenticationFailed, "")) { _ = try rotated.decrypt(second, context: Data(), derivingFrom: Data("t".utf8), version: 1) }
    }

    @Test("Convergent: the nonce is HMAC-SHA256(next 32 derived bytes, plaintext)[0..<12]; equal plaintexts under one context encrypt alike, not under another", arguments: types)
    func convergent(type: KeyType) throws {
        let key = try Keyset.generate(name: "emails", type: type, exportable: true, derived: true, convergent: true)
        let email = Data("ada@example.com".utf8)
        let one = try key.encrypt(email, context: Data(), derivingFrom: Data("users".utf8)).sealed
        let two = try key.encrypt(email, context: Data(), derivingFrom: Data("users".utf8)).sealed
        let other = try key.encrypt(email, context: Data(), derivingFrom: Data("admins".utf8)).sealed
        let otherPlaintext = try key.encrypt(Data("bob@example.com".utf8), context: Data(), derivingFrom: Data("users".utf8)).sealed
        #expect(one == two && one != other && one.prefix(12) != otherPlaintext.prefix(12))
        let size = type == .aes128GCM ? 16 : 32
        let both = HKDF<SHA256>.deriveKey(inputKeyMaterial: try Self.base(key), info: Data("users".utf8), outputByteCount: size + 32)
        let (encryption, nonceKey) = both.withUnsafeBytes { bytes in
            (SymmetricKey(data: Data(bytes.prefix(size))), SymmetricKey(data: Data(bytes.suffix(32))))
        }
        let nonce = Data(HMAC<SHA256>.authenticationCode(for: email, using: nonceKey)).prefix(12)
        let expected: Data
        if type == .chacha20Poly1305 {
            expected = try ChaChaPoly.seal(email, using: encryption, nonce: try ChaChaPoly.Nonce(data: nonce)).combined
        } else {
            expected = try #require(try AES.GCM.seal(email, using: encryption, nonce: try AES.GCM.Nonce(data: nonce)).combined)
        }
        #expect(one == expected)
        #expect(try key.decrypt(one, context: Data(), derivingFrom: Data("users".utf8), version: 1) == email)

        // With associated data, it is in the nonce too (under a key of its own): one plaintext
        // under two row ids takes two nonces (OpenBao's would repeat one, with two tags).
        let row9 = try key.encrypt(email, context: Data("row 9".utf8), derivingFrom: Data("users".utf8)).sealed
        let row10 = try key.encrypt(email, context: Data("row 10".utf8), derivingFrom: Data("users".utf8)).sealed
        #expect(row9.prefix(12) != row10.prefix(12) && row9.prefix(12) != one.prefix(12))
        #expect(row9 == (try key.encrypt(email, context: Data("row 9".utf8), derivingFrom: Data("users".utf8)).sealed))
        let boundKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("bulwark convergent nonce with associated data v1".utf8), using: nonceKey))
        let boundNonce = Data(HMAC<SHA256>.authenticationCode(for: Data([0, 0, 0, 0, 0, 0, 0, 5]) + Data("row 9".utf8) + email, using: boundKey)).prefix(12)
        #expect(row9.prefix(12) == boundNonce)
        // A plaintext spelled as another call's length ‖ AD ‖ plaintext does not reach its nonce.
        let spoof = Data([0, 0, 0, 0, 0, 0, 0, 5]) + Data("row 9".utf8) + email
        #expect(try key.encrypt(spoof, context: Data(), derivingFrom: Data("users".utf8)).sealed.prefix(12) != row9.prefix(12))
    }

    @Test("No context makes a derived key's encryption key equal its HMAC key (whose derivation is salted); a derived key cannot wrap data keys")
    func hmacKeyIsOutOfReach() throws {
        let key = try Keyset.generate(name: "tenants", exportable: true, derived: true)
        let hmacKey = try key.exportHMACKey(version: 1, access: .token)
        var label = Array("bulwark hmac key v1".utf8)
        label.appendBigEndian(key.id)
        label.appendBigEndian(UInt32(1))
        let asContext = HKDF<SHA256>.deriveKey(inputKeyMaterial: try Self.base(key), info: label, outputByteCount: 32)
        #expect(asContext.withUnsafeBytes { Data($0) } != hmacKey)
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try LocalKeyEncryptionKey(keyset: key) }
        // A key that is not derived keeps its HMAC key as before (unsalted).
        let plain = try Keyset.generate(name: "plain", exportable: true)
        var plainLabel = Array("bulwark hmac key v1".utf8)
        plainLabel.appendBigEndian(plain.id)
        plainLabel.appendBigEndian(UInt32(1))
        let unsalted = HKDF<SHA256>.deriveKey(inputKeyMaterial: try Self.base(plain), info: plainLabel, outputByteCount: 32)
        #expect(try plain.exportHMACKey(version: 1, access: .token) == unsalted.withUnsafeBytes { Data($0) })
    }

    @Test("Refused: a derived key on the paths that would use its base key; no or an empty context; derivation of other types; convergent without derived; a key that is not derived asked to derive")
    func refusals() throws {
        let key = try Keyset.generate(name: "tenants", derived: true)
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try key.encrypt(Data("x".utf8), context: Data()) }
        let plain = try Keyset.generate(name: "plain")
        let envelope = try plain.encrypt(Data("x".utf8), context: Data())
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try key.decrypt(envelope, context: Data()) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try key.makeStreamEncryptor(context: Data()) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try key.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data()) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try plain.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8)) }
        #expect(throws: BulwarkError(.invalidFormat, "")) { _ = try key.decrypt(Data(count: 20), context: Data(), derivingFrom: Data("t".utf8), version: 1) }
        #expect(throws: BulwarkError(.unknownKeyVersion, "")) { _ = try key.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8), version: 2) }
        for type in [KeyType.aes256SIV, .hmacSHA256, .ed25519, .ecdsaP256, .hpkeX25519, .rsa2048] {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(type)") { _ = try Keyset.generate(name: "k", type: type, derived: true) }
        }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try Keyset.generate(name: "k", convergent: true) }
    }

    @Test("The flags survive the sealed keystore (and records written before them read as not derived); so does soft-delete")
    func flagsPersist() throws {
        let key = try Keyset.generate(name: "tenants", type: .chacha20Poly1305, derived: true, convergent: true)
        let record = KeysetRecord(key)
        let json = try JSONEncoder().encode(record)
        let back = try JSONDecoder().decode(KeysetRecord.self, from: json).keyset()
        #expect(back.isDerived && back.isConvergent && !back.isSoftDeleted)
        // The soft-delete flag (the key service's) is kept the same way, and cleared.
        var soft = key
        soft.setSoftDeleted(true)
        let softBack = try JSONDecoder().decode(KeysetRecord.self, from: try JSONEncoder().encode(KeysetRecord(soft))).keyset()
        #expect(softBack.isSoftDeleted)
        soft.setSoftDeleted(false)
        #expect(try !JSONDecoder().decode(KeysetRecord.self, from: try JSONEncoder().encode(KeysetRecord(soft))).keyset().isSoftDeleted)
        let sealed = try key.encrypt(Data("x".utf8), context: Data(), derivingFrom: Data("t".utf8)).sealed
        #expect(try back.decrypt(sealed, context: Data(), derivingFrom: Data("t".utf8), version: 1) == Data("x".utf8))
        var old = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
        old["derived"] = nil
        old["convergent"] = nil
        let legacy = try JSONDecoder().decode(KeysetRecord.self, from: try JSONSerialization.data(withJSONObject: old)).keyset()
        #expect(!legacy.isDerived && !legacy.isConvergent)
        // A record claiming derivation for a type that cannot have it is refused, not served.
        var forged = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(KeysetRecord(try Keyset.generate(name: "s", type: .ed25519)))) as? [String: Any] ?? [:]
        forged["derived"] = true
        #expect(throws: BulwarkError(.keystoreCorrupted, "")) {
            _ = try JSONDecoder().decode(KeysetRecord.self, from: try JSONSerialization.data(withJSONObject: forged)).keyset()
        }
    }
}
