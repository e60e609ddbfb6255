import Crypto
import Foundation

/// The per-stream cipher shared by ``StreamEncryptor`` and ``StreamDecryptor``.
struct StreamSegmentCipher: Sendable {
    let header: StreamHeader
    private let aead: any NonceAEAD

    /// - Parameters:
    ///   - header: The stream's header.
    ///   - versionKey: The key the segment key is derived from: a key version's bytes, or a
    ///     hybrid stream's HPKE-exported secret.
    ///   - context: The stream's context.
    ///   - segments: The segments' AEAD, when the header's algorithm is not one (a hybrid stream
    ///     names its key type there and seals its segments with that type's AEAD).
    init(header: StreamHeader, versionKey: SymmetricKey, context: UnsafeRawBufferPointer, segments: AEADAlgorithm? = nil) throws {
        guard let algorithm = segments ?? AEADAlgorithm(rawValue: header.algorithmID), algorithm != .aes256SIV else {
            throw BulwarkError(.invalidFormat, "the stream names an unsupported algorithm")
        }
        var info = Array("bulwark stream v1".utf8)
        info += header.bytes.prefix(16)
        info += SHA256.hash(data: context)
        let segmentKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: versionKey, salt: header.salt, info: info, outputByteCount: 32)
        self.header = header
        self.aead = try NonceAEADFactory.make(algorithm, key: segmentKey)
    }

    private func nonce(_ index: UInt32, final: Bool) -> (UInt64, UInt32) {
        var nonce: (UInt64, UInt32) = (0, 0)
        withUnsafeMutableBytes(of: &nonce) { raw in
            for position in 0..<7 { raw[position] = self.header.noncePrefix[position] }
            raw[7] = UInt8(truncatingIfNeeded: index >> 24)
            raw[8] = UInt8(truncatingIfNeeded: index >> 16)
            raw[9] = UInt8(truncatingIfNeeded: index >> 8)
            raw[10] = UInt8(truncatingIfNeeded: index)
            raw[11] = final ? 1 : 0
        }
        return nonce
    }

    func seal(index: UInt32, final: Bool, plaintext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) throws {
        var nonce = self.nonce(index, final: final)
        try withUnsafeBytes(of: &nonce) { raw in
            try self.aead.seal(
                nonce: UnsafeRawBufferPointer(rebasing: raw[0..<12]), aad: UnsafeRawBufferPointer(start: nil, count: 0),
                aad2: UnsafeRawBufferPointer(start: nil, count: 0), plaintext: plaintext, output: output)
        }
    }

    func open(index: UInt32, final: Bool, ciphertext: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer) throws -> Bool {
        var nonce = self.nonce(index, final: final)
        return try withUnsafeBytes(of: &nonce) { raw in
            try self.aead.open(
                nonce: UnsafeRawBufferPointer(rebasing: raw[0..<12]), aad: UnsafeRawBufferPointer(start: nil, count: 0),
                aad2: UnsafeRawBufferPointer(start: nil, count: 0), ciphertextAndTag: ciphertext, output: output)
        }
    }
}
