import Crypto
import CryptoExtras
import Foundation
import Testing

@testable import Bulwark

/// ``Keyset/standardSignature(for:version:hash:prehashed:encoding:)``: the signature alone, checked
/// here with swift-crypto's public keys and in `Tests/Interop/transit_signatures.py` with Python's
/// `cryptography`.
@Suite("Standard signatures (no header)")
struct StandardSignatureTests {
    let message = Data("pay 100 to account 7".utf8)

    @Test("Ed25519: 64 bytes, verified by the public key alone, the same in both encodings")
    func ed25519() throws {
        let key = try Keyset.generate(name: "signer", type: .ed25519)
        let signature = try key.standardSignature(for: self.message)
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: try key.publicKey())
        #expect(signature.count == 64 && publicKey.isValidSignature(signature, for: self.message))
        try key.verify(standardSignature: signature, for: self.message, version: 1)
        try key.verify(standardSignature: signature, for: self.message, version: 1, encoding: .raw)
        #expect(throws: BulwarkError.self) { try key.verify(standardSignature: signature, for: self.message + [0], version: 1) }
        #expect(throws: BulwarkError.self) { try key.verify(standardSignature: signature.dropLast(), for: self.message, version: 1) }
        let refused = #expect(throws: BulwarkError.self) { try key.standardSignature(for: Data(SHA512.hash(data: self.message)), prehashed: true) }
        #expect(refused?.code == .invalidArgument)
    }

    @Test("ECDSA P-256 over each hash, DER and raw, prehashed digests; malformed signatures fail as authentication", arguments: SignatureHash.allCases)
    func ecdsa(hash: SignatureHash) throws {
        let key = try Keyset.generate(name: "signer", type: .ecdsaP256)
        let publicKey = try P256.Signing.PublicKey(derRepresentation: try key.publicKey())
        let der = try key.standardSignature(for: self.message, hash: hash)
        let raw = try key.standardSignature(for: self.message, hash: hash, encoding: .raw)
        #expect(raw.count == 64)
        let digest = hash.digest(self.message)
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: der), for: digest))
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: raw), for: digest))
        if hash == .sha256 {
            #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(derRepresentation: der), for: self.message))
        }
        try key.verify(standardSignature: der, for: self.message, version: 1, hash: hash)
        try key.verify(standardSignature: raw, for: self.message, version: 1, hash: hash, encoding: .raw)
        // The digest given as input signs the same thing.
        let digestBytes = Data(digest.withUnsafeBytes { Array($0) })
        let prehashed = try key.standardSignature(for: digestBytes, hash: hash, prehashed: true)
        try key.verify(standardSignature: prehashed, for: self.message, version: 1, hash: hash)
        try key.verify(standardSignature: der, for: digestBytes, version: 1, hash: hash, prehashed: true)
        #expect(throws: BulwarkError.self) { try key.standardSignature(for: digestBytes.dropLast(), hash: hash, prehashed: true) }
        // Wrong encoding, trailing bytes, another hash: each fails as authentication.
        for (signature, encoding, other) in [(der, SignatureEncoding.raw, hash), (raw, .der, hash), (der + [0], .der, hash),
                                              (der, .der, hash == .sha256 ? .sha512 : .sha256)] {
            let error = #expect(throws: BulwarkError.self) {
                try key.verify(standardSignature: signature, for: self.message, version: 1, hash: other, encoding: encoding)
            }
            #expect(error?.code == .authenticationFailed)
        }
    }

    @Test("Versions: the primary by default, an older one on request (not below the minimum encryption version); verify needs the right one")
    func versions() throws {
        var key = try Keyset.generate(name: "signer", type: .ecdsaP256)
        try key.rotate()
        let old = try key.standardSignature(for: self.message, version: 1)
        try key.verify(standardSignature: old, for: self.message, version: 1)
        #expect(throws: BulwarkError.self) { try key.verify(standardSignature: old, for: self.message, version: 2) }
        let unknown = #expect(throws: BulwarkError.self) { try key.standardSignature(for: self.message, version: 3) }
        #expect(unknown?.code == .unknownKeyVersion)
        // Not below the minimum decryption version either (it would not verify here).
        try key.setMinimumDecryptionVersion(2)
        let retired = #expect(throws: BulwarkError.self) { try key.standardSignature(for: self.message, version: 1) }
        #expect(retired?.code == .keyVersionBelowMinimum)
        try key.setMinimumDecryptionVersion(1)
        try key.setMinimumEncryptionVersion(2)
        let below = #expect(throws: BulwarkError.self) { try key.standardSignature(for: self.message, version: 1) }
        #expect(below?.code == .keyVersionBelowMinimum)
        let wrongPurpose = #expect(throws: BulwarkError.self) { try Keyset.generate(name: "aead", type: .aes256GCM).standardSignature(for: self.message) }
        #expect(wrongPurpose?.code == .wrongPurpose)
    }

    @Test("Hash names are Vault's; SHA-1 and SHA-224 are not hashes here")
    func names() {
        #expect(SignatureHash.allCases.map(\.description) == ["sha2-256", "sha2-384", "sha2-512", "sha3-256", "sha3-384", "sha3-512"])
        #expect(SignatureHash.allCases.allSatisfy { SignatureHash(vaultName: $0.description) == $0 })
        #expect(SignatureHash(vaultName: "sha1") == nil && SignatureHash(vaultName: "sha2-224") == nil && SignatureHash(vaultName: "SHA2-256") == nil)
    }

    @Test("ECDSA P-384 and P-521: each hash, DER and raw (r ‖ s as wide as the curve), checked with swift-crypto's public keys",
          arguments: [KeyType.ecdsaP384, .ecdsaP521])
    func widerCurves(type: KeyType) throws {
        var key = try Keyset.generate(name: "signer", type: type)
        let der = try key.publicKey()
        for hash in SignatureHash.allCases {
            let signature = try key.standardSignature(for: self.message, hash: hash)
            let raw = try key.standardSignature(for: self.message, hash: hash, encoding: .raw)
            let digest = hash.digest(self.message)
            if type == .ecdsaP384 {
                let publicKey = try P384.Signing.PublicKey(derRepresentation: der)
                let parsed = try P384.Signing.ECDSASignature(derRepresentation: signature)
                #expect(raw.count == 96 && publicKey.isValidSignature(parsed, for: digest))
            } else {
                let publicKey = try P521.Signing.PublicKey(derRepresentation: der)
                let parsed = try P521.Signing.ECDSASignature(rawRepresentation: raw)
                #expect(raw.count == 132 && publicKey.isValidSignature(parsed, for: digest))
            }
            try key.verify(standardSignature: signature, for: self.message, version: 1, hash: hash)
            try key.verify(standardSignature: raw, for: self.message, version: 1, hash: hash, encoding: .raw)
            #expect(throws: BulwarkError.self) { try key.verify(standardSignature: signature, for: self.message + [0], version: 1, hash: hash) }
        }
        // The self-describing form and the keystore's raw bytes work for the new types too.
        try key.verify(signature: try key.sign(self.message), for: self.message)
        let rebuilt = try KeyMaterial.fromRawBytes(try #require(key.versions[0].material).rawBytes, type: type)
        #expect(rebuilt.rawBytes.count == type.materialLength)
        try key.rotate()
        #expect(try key.publicKey(version: 2) != der)
    }

    @Test("ML-DSA-65 and ML-DSA-87 (FIPS 204): sign the message itself; prehashed refused; any altered byte fails; the seed rebuilds the key",
          arguments: [KeyType.mlDSA65, .mlDSA87])
    func mldsa(type: KeyType) throws {
        let key = try Keyset.generate(name: "pq", type: type)
        let signature = try key.standardSignature(for: self.message)
        #expect(signature.count == (type == .mlDSA65 ? 3309 : 4627))
        let publicBytes = try key.publicKey()
        if type == .mlDSA65 {
            let publicKey = try MLDSA65.PublicKey(rawRepresentation: publicBytes)
            #expect(publicKey.isValidSignature(signature, for: self.message))
        } else {
            let publicKey = try MLDSA87.PublicKey(rawRepresentation: publicBytes)
            #expect(publicKey.isValidSignature(signature, for: self.message))
        }
        try key.verify(standardSignature: signature, for: self.message, version: 1)
        for index in [0, 100, signature.count - 1] {
            var altered = signature
            altered[index] ^= 0x01
            let error = #expect(throws: BulwarkError.self) { try key.verify(standardSignature: altered, for: self.message, version: 1) }
            #expect(error?.code == .authenticationFailed)
        }
        let refused = #expect(throws: BulwarkError.self) { try key.standardSignature(for: Data(SHA256.hash(data: self.message)), prehashed: true) }
        #expect(refused?.code == .invalidArgument)
        try key.verify(signature: try key.sign(self.message), for: self.message)
        let seed = try #require(key.versions[0].material).rawBytes
        #expect(seed.count == 32)
        let rebuilt = try SigningPrivateKey(rawBytes: seed, type: type)
        #expect(rebuilt.publicKeyBytes == publicBytes)
    }

    @Test("RSA-2048: PSS and PKCS#1 v1.5 over SHA-2 (SHA-3 and prehashed refused, never trapped); RSA-OAEP-SHA256 encryption; DER material of the right size only")
    func rsa() throws {
        let key = try Keyset.generate(name: "rsa", type: .rsa2048)
        let publicKey = try _RSA.Signing.PublicKey(derRepresentation: try key.publicKey())
        #expect(publicKey.keySizeInBits == 2048)
        for hash in [SignatureHash.sha256, .sha384, .sha512] {
            for padding in [RSASignaturePadding.pss, .pkcs1v15] {
                let signature = try key.standardSignature(for: self.message, hash: hash, rsaPadding: padding)
                #expect(signature.count == 256)
                try key.verify(standardSignature: signature, for: self.message, version: 1, hash: hash, rsaPadding: padding)
                let other: RSASignaturePadding = padding == .pss ? .pkcs1v15 : .pss
                #expect(throws: BulwarkError.self) { try key.verify(standardSignature: signature, for: self.message, version: 1, hash: hash, rsaPadding: other) }
            }
        }
        let pss = try key.standardSignature(for: self.message)
        #expect(publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: pss), for: SHA256.hash(data: self.message), padding: .PSS))
        for (hash, prehashed) in [(SignatureHash.sha3_256, false), (.sha256, true)] {
            let input = prehashed ? Data(SHA256.hash(data: self.message)) : self.message
            let refused = #expect(throws: BulwarkError.self) { try key.standardSignature(for: input, hash: hash, prehashed: prehashed) }
            #expect(refused?.code == .invalidArgument)
            // Verification too: swift-crypto's RSA verify would trap on another digest type.
            let refusedVerify = #expect(throws: BulwarkError.self) {
                try key.verify(standardSignature: pss, for: input, version: 1, hash: hash, prehashed: prehashed)
            }
            #expect(refusedVerify?.code == .invalidArgument)
        }
        // RSA-OAEP: round trip, the limit (190 bytes for 2048), one error for anything altered.
        let ciphertext = try key.rsaEncrypt(Data("4111 1111 1111 1111".utf8))
        #expect(ciphertext.count == 256)
        #expect(try key.rsaDecrypt(ciphertext, version: 1) == Data("4111 1111 1111 1111".utf8))
        _ = try key.rsaEncrypt(Data(count: 190))
        expectCode(.invalidArgument) { try key.rsaEncrypt(Data(count: 191)) }
        var altered = ciphertext
        altered[3] ^= 1
        expectCode(.authenticationFailed) { try key.rsaDecrypt(altered, version: 1) }
        expectCode(.wrongPurpose) { try Keyset.generate(name: "ec", type: .ecdsaP256).rsaEncrypt(Data()) }
        // Material: the DER rebuilds the key; a key of another size is not this type.
        let der = try #require(key.versions[0].material).rawBytes
        #expect(try SigningPrivateKey(rawBytes: der, type: .rsa2048).publicKeyBytes == (try key.publicKey()))
        #expect(throws: BulwarkError.self) { try SigningPrivateKey(rawBytes: der, type: .rsa3072) }
        try key.verify(signature: try key.sign(self.message), for: self.message)
    }
}
