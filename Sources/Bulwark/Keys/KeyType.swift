/// The algorithm of a key, fixed when the key is created.
public enum KeyType: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// AES-256-GCM with random 96-bit nonces: the default for encryption.
    case aes256GCM = "aes256-gcm"
    /// AES-128-GCM with random 96-bit nonces, for compatibility (Vault's `aes128-gcm96`).
    case aes128GCM = "aes128-gcm"
    /// ChaCha20-Poly1305 with random 96-bit nonces.
    case chacha20Poly1305 = "chacha20-poly1305"
    /// AES-256-SIV (RFC 5297): deterministic encryption, for fields found by equality.
    case aes256SIV = "aes256-siv"
    /// HMAC-SHA256 message authentication.
    case hmacSHA256 = "hmac-sha256"
    /// HMAC-SHA512 message authentication.
    case hmacSHA512 = "hmac-sha512"
    /// Ed25519 signatures.
    case ed25519 = "ed25519"
    /// ECDSA over P-256 with SHA-256 (DER signatures).
    case ecdsaP256 = "ecdsa-p256"
    /// ECDSA over P-384 (SHA-256 by default, as Vault; any SHA-2/SHA-3 on request).
    case ecdsaP384 = "ecdsa-p384"
    /// ECDSA over P-521 (SHA-256 by default, as Vault; any SHA-2/SHA-3 on request).
    case ecdsaP521 = "ecdsa-p521"
    /// Post-quantum signatures: ML-DSA-65 (FIPS 204, security category 3).
    case mlDSA65 = "ml-dsa-65"
    /// Post-quantum signatures: ML-DSA-87 (FIPS 204, security category 5).
    case mlDSA87 = "ml-dsa-87"
    /// RSA with a 2048-bit modulus, as Vault's: signs (PSS by default, PKCS#1 v1.5 on request)
    /// and encrypts to its public key with RSA-OAEP-SHA256 (``Keyset/rsaEncrypt(_:version:)``).
    case rsa2048 = "rsa-2048"
    /// RSA with a 3072-bit modulus (as ``rsa2048``).
    case rsa3072 = "rsa-3072"
    /// RSA with a 4096-bit modulus (as ``rsa2048``).
    case rsa4096 = "rsa-4096"
    /// Hybrid public-key encryption: HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256),
    /// HKDF-SHA256 and AES-256-GCM.
    case hpkeX25519 = "hpke-x25519"
    /// Hybrid public-key encryption: HPKE base mode with DHKEM(P-256, HKDF-SHA256), HKDF-SHA256
    /// and AES-256-GCM.
    case hpkeP256 = "hpke-p256"
    /// Post-quantum hybrid public-key encryption: HPKE base mode with the X-Wing KEM
    /// (ML-KEM-768 + X25519), HKDF-SHA256 and AES-256-GCM.
    case hpkeXWing = "hpke-xwing"
    /// ``hpkeX25519`` with ChaCha20-Poly1305 (RFC 8439) in place of AES-256-GCM: for senders
    /// without AES hardware. Streams to it use ChaCha20-Poly1305 segments.
    case hpkeX25519ChaCha20Poly1305 = "hpke-x25519-chacha20-poly1305"
    /// ``hpkeP256`` with ChaCha20-Poly1305 in place of AES-256-GCM.
    case hpkeP256ChaCha20Poly1305 = "hpke-p256-chacha20-poly1305"
    /// ``hpkeXWing`` with ChaCha20-Poly1305 in place of AES-256-GCM.
    case hpkeXWingChaCha20Poly1305 = "hpke-xwing-chacha20-poly1305"
    /// An age X25519 identity (c2sp.org/age): files encrypted to its `age1…` recipient open with
    /// it, in Bulwark or with the `age` command. Its own type (not an `hpke-x25519` key reused):
    /// one key, one protocol.
    case ageX25519 = "age-x25519"

    /// The name used on the command line and in listings.
    public var description: String { self.rawValue }

    /// The only purpose a key of this type may serve.
    public var purpose: KeyPurpose {
        switch self {
        case .aes256GCM, .aes128GCM, .chacha20Poly1305: return .encryption
        case .aes256SIV: return .deterministicEncryption
        case .hmacSHA256, .hmacSHA512: return .mac
        case .ed25519, .ecdsaP256, .ecdsaP384, .ecdsaP521, .mlDSA65, .mlDSA87: return .signing
        // RSA keys also encrypt (Vault's RSA keys do both), through their own calls.
        case .rsa2048, .rsa3072, .rsa4096: return .signing
        case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305:
            return .hybridEncryption
        case .ageX25519: return .ageEncryption
        }
    }

    /// The id written into envelopes.
    var wireID: UInt8 {
        switch self {
        case .aes256GCM: return AEADAlgorithm.aes256GCM.rawValue
        case .aes128GCM: return AEADAlgorithm.aes128GCM.rawValue
        case .chacha20Poly1305: return AEADAlgorithm.chacha20Poly1305.rawValue
        case .aes256SIV: return AEADAlgorithm.aes256SIV.rawValue
        case .hmacSHA256: return 0x10
        case .hmacSHA512: return 0x11
        case .ed25519: return 0x20
        case .ecdsaP256: return 0x21
        case .ecdsaP384: return 0x22
        case .ecdsaP521: return 0x23
        case .mlDSA65: return 0x24
        case .mlDSA87: return 0x25
        case .rsa2048: return 0x26
        case .rsa3072: return 0x27
        case .rsa4096: return 0x28
        case .hpkeX25519: return 0x30
        case .hpkeP256: return 0x31
        case .hpkeXWing: return 0x32
        case .hpkeX25519ChaCha20Poly1305: return 0x33
        case .hpkeP256ChaCha20Poly1305: return 0x34
        case .hpkeXWingChaCha20Poly1305: return 0x35
        // Never written into Bulwark's formats (age files carry no key id): only a distinct value.
        case .ageX25519: return 0x38
        }
    }

    /// The AEAD algorithm, for encryption types.
    var aeadAlgorithm: AEADAlgorithm? { AEADAlgorithm(rawValue: self.wireID) }

    /// Length of freshly generated secret key material.
    /// The key sizes an HMAC key may have, in bytes (Vault's `key_size` for `hmac` keys: 32 to 512).
    public static let hmacKeySizes = 32...512

    /// The size in bytes of a key of this type made without a ``Keyset/keySize``.
    package var materialLengthForKeySize: Int { self.materialLength }

    var materialLength: Int {
        switch self {
        case .aes256GCM, .chacha20Poly1305, .hmacSHA256, .ed25519, .ecdsaP256, .ageX25519, .mlDSA65, .mlDSA87: return 32
        case .ecdsaP384: return 48
        case .ecdsaP521: return 66
        // A DER private key, its length depending on the modulus: checked by parsing.
        case .rsa2048, .rsa3072, .rsa4096: return 0
        case .hpkeX25519, .hpkeP256, .hpkeXWing, .hpkeX25519ChaCha20Poly1305, .hpkeP256ChaCha20Poly1305, .hpkeXWingChaCha20Poly1305: return 32
        case .aes256SIV, .hmacSHA512: return 64
        case .aes128GCM: return 16
        }
    }
}

/// What a key may be used for. A key refuses every operation outside its purpose.
public enum KeyPurpose: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// Randomised authenticated encryption.
    case encryption
    /// Deterministic authenticated encryption (equal plaintexts give equal ciphertexts).
    case deterministicEncryption = "deterministic-encryption"
    /// Message authentication codes.
    case mac
    /// Digital signatures.
    case signing
    /// Public-key (hybrid) encryption: anyone with the public key encrypts, only the key's
    /// holder decrypts.
    case hybridEncryption = "hybrid-encryption"
    /// age files (c2sp.org/age) to the key's `age1…` recipient.
    case ageEncryption = "age-encryption"

    /// The purpose's name.
    public var description: String { self.rawValue }
}

/// The state of one key version.
public enum KeyStatus: String, Sendable, Codable, CustomStringConvertible {
    /// Usable for every operation its purpose allows.
    case enabled
    /// Kept, but refused for every operation until enabled again.
    case disabled
    /// Its key bytes were erased; data under it can never be decrypted again.
    case destroyed

    /// The status's name.
    public var description: String { self.rawValue }
}
