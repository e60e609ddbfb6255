import Crypto
import Foundation

/// A nonce-based AEAD bound to one key: the seam between Bulwark's formats and a backend.
///
/// Two backends implement it. ``SwiftCryptoAEAD`` is the reference, built on swift-crypto.
/// ``LibCryptoAEAD`` keeps the key schedule (AES round keys, GHASH table) per key version in
/// reusable OpenSSL contexts, which swift-crypto's API cannot; it is the default because small
/// fields are dominated by that setup. Both are proven against the same Wycheproof vectors and
/// against each other.
protocol NonceAEAD: Sendable {
    /// Encrypts `plaintext`, writing ciphertext (same length) then the 16-byte tag to `output`.
    /// - Precondition: `output.count == plaintext.count + 16`, `nonce.count == 12`.
    func seal(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws

    /// Decrypts `ciphertextAndTag` into `output`; returns false when authentication fails.
    /// - Precondition: `output.count == ciphertextAndTag.count - 16`.
    func open(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws -> Bool
}

enum NonceAEADFactory {
    /// Makes the default backend for `algorithm` and `key`.
    static func make(_ algorithm: AEADAlgorithm, key: SymmetricKey) throws -> any NonceAEAD {
        if let fast = LibCryptoAEAD(algorithm, key: key) {
            return fast
        }
        return try SwiftCryptoAEAD(algorithm, key: key)
    }
}
