public import Foundation

/// Encrypts a stream segment by segment with constant memory.
///
/// Write ``header`` first, then each segment's output in order. Every segment but the last
/// holds exactly ``plaintextSegmentSize`` bytes of plaintext; the last (possibly empty) one is
/// sealed with `isFinal: true`, so truncation, reordering, duplication and appended data are
/// detected on decryption.
public struct StreamEncryptor: Sendable {
    private let cipher: StreamSegmentCipher
    private var nextIndex: UInt32 = 0
    private var finished = false

    /// What follows the header before the first segment: a hybrid stream's encapsulated key.
    private let encapsulatedKey: Data

    /// The stream header to write before the first segment (for a stream encrypted to a public
    /// key, followed by its HPKE encapsulated key: ``StreamHeader/encapsulatedKeyLength`` bytes).
    public var header: Data { self.cipher.header.bytes + self.encapsulatedKey }
    /// The plaintext bytes of every segment but the last.
    public var plaintextSegmentSize: Int { self.cipher.header.plaintextSegmentSize }
    /// The ciphertext bytes of every segment but the last.
    public var segmentSize: Int { self.cipher.header.segmentSize }

    init(cipher: StreamSegmentCipher, encapsulatedKey: Data = Data()) {
        self.cipher = cipher
        self.encapsulatedKey = encapsulatedKey
    }

    /// Seals one segment into `output`, which must hold `plaintext.count + 16` bytes.
    /// - Parameters:
    ///   - plaintext: Exactly ``plaintextSegmentSize`` bytes, or fewer for the final segment.
    ///   - isFinal: Whether this is the last segment.
    ///   - output: Where the ciphertext segment is written.
    public mutating func sealSegment(
        _ plaintext: UnsafeRawBufferPointer, isFinal: Bool, into output: UnsafeMutableRawBufferPointer
    ) throws {
        guard !self.finished else {
            throw BulwarkError(.invalidArgument, "the stream was already finished")
        }
        guard isFinal ? plaintext.count <= self.plaintextSegmentSize : plaintext.count == self.plaintextSegmentSize,
            output.count == plaintext.count + 16
        else {
            throw BulwarkError(.invalidArgument, "a stream segment has the wrong size")
        }
        guard self.nextIndex < UInt32.max else {
            throw BulwarkError(.invalidArgument, "the stream is too long for its segment size")
        }
        try self.cipher.seal(index: self.nextIndex, final: isFinal, plaintext: plaintext, output: output)
        self.nextIndex += 1
        self.finished = isFinal
    }

    /// Seals one segment and returns it.
    public mutating func sealSegment<Plaintext: DataProtocol>(_ plaintext: Plaintext, isFinal: Bool) throws -> Data {
        let input = Array(plaintext)
        var out = Data(count: input.count + 16)
        try input.withUnsafeBytes { source in
            try out.withUnsafeMutableBytes { try self.sealSegment(source, isFinal: isFinal, into: $0) }
        }
        return out
    }
}
