import Bulwark
@testable import BulwarkServer
import BulwarkTestSupport
import Crypto
import Foundation
import Testing

/// `transit/sign` and `transit/verify` make and check signatures as Vault does (the signature
/// alone, so a verifier with only the public key checks it); Python's `cryptography` and OpenBao
/// check the same in `Tests/Interop/transit_signatures.py`.
@Suite("Transit signatures as Vault's")
struct TransitSignatureTests {
    private static func input(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    private static func open() async throws -> TransitBackend {
        let cli = try CLIRunner()
        let place = try TestStore(.sqlite, cli)
        let backend = try await TransitBackend.open(store: try await place.open())
        try await backend.createKey("ed", .init(type: "ed25519"))
        try await backend.createKey("ec", .init(type: "ecdsa-p256"))
        return backend
    }

    private static func sign(_ backend: TransitBackend, _ name: String, _ configure: (inout TransitBackend.SignatureRequest) -> Void = { _ in }) throws -> String {
        var request = TransitBackend.SignatureRequest(input: Self.input("contract"))
        configure(&request)
        return try #require(try backend.sign(name, request).result?.signature)
    }

    private static func valid(_ backend: TransitBackend, _ name: String, _ signature: String, input: String = "contract",
                              _ configure: (inout TransitBackend.SignatureRequest) -> Void = { _ in }) throws -> Bool {
        var request = TransitBackend.SignatureRequest(input: Self.input(input), signature: signature)
        configure(&request)
        let answer = try backend.verify(name, request).result
        return try #require(answer).valid
    }

    @Test("Signatures are the bare Ed25519/ECDSA signature, checked with the public key alone; every hash, prehashed input, JWS marshaling")
    func standardSignatures() async throws {
        let backend = try await Self.open()
        let ed = try Curve25519.Signing.PublicKey(rawRepresentation: try backend.key("ed").publicKey())
        let edSignature = try Self.sign(backend, "ed")
        let edBytes = try #require(Data(base64Encoded: String(edSignature.dropFirst("vault:v1:".count))))
        #expect(edBytes.count == 64 && ed.isValidSignature(edBytes, for: Data("contract".utf8)))
        #expect(try Self.valid(backend, "ed", edSignature))
        #expect(try !Self.valid(backend, "ed", edSignature, input: "contracT"))

        let ec = try P256.Signing.PublicKey(derRepresentation: try backend.key("ec").publicKey())
        let ecSignature = try Self.sign(backend, "ec")
        let der = try P256.Signing.ECDSASignature(derRepresentation: try #require(Data(base64Encoded: String(ecSignature.dropFirst(9)))))
        #expect(ec.isValidSignature(der, for: Data("contract".utf8)))
        #expect(try Self.valid(backend, "ec", ecSignature))

        // JWS: r ‖ s in base64url without padding; read back only with the same marshaling.
        let jws = try Self.sign(backend, "ec") { $0.marshalingAlgorithm = "jws" }
        let raw = try #require(Base64URL.decode(jws.dropFirst(9)))
        let rawSignature = try P256.Signing.ECDSASignature(rawRepresentation: raw)
        #expect(raw.count == 64 && ec.isValidSignature(rawSignature, for: Data("contract".utf8)))
        #expect(try Self.valid(backend, "ec", jws) { $0.marshalingAlgorithm = "jws" })
        // A DER signature read as JWS: refused as base64url, or (when its base64 happens to be
        // valid base64url too) not 64 bytes of r ‖ s: never valid.
        #expect((try? Self.valid(backend, "ec", ecSignature) { $0.marshalingAlgorithm = "jws" }) != true)
        let edJWS = try Self.sign(backend, "ed") { $0.marshalingAlgorithm = "jws" }
        #expect(Base64URL.decode(edJWS.dropFirst(9)) == edBytes)

        // Each hash signs the digest under it; a signature made under one hash fails under another.
        for hash in SignatureHash.allCases {
            let made = try Self.sign(backend, "ec") { $0.hashAlgorithm = hash.description }
            #expect(try Self.valid(backend, "ec", made) { $0.hashAlgorithm = hash.description }, "\(hash)")
            #expect(try !Self.valid(backend, "ec", made) { $0.hashAlgorithm = hash == .sha256 ? "sha2-512" : "sha2-256" }, "\(hash)")
        }
        // The hash named in the path is the same as in the body.
        let pathSigned = try #require(try backend.sign("ec", .init(input: Self.input("contract")), algorithm: "sha3-384").result?.signature)
        #expect(try Self.valid(backend, "ec", pathSigned) { $0.hashAlgorithm = "sha3-384" })

        // Prehashed: the input is the digest, and must be as long as the hash's.
        let digest = Data(SHA384.hash(data: Data("contract".utf8)))
        var prehashed = TransitBackend.SignatureRequest(input: digest.base64EncodedString())
        prehashed.prehashed = true
        prehashed.hashAlgorithm = "sha2-384"
        let madeFromDigest = try #require(try backend.sign("ec", prehashed).result?.signature)
        #expect(try Self.valid(backend, "ec", madeFromDigest) { $0.hashAlgorithm = "sha2-384" })
        prehashed.input = Data(digest.prefix(32)).base64EncodedString()
        let short = #expect(throws: BulwarkError.self) { try backend.sign("ec", prehashed) }
        #expect(short?.code == .invalidArgument && short?.message.contains("not a sha2-384 digest") == true)
    }

    @Test("Refused by name: SHA-1, SHA-224, none, unknown hashes and marshalings, prehashed Ed25519, RSA options")
    func refusals() async throws {
        let backend = try await Self.open()
        for (name, option, expected) in [
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.hashAlgorithm = "sha1" }, "SHA-1"),
            ("ed", { (r: inout TransitBackend.SignatureRequest) in r.hashAlgorithm = "sha1" }, "SHA-1"),
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.hashAlgorithm = "sha2-224" }, "not supported"),
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.hashAlgorithm = "none" }, "PKCS#1"),
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.hashAlgorithm = "md5" }, "invalid hash algorithm"),
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.marshalingAlgorithm = "pem" }, "invalid marshaling"),
            ("ed", { (r: inout TransitBackend.SignatureRequest) in r.prehashed = true }, "prehashed"),
            ("ec", { (r: inout TransitBackend.SignatureRequest) in r.signatureAlgorithm = "pss" }, "RSA"),
        ] {
            let error = #expect(throws: BulwarkError.self) { try Self.sign(backend, name, option) }
            #expect(error?.code == .invalidArgument && error?.message.contains(expected) == true, "\(name) \(expected): \(String(describing: error))")
        }
        // algorithm and hash_algorithm naming different hashes; a verify key_version other than vN.
        let conflict = #expect(throws: BulwarkError.self) { try Self.sign(backend, "ec") { $0.algorithm = "sha2-256"; $0.hashAlgorithm = "sha2-512" } }
        #expect(conflict?.message.contains("differ") == true)
        let signed = try Self.sign(backend, "ec")
        #expect(try Self.valid(backend, "ec", signed) { $0.keyVersion = 1 })
        let mismatch = #expect(throws: BulwarkError.self) { try Self.valid(backend, "ec", signed) { $0.keyVersion = 2 } }
        #expect(mismatch?.message.contains("key_version") == true)
        #expect(throws: BulwarkError.self) { try Self.valid(backend, "ec", signed) { $0.keyVersion = -5 } }
        // Ed25519 ignores a supported hash, as Vault does: the signature is the same.
        let plain = try Self.sign(backend, "ed")
        #expect(try Self.sign(backend, "ed") { $0.hashAlgorithm = "sha2-512" } == plain)
    }

    @Test("key_version signs with an older version (not below min_encryption_version); vN picks the version that verifies")
    func versions() async throws {
        let backend = try await Self.open()
        try await backend.rotateKey("ec")
        let old = try Self.sign(backend, "ec") { $0.keyVersion = 1 }
        #expect(try old.hasPrefix("vault:v1:") && Self.valid(backend, "ec", old))
        #expect(try Self.sign(backend, "ec").hasPrefix("vault:v2:"))
        // The same bytes claimed for the other version do not verify.
        #expect(try !Self.valid(backend, "ec", "vault:v2:" + old.dropFirst(9)))
        #expect(throws: BulwarkError.self) { try Self.sign(backend, "ec") { $0.keyVersion = 3 } }
        try await backend.configureKey("ec", .init(minEncryptionVersion: 2))
        let below = #expect(throws: BulwarkError.self) { try Self.sign(backend, "ec") { $0.keyVersion = 1 } }
        #expect(below?.code == .keyVersionBelowMinimum)
        #expect(try Self.valid(backend, "ec", old))
        try await backend.configureKey("ec", .init(minDecryptionVersion: 2))
        #expect(throws: BulwarkError.self) { try Self.valid(backend, "ec", old) }
    }

    @Test("Signatures made before they matched Vault's (header ‖ signature) still verify with the default options, and only as what they are")
    func legacySignatures() async throws {
        let backend = try await Self.open()
        for name in ["ed", "ec"] {
            let key = try backend.key(name)
            let legacy = "vault:v1:" + (try key.sign(Data("contract".utf8))).base64EncodedString()
            #expect(try Self.valid(backend, name, legacy), "\(name)")
            #expect(try !Self.valid(backend, name, legacy, input: "contracT"), "\(name)")
            let bytes = try #require(Data(base64Encoded: String(legacy.dropFirst(9))))
            #expect(TransitBackend.isLegacySignature(bytes, key, version: 1))
            // Relabelled with another version, it is not read as a legacy signature, and fails.
            #expect(!TransitBackend.isLegacySignature(bytes, key, version: 2))
            #expect(throws: BulwarkError.self) { try Self.valid(backend, name, "vault:v2:" + legacy.dropFirst(9)) }
            try await backend.rotateKey(name)
            #expect(try !Self.valid(backend, name, "vault:v2:" + legacy.dropFirst(9)))
            // A standard signature is never read as a legacy one.
            let standard = try #require(Data(base64Encoded: String(try Self.sign(backend, name).dropFirst(9))))
            #expect(!TransitBackend.isLegacySignature(standard, key, version: 1))
        }
        // HMACs Bulwark made before they matched Vault's (header ‖ tag) verify under their vN.
        try await backend.createKey("mac", .init(type: "hmac"))
        let macKey = try backend.key("mac")
        let legacyMAC = "vault:v1:" + (try macKey.authenticate(Data("contract".utf8))).base64EncodedString()
        var check = TransitBackend.SignatureRequest(input: Self.input("contract"), hmac: legacyMAC)
        #expect(try backend.verify("mac", check).result?.valid == true)
        check.input = Self.input("contracT")
        #expect(try backend.verify("mac", check).result?.valid == false)
        let standardMAC = try #require(try backend.hmac("mac", .init(input: Self.input("contract"))).result?.hmac)
        #expect(standardMAC.count < legacyMAC.count)
        // A legacy MAC is read as one only with the default algorithm and under its own vN.
        check.hmac = legacyMAC
        check.algorithm = "sha2-256"
        #expect(try backend.verify("mac", check).result?.valid == false)
        check.algorithm = nil
        try await backend.rotateKey("mac")
        check.hmac = "vault:v2:" + legacyMAC.dropFirst(9)
        #expect(try backend.verify("mac", check).result?.valid == false)
        check.input = Self.input("contract")
        check.hmac = standardMAC
        #expect(try backend.verify("mac", check).result?.valid == true)
        // With another option than the defaults, a legacy signature is not accepted.
        let legacy = "vault:v1:" + (try backend.key("ec").sign(Data("contract".utf8))).base64EncodedString()
        #expect(try !Self.valid(backend, "ec", legacy) { $0.hashAlgorithm = "sha2-512" })
    }

    @Test("Export: exportable keys only; versions below min_decryption_version, unknown or misspelt refused; every decrypting version by default")
    func export() async throws {
        let backend = try await Self.open()
        try await backend.createKey("box", .init(type: "aes256-gcm96", exportable: true))
        try await backend.rotateKey("box")
        try await backend.rotateKey("box")
        try await backend.configureKey("box", .init(minDecryptionVersion: 2))
        let all = try backend.exportKey("box", type: "encryption-key", version: nil)
        #expect(Set(all.keys.keys) == ["2", "3"] && all.type == "aes256-gcm96")
        #expect(try backend.exportKey("box", type: "hmac-key", version: "latest").keys.keys.sorted() == ["3"])
        let box = try backend.key("box")
        #expect(try backend.exportKey("box", type: "encryption-key", version: "2").keys["2"]
            == box.exportRawKeyMaterial(version: 2, access: .token).base64EncodedString())
        for version in ["1", "01", "+1", "0", "4", "4294967296", "v2", " 2", "latest2"] {
            #expect(throws: BulwarkError.self, "\(version)") { try backend.exportKey("box", type: "encryption-key", version: version) }
        }
        let closed = #expect(throws: BulwarkError.self) { try backend.exportKey("ec", type: "signing-key", version: nil) }
        #expect(closed?.code == .notExportable)
        #expect(throws: BulwarkError.self) { try backend.exportKey("box", type: "signing-key", version: nil) }
        #expect(throws: BulwarkError.self) { try backend.exportKey("box", type: "public-key", version: nil) }
        let missing = #expect(throws: BulwarkError.self) { try backend.exportKey("nothing", type: "hmac-key", version: nil) }
        #expect(missing?.code == .notFound)
    }

    @Test("An encrypt never creates a signing, HMAC or public-key key; costly signing keys take bounded batches")
    func upsertAndBatches() async throws {
        let backend = try await Self.open()
        for type in ["rsa-2048", "ml-dsa-65", "ed25519", "ecdsa-p384", "hmac", "hpke-x25519"] {
            var request = TransitBackend.EncryptRequest(plaintext: Self.input("x"))
            request.type = type
            await #expect(throws: BulwarkError.self, "\(type)") { try await backend.encrypt("made-by-encrypt", request) }
            #expect(backend.existingKey("made-by-encrypt") == nil, "\(type)")
        }
        try await backend.createKey("pq", .init(type: "ml-dsa-65"))
        try await backend.createKey("rsa", .init(type: "rsa-2048"))
        let item = TransitBackend.SignatureRequest(input: Self.input("x"))
        for (name, limit) in [("pq", 1_000), ("rsa", 100)] {
            let over = #expect(throws: BulwarkError.self) { try backend.sign(name, .init(batchInput: Array(repeating: item, count: limit + 1))) }
            #expect(over?.message.contains(String(limit)) == true, "\(name)")
            let verifyOver = #expect(throws: BulwarkError.self) { try backend.verify(name, .init(batchInput: Array(repeating: item, count: limit + 1))) }
            #expect(verifyOver?.message.contains(String(limit)) == true, "\(name)")
        }
        #expect(try backend.sign("rsa", .init(batchInput: Array(repeating: item, count: 3))).items?.compactMap(\.result).count == 3)
    }
}
