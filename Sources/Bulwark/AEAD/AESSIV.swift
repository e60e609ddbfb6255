import Crypto
import CryptoExtras
import Foundation

/// AES-SIV (RFC 5297): deterministic authenticated encryption from AES-CMAC and AES-CTR.
///
/// swift-crypto has no AES-SIV, so Bulwark builds it from swift-crypto's `AES.CMAC` (S2V) and
/// `AES._CTR` (encryption). The key is split in half: the first half keys S2V, the second CTR.
/// It is proven on Wycheproof's `aes_siv_cmac_test.json` and `aead_aes_siv_cmac_test.json`.
struct AESSIV: Sendable {
    private let macKey: SymmetricKey
    private let ctrKey: SymmetricKey

    /// - Parameter key: 32, 48 or 64 bytes (AES-128/192/256-SIV).
    init(key: SymmetricKey) throws {
        guard [256, 384, 512].contains(key.bitCount) else {
            throw BulwarkError(.invalidArgument, "AES-SIV needs a 256-, 384- or 512-bit key")
        }
        let halves = key.withUnsafeBytes { bytes in
            (SymmetricKey(data: bytes[..<(bytes.count / 2)]), SymmetricKey(data: bytes[(bytes.count / 2)...]))
        }
        self.macKey = halves.0
        self.ctrKey = halves.1
    }

    private static func double(_ block: inout [UInt8]) {
        let carry = block[0] >> 7
        for index in 0..<15 {
            block[index] = (block[index] << 1) | (block[index + 1] >> 7)
        }
        block[15] = (block[15] << 1) ^ (carry == 1 ? 0x87 : 0)
    }

    private func cmac(_ data: UnsafeRawBufferPointer) throws -> [UInt8] {
        var mac = try AES.CMAC(key: self.macKey)
        mac.update(bufferPointer: data)
        return Array(mac.finalize())
    }

    /// The S2V construction over `components` (associated data strings) then `plaintext`.
    func s2v(_ components: [UnsafeRawBufferPointer], plaintext: UnsafeRawBufferPointer) throws -> [UInt8] {
        let zero = [UInt8](repeating: 0, count: 16)
        var d = try zero.withUnsafeBytes { try self.cmac($0) }
        for component in components {
            Self.double(&d)
            let mac = try self.cmac(component)
            for index in 0..<16 { d[index] ^= mac[index] }
        }
        var t: [UInt8]
        if plaintext.count >= 16 {
            t = Array(plaintext)
            let offset = t.count - 16
            for index in 0..<16 { t[offset + index] ^= d[index] }
        } else {
            Self.double(&d)
            t = Array(plaintext) + [0x80] + [UInt8](repeating: 0, count: 15 - plaintext.count)
            for index in 0..<16 { t[index] ^= d[index] }
        }
        return try t.withUnsafeBytes { try self.cmac($0) }
    }

    private func ctr(_ input: UnsafeRawBufferPointer, iv: [UInt8]) throws -> Data {
        guard input.count > 0 else { return Data() }
        var counter = iv
        counter[8] &= 0x7F
        counter[12] &= 0x7F
        return try AES._CTR.encrypt(input, using: self.ctrKey, nonce: try AES._CTR.Nonce(nonceBytes: counter))
    }

    /// Encrypts: returns the 16-byte synthetic IV followed by the ciphertext.
    func seal(_ plaintext: UnsafeRawBufferPointer, associatedData: [UnsafeRawBufferPointer]) throws -> Data {
        let iv = try self.s2v(associatedData, plaintext: plaintext)
        var out = Data(iv)
        out.append(try self.ctr(plaintext, iv: iv))
        return out
    }

    /// Decrypts `siv || ciphertext`; returns nil when authentication fails.
    func open(_ sealed: UnsafeRawBufferPointer, associatedData: [UnsafeRawBufferPointer]) throws -> Data? {
        guard sealed.count >= 16 else { return nil }
        let iv = Array(sealed[..<16])
        var plaintext = try self.ctr(UnsafeRawBufferPointer(rebasing: sealed[16...]), iv: iv)
        let expected = try plaintext.withUnsafeBytes { try self.s2v(associatedData, plaintext: $0) }
        guard constantTimeEquals(expected, iv) else {
            plaintext.resetBytes(in: 0..<plaintext.count)
            return nil
        }
        return plaintext
    }
}
