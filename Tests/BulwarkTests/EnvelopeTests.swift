import Foundation
import Testing

@testable import Bulwark

@Suite("Field envelopes")
struct EnvelopeTests {
    let context = Data("users.ssn.row=42".utf8)
    let value = Data("078-05-1120".utf8)

    @Test("Round trip for each encryption type", arguments: [KeyType.aes256GCM, .chacha20Poly1305])
    func roundTrip(type: KeyType) throws {
        let key = try Keyset.generate(name: "pii", type: type)
        let sealed = try key.encrypt(self.value, context: self.context)
        #expect(sealed.count == self.value.count + 40)
        #expect(try key.decrypt(sealed, context: self.context) == self.value)
        // Fresh nonce each time.
        #expect(try key.encrypt(self.value, context: self.context) != sealed)
        let header = try EnvelopeHeader(peeking: sealed)
        #expect(header.keyID == key.id && header.keyVersion == 1 && header.algorithmID == type.wireID)
        #expect(try key.decrypt(key.encrypt(Data(), context: Data()), context: Data()) == Data())
    }

    @Test("Every single-bit flip is rejected", arguments: [KeyType.aes256GCM, .chacha20Poly1305, .aes256SIV])
    func bitFlipsRejected(type: KeyType) throws {
        let key = try Keyset.generate(name: "pii", type: type)
        let sealed = type == .aes256SIV
            ? try key.encryptDeterministically(self.value, context: self.context)
            : try key.encrypt(self.value, context: self.context)
        for flipped in bitFlips(sealed) {
            #expect(throws: BulwarkError.self) {
                type == .aes256SIV
                    ? try key.decryptDeterministically(flipped, context: self.context)
                    : try key.decrypt(flipped, context: self.context)
            }
        }
    }

    @Test("Wrong context, wrong key, disabled, destroyed and retired versions give their own errors")
    func distinctErrors() throws {
        var key = try Keyset.generate(name: "pii")
        let other = try Keyset.generate(name: "other")
        let v1 = try key.encrypt(self.value, context: self.context)
        expectCode(.wrongContext) { try key.decrypt(v1, context: Data("users.ssn.row=43".utf8)) }
        expectCode(.unknownKey) { try other.decrypt(v1, context: self.context) }
        var tampered = v1
        tampered[tampered.count - 1] ^= 1
        expectCode(.authenticationFailed) { try key.decrypt(tampered, context: self.context) }
        expectCode(.invalidFormat) { try key.decrypt(v1.prefix(20), context: self.context) }
        try key.rotate()
        #expect(try key.decrypt(v1, context: self.context) == self.value)
        let v2 = try key.encrypt(self.value, context: self.context)
        #expect(try EnvelopeHeader(peeking: v2).keyVersion == 2)
        try key.disable(version: 1)
        expectCode(.keyVersionDisabled) { try key.decrypt(v1, context: self.context) }
        try key.enable(version: 1)
        #expect(try key.decrypt(v1, context: self.context) == self.value)
        try key.setMinimumDecryptionVersion(2)
        expectCode(.keyVersionBelowMinimum) { try key.decrypt(v1, context: self.context) }
        try key.setMinimumDecryptionVersion(1)
        try key.destroy(version: 1)
        expectCode(.keyVersionDestroyed) { try key.decrypt(v1, context: self.context) }
        expectCode(.keyVersionDestroyed) { try key.enable(version: 1) }
        #expect(try key.decrypt(v2, context: self.context) == self.value)
        var unknown = v2
        unknown[9] = 9
        expectCode(.unknownKeyVersion) { try key.decrypt(unknown, context: self.context) }
    }

    @Test("Purposes are enforced")
    func purposes() throws {
        let aead = try Keyset.generate(name: "a")
        let siv = try Keyset.generate(name: "d", type: .aes256SIV)
        let mac = try Keyset.generate(name: "m", type: .hmacSHA256)
        let signer = try Keyset.generate(name: "s", type: .ed25519)
        expectCode(.wrongPurpose) { try siv.encrypt(self.value, context: self.context) }
        expectCode(.wrongPurpose) { try aead.encryptDeterministically(self.value, context: self.context) }
        expectCode(.wrongPurpose) { try mac.encrypt(self.value, context: self.context) }
        expectCode(.wrongPurpose) { try aead.authenticate(self.value) }
        expectCode(.wrongPurpose) { try aead.sign(self.value) }
        expectCode(.wrongPurpose) { try signer.authenticate(self.value) }
        expectCode(.wrongPurpose) { try mac.makeStreamEncryptor(context: Data()) }
    }

    @Test("Deterministic encryption is deterministic per context and version")
    func deterministic() throws {
        var key = try Keyset.generate(name: "email", type: .aes256SIV)
        let a = try key.encryptDeterministically(self.value, context: self.context)
        #expect(a == (try key.encryptDeterministically(self.value, context: self.context)))
        #expect(a != (try key.encryptDeterministically(self.value, context: Data("x".utf8))))
        #expect(a.count == self.value.count + 28)
        #expect(try key.decryptDeterministically(a, context: self.context) == self.value)
        expectCode(.wrongContext) { try key.decryptDeterministically(a, context: Data("x".utf8)) }
        try key.rotate()
        #expect(try key.decryptDeterministically(a, context: self.context) == self.value)
        #expect(a != (try key.encryptDeterministically(self.value, context: self.context)))
    }

    @Test("Text form round-trips and refuses look-alikes")
    func textForm() throws {
        let key = try Keyset.generate(name: "pii")
        let sealed = try key.encrypt(self.value, context: self.context)
        let text = EnvelopeText.encode(sealed)
        #expect(text.hasPrefix("bw1:"))
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
        #expect(try EnvelopeText.decode(text) == sealed)
        expectCode(.invalidFormat) { try EnvelopeText.decode(String(text.dropFirst(4))) }
        expectCode(.invalidFormat) { try EnvelopeText.decode("bw1:***") }
        expectCode(.invalidFormat) { try EnvelopeText.decode("bw2:" + text.dropFirst(4)) }
    }

    @Test("MACs and signatures verify across rotation and reject tampering", arguments: [KeyType.hmacSHA256, .hmacSHA512, .ed25519, .ecdsaP256])
    func macAndSign(type: KeyType) throws {
        var key = try Keyset.generate(name: "t", type: type)
        let message = Data("transfer 100 to alice".utf8)
        let make = { (k: Keyset) in type.purpose == .mac ? try k.authenticate(message) : try k.sign(message) }
        let check = { (k: Keyset, tag: Data, m: Data) in
            type.purpose == .mac ? try k.verify(mac: tag, for: m) : try k.verify(signature: tag, for: m)
        }
        let tag1 = try make(key)
        try check(key, tag1, message)
        try key.rotate()
        try check(key, tag1, message)
        try check(key, try make(key), message)
        expectCode(.authenticationFailed) { try check(key, tag1, Data("transfer 900 to alice".utf8)) }
        for flipped in bitFlips(tag1).prefix(200) {
            #expect(throws: BulwarkError.self) { try check(key, flipped, message) }
        }
        try key.destroy(version: 1)
        expectCode(.keyVersionDestroyed) { try check(key, tag1, message) }
    }

    @Test("Keys never print and export needs the flag and the token")
    func secrecy() throws {
        let key = try Keyset.generate(name: "pii")
        let exportable = try Keyset.generate(name: "x", exportable: true)
        expectCode(.notExportable) { try key.exportRawKeyMaterial(version: 1, access: .token) }
        let raw = try exportable.exportRawKeyMaterial(version: 1, access: .token)
        #expect(raw.count == 32)
        let printed = "\(exportable) \(String(reflecting: exportable)) \(exportable.versionInfo)"
        #expect(!printed.contains(raw.hex))
        #expect(!printed.contains(raw.base64EncodedString()))
        #expect(String(describing: MasterKey.generate()) == "MasterKey(redacted)")
    }

    @Test("Management rules")
    func management() throws {
        var key = try Keyset.generate(name: "pii", rotationPeriod: .seconds(86400), now: Date(timeIntervalSince1970: 0))
        #expect(!key.isRotationDue(now: Date(timeIntervalSince1970: 3600)))
        #expect(key.isRotationDue(now: Date(timeIntervalSince1970: 86400)))
        expectCode(.invalidArgument) { try key.disable(version: 1) }
        expectCode(.invalidArgument) { try key.destroy(version: 1) }
        expectCode(.invalidArgument) { try key.setMinimumDecryptionVersion(2) }
        expectCode(.unknownKeyVersion) { try key.disable(version: 7) }
        try key.rotate(now: Date(timeIntervalSince1970: 90000))
        #expect(!key.isRotationDue(now: Date(timeIntervalSince1970: 90001)))
        #expect(key.versionInfo.map(\.version) == [1, 2])
        expectCode(.invalidArgument) { try Keyset.generate(name: "../etc") }
        expectCode(.invalidArgument) { try Keyset.generate(name: "") }
        expectCode(.invalidArgument) { try Keyset.generate(name: "k", rotationPeriod: .seconds(5)) }
    }
}
