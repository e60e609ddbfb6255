import Crypto
import Foundation
import Testing

@testable import Bulwark

/// A Wycheproof file (schemas aead_test_schema_v1 and daead_test_schema_v1).
struct WycheproofFile: Decodable {
    struct Group: Decodable {
        let keySize: Int
        let ivSize: Int?
        let tagSize: Int?
        let tests: [Case]
    }

    struct Case: Decodable {
        let tcId: Int
        let key: String
        let iv: String?
        let aad: String
        let msg: String
        let ct: String
        let tag: String?
        let result: String
    }

    let algorithm: String
    let numberOfTests: Int
    let testGroups: [Group]

    static func load(_ name: String) throws -> WycheproofFile {
        try JSONDecoder().decode(WycheproofFile.self, from: try vectorData(name))
    }
}

@Suite("Wycheproof through Bulwark's AEAD layer")
struct WycheproofTests {
    enum Backend: String, CaseIterable {
        case libcrypto, libcryptoOneShot, swiftCrypto
    }

    /// libcrypto's one-shot calls (a JWE's content key, used once) behind the same interface.
    struct OneShot: NonceAEAD {
        let algorithm: AEADAlgorithm
        let key: SymmetricKey

        func seal(
            nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, aad2: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer,
            output: UnsafeMutableRawBufferPointer
        ) throws {
            // One call takes one associated-data buffer: the two parts joined.
            let joined = Data(aad) + Data(aad2)
            try joined.withUnsafeBytes {
                try LibCryptoAEAD.sealOnce(self.algorithm, key: self.key, nonce: nonce, aad: $0, plaintext: plaintext, output: output)
            }
        }

        func open(
            nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer, aad2: UnsafeRawBufferPointer, ciphertextAndTag: UnsafeRawBufferPointer,
            output: UnsafeMutableRawBufferPointer
        ) throws -> Bool {
            let joined = Data(aad) + Data(aad2)
            return try joined.withUnsafeBytes {
                try LibCryptoAEAD.openOnce(self.algorithm, key: self.key, nonce: nonce, aad: $0, ciphertextAndTag: ciphertextAndTag, output: output)
            }
        }
    }

    static func make(_ backend: Backend, _ algorithm: AEADAlgorithm, key: SymmetricKey) throws -> any NonceAEAD {
        switch backend {
        case .libcrypto: return try #require(LibCryptoAEAD(algorithm, key: key))
        case .libcryptoOneShot: return OneShot(algorithm: algorithm, key: key)
        case .swiftCrypto: return try SwiftCryptoAEAD(algorithm, key: key)
        }
    }

    /// Runs every case with a 256-bit key and 96-bit nonce (the only parameters Bulwark's
    /// envelopes use) through `seal` and `open`, asserting Wycheproof's verdict.
    func run(_ file: String, _ algorithm: AEADAlgorithm, backend: Backend) throws -> Int {
        let vectors = try WycheproofFile.load(file)
        var checked = 0
        for group in vectors.testGroups {
            for test in group.tests {
                let key = SymmetricKey(data: Data(hex: test.key))
                let iv = Data(hex: test.iv ?? "")
                guard group.keySize == 256, iv.count == 12, group.tagSize == 128 else {
                    // Outside Bulwark's parameters: the backends must refuse such keys outright.
                    if group.keySize != 256 {
                        #expect(LibCryptoAEAD(algorithm, key: key) == nil)
                        #expect(throws: BulwarkError.self) { try SwiftCryptoAEAD(algorithm, key: key) }
                    }
                    continue
                }
                let aead = try Self.make(backend, algorithm, key: key)
                let msg = Data(hex: test.msg)
                let aad = Data(hex: test.aad)
                let expected = Data(hex: test.ct) + Data(hex: test.tag ?? "")
                var opened = Data(count: msg.count)
                let ok = try iv.withUnsafeBytes { nonce in
                    try aad.withUnsafeBytes { aadBytes in
                        try expected.withUnsafeBytes { sealed in
                            try opened.withUnsafeMutableBytes { output in
                                try aead.open(
                                    nonce: nonce, aad: aadBytes, aad2: UnsafeRawBufferPointer(start: nil, count: 0),
                                    ciphertextAndTag: sealed, output: output)
                            }
                        }
                    }
                }
                if test.result == "valid" {
                    #expect(ok, "tcId \(test.tcId) should open")
                    #expect(opened == msg, "tcId \(test.tcId) plaintext")
                    var sealed = Data(count: msg.count + 16)
                    try iv.withUnsafeBytes { nonce in
                        try aad.withUnsafeBytes { aadBytes in
                            try msg.withUnsafeBytes { plaintext in
                                try sealed.withUnsafeMutableBytes { output in
                                    try aead.seal(
                                        nonce: nonce, aad: aadBytes, aad2: UnsafeRawBufferPointer(start: nil, count: 0),
                                        plaintext: plaintext, output: output)
                                }
                            }
                        }
                    }
                    #expect(sealed == expected, "tcId \(test.tcId) ciphertext")
                } else if test.result == "invalid" {
                    #expect(!ok, "tcId \(test.tcId) must be rejected")
                    #expect(opened.allSatisfy { $0 == 0 }, "tcId \(test.tcId) leaves no plaintext")
                }
                checked += 1
            }
        }
        return checked
    }

    @Test("AES-256-GCM", arguments: Backend.allCases)
    func aesGCM(backend: Backend) throws {
        let checked = try self.run("aes_gcm_test.json", .aes256GCM, backend: backend)
        #expect(checked >= 60)
    }

    @Test("ChaCha20-Poly1305", arguments: Backend.allCases)
    func chacha(backend: Backend) throws {
        let checked = try self.run("chacha20_poly1305_test.json", .chacha20Poly1305, backend: backend)
        #expect(checked >= 250)
    }

    @Test("AES-SIV deterministic (RFC 5297)")
    func aesSIV() throws {
        let vectors = try WycheproofFile.load("aes_siv_cmac_test.json")
        var checked = 0
        for group in vectors.testGroups {
            for test in group.tests {
                let key = SymmetricKey(data: Data(hex: test.key))
                let siv = try AESSIV(key: key)
                let aad = Data(hex: test.aad)
                let msg = Data(hex: test.msg)
                let ct = Data(hex: test.ct)
                let opened = try aad.withUnsafeBytes { a in try ct.withUnsafeBytes { try siv.open($0, associatedData: [a]) } }
                if test.result == "valid" {
                    #expect(opened == msg, "tcId \(test.tcId)")
                    let sealed = try aad.withUnsafeBytes { a in try msg.withUnsafeBytes { try siv.seal($0, associatedData: [a]) } }
                    #expect(sealed == ct, "tcId \(test.tcId)")
                } else {
                    #expect(opened == nil, "tcId \(test.tcId) must be rejected")
                }
                checked += 1
            }
        }
        #expect(checked == vectors.numberOfTests)
    }

    @Test("AES-SIV as a nonce AEAD (RFC 5297 §3: AD, then nonce)")
    func aesSIVAEAD() throws {
        let vectors = try WycheproofFile.load("aead_aes_siv_cmac_test.json")
        var checked = 0
        for group in vectors.testGroups {
            for test in group.tests {
                let siv = try AESSIV(key: SymmetricKey(data: Data(hex: test.key)))
                let aad = Data(hex: test.aad)
                let nonce = Data(hex: test.iv ?? "")
                let msg = Data(hex: test.msg)
                let sealed = Data(hex: test.tag ?? "") + Data(hex: test.ct)
                let opened = try aad.withUnsafeBytes { a in
                    try nonce.withUnsafeBytes { n in try sealed.withUnsafeBytes { try siv.open($0, associatedData: [a, n]) } }
                }
                if test.result == "valid" {
                    #expect(opened == msg, "tcId \(test.tcId)")
                } else {
                    #expect(opened == nil, "tcId \(test.tcId) must be rejected")
                }
                checked += 1
            }
        }
        #expect(checked == vectors.numberOfTests)
    }

    @Test("The libcrypto backends (kept contexts and one-shot) match swift-crypto on random inputs", arguments: [AEADAlgorithm.aes256GCM, .chacha20Poly1305])
    func crossBackend(algorithm: AEADAlgorithm) throws {
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 255, 4096, 65_537] {
            let key = SymmetricKey(size: .bits256)
            let fast = try Self.make(.libcrypto, algorithm, key: key)
            let oneShot = try Self.make(.libcryptoOneShot, algorithm, key: key)
            let reference = try Self.make(.swiftCrypto, algorithm, key: key)
            let nonce = Data(SecureRandom.bytes(12))
            let aad = Data(SecureRandom.bytes(length % 40))
            let aad2 = Data(SecureRandom.bytes(length % 7))
            let plaintext = Data(SecureRandom.bytes(length))
            var outputs: [Data] = []
            for aead in [fast, oneShot, reference] {
                var sealed = Data(count: length + 16)
                try nonce.withUnsafeBytes { n in
                    try aad.withUnsafeBytes { a in
                        try aad2.withUnsafeBytes { b in
                            try plaintext.withUnsafeBytes { p in
                                try sealed.withUnsafeMutableBytes { try aead.seal(nonce: n, aad: a, aad2: b, plaintext: p, output: $0) }
                            }
                        }
                    }
                }
                outputs.append(sealed)
            }
            #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2], "length \(length)")
            // Each opens the others' output.
            for aead in [fast, oneShot, reference] {
                var opened = Data(count: length)
                let ok = try nonce.withUnsafeBytes { n in
                    try aad.withUnsafeBytes { a in
                        try aad2.withUnsafeBytes { b in
                            try outputs[0].withUnsafeBytes { s in
                                try opened.withUnsafeMutableBytes { try aead.open(nonce: n, aad: a, aad2: b, ciphertextAndTag: s, output: $0) }
                            }
                        }
                    }
                }
                #expect(ok && opened == plaintext)
            }
        }
    }
}
