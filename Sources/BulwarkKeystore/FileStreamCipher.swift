public import Bulwark
public import Foundation

/// Encrypts and decrypts Bulwark streams between file descriptors with constant memory.
///
/// Input is read in batches of about 1 MiB, sealed or opened segment by segment in place,
/// and written in the same batches.
public enum FileStreamCipher {
    static let batchBytes = 1 << 20

    /// Encrypts everything readable from `input` to `output` with the key's primary version (for
    /// a hybrid key, to its primary version's public key).
    /// - Parameters:
    ///   - input: A readable descriptor.
    ///   - output: A writable descriptor.
    ///   - keyset: An encryption key, or a hybrid (`hpke-*`) key.
    ///   - context: Associated data bound to the stream.
    ///   - segmentSize: Ciphertext bytes per segment.
    public static func encrypt(
        input: Int32, output: Int32, keyset: Keyset, context: Data,
        segmentSize: Int = StreamHeader.defaultSegmentSize
    ) throws {
        let encryptor: StreamEncryptor
        if keyset.purpose == .hybridEncryption {
            // A hybrid key encrypts to its primary public key (its holder can decrypt).
            encryptor = try keyset.hybridPublicKey().makeStreamEncryptor(context: context, segmentSize: segmentSize)
        } else {
            encryptor = try keyset.makeStreamEncryptor(context: context, segmentSize: segmentSize)
        }
        try Self.encrypt(input: input, output: output, encryptor: encryptor)
    }

    /// Encrypts everything readable from `input` to `output` for the holder of a hybrid key:
    /// only the public key is needed here.
    /// - Parameters:
    ///   - input: A readable descriptor.
    ///   - output: A writable descriptor.
    ///   - publicKey: The recipient's public key.
    ///   - context: Associated data bound to the stream.
    ///   - segmentSize: Ciphertext bytes per segment.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a bad segment size; `ioFailure` when
    ///   reading or writing fails.
    public static func encrypt(
        input: Int32, output: Int32, publicKey: HybridPublicKey, context: Data,
        segmentSize: Int = StreamHeader.defaultSegmentSize
    ) throws {
        try Self.encrypt(input: input, output: output, encryptor: try publicKey.makeStreamEncryptor(context: context, segmentSize: segmentSize))
    }

    private static func encrypt(input: Int32, output: Int32, encryptor: StreamEncryptor) throws {
        var encryptor = encryptor
        let segmentSize = encryptor.segmentSize
        try encryptor.header.withUnsafeBytes { try POSIXFile.writeFully(output, $0) }
        let plainSize = encryptor.plaintextSegmentSize
        let perBatch = max(1, batchBytes / segmentSize)
        var current = [UInt8](repeating: 0, count: perBatch * plainSize)
        var next = [UInt8](repeating: 0, count: perBatch * plainSize)
        var sealed = [UInt8](repeating: 0, count: perBatch * segmentSize)
        defer {
            // Plaintext buffers are cleared before they are released.
            current.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
            next.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        }
        var currentCount = try current.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
        while true {
            var isLastBatch = currentCount < current.count
            var nextCount = 0
            if !isLastBatch {
                nextCount = try next.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
                isLastBatch = nextCount == 0
            }
            let segments = isLastBatch ? max(1, (currentCount + plainSize - 1) / plainSize) : perBatch
            var outCount = 0
            try current.withUnsafeBytes { source in
                try sealed.withUnsafeMutableBytes { target in
                    for index in 0..<segments {
                        let start = index * plainSize
                        let end = min(start + plainSize, currentCount)
                        let isFinal = isLastBatch && index == segments - 1
                        let length = end - start
                        try encryptor.sealSegment(
                            UnsafeRawBufferPointer(rebasing: source[start..<end]), isFinal: isFinal,
                            into: UnsafeMutableRawBufferPointer(rebasing: target[outCount..<(outCount + length + 16)]))
                        outCount += length + 16
                    }
                }
            }
            try sealed.withUnsafeBytes { try POSIXFile.writeFully(output, UnsafeRawBufferPointer(rebasing: $0[..<outCount])) }
            if isLastBatch { return }
            swap(&current, &next)
            currentCount = nextCount
        }
    }

    /// Reads a stream header from `input`.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` when the input is not a Bulwark stream.
    public static func readHeader(input: Int32) throws -> StreamHeader {
        var raw = [UInt8](repeating: 0, count: StreamHeader.length)
        let count = try raw.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
        guard count == StreamHeader.length else {
            throw BulwarkError(.invalidFormat, "the input is too short to be a Bulwark stream")
        }
        return try StreamHeader(parsing: raw)
    }

    /// Reads what follows the header of a stream encrypted to a public key (HPKE's encapsulated
    /// key, ``StreamHeader/encapsulatedKeyLength`` bytes); empty for a symmetric stream.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` when the input ends first.
    public static func readEncapsulatedKey(input: Int32, header: StreamHeader) throws -> Data {
        guard header.encapsulatedKeyLength > 0 else { return Data() }
        var raw = [UInt8](repeating: 0, count: header.encapsulatedKeyLength)
        let count = try raw.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
        guard count == raw.count else {
            throw BulwarkError(.invalidFormat, "the input is too short to be a Bulwark stream")
        }
        return Data(raw)
    }

    /// The decryptor for a stream whose header was read from `input`: for a stream encrypted to
    /// a public key, its encapsulated key is read too and `keyset` must be its hybrid key.
    /// - Parameters:
    ///   - input: Positioned just after the header; left after the encapsulated key, if any.
    ///   - header: The header read by ``readHeader(input:)``.
    ///   - keyset: The key named by the header.
    ///   - context: The context given at encryption.
    /// - Throws: `invalidFormat` when the input ends inside the encapsulated key; the key and
    ///   version errors of ``Keyset/makeStreamDecryptor(header:context:)`` and
    ///   ``Keyset/makeHybridStreamDecryptor(header:encapsulatedKey:context:)``.
    public static func decryptor(input: Int32, header: StreamHeader, keyset: Keyset, context: Data) throws -> StreamDecryptor {
        if header.encapsulatedKeyLength > 0 {
            let encapsulatedKey = try Self.readEncapsulatedKey(input: input, header: header)
            return try keyset.makeHybridStreamDecryptor(header: header, encapsulatedKey: encapsulatedKey, context: context)
        }
        return try keyset.makeStreamDecryptor(header: header, context: context)
    }

    /// Decrypts a stream whose header was already read from `input`.
    /// - Parameters:
    ///   - input: Positioned just after the header and, for a stream to a public key, its
    ///     encapsulated key.
    ///   - output: Where plaintext goes, or nil to only verify every segment.
    ///   - decryptor: From ``decryptor(input:header:keyset:context:)``.
    /// - Throws: `authenticationFailed`, `wrongContext` or `streamTruncated` at the first bad
    ///   segment; nothing of that segment is written.
    public static func decrypt(input: Int32, output: Int32?, decryptor: StreamDecryptor) throws {
        var decryptor = decryptor
        let segmentSize = decryptor.segmentSize
        let plainSize = segmentSize - 16
        let perBatch = max(1, batchBytes / segmentSize)
        var current = [UInt8](repeating: 0, count: perBatch * segmentSize)
        var next = [UInt8](repeating: 0, count: perBatch * segmentSize)
        var opened = [UInt8](repeating: 0, count: perBatch * plainSize)
        defer { opened.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var currentCount = try current.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
        while true {
            var isLastBatch = currentCount < current.count
            var nextCount = 0
            if !isLastBatch {
                nextCount = try next.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
                isLastBatch = nextCount == 0
            }
            if isLastBatch, currentCount == 0 {
                throw BulwarkError(.streamTruncated, "the stream was cut short: its final segment is missing")
            }
            let segments = isLastBatch ? (currentCount + segmentSize - 1) / segmentSize : perBatch
            var outCount = 0
            try current.withUnsafeBytes { source in
                try opened.withUnsafeMutableBytes { target in
                    for index in 0..<segments {
                        let start = index * segmentSize
                        let end = min(start + segmentSize, currentCount)
                        let isFinal = isLastBatch && index == segments - 1
                        let length = end - start
                        guard length >= 16 else {
                            throw BulwarkError(.streamTruncated, "the stream ends inside a segment")
                        }
                        try decryptor.openSegment(
                            UnsafeRawBufferPointer(rebasing: source[start..<end]), isFinal: isFinal,
                            into: UnsafeMutableRawBufferPointer(rebasing: target[outCount..<(outCount + length - 16)]))
                        outCount += length - 16
                    }
                }
            }
            if let output {
                try opened.withUnsafeBytes { try POSIXFile.writeFully(output, UnsafeRawBufferPointer(rebasing: $0[..<outCount])) }
            }
            if isLastBatch { return }
            swap(&current, &next)
            currentCount = nextCount
        }
    }
}
