/// The authenticated-encryption algorithms an envelope can name, with their wire ids.
enum AEADAlgorithm: UInt8, Sendable, CaseIterable {
    /// AES-256-GCM, 96-bit random nonce, 128-bit tag.
    case aes256GCM = 0x01
    /// ChaCha20-Poly1305 (RFC 8439), 96-bit random nonce, 128-bit tag.
    case chacha20Poly1305 = 0x02
    /// AES-256-SIV (RFC 5297), deterministic: the synthetic IV is the tag.
    case aes256SIV = 0x03
    /// AES-128-GCM, 96-bit random nonce, 128-bit tag (Vault's `aes128-gcm96`).
    case aes128GCM = 0x04

    /// Nonce length carried in the envelope.
    var nonceLength: Int {
        switch self {
        case .aes256GCM, .aes128GCM, .chacha20Poly1305: return 12
        case .aes256SIV: return 0
        }
    }

    /// Tag (or synthetic IV) length.
    var tagLength: Int { 16 }

    /// Key length in bytes.
    var keyLength: Int {
        switch self {
        case .aes256GCM, .chacha20Poly1305: return 32
        case .aes128GCM: return 16
        case .aes256SIV: return 64
        }
    }
}
