import Crypto
import Foundation
import Testing

@testable import Bulwark

/// age v1 (c2sp.org/age) files to X25519 recipients: the testkit's vectors, BIP 173's Bech32
/// vectors, round trips across chunk edges, tampering, and two other implementations (the Go `age`
/// command and rage through Python `pyrage`) in both directions.
@Suite("age files (c2sp.org/age)")
struct AgeTests {
    // MARK: - Encodings

    @Test("Bech32: BIP 173's valid strings decode and re-encode, its invalid ones are refused; the spec's identity gives its recipient")
    func bech32() throws {
        // BIP 173, "Test vectors": valid Bech32 strings (any data length).
        for valid in [
            "A12UEL5L", "a12uel5l", "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl",
        ] {
            let decoded = try #require(Bech32.decode(valid), "\(valid)")
            // The 8-bit round trip is exact only where the data is whole bytes; the checksum always holds.
            if valid.lowercased().hasPrefix("abcdef") { #expect(Bech32.encode(hrp: decoded.hrp, data: decoded.data) == valid.lowercased()) }
        }
        // BIP 173: invalid strings (HRP characters out of range, no separator, empty HRP, bad
        // data character, short checksum, checksum over an uppercase HRP, mixed case).
        for invalid in ["\u{20}1nwldj5", "\u{7F}1axkwrx", "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "A1G7SGD8", "10a06t8", "1qzzfhee", "a12UEL5L"] {
            #expect(Bech32.decode(invalid) == nil, "\(invalid)")
        }
        // c2sp.org/age's example identity and recipient.
        let identity = try AgeIdentity(text: "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
        #expect(identity.recipient.text == "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")
        #expect(identity.secretText(access: .token) == "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
        #expect(try AgeRecipient(text: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj") == identity.recipient)
        expectCode(.invalidFormat) { try AgeRecipient(text: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk") }
        expectCode(.invalidFormat) { try AgeIdentity(text: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj") }
        // A recipient of small order would let anyone read the file.
        expectCode(.invalidFormat) { try AgeRecipient(text: Bech32.encode(hrp: "age", data: [UInt8](repeating: 0, count: 32))) }
        // age's base64: unpadded and canonical only.
        #expect(AgeBase64.decode("AAAA") == Data([0, 0, 0]))
        #expect(AgeBase64.decode("AA==") == nil && AgeBase64.decode("AB") == nil && AgeBase64.decode("AA") == Data([0]))
    }

    // MARK: - The testkit

    @Test("The age testkit's vectors: successes decrypt to their payload, failures fail as the testkit says")
    func testkit() throws {
        let file = try #require(try JSONSerialization.jsonObject(with: try vectorData("age_testkit.json")) as? [String: Any])
        let payload = Data(hex: try #require(file["payload_hex"] as? String))
        let vectors = try #require(file["vectors"] as? [[String: Any]])
        #expect(vectors.count == 7)
        for vector in vectors {
            let name = vector["name"] as? String ?? ""
            let identity = try AgeIdentity(text: try #require(vector["identity"] as? String))
            let input: Data
            if let armored = vector["armored"] as? String {
                input = Data(armored.utf8)
            } else {
                input = Data(try #require(vector["header"] as? String).utf8) + payload
            }
            var decryptor = try AgeDecryptor(identities: [identity])
            let result = Result { try decryptor.update(input) + decryptor.finish() }
            switch vector["expect"] as? String {
            case "success":
                let plaintext = try result.get()
                #expect(Data(SHA256.hash(data: plaintext)) == Data(hex: vector["payload_sha256"] as? String ?? ""), "\(name)")
            case "no match":
                #expect(throws: BulwarkError(.unknownKey, "")) { try result.get() }
            default:
                #expect(throws: BulwarkError(.invalidFormat, ""), "\(name)") { try result.get() }
            }
            // Fed a byte at a time, the same outcome.
            var byByte = try AgeDecryptor(identities: [identity])
            let stepped = Result { () throws -> Data in
                var out = Data()
                for byte in input { out += try byByte.update([byte]) }
                return out + (try byByte.finish())
            }
            #expect((try? stepped.get()) == (try? result.get()), "\(name)")
        }
        // The x25519 vector's file key, as published, is what the stanza wraps.
        let identity = try AgeIdentity(text: "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6")
        let share = try #require(AgeBase64.decode("TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc"))
        let body = try #require(AgeBase64.decode("EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U"))
        let unwrapped = try identity.unwrap(share: share, body: body)
        let key = try #require(unwrapped)
        #expect(key.withUnsafeBytes { Data($0) } == Data(hex: "59454c4c4f57205355424d4152494e45"))
    }

    // MARK: - Round trips and tampering

    static func encrypt(_ plaintext: Data, to recipients: [AgeRecipient], armored: Bool = false, pieces: Int = 7_777) throws -> Data {
        var encryptor = try AgeEncryptor(recipients: recipients, armored: armored)
        var out = encryptor.prefix
        var index = plaintext.startIndex
        while index < plaintext.endIndex {
            let end = min(index + pieces, plaintext.endIndex)
            out += try encryptor.update(plaintext[index..<end])
            index = end
        }
        return out + (try encryptor.finish())
    }

    static func decrypt(_ file: Data, with identities: [AgeIdentity], pieces: Int = 5_001) throws -> Data {
        var decryptor = try AgeDecryptor(identities: identities)
        var out = Data()
        var index = file.startIndex
        while index < file.endIndex {
            let end = min(index + pieces, file.endIndex)
            out += try decryptor.update(file[index..<end])
            index = end
        }
        return out + (try decryptor.finish())
    }

    @Test("Round trips across chunk edges, one or three recipients, binary and armored, fed in odd pieces", arguments: [false, true])
    func roundTrips(armored: Bool) throws {
        let identities = (0..<3).map { _ in AgeIdentity.generate() }
        for size in [0, 1, 65_535, 65_536, 65_537, 3 * 65_536, 3 * 65_536 + 5] {
            let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            let file = try Self.encrypt(plaintext, to: identities.map(\.recipient), armored: armored)
            for identity in identities {
                #expect(try Self.decrypt(file, with: [identity]) == plaintext, "\(size)")
            }
            let single = try Self.encrypt(plaintext, to: [identities[0].recipient], armored: armored)
            expectCode(.unknownKey) { try Self.decrypt(single, with: [identities[1]]) }
            if armored {
                let text = String(decoding: file, as: UTF8.self)
                #expect(text.hasPrefix("-----BEGIN AGE ENCRYPTED FILE-----\n") && text.hasSuffix("-----END AGE ENCRYPTED FILE-----\n"))
                #expect(text.split(separator: "\n").allSatisfy { $0.count <= 64 })
            }
        }
    }

    @Test("Altered headers, chunks and lengths are refused; a share of small order aborts; scrypt is named")
    func tampering() throws {
        let identity = AgeIdentity.generate()
        let plaintext = Data(repeating: 0x5A, count: 2 * 65_536)
        let file = try Self.encrypt(plaintext, to: [identity.recipient])
        let headerLength = try #require(AgeHeader.length(in: file))
        // Every region: the stanza's share, its body, the MAC, the nonce, each chunk and its tag.
        let macAt = headerLength - 10
        for offset in [30, headerLength - 60, macAt, headerLength + 3, headerLength + 16 + 100, headerLength + 16 + 65_552 + 5, file.count - 1] {
            var altered = file
            altered[offset] ^= 0x04
            #expect(throws: BulwarkError.self, "offset \(offset)") { try Self.decrypt(altered, with: [identity]) }
        }
        // Cut at a chunk boundary (the final chunk gone), cut inside one, extended, doubled.
        let sealedChunks = file.count - headerLength - 16
        #expect(sealedChunks == 65_552 * 2, "two full chunks, the second one final (as age writes it)")
        expectCode(.authenticationFailed) { try Self.decrypt(file.prefix(file.count - 65_552), with: [identity]) }
        expectCode(.authenticationFailed) { try Self.decrypt(file.prefix(file.count - 16), with: [identity]) }
        expectCode(.authenticationFailed) { try Self.decrypt(file.prefix(file.count - 100), with: [identity]) }
        expectCode(.authenticationFailed) { try Self.decrypt(file + Data([0]), with: [identity]) }
        expectCode(.streamTruncated) { try Self.decrypt(file.prefix(headerLength + 10), with: [identity]) }
        expectCode(.streamTruncated) { try Self.decrypt(file.prefix(headerLength - 5), with: [identity]) }
        // An X25519 stanza whose share has small order (shared secret all zero): abort.
        let header = String(decoding: file.prefix(headerLength), as: UTF8.self)
        let share = header.split(separator: "\n")[1].split(separator: " ")[2]
        let zero = AgeBase64.encode(Data(count: 32))
        let forged = Data(header.replacingOccurrences(of: String(share), with: zero).utf8) + file.dropFirst(headerLength)
        expectCode(.authenticationFailed) { try Self.decrypt(forged, with: [identity]) }
        // A passphrase file is named, not silently failed.
        let scrypt = Data("age-encryption.org/v1\n-> scrypt ajMFur+EJLGaohv/dLRGnw 18\n8SHBz/ldWnjyGFQqfjat6uNBarWqqEMDS7W8X7+Xq5Q\n--- \(zero.prefix(43))\n".utf8)
        expectCode(.invalidArgument) { try Self.decrypt(scrypt + Data(count: 40), with: [identity]) }
        // CR in the header, a version this does not read, garbage.
        expectCode(.invalidFormat) { try Self.decrypt(Data(header.replacingOccurrences(of: "\n-> ", with: "\r\n-> ").utf8) + file.dropFirst(headerLength), with: [identity]) }
        expectCode(.invalidFormat) { try Self.decrypt(Data("age-encryption.org/v2\n-> X\n\n--- \(zero.prefix(43))\n".utf8), with: [identity]) }
        expectCode(.invalidFormat) { try Self.decrypt(Data(repeating: 0x41, count: 2 << 20), with: [identity]) }
    }

    @Test("White space only around armor (ASCII, bounded); a decryptor is dead after an error or its end; CRLF identity files")
    func edges() throws {
        let identity = AgeIdentity.generate()
        let plaintext = Data("edges".utf8)
        let binary = try Self.encrypt(plaintext, to: [identity.recipient])
        let armored = try Self.encrypt(plaintext, to: [identity.recipient], armored: true)
        #expect(try Self.decrypt(Data(" \n\t\r\n".utf8) + armored + Data("\n\n  \n".utf8), with: [identity]) == plaintext)
        #expect(try Self.decrypt(Data(String(repeating: " ", count: 1024).utf8) + armored, with: [identity], pieces: 100) == plaintext)
        expectCode(.invalidFormat) { try Self.decrypt(Data(String(repeating: " ", count: 1025).utf8) + armored, with: [identity]) }
        expectCode(.invalidFormat) { try Self.decrypt(Data(String(repeating: "\n", count: 5_000_000).utf8), with: [identity], pieces: 1 << 20) }
        expectCode(.invalidFormat) { try Self.decrypt(Data(" ".utf8) + binary, with: [identity]) }
        expectCode(.invalidFormat) { try Self.decrypt(armored + Data("\u{A0}\n".utf8), with: [identity]) }
        expectCode(.invalidFormat) { try Self.decrypt(Data("\u{3000}\n".utf8) + armored, with: [identity]) }
        // After an error, nothing more is read; after finish, neither.
        var failed = try AgeDecryptor(identities: [AgeIdentity.generate()])
        expectCode(.unknownKey) { try failed.update(binary) }
        expectCode(.invalidArgument) { try failed.update(binary) }
        var done = try AgeDecryptor(identities: [identity])
        #expect(try done.update(binary) + done.finish() == plaintext)
        expectCode(.invalidArgument) { try done.update(Data()) }
        expectCode(.invalidArgument) { try done.finish() }
        // An identity file written on Windows.
        let file = "# created\r\n\(identity.secretText(access: .token))\r\n"
        #expect(try AgeIdentity.identities(in: file).map(\.recipient) == [identity.recipient])
    }

    @Test("age-x25519 keys in a keyset: recipients per version, rotation, minimum decryption version")
    func keysets() throws {
        var key = try Keyset.generate(name: "backups", type: .ageX25519)
        let first = try key.ageRecipient()
        let old = try Self.encrypt(Data("v1".utf8), to: [first])
        try key.rotate()
        let second = try key.ageRecipient()
        let again = try key.ageRecipient(version: 1)
        #expect(first != second && again == first)
        let new = try Self.encrypt(Data("v2".utf8), to: [second])
        #expect(try Self.decrypt(old, with: try key.ageIdentities()) == Data("v1".utf8))
        #expect(try Self.decrypt(new, with: try key.ageIdentities()) == Data("v2".utf8))
        try key.setMinimumDecryptionVersion(2)
        expectCode(.unknownKey) { try Self.decrypt(old, with: try key.ageIdentities()) }
        expectCode(.keyVersionBelowMinimum) { try key.ageRecipient(version: 1) }
        let hybrid = try Keyset.generate(name: "h", type: .hpkeX25519)
        expectCode(.wrongPurpose) { try hybrid.ageIdentities() }
        expectCode(.wrongPurpose) { try key.hybridPublicKey() }
    }

    // MARK: - Other implementations

    @Test("The age command (Go) and rage (Python pyrage) open Bulwark's files, binary and armored, and Bulwark opens theirs")
    func interoperates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("age-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = AgeIdentity.generate()
        let keyFile = directory.appendingPathComponent("key.txt")
        try Data(("# bulwark test\n" + ours.secretText(access: .token) + "\n").utf8).write(to: keyFile)
        let plaintext = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try plaintext.write(to: directory.appendingPathComponent("plain"))
        for armored in [false, true] {
            // Bulwark → age and rage.
            let file = directory.appendingPathComponent("ours\(armored ? ".asc" : ".age")")
            try Self.encrypt(plaintext, to: [ours.recipient], armored: armored).write(to: file)
            #expect(try Self.run("age", ["-d", "-i", keyFile.path, file.path]) == plaintext)
            #expect(try Self.run("python3", ["-c", Self.rage, "decrypt", keyFile.path, file.path]) == plaintext)
            // age and rage → Bulwark.
            let theirs = directory.appendingPathComponent("theirs")
            _ = try Self.run("age", ["-r", ours.recipient.text] + (armored ? ["-a"] : []) + ["-o", theirs.path, directory.appendingPathComponent("plain").path])
            #expect(try Self.decrypt(try Data(contentsOf: theirs), with: [ours]) == plaintext)
            let fromRage = try Self.run("python3", ["-c", Self.rage, "encrypt", ours.recipient.text, directory.appendingPathComponent("plain").path, armored ? "armor" : "binary"])
            #expect(try Self.decrypt(fromRage, with: [ours]) == plaintext)
        }
        // age-keygen's identity file reads, and its recipient matches.
        let generated = directory.appendingPathComponent("generated.txt")
        _ = try Self.run("age-keygen", ["-o", generated.path])
        let text = try String(contentsOf: generated, encoding: .utf8)
        let identities = try AgeIdentity.identities(in: text)
        #expect(identities.count == 1 && text.contains("# public key: \(identities[0].recipient.text)"))
        expectCode(.invalidFormat) { try AgeIdentity.identities(in: "# only a comment\n") }
        expectCode(.invalidFormat) { try AgeIdentity.identities(in: "AGE-SECRET-KEY-1NOTAKEY\n") }
    }

    /// pyrage (rage's Rust implementation): `decrypt KEYFILE FILE` or `encrypt RECIPIENT FILE armor|binary`, to standard output.
    static let rage = #"""
        import sys, pyrage
        from pyrage import x25519
        mode = sys.argv[1]
        if mode == "decrypt":
            keys = [x25519.Identity.from_str(l.strip()) for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
            data = open(sys.argv[3], "rb").read()
            sys.stdout.buffer.write(pyrage.decrypt(data, keys))
        else:
            data = open(sys.argv[3], "rb").read()
            sys.stdout.buffer.write(pyrage.encrypt(data, [x25519.Recipient.from_str(sys.argv[2])], armored=sys.argv[4] == "armor"))
        """#

    static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        try runTool(tool, arguments)
    }
}
