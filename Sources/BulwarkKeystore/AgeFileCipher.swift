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
        try Self.forEachBlock(of: input) { try emit(try encryptor.update($0)) }
        try emit(try encryptor.finish())
    }

    /// Decrypts the age file (binary or armored) `input` holds.
    /// - Parameter output: Where plaintext goes, or nil to only verify the whole file.
    /// - Throws: What ``AgeDecryptor`` throws, at the first bad part; plaintext already written
    ///   is of verified chunks only, but only a successful return means the file was complete.
    public static func decrypt(input: Int32, output: Int32?, identities: [AgeIdentity]) throws {
        var decryptor = try AgeDecryptor(identities: identities)
        func emit(_ plaintext: Data) throws {
            var bytes = plaintext
            // Plaintext is cleared once written (or found not wanted).
            defer { bytes.resetBytes(in: 0..<bytes.count) }
            guard let output, !bytes.isEmpty else { return }
            try bytes.withUnsafeBytes { try POSIXFile.writeFully(output, $0) }
        }
        try Self.forEachBlock(of: input) { try emit(try decryptor.update($0)) }
        try emit(try decryptor.finish())
    }

    private static func forEachBlock(of input: Int32, _ body: (Data) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Self.blockSize)
        defer { buffer.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        while true {
            let count = try buffer.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
            if count > 0 { try body(Data(buffer[..<count])) }
            if count < buffer.count { return }
        }
    }
}
