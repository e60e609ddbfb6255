import Crypto
import Foundation
import Testing

@testable import Bulwark

@Suite("Hybrid (HPKE) encryption")
struct HybridEncryptionTests {
    static let types: [KeyType] = [
        .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305,
    ]

    @Test("Round trip per type, bound to its context", arguments: types)
    func roundTrip(type: KeyType) throws {
        let key = try Keyset.generate(name: "inbound", type: type)
        #expect(key.purpose == .hybridEncryption)
        let publicKey = try key.hybridPublicKey()
        #expect(publicKey.version == 1 && publicKey.keyID == key.id && publicKey.type == type)
        #expect(publicKey.rawRepresentation.count == HybridSuite.publicKeyLength(type))
        let context = Data("order-42".utf8)
        let message = try publicKey.encrypt(Data("4111 1111 1111 1111".utf8), context: context)
        #expect(message.count == 10 + HybridSuite.encapsulatedKeyLength(type) + 19 + 16)
        #expect(try key.hybridDecrypt(message, context: context) == Data("4111 1111 1111 1111".utf8))
        // Fresh encapsulation each time: the same plaintext never gives the same message.
        #expect(try publicKey.encrypt(Data("4111 1111 1111 1111".utf8), context: context) != message)
        expectCode(.authenticationFailed) { try key.hybridDecrypt(message, context: Data("order-43".utf8)) }
        expectCode(.authenticationFailed) { try key.hybridDecrypt(message, context: Data()) }
        // A long context is bound whole (HPKE hashes `info`).
        let long = Data(repeating: 0x61, count: 65_536)
        let longMessage = try key.hybridEncrypt(Data("x".utf8), context: long)
        #expect(try key.hybridDecrypt(longMessage, context: long) == Data("x".utf8))
        expectCode(.authenticationFailed) { try key.hybridDecrypt(longMessage, context: long.dropLast()) }
        // Empty plaintext and empty context.
        #expect(try key.hybridDecrypt(try key.hybridEncrypt(Data(), context: Data()), context: Data()).isEmpty)
    }

    @Test("Any altered byte, in the header, the encapsulated key or the ciphertext, is refused", arguments: [KeyType.hpkeX25519, .hpkeP256])
    func tampering(type: KeyType) throws {
        let key = try Keyset.generate(name: "inbound", type: type)
        let message = try key.hybridEncrypt(Data("secret".utf8), context: Data("ctx".utf8))
        for altered in bitFlips(message) {
            #expect(throws: BulwarkError.self) { try key.hybridDecrypt(altered, context: Data("ctx".utf8)) }
        }
        for length in [0, 9, 10, 10 + HybridSuite.encapsulatedKeyLength(type), message.count - 1] {
            #expect(throws: BulwarkError.self) { try key.hybridDecrypt(message.prefix(length), context: Data("ctx".utf8)) }
        }
        var longer = message
        longer.append(0)
        expectCode(.authenticationFailed) { try key.hybridDecrypt(longer, context: Data("ctx".utf8)) }
    }

    @Test("X-Wing: a flipped byte in the encapsulated key and in the ciphertext is refused")
    func tamperingXWing() throws {
        let key = try Keyset.generate(name: "inbound", type: .hpkeXWing)
        let message = try key.hybridEncrypt(Data("secret".utf8), context: Data())
        // Past the routing fields (algorithm id and key id are refused before any cryptography).
        for index in [10, 10 + 500, 10 + 1119, 10 + 1120, message.count - 1] {
            var altered = message
            altered[index] ^= 0x01
            #expect(throws: BulwarkError.self) { try key.hybridDecrypt(altered, context: Data()) }
        }
    }

    @Test("Rotation: old messages still open, new ones use the new version; minimum version and purpose are enforced")
    func rotation() throws {
        var key = try Keyset.generate(name: "inbound", type: .hpkeX25519)
        let old = try key.hybridPublicKey().encrypt(Data("v1".utf8), context: Data())
        try key.rotate()
        #expect(try key.hybridPublicKey().version == 2)
        #expect(try key.hybridPublicKey(version: 1).version == 1)
        #expect(try key.hybridPublicKey().rawRepresentation != key.hybridPublicKey(version: 1).rawRepresentation)
        let new = try key.hybridEncrypt(Data("v2".utf8), context: Data())
        #expect(try EnvelopeHeader(peeking: new).keyVersion == 2)
        #expect(try key.hybridDecrypt(old, context: Data()) == Data("v1".utf8))
        #expect(try key.hybridDecrypt(new, context: Data()) == Data("v2".utf8))
        try key.setMinimumDecryptionVersion(2)
        expectCode(.keyVersionBelowMinimum) { try key.hybridDecrypt(old, context: Data()) }
        let other = try Keyset.generate(name: "other", type: .hpkeX25519)
        expectCode(.unknownKey) { try other.hybridDecrypt(new, context: Data()) }
        let symmetric = try Keyset.generate(name: "aes", type: .aes256GCM)
        expectCode(.wrongPurpose) { try symmetric.hybridPublicKey() }
        expectCode(.wrongPurpose) { try symmetric.hybridDecrypt(new, context: Data()) }
        expectCode(.wrongPurpose) { try key.encrypt(Data("x".utf8), context: Data()) }
        expectCode(.invalidArgument) { try HybridPublicKey(type: .aes256GCM, keyID: 1, version: 1, rawRepresentation: Data(count: 32)) }
        expectCode(.invalidArgument) { try HybridPublicKey(type: .hpkeP256, keyID: 1, version: 1, rawRepresentation: Data(count: 65)) }
        expectCode(.invalidArgument) { try HybridPublicKey(type: .hpkeXWing, keyID: 1, version: 1, rawRepresentation: Data(count: 32)) }
    }

    @Test("Key material survives its raw bytes (as the keystore stores it)", arguments: types)
    func material(type: KeyType) throws {
        let key = try Keyset.generate(name: "inbound", type: type)
        let message = try key.hybridEncrypt(Data("kept".utf8), context: Data("c".utf8))
        guard case .hybrid(let original)? = key.versions[0].material else {
            Issue.record("no hybrid material")
            return
        }
        #expect(original.rawBytes.count == 32)
        let rebuilt = try KeyMaterial.fromRawBytes(original.rawBytes, type: type)
        guard case .hybrid(let restored) = rebuilt else {
            Issue.record("not hybrid")
            return
        }
        #expect(restored.publicKeyBytes == original.publicKeyBytes)
        let header = Array(message.prefix(10))
        let enc = Data(message.dropFirst(10).prefix(HybridSuite.encapsulatedKeyLength(type)))
        let ciphertext = Data(message.dropFirst(10 + enc.count))
        #expect(try restored.open(encapsulatedKey: enc, ciphertext: ciphertext, info: Data(header) + Data("c".utf8)) == Data("kept".utf8))
        expectCode(.invalidFormat) { try KeyMaterial.fromRawBytes(Data(count: 31), type: type) }
    }

    @Test("A sealed keystore keeps hybrid keys: sealed, opened, still decrypting")
    func keystore() throws {
        let master = MasterKey.generate()
        let key = try Keyset.generate(name: "inbound", type: .hpkeXWing)
        let message = try key.hybridPublicKey().encrypt(Data("stored".utf8), context: Data("ctx".utf8))
        let sealed = try SealedKeystore.seal(KeystoreContents(keysets: ["inbound": key]), masterKey: master, kdf: nil)
        let loaded = try #require(try SealedKeystore.open(sealed, masterKey: master).keysets["inbound"])
        #expect(loaded.type == .hpkeXWing)
        #expect(try loaded.hybridPublicKey() == key.hybridPublicKey())
        #expect(try loaded.hybridDecrypt(message, context: Data("ctx".utf8)) == Data("stored".utf8))
    }

    // MARK: - Streams encrypted to a public key

    /// Encrypts `plaintext` as a stream to `publicKey` with small segments, returning the bytes.
    static func stream(_ plaintext: Data, to publicKey: HybridPublicKey, context: Data, segmentSize: Int = 64) throws -> Data {
        var encryptor = try publicKey.makeStreamEncryptor(context: context, segmentSize: segmentSize)
        var out = encryptor.header
        let chunk = encryptor.plaintextSegmentSize
        var offset = 0
        repeat {
            let end = min(offset + chunk, plaintext.count)
            let isFinal = end == plaintext.count
            out.append(try encryptor.sealSegment(plaintext[plaintext.startIndex + offset..<plaintext.startIndex + end], isFinal: isFinal))
            offset = end
            if isFinal { break }
        } while true
        return out
    }

    /// Decrypts a stream made by ``stream(_:to:context:segmentSize:)`` with `key`.
    static func open(_ stream: Data, with key: Keyset, context: Data) throws -> Data {
        let header = try StreamHeader(parsing: stream)
        let encLength = header.encapsulatedKeyLength
        var decryptor = try key.makeHybridStreamDecryptor(
            header: header, encapsulatedKey: Data(stream.dropFirst(StreamHeader.length).prefix(encLength)), context: context)
        var body = stream.dropFirst(StreamHeader.length + encLength)
        var out = Data()
        while true {
            let segment = body.prefix(header.segmentSize)
            body = body.dropFirst(segment.count)
            out.append(try decryptor.openSegment(segment, isFinal: body.isEmpty))
            if body.isEmpty { return out }
        }
    }

    @Test("Streams to a public key: any size, constant segments, bound to key, header and context", arguments: types)
    func streams(type: KeyType) throws {
        let key = try Keyset.generate(name: "uploads", type: type)
        let publicKey = try key.hybridPublicKey()
        for size in [0, 1, 47, 48, 49, 1000] {
            let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let stream = try Self.stream(plaintext, to: publicKey, context: Data("upload-1".utf8))
            let header = try StreamHeader(parsing: stream)
            #expect(header.encapsulatedKeyLength == HybridSuite.encapsulatedKeyLength(type))
            #expect(header.keyID == key.id && header.keyVersion == 1)
            #expect(try Self.open(stream, with: key, context: Data("upload-1".utf8)) == plaintext)
        }
        let plaintext = Data((0..<300).map { UInt8(truncatingIfNeeded: $0) })
        let stream = try Self.stream(plaintext, to: publicKey, context: Data("upload-1".utf8))
        expectCode(.wrongContext) { try Self.open(stream, with: key, context: Data("upload-2".utf8)) }
        // The last segment dropped: the stream was cut short.
        let header = try StreamHeader(parsing: stream)
        let bodyStart = StreamHeader.length + header.encapsulatedKeyLength
        let cut = stream.prefix(bodyStart + 64 * ((stream.count - bodyStart) / 64 - 1))
        expectCode(.streamTruncated) { try Self.open(Data(cut), with: key, context: Data("upload-1".utf8)) }
        // A flipped bit anywhere past the routing fields (context check, segment size, salt,
        // nonce prefix, the encapsulated key, any segment) is refused.
        // (Byte 15 is the segment size's low byte: 64 -> 65 is a valid size, refused only because it is bound.)
        for index in [10, 15, 20, 50, StreamHeader.length, StreamHeader.length + 5, bodyStart - 1, bodyStart, stream.count - 1] {
            var altered = stream
            altered[index] ^= 0x01
            #expect(throws: BulwarkError.self) { try Self.open(altered, with: key, context: Data("upload-1".utf8)) }
        }
        // Another key; keys with the same id but another type (a symmetric key, another hybrid type).
        expectCode(.unknownKey) { try Self.open(stream, with: try Keyset.generate(name: "x", type: type), context: Data("upload-1".utf8)) }
        let symmetric = try Self.sameID(as: key, type: .aes256GCM)
        expectCode(.authenticationFailed) { try symmetric.makeStreamDecryptor(header: header, context: Data("upload-1".utf8)) }
        let otherType = try Self.sameID(as: key, type: type == .hpkeX25519 ? .hpkeP256 : .hpkeX25519)
        expectCode(.authenticationFailed) { try Self.open(stream, with: otherType, context: Data("upload-1".utf8)) }
        expectCode(.wrongPurpose) { try symmetric.makeHybridStreamDecryptor(header: header, encapsulatedKey: Data(), context: Data()) }
        expectCode(.wrongPurpose) { try key.makeStreamEncryptor(context: Data()) }
        expectCode(.invalidArgument) { try publicKey.makeStreamEncryptor(context: Data(), segmentSize: 16) }
    }

    /// A keyset with `key`'s id but a fresh version of `type` (as an attacker's or a mix-up's).
    static func sameID(as key: Keyset, type: KeyType) throws -> Keyset {
        let fresh = try Keyset.generate(name: "twin", type: type)
        return Keyset(
            name: "twin", id: key.id, type: type, createdAt: fresh.createdAt, isExportable: false, primaryVersion: 1,
            minimumDecryptionVersion: 1, rotationPeriod: nil, versions: fresh.versions)
    }

    @Test("X25519 keys and encapsulated keys of small order, and non-canonical keys, are refused (RFC 9180 §7.1.4)")
    func smallOrder() throws {
        let p: [UInt8] = [0xed] + [UInt8](repeating: 0xff, count: 30) + [0x7f]
        var weak: [Data] = [
            Data(count: 32), Data([1] + [UInt8](repeating: 0, count: 31)),
            Data(hex: "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            Data(hex: "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            Data([0xec] + p.dropFirst()), Data(p), Data([0xee] + p.dropFirst()),
        ]
        // The same with the top bit set (X25519 ignores it).
        weak += weak.map { var bytes = $0; bytes[31] |= 0x80; return bytes }
        for bytes in weak {
            expectCode(.invalidArgument) { try HybridPublicKey(type: .hpkeX25519, keyID: 7, version: 1, rawRepresentation: bytes) }
        }
        // Non-canonical: the top bit set, or u >= p.
        let key = try Keyset.generate(name: "inbound", type: .hpkeX25519)
        var high = try key.hybridPublicKey().rawRepresentation
        high[31] |= 0x80
        expectCode(.invalidArgument) { try HybridPublicKey(type: .hpkeX25519, keyID: key.id, version: 1, rawRepresentation: high) }
        expectCode(.invalidArgument) { try HybridPublicKey(type: .hpkeX25519, keyID: 7, version: 1, rawRepresentation: Data([0xef] + p.dropFirst())) }
        #expect(HybridSuite.isCanonicalX25519(Data([0xec] + p.dropFirst())))
        // A message whose encapsulated key is of small order is refused by its holder.
        let message = try key.hybridEncrypt(Data("x".utf8), context: Data())
        for bytes in weak {
            let forged = message.prefix(10) + bytes + message.dropFirst(42)
            expectCode(.authenticationFailed) { try key.hybridDecrypt(Data(forged), context: Data()) }
        }
        // Python cryptography refuses the same points.
        let script = "import sys\nfrom cryptography.hazmat.primitives.asymmetric import x25519\nk = x25519.X25519PrivateKey.generate()\nfor h in sys.argv[1:]:\n    try:\n        k.exchange(x25519.X25519PublicKey.from_public_bytes(bytes.fromhex(h))); print('accepted')\n    except Exception:\n        print('refused')\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + weak.map(\.hex)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let answers = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        process.waitUntilExit()
        #expect(answers.count == weak.count && answers.allSatisfy { $0 == "refused" })
    }

    @Test("Public keys of versions below a minimum, disabled or destroyed are not handed out; destroyed versions do not decrypt")
    func versionsHandedOut() throws {
        var key = try Keyset.generate(name: "inbound", type: .hpkeX25519)
        let message = try key.hybridEncrypt(Data("v1".utf8), context: Data())
        let stream = try Self.stream(Data("v1 stream".utf8), to: try key.hybridPublicKey(), context: Data())
        try key.rotate()
        try key.rotate()
        try key.setMinimumEncryptionVersion(2)
        expectCode(.keyVersionBelowMinimum) { try key.hybridPublicKey(version: 1) }
        #expect(try key.hybridPublicKey(version: 2).version == 2)
        try key.setMinimumEncryptionVersion(0)
        try key.setMinimumDecryptionVersion(2)
        expectCode(.keyVersionBelowMinimum) { try key.hybridPublicKey(version: 1) }
        try key.setMinimumDecryptionVersion(1)
        try key.disable(version: 2)
        expectCode(.keyVersionDisabled) { try key.hybridPublicKey(version: 2) }
        try key.destroy(version: 1)
        expectCode(.keyVersionDestroyed) { try key.hybridPublicKey(version: 1) }
        expectCode(.keyVersionDestroyed) { try key.hybridDecrypt(message, context: Data()) }
        expectCode(.keyVersionDestroyed) { try Self.open(stream, with: key, context: Data()) }
        #expect(try key.hybridPublicKey().version == 3)
    }

    @Test("A stream made before a rotation still opens after it; the public key's text form round-trips")
    func streamRotationAndText() throws {
        var key = try Keyset.generate(name: "uploads", type: .hpkeP256)
        let old = try key.hybridPublicKey()
        let stream = try Self.stream(Data("before".utf8), to: old, context: Data())
        try key.rotate()
        #expect(try Self.open(stream, with: key, context: Data()) == Data("before".utf8))
        let text = try key.hybridPublicKey().text
        #expect(text.hasPrefix("bwpk1:"))
        let parsed = try HybridPublicKey(text: "  " + text + "\n")
        #expect(parsed == (try key.hybridPublicKey()) && parsed.version == 2)
        #expect(try key.hybridDecrypt(try parsed.encrypt(Data("to v2".utf8), context: Data()), context: Data()) == Data("to v2".utf8))
        for bad in ["", "bwpk1:", "bwpk1:AAAA", "bw1:" + text.dropFirst(6), String(text.dropLast(4)), text.replacingOccurrences(of: "bwpk1:M", with: "bwpk1:A")] {
            expectCode(.invalidFormat) { try HybridPublicKey(text: bad) }
        }
    }

    // MARK: - RFC 9180's vectors, through the HPKE implementation the keys use

    @Test("RFC 9180 Appendix A: base-mode vectors of DHKEM(X25519) and DHKEM(P-256) open as published")
    func rfc9180() throws {
        let file = try JSONSerialization.jsonObject(with: try vectorData("hpke_rfc9180.json")) as? [String: Any]
        let vectors = try #require(file?["vectors"] as? [[String: Any]])
        var checked = 0
        for vector in vectors where (vector["mode"] as? Int) == 0 {
            let kem = vector["kem_id"] as? Int, kdf = vector["kdf_id"] as? Int, aead = vector["aead_id"] as? Int
            // RFC 9180 §7.2 and §7.3 ids.
            let kdfs: [Int: HPKE.KDF] = [1: .HKDF_SHA256, 2: .HKDF_SHA384, 3: .HKDF_SHA512]
            let aeads: [Int: HPKE.AEAD] = [1: .AES_GCM_128, 2: .AES_GCM_256, 3: .chaChaPoly]
            guard let suiteKDF = kdf.flatMap({ kdfs[$0] }), let suiteAEAD = aead.flatMap({ aeads[$0] }) else {
                Issue.record("unknown KDF or AEAD id in \(vector["suite_name"] ?? "")")
                continue
            }
            let info = Data(hex: try #require(vector["info"] as? String))
            let enc = Data(hex: try #require(vector["enc"] as? String))
            let skR = Data(hex: try #require(vector["skRm"] as? String))
            let pkR = Data(hex: try #require(vector["pkRm"] as? String))
            let encryptions = try #require(vector["encryptions"] as? [[String: Any]])
            let exports = try #require(vector["exports"] as? [[String: Any]])
            // A recipient's sequence number advances only on success, so the published messages
            // with sequence numbers 0, 1 and 2 are opened in order; the later ones (4, 255, 256)
            // need the messages in between, which the RFC does not publish. The exported secrets
            // check the key schedule as a whole.
            func check(_ recipient: inout HPKE.Recipient) throws {
                var opened = 0
                for encryption in encryptions where (encryption["sequence_number"] as? Int) == opened {
                    let aad = Data(hex: try #require(encryption["aad"] as? String))
                    let ct = Data(hex: try #require(encryption["ct"] as? String))
                    let pt = Data(hex: try #require(encryption["pt"] as? String))
                    #expect(try recipient.open(ct, authenticating: aad) == pt, "\(vector["suite_name"] ?? "") seq \(opened)")
                    opened += 1
                }
                #expect(opened == 3)
                for export in exports {
                    let context = Data(hex: try #require(export["exporter_context"] as? String))
                    let length = try #require(export["L"] as? Int)
                    let value = Data(hex: try #require(export["exported_value"] as? String))
                    #expect(try recipient.exportSecret(context: context, outputByteCount: length).withUnsafeBytes { Data($0) } == value)
                }
            }
            if kem == 32 {
                let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: skR)
                #expect(key.publicKey.rawRepresentation == pkR)
                var recipient = try HPKE.Recipient(
                    privateKey: key, ciphersuite: HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: suiteKDF, aead: suiteAEAD), info: info, encapsulatedKey: enc)
                try check(&recipient)
            } else {
                let key = try P256.KeyAgreement.PrivateKey(rawRepresentation: skR)
                #expect(key.publicKey.x963Representation == pkR)
                var recipient = try HPKE.Recipient(
                    privateKey: key, ciphersuite: HPKE.Ciphersuite(kem: .P256_HKDF_SHA256, kdf: suiteKDF, aead: suiteAEAD), info: info, encapsulatedKey: enc)
                try check(&recipient)
            }
            checked += 1
        }
        #expect(checked == 5)
    }

    // MARK: - Auth mode

    @Test("Auth mode: only the named sender's messages open, only in auth mode; KEMs must match; X-Wing has none",
          arguments: [KeyType.hpkeX25519, .hpkeP256, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305])
    func authMode(type: KeyType) throws {
        let recipient = try Keyset.generate(name: "inbound", type: type)
        let sameKEM: KeyType = [.hpkeX25519, .hpkeX25519ChaCha20Poly1305].contains(type) ? .hpkeX25519 : .hpkeP256ChaCha20Poly1305
        let sender = try Keyset.generate(name: "branch-7", type: sameKEM)
        let impostor = try Keyset.generate(name: "impostor", type: sameKEM)
        let context = Data("order=42".utf8)
        let message = try sender.hybridEncrypt(Data("card 4111".utf8), to: try recipient.hybridPublicKey(), context: context)
        #expect(try recipient.hybridDecrypt(message, context: context, from: try sender.hybridPublicKey()) == Data("card 4111".utf8))
        // Another sender, base mode, another context, any altered byte: refused alike.
        expectCode(.authenticationFailed) { try recipient.hybridDecrypt(message, context: context, from: try impostor.hybridPublicKey()) }
        expectCode(.authenticationFailed) { try recipient.hybridDecrypt(message, context: context) }
        expectCode(.authenticationFailed) { try recipient.hybridDecrypt(message, context: Data("order=43".utf8), from: try sender.hybridPublicKey()) }
        let base = try recipient.hybridPublicKey().encrypt(Data("anyone".utf8), context: context)
        expectCode(.authenticationFailed) { try recipient.hybridDecrypt(base, context: context, from: try sender.hybridPublicKey()) }
        for index in stride(from: 10, to: message.count, by: 7) {
            var altered = message
            altered[index] ^= 0x01
            #expect(throws: BulwarkError.self) { try recipient.hybridDecrypt(altered, context: context, from: try sender.hybridPublicKey()) }
        }
        // A sender of the other KEM, or of X-Wing, is refused before any HPKE work.
        let otherKEM = try Keyset.generate(name: "other", type: sameKEM == .hpkeX25519 ? .hpkeP256 : .hpkeX25519)
        expectCode(.invalidArgument) { try otherKEM.hybridEncrypt(Data(), to: try recipient.hybridPublicKey(), context: context) }
        expectCode(.invalidArgument) { try recipient.hybridDecrypt(message, context: context, from: try otherKEM.hybridPublicKey()) }
        let xwing = try Keyset.generate(name: "pq", type: .hpkeXWing)
        expectCode(.invalidArgument) { try xwing.hybridEncrypt(Data(), to: try xwing.hybridPublicKey(), context: context) }
        let pqMessage = try xwing.hybridPublicKey().encrypt(Data("pq".utf8), context: context)
        expectCode(.invalidArgument) { try xwing.hybridDecrypt(pqMessage, context: context, from: try xwing.hybridPublicKey()) }
        expectCode(.wrongPurpose) { try Keyset.generate(name: "aead", type: .aes256GCM).hybridEncrypt(Data(), to: try recipient.hybridPublicKey(), context: context) }
    }

    @Test("RFC 9180 Appendix A: auth-mode vectors (DHKEM(X25519) and DHKEM(P-256) with HKDF-SHA256) open through the keys' auth-mode recipient")
    func rfc9180AuthMode() throws {
        let file = try JSONSerialization.jsonObject(with: try vectorData("hpke_rfc9180.json")) as? [String: Any]
        let vectors = try #require(file?["vectors"] as? [[String: Any]])
        var checked = 0
        for vector in vectors where (vector["mode"] as? Int) == 2 && (vector["kdf_id"] as? Int) == 1 && (vector["aead_id"] as? Int) == 3 {
            // The ChaCha20-Poly1305 suites are exactly the `-chacha20-poly1305` key types.
            let type: KeyType = (vector["kem_id"] as? Int) == 32 ? .hpkeX25519ChaCha20Poly1305 : .hpkeP256ChaCha20Poly1305
            let key = try HybridPrivateKey(rawBytes: Data(hex: try #require(vector["skRm"] as? String)), type: type)
            #expect(key.publicKeyBytes == Data(hex: try #require(vector["pkRm"] as? String)))
            let sender = try HybridPublicKey(type: type, keyID: 1, version: 1, rawRepresentation: Data(hex: try #require(vector["pkSm"] as? String)))
            var recipient = try key.recipient(
                encapsulatedKey: Data(hex: try #require(vector["enc"] as? String)), info: Data(hex: try #require(vector["info"] as? String)), sender: sender)
            let encryptions = try #require(vector["encryptions"] as? [[String: Any]])
            var opened = 0
            for encryption in encryptions where (encryption["sequence_number"] as? Int) == opened {
                let aad = Data(hex: try #require(encryption["aad"] as? String))
                #expect(try recipient.open(Data(hex: try #require(encryption["ct"] as? String)), authenticating: aad)
                    == Data(hex: try #require(encryption["pt"] as? String)))
                opened += 1
            }
            #expect(opened == 3)
            // The same message with no sender (base mode) does not open.
            var base = try key.recipient(
                encapsulatedKey: Data(hex: try #require(vector["enc"] as? String)), info: Data(hex: try #require(vector["info"] as? String)))
            #expect(throws: (any Error).self) {
                try base.open(Data(hex: try #require(encryptions.first?["ct"] as? String)), authenticating: Data(hex: try #require(encryptions.first?["aad"] as? String)))
            }
            checked += 1
        }
        #expect(checked == 2)
    }

    // MARK: - Python cryptography's HPKE, both ways

    /// Python (`cryptography` ≥ 48, its single-shot HPKE with `info`) opens Bulwark's messages
    /// and makes messages Bulwark opens, for each hybrid type.
    @Test("Interoperates both ways with Python cryptography's HPKE", arguments: types)
    func pythonInterop(type: KeyType) throws {
        let key = try Keyset.generate(name: "inbound", type: type)
        let publicKey = try key.hybridPublicKey()
        guard case .hybrid(let privateKey)? = key.versions[0].material else {
            Issue.record("no hybrid material")
            return
        }
        let context = Data("tenant=7".utf8)
        let header = Data(EnvelopeHeader(algorithmID: type.wireID, keyID: key.id, keyVersion: 1).bytes(includingContextCheck: false))
        let ours = try publicKey.encrypt(Data("from swift ✓".utf8), context: context)
        let script = #"""
            import base64, hashlib, os, sys
            from cryptography.hazmat.primitives import hpke
            from cryptography.hazmat.primitives.asymmetric import x25519, ec, mlkem
            kind = os.environ["KIND"].removesuffix("-chacha20-poly1305")
            aead = hpke.AEAD.CHACHA20_POLY1305 if os.environ["KIND"].endswith("-chacha20-poly1305") else hpke.AEAD.AES_256_GCM
            b = lambda name: base64.b64decode(os.environ[name])
            kem = {"hpke-x25519": hpke.KEM.X25519, "hpke-p256": hpke.KEM.P256, "hpke-xwing": hpke.KEM.MLKEM768_X25519}[kind]
            suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, aead)
            secret, public = b("SK"), b("PK")
            if kind == "hpke-x25519":
                sk = x25519.X25519PrivateKey.from_private_bytes(secret)
                pk = x25519.X25519PublicKey.from_public_bytes(public)
            elif kind == "hpke-p256":
                sk = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1())
                pk = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
            else:
                # X-Wing's 32-byte seed expands (SHAKE256, 96 bytes) to ML-KEM-768's seed and X25519's key.
                expanded = hashlib.shake_256(secret).digest(96)
                sk = hpke.MLKEM768X25519PrivateKey(mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
                                                  x25519.X25519PrivateKey.from_private_bytes(expanded[64:]))
                pk = hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(public[:1184]),
                                                  x25519.X25519PublicKey.from_public_bytes(public[1184:]))
            header, context, message = b("HEADER"), b("CONTEXT"), b("MESSAGE")
            assert message[:10] == header
            print(suite.decrypt(message[10:], sk, info=header + context).decode())
            try:
                suite.decrypt(message[10:], sk, info=header + b"other")
                print("OPENED WITH A WRONG CONTEXT")
            except Exception:
                pass
            print(base64.b64encode(header + suite.encrypt("from python ✓".encode(), pk, info=header + context)).decode())
            """#
        let output = try FernetTests.python(script, environment: [
            "KIND": type.rawValue, "SK": privateKey.rawBytes.base64EncodedString(), "PK": publicKey.rawRepresentation.base64EncodedString(),
            "HEADER": header.base64EncodedString(), "CONTEXT": context.base64EncodedString(), "MESSAGE": ours.base64EncodedString(),
        ]).split(separator: "\n").map(String.init)
        #expect(output.count == 2)
        #expect(output.first == "from swift ✓")
        let theirs = try #require(Data(base64Encoded: output.last ?? ""))
        #expect(try key.hybridDecrypt(theirs, context: context) == Data("from python ✓".utf8))
        expectCode(.authenticationFailed) { try key.hybridDecrypt(theirs, context: Data("tenant=8".utf8)) }
    }
}
