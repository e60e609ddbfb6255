import Foundation
import Testing

@testable import Bulwark

@Suite("Streaming AEAD")
struct StreamTests {
    static let segmentSize = 64
    static let plain = segmentSize - 16

    /// Encrypts `plaintext` as a list of segments (header first).
    static func encrypt(_ plaintext: Data, key: Keyset, context: Data = Data("ctx".utf8)) throws -> (Data, [Data]) {
        var encryptor = try key.makeStreamEncryptor(context: context, segmentSize: segmentSize)
        var segments: [Data] = []
        var offset = 0
        repeat {
            let end = min(offset + plain, plaintext.count)
            let isFinal = end == plaintext.count
            segments.append(try encryptor.sealSegment(plaintext[offset..<end], isFinal: isFinal))
            offset = end
            if isFinal { break }
        } while true
        return (encryptor.header, segments)
    }

    /// Decrypts a serialised stream as the file driver does: segments of `segmentSize`, the
    /// last one being whatever remains.
    static func decrypt(_ stream: Data, key: Keyset, context: Data = Data("ctx".utf8)) throws -> Data {
        let header = try StreamHeader(parsing: stream)
        var decryptor = try key.makeStreamDecryptor(header: header, context: context)
        var body = stream.dropFirst(StreamHeader.length)
        guard !body.isEmpty else { throw BulwarkError(.streamTruncated, "no segments") }
        var out = Data()
        while !body.isEmpty {
            let chunk = body.prefix(header.segmentSize)
            body = body.dropFirst(chunk.count)
            out.append(try decryptor.openSegment(chunk, isFinal: body.isEmpty))
        }
        return out
    }

    @Test("Sizes around segment edges round-trip", arguments: [0, 1, plain - 1, plain, plain + 1, 2 * plain, 2 * plain + 1, 10 * plain - 3])
    func sizes(length: Int) throws {
        let key = try Keyset.generate(name: "files")
        let plaintext = Data(SecureRandom.bytes(length))
        let (header, segments) = try Self.encrypt(plaintext, key: key)
        #expect(segments.count == max(1, (length + Self.plain - 1) / Self.plain) + (length > 0 && length % Self.plain == 0 ? 0 : 0))
        let stream = header + segments.reduce(Data(), +)
        #expect(try Self.decrypt(stream, key: key) == plaintext)
    }

    @Test("Truncated, reordered, duplicated and extended streams are rejected")
    func structuralAttacks() throws {
        let key = try Keyset.generate(name: "files")
        let plaintext = Data(SecureRandom.bytes(4 * Self.plain + 10))
        let (header, s) = try Self.encrypt(plaintext, key: key)
        #expect(s.count == 5)
        // Dropping the final segment: the last full one was not sealed as final.
        expectCode(.streamTruncated) { try Self.decrypt(header + s[0] + s[1] + s[2] + s[3], key: key) }
        expectCode(.streamTruncated) { try Self.decrypt(header, key: key) }
        // Cut inside a segment.
        let whole = header + s.reduce(Data(), +)
        #expect(throws: BulwarkError.self) { try Self.decrypt(whole.prefix(whole.count - 5), key: key) }
        #expect(throws: BulwarkError.self) { try Self.decrypt(whole.prefix(StreamHeader.length + 70), key: key) }
        // Reordered and duplicated.
        expectCode(.authenticationFailed) { try Self.decrypt(header + s[1] + s[0] + s[2] + s[3] + s[4], key: key) }
        expectCode(.authenticationFailed) { try Self.decrypt(header + s[0] + s[0] + s[1] + s[2] + s[3] + s[4], key: key) }
        // Appended data after the final segment, and a segment from another stream.
        #expect(throws: BulwarkError.self) { try Self.decrypt(whole + Data([0]), key: key) }
        #expect(throws: BulwarkError.self) { try Self.decrypt(whole + s[4], key: key) }
        let (_, other) = try Self.encrypt(plaintext, key: key)
        expectCode(.authenticationFailed) { try Self.decrypt(header + s[0] + other[1] + s[2] + s[3] + s[4], key: key) }
        // Wrong context.
        expectCode(.wrongContext) { try Self.decrypt(whole, key: key, context: Data("other".utf8)) }
    }

    @Test("Every single-bit flip of the header and of a segment is rejected")
    func bitFlipsRejected() throws {
        let key = try Keyset.generate(name: "files")
        let (header, segments) = try Self.encrypt(Data(SecureRandom.bytes(Self.plain + 5)), key: key)
        let stream = header + segments[0] + segments[1]
        for flipped in bitFlips(stream) {
            #expect(throws: BulwarkError.self) { try Self.decrypt(flipped, key: key) }
        }
    }

    @Test("The key version that wrote a stream decrypts it after rotation; destroyed versions do not")
    func versions() throws {
        var key = try Keyset.generate(name: "files")
        let plaintext = Data("backup".utf8)
        let (header, segments) = try Self.encrypt(plaintext, key: key)
        try key.rotate()
        let stream = header + segments.reduce(Data(), +)
        #expect(try StreamHeader(parsing: stream).keyVersion == 1)
        #expect(try Self.decrypt(stream, key: key) == plaintext)
        try key.destroy(version: 1)
        expectCode(.keyVersionDestroyed) { try Self.decrypt(stream, key: key) }
        expectCode(.invalidArgument) { try key.makeStreamEncryptor(context: Data(), segmentSize: 10) }
    }
}
