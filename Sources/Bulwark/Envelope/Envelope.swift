import Foundation

/// Sealing and opening of field envelopes: header ‖ nonce ‖ ciphertext ‖ tag (or, for AES-SIV,
/// header ‖ synthetic IV ‖ ciphertext). The associated data is header ‖ context.
enum Envelope {
    static func seal(
        _ primitive: KeyPrimitive, algorithm: AEADAlgorithm, header: UnsafeRawBufferPointer,
        context: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer
    ) throws -> Data {
        switch primitive {
        case .nonceAEAD(let aead):
            let nonceLength = algorithm.nonceLength
            let total = header.count + nonceLength + plaintext.count + algorithm.tagLength
            var out = Data(count: total)
            try out.withUnsafeMutableBytes { buffer in
                buffer.copyMemory(from: header)
                let nonce = UnsafeMutableRawBufferPointer(rebasing: buffer[header.count..<(header.count + nonceLength)])
                SecureRandom.fill(nonce)
                try aead.seal(
                    nonce: UnsafeRawBufferPointer(nonce), aad: header, aad2: context, plaintext: plaintext,
                    output: UnsafeMutableRawBufferPointer(rebasing: buffer[(header.count + nonceLength)...]))
            }
            return out
        case .siv(let siv):
            var out = Data(header)
            out.append(try siv.seal(plaintext, associatedData: [header, context]))
            return out
        default:
            throw BulwarkError(.wrongPurpose, "this key cannot encrypt")
        }
    }

    /// Returns nil when authentication fails.
    static func open(
        _ primitive: KeyPrimitive, algorithm: AEADAlgorithm, sealed: UnsafeRawBufferPointer,
        context: UnsafeRawBufferPointer
    ) throws -> Data? {
        let header = UnsafeRawBufferPointer(rebasing: sealed[..<EnvelopeHeader.encryptionLength])
        let body = UnsafeRawBufferPointer(rebasing: sealed[EnvelopeHeader.encryptionLength...])
        switch primitive {
        case .nonceAEAD(let aead):
            let nonce = UnsafeRawBufferPointer(rebasing: body[..<(body.startIndex + algorithm.nonceLength)])
            let rest = UnsafeRawBufferPointer(rebasing: body[(body.startIndex + algorithm.nonceLength)...])
            var plaintext = Data(count: rest.count - algorithm.tagLength)
            let ok = try plaintext.withUnsafeMutableBytes { output in
                try aead.open(nonce: nonce, aad: header, aad2: context, ciphertextAndTag: rest, output: output)
            }
            return ok ? plaintext : nil
        case .siv(let siv):
            return try siv.open(body, associatedData: [header, context])
        default:
            throw BulwarkError(.wrongPurpose, "this key cannot decrypt")
        }
    }
}
