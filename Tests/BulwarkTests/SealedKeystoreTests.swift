import Foundation
import Testing

@testable import Bulwark

@Suite("Sealed keystore format")
struct SealedKeystoreTests {
    @Test("Seal, open, and refuse a wrong master key or any damage")
    func sealOpen() throws {
        var contents = KeystoreContents()
        var pii = try Keyset.generate(name: "pii", rotationPeriod: .seconds(7 * 86400))
        try pii.rotate()
        try pii.destroy(version: 1)
        contents.keysets["pii"] = pii
        contents.keysets["sig"] = try Keyset.generate(name: "sig", type: .ecdsaP256)
        contents.keysets["mac"] = try Keyset.generate(name: "mac", type: .hmacSHA512, exportable: true)
        let master = MasterKey.generate()
        let sealed = try SealedKeystore.seal(contents, masterKey: master, kdf: nil)
        let opened = try SealedKeystore.open(sealed, masterKey: master)
        #expect(opened.keysets.count == 3)
        let reopened = try #require(opened.keysets["pii"])
        #expect(reopened.id == pii.id && reopened.primaryVersion == 2 && reopened.rotationPeriod == .seconds(7 * 86400))
        #expect(reopened.versionInfo.map(\.status) == [.destroyed, .enabled])
        let envelope = try pii.encrypt(Data("x".utf8), context: Data())
        #expect(try reopened.decrypt(envelope, context: Data()) == Data("x".utf8))
        let macKey = try #require(opened.keysets["mac"])
        #expect(try macKey.exportRawKeyMaterial(version: 1, access: .token) == (try contents.keysets["mac"]!.exportRawKeyMaterial(version: 1, access: .token)))
        // The sealed bytes contain no key material in the clear.
        let raw = try macKey.exportRawKeyMaterial(version: 1, access: .token)
        #expect(sealed.range(of: raw) == nil && sealed.range(of: Data(raw.base64EncodedString().utf8)) == nil)

        expectCode(.wrongMasterKey) { try SealedKeystore.open(sealed, masterKey: MasterKey.generate()) }
        expectCode(.keystoreCorrupted) { try SealedKeystore.open(sealed.prefix(sealed.count / 2), masterKey: master) }
        expectCode(.keystoreCorrupted) { try SealedKeystore.open(Data("not a keystore".utf8), masterKey: master) }
        for index in stride(from: 0, to: sealed.count, by: 7) {
            var damaged = sealed
            damaged[index] ^= 0x20
            #expect(throws: BulwarkError.self) { try SealedKeystore.open(damaged, masterKey: master) }
        }
    }

    @Test("Passphrase keystores record scrypt and reopen with the same passphrase only")
    func passphrase() throws {
        let kdf = PassphraseKDF.scrypt(salt: Array(repeating: 7, count: 16), logN: 12, blockSize: 8, parallelism: 1)
        let master = try MasterKey.derive(passphrase: "correct horse", using: kdf)
        let sealed = try SealedKeystore.seal(KeystoreContents(), masterKey: master, kdf: kdf)
        let header = try SealedKeystore.Header(parsing: sealed)
        #expect(header.kdf == kdf)
        let again = try MasterKey.derive(passphrase: "correct horse", using: try #require(header.kdf))
        #expect(try SealedKeystore.open(sealed, masterKey: again).keysets.isEmpty)
        expectCode(.wrongMasterKey) {
            try SealedKeystore.open(sealed, masterKey: try MasterKey.derive(passphrase: "wrong horse", using: kdf))
        }
    }

    @Test("Master keys parse only as 32 bytes of base64")
    func masterKeyParsing() throws {
        expectCode(.invalidFormat) { try MasterKey(base64: "c2hvcnQ=") }
        expectCode(.invalidFormat) { try MasterKey(base64: "!!!") }
        _ = try MasterKey(base64: Data(repeating: 1, count: 32).base64EncodedString() + "\n")
    }
}
