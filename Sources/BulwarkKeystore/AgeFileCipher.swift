public import Bulwark
import Foundation

/// age files (c2sp.org/age) between file descriptors, in constant memory: what `bulwark encrypt
/// --recipient` and `bulwark decrypt --identity` run. See ``AgeEncryptor`` and ``AgeDecryptor``.
public enum AgeFileCipher {
    /// Bytes read per step.
    static let blockSize = 1 << 20

    /// Encrypts everything `input` holds to `recipients`, writing the age file to `output`.
    /// - Parameter armor: Write the ASCII-armored form (PEM, `AGE ENCRYPTED FILE`).
    public static func encrypt(input: Int32, output: Int32, recipients: [AgeRecipient], armor: Bool) throws {
        var encryptor = try AgeEncryptor(recipients: recipients, armored: armor)
        func emit(_ bytes: Data) throws {
            try bytes.withUnsafeBytes { try POSIXFile.writeFully(output, $0) }
        }
        try emit(encryptor.prefix)
        // One output buffer for the whole file (no allocation, so no fresh pages, per block).
        var sealed = Data()
        sealed.reserveCapacity(Self.blockSize + Self.blockSize / 64 + 4096)
        try Self.forEachBlock(of: input) { block in
            sealed.removeAll(keepingCapacity: true)
            try encryptor.update(block, into: &sealed)
            try emit(sealed)
        }
        try emit(try encryptor.finish())
    }

    /// Decrypts the age file (binary or armored) `input` holds.
    /// - Parameter output: Where plaintext goes, or nil to only verify the whole file.
    /// - Throws: What ``AgeDecryptor`` throws, at the first bad part; plaintext already written
    ///   is of verified chunks only, but only a successful return means the file was complete.
    public static func decrypt(input: Int32, output: Int32?, identities: [AgeIdentity]) throws {
        var decryptor = try AgeDecryptor(identities: identities)
        // One plaintext buffer for the whole file, cleared after each block is written.
        var opened = Data()
        opened.reserveCapacity(Self.blockSize + 65_536)
        defer { opened.resetBytes(in: 0..<opened.count) }
        func emit() throws {
            defer {
                opened.resetBytes(in: 0..<opened.count)
                opened.removeAll(keepingCapacity: true)
            }
            guard let output, !opened.isEmpty else { return }
            try opened.withUnsafeBytes { try POSIXFile.writeFully(output, $0) }
        }
        try Self.forEachBlock(of: input) { block in
            try decryptor.update(block, into: &opened)
            try emit()
        }
        opened.append(try decryptor.finish())
        try emit()
    }

    /// Reads `input` in blocks into one reused buffer and hands each block (a slice of it) to
    /// `body`, which must not keep it.
    private static func forEachBlock(of input: Int32, _ body: (Data) throws -> Void) throws {
        var buffer = Data(count: Self.blockSize)
        defer { buffer.resetBytes(in: 0..<buffer.count) }
        while true {
            let count = try buffer.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
            if count > 0 { try body(buffer[..<count]) }
            if count < buffer.count { return }
        }
    }
}
