public import Foundation

/// Decrypts a stream made by ``StreamEncryptor``, segment by segment.
///
/// Feed segments in order; say which one is the last (the one the input ends with). A
/// segment that fails authentication throws, and no plaintext of it is returned.
public struct StreamDecryptor: Sendable {
    private let cipher: StreamSegmentCipher
    private var nextIndex: UInt32 = 0
    private var finished = false

    /// The ciphertext bytes of every segment but the last.
    public var segmentSize: Int { self.cipher.header.segmentSize }

    /// Whether the final segment has been opened.
    public var isFinished: Bool { self.finished }

    init(cipher: StreamSegmentCipher) {
        self.cipher = cipher
    }

    /// Opens one segment into `output`, which must hold `ciphertext.count - 16` bytes.
    /// - Throws: ``BulwarkError/Code/streamTruncated`` when the input ends with a segment that
    ///   was not sealed as final; `wrongContext` or `authenticationFailed` otherwise.
    public mutating func openSegment(
        _ ciphertext: UnsafeRawBufferPointer, isFinal: Bool, into output: UnsafeMutableRawBufferPointer
    ) throws {
        guard !self.finished else {
            throw BulwarkError(.authenticationFailed, "data follows the final segment of the stream")
        }
        guard ciphertext.count >= 16, ciphertext.count <= self.segmentSize, output.count == ciphertext.count - 16,
            isFinal || ciphertext.count == self.segmentSize
        else {
            throw BulwarkError(.streamTruncated, "the stream ends inside a segment")
        }
        guard self.nextIndex < UInt32.max else {
            throw BulwarkError(.authenticationFailed, "the stream has too many segments")
        }
        let index = self.nextIndex
        if try self.cipher.open(index: index, final: isFinal, ciphertext: ciphertext, output: output) {
            self.nextIndex += 1
            self.finished = isFinal
            return
        }
        if isFinal, ciphertext.count == self.segmentSize,
            try self.cipher.open(index: index, final: false, ciphertext: ciphertext, output: output)
        {
            output.initializeMemory(as: UInt8.self, repeating: 0)
            throw BulwarkError(.streamTruncated, "the stream was cut short: its final segment is missing")
        }
        if index == 0, self.contextMismatch {
            throw BulwarkError(.wrongContext, "the context differs from the one the stream was encrypted with")
        }
        throw BulwarkError(.authenticationFailed, "segment \(index) of the stream was altered, reordered or duplicated")
    }

    var contextMismatch = false

    /// Opens one segment and returns its plaintext.
    public mutating func openSegment<Ciphertext: DataProtocol>(_ ciphertext: Ciphertext, isFinal: Bool) throws -> Data {
        let input = Array(ciphertext)
        guard input.count >= 16 else {
            throw BulwarkError(.streamTruncated, "the stream ends inside a segment")
        }
        var out = Data(count: input.count - 16)
        try input.withUnsafeBytes { source in
            try out.withUnsafeMutableBytes { try self.openSegment(source, isFinal: isFinal, into: $0) }
        }
        return out
    }
}
