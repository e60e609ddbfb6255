import Crypto
import CryptoExtras
import Foundation

/// The private key of one version of the signing types added after Ed25519 and ECDSA P-256:
/// ECDSA over P-384 and P-521, the post-quantum ML-DSA-65 and ML-DSA-87 (FIPS 204), and RSA.
/// Internal: reached only through ``Keyset``.
enum SigningPrivateKey: Sendable {
    case p384(P384.Signing.PrivateKey)
    case p521(P521.Signing.PrivateKey)
    case mldsa65(MLDSA65.PrivateKey)
    case mldsa87(MLDSA87.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey, KeyType)

    /// A fresh key for `type` (one of ``KeyType/ecdsaP384``, ``KeyType/ecdsaP521``,
    /// ``KeyType/mlDSA65``, ``KeyType/mlDSA87``).
    static func generate(for type: KeyType) throws -> SigningPrivateKey {
        switch type {
        case .ecdsaP384: return .p384(P384.Signing.PrivateKey())
        case .ecdsaP521: return .p521(P521.Signing.PrivateKey())
        case .mlDSA65: return .mldsa65(try MLDSA65.PrivateKey(seedRepresentation: SecureRandom.bytes(32), publicKey: nil))
        case .mlDSA87: return .mldsa87(try MLDSA87.PrivateKey(seedRepresentation: SecureRandom.bytes(32), publicKey: nil))
        case .rsa2048, .rsa3072, .rsa4096:
            return .rsa(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: Self.rsaBits(type))), type)
        default: throw BulwarkError(.invalidArgument, "a \(type) key is not one of these signing keys")
        }
    }

    /// The modulus size of an RSA key type.
    static func rsaBits(_ type: KeyType) -> Int {
        switch type {
        case .rsa3072: 3072
        case .rsa4096: 4096
        default: 2048
        }
    }

    /// Rebuilds a key from ``rawBytes``: the ECDSA scalar (48 or 66 bytes), ML-DSA's 32-byte
    /// seed, or an RSA key's PKCS#1 DER (its modulus must be the type's size).
    init(rawBytes: Data, type: KeyType) throws {
        if [.rsa2048, .rsa3072, .rsa4096].contains(type) {
            let key = try _RSA.Signing.PrivateKey(derRepresentation: rawBytes)
            guard key.keySizeInBits == Self.rsaBits(type) else { throw BulwarkError(.invalidFormat, "key material does not match the key type \(type)") }
            self = .rsa(key, type)
            return
        }
        guard rawBytes.count == type.materialLength else { throw BulwarkError(.invalidFormat, "key material has the wrong length") }
        switch type {
        case .ecdsaP384: self = .p384(try P384.Signing.PrivateKey(rawRepresentation: rawBytes))
        case .ecdsaP521: self = .p521(try P521.Signing.PrivateKey(rawRepresentation: rawBytes))
        case .mlDSA65: self = .mldsa65(try MLDSA65.PrivateKey(seedRepresentation: rawBytes, publicKey: nil))
        case .mlDSA87: self = .mldsa87(try MLDSA87.PrivateKey(seedRepresentation: rawBytes, publicKey: nil))
        default: throw BulwarkError(.invalidFormat, "key material does not match the key type \(type)")
        }
    }

    /// The key type this key serves.
    var type: KeyType {
        switch self {
        case .p384: .ecdsaP384
        case .p521: .ecdsaP521
        case .mldsa65: .mlDSA65
        case .mldsa87: .mlDSA87
        case .rsa(_, let type): type
        }
    }

    /// The secret bytes (treat as secret): the scalar, or the seed.
    var rawBytes: Data {
        switch self {
        case .p384(let key): key.rawRepresentation
        case .p521(let key): key.rawRepresentation
        case .mldsa65(let key): key.seedRepresentation
        case .mldsa87(let key): key.seedRepresentation
        case .rsa(let key, _): key.derRepresentation
        }
    }

    /// The public key: SPKI DER for ECDSA, FIPS 204's encoding for ML-DSA.
    var publicKeyBytes: Data {
        switch self {
        case .p384(let key): key.publicKey.derRepresentation
        case .p521(let key): key.publicKey.derRepresentation
        case .mldsa65(let key): key.publicKey.rawRepresentation
        case .mldsa87(let key): key.publicKey.rawRepresentation
        case .rsa(let key, _): key.publicKey.derRepresentation
        }
    }

    /// Signs `message` (ECDSA: its digest under `digest`'s hash; ML-DSA: the message itself,
    /// empty context).
    func signature<Message: DataProtocol>(
        for message: Message, digest: () throws -> any Digest, encoding: SignatureEncoding, rsaPadding: RSASignaturePadding = .pss
    ) throws -> Data {
        switch self {
        case .rsa(let key, _):
            // swift-crypto's RSA takes SHA-2 digests only (others would trap): checked first.
            let digest = try Self.rsaDigest(try digest())
            return try key.signature(for: digest, padding: rsaPadding.padding).rawRepresentation
        case .p384(let key):
            let signature = try key.signature(for: try digest())
            return encoding == .raw ? signature.rawRepresentation : signature.derRepresentation
        case .p521(let key):
            let signature = try key.signature(for: try digest())
            return encoding == .raw ? signature.rawRepresentation : signature.derRepresentation
        case .mldsa65(let key): return try key.signature(for: message)
        case .mldsa87(let key): return try key.signature(for: message)
        }
    }

    /// Whether `signature` verifies, as made by ``signature(for:digest:encoding:)``; a malformed
    /// one does not.
    func isValid<Message: DataProtocol>(
        _ signature: Data, for message: Message, digest: () throws -> any Digest, encoding: SignatureEncoding, rsaPadding: RSASignaturePadding = .pss
    ) throws -> Bool {
        switch self {
        case .rsa(let key, _):
            let digest = try Self.rsaDigest(try digest())
            return key.publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: rsaPadding.padding)
        case .p384(let key):
            let parsed = encoding == .raw
                ? try? P384.Signing.ECDSASignature(rawRepresentation: signature) : try? P384.Signing.ECDSASignature(derRepresentation: signature)
            guard let parsed else { return false }
            return key.publicKey.isValidSignature(parsed, for: try digest())
        case .p521(let key):
            let parsed = encoding == .raw
                ? try? P521.Signing.ECDSASignature(rawRepresentation: signature) : try? P521.Signing.ECDSASignature(derRepresentation: signature)
            guard let parsed else { return false }
            return key.publicKey.isValidSignature(parsed, for: try digest())
        case .mldsa65(let key): return key.publicKey.isValidSignature(signature, for: message)
        case .mldsa87(let key): return key.publicKey.isValidSignature(signature, for: message)
        }
    }

    /// `digest` if it is a SHA-2 digest swift-crypto's RSA signs (SHA-256, SHA-384, SHA-512).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for SHA-3 or a caller's prehashed bytes.
    private static func rsaDigest(_ digest: any Digest) throws -> any Digest {
        guard digest is SHA256.Digest || digest is SHA384.Digest || digest is SHA512.Digest else {
            throw BulwarkError(.invalidArgument, "RSA keys sign SHA-2 digests computed here (sha2-256, sha2-384, sha2-512): not SHA-3, not prehashed input")
        }
        return digest
    }

    /// Whether this is an ML-DSA key (which signs messages, not digests).
    var signsMessages: Bool {
        switch self {
        case .p384, .p521, .rsa: false
        case .mldsa65, .mldsa87: true
        }
    }

    /// The RSA key, for encryption with RSA-OAEP.
    var rsaKey: _RSA.Signing.PrivateKey? {
        if case .rsa(let key, _) = self { return key }
        return nil
    }

    /// The hash that suits the curve, for ``Keyset/sign(_:)``'s self-describing signatures.
    var naturalHash: SignatureHash {
        switch self {
        case .p521: .sha512
        case .rsa: .sha256
        default: .sha384
        }
    }
}
