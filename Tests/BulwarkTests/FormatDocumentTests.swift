import Crypto
import Foundation
import Testing

@testable import Bulwark

/// Checks the worked examples in docs/FORMAT.md (computed by scripts/format_examples.py with
/// Python's `cryptography`) against Bulwark.
@Suite("docs/FORMAT.md worked examples")
struct FormatDocumentTests {
    static func example(_ name: String) throws -> [String: String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)
        let marker = try #require(text.range(of: "<!-- example:\(name) -->"))
        let rest = text[marker.upperBound...]
        let open = try #require(rest.range(of: "```\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        var fields: [String: String] = [:]
        for line in rest[open.upperBound..<close.lowerBound].split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    static func keyset(key: Data, id: UInt32, version: UInt32) throws -> Keyset {
        var versions: [KeyVersion] = []
        for number in 1...version {
            let material: KeyMaterial = number == version ? .symmetric(SymmetricKey(data: key)) : try .generate(for: .aes256GCM)
            versions.append(try KeyVersion(number: number, status: .enabled, createdAt: Date(), material: material, type: .aes256GCM))
        }
        return Keyset(
            name: "example", id: id, type: .aes256GCM, createdAt: Date(), isExportable: false, primaryVersion: version,
            minimumDecryptionVersion: 1, rotationPeriod: nil, versions: versions)
    }

    static func hex(_ text: String?) throws -> Data {
        Data(hex: try #require(text).replacingOccurrences(of: " ", with: ""))
    }

    @Test("Field envelope example")
    func envelope() throws {
        let fields = try Self.example("envelope")
        let envelope = try Self.hex(fields["envelope"])
        let idText = try #require(fields["key-id"])
        let versionText = try #require(fields["key-version"])
        let key = try Self.keyset(
            key: try Self.hex(fields["key"]), id: try #require(UInt32(idText)), version: try #require(UInt32(versionText)))
        let context = Data(try #require(fields["context"]).utf8)
        #expect(try key.decrypt(envelope, context: context) == Data(try #require(fields["plaintext"]).utf8))
        #expect(envelope == (try Self.hex(fields["header"])) + (try Self.hex(fields["nonce"])) + (try Self.hex(fields["ciphertext"])) + (try Self.hex(fields["tag"])))
        let header = try EnvelopeHeader(peeking: envelope)
        #expect(header.keyID == key.id && header.keyVersion == 3 && header.algorithmID == 0x01)
        let check = context.withUnsafeBytes { EnvelopeHeader.contextCheck($0) }
        #expect(header.contextCheck == check)
        #expect(EnvelopeText.encode(envelope) == fields["text"])
        #expect(try EnvelopeText.decode(try #require(fields["text"])) == envelope)
        // Bulwark's own output has the same shape.
        let own = try key.encrypt(Data(try #require(fields["plaintext"]).utf8), context: context)
        #expect(own.count == envelope.count && own.prefix(12) == envelope.prefix(12))
    }

    @Test("Stream example")
    func stream() throws {
        let fields = try Self.example("stream")
        let header = try StreamHeader(parsing: try Self.hex(fields["header"]))
        let key = try Self.keyset(key: try Self.hex(fields["key"]), id: header.keyID, version: header.keyVersion)
        var decryptor = try key.makeStreamDecryptor(header: header, context: Data(try #require(fields["context"]).utf8))
        var plaintext = try decryptor.openSegment(try Self.hex(fields["segment0"]), isFinal: false)
        plaintext += try decryptor.openSegment(try Self.hex(fields["segment1"]), isFinal: true)
        #expect(plaintext == (try Self.hex(fields["plaintext"])))
        #expect(header.segmentSize == 64)
        #expect(header.bytes == (try Self.hex(fields["header"])))
    }
}
