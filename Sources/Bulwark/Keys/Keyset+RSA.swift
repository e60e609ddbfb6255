import Crypto
import CryptoExtras
public import Foundation

extension Keyset {
    /// Encrypts `plaintext` to one version's RSA public key with RSA-OAEP (RFC 8017 §7.1:
    /// SHA-256, MGF1-SHA-256, empty label), as Vault's `transit/encrypt` does for RSA keys. There
    /// is no associated data: nothing but the ciphertext is bound.
    /// - Parameters:
    ///   - plaintext: At most the modulus size less 66 bytes (190 for RSA-2048): wrap larger data
    ///     under a data key.
    ///   - version: The version, or nil for the primary; at or above the minimum encryption and
    ///     decryption versions.
    /// - Returns: The ciphertext alone (as long as the modulus); the caller keeps the version.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an RSA key; `invalidArgument`
    ///   for a plaintext too long; the version errors.
    public func rsaEncrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext, version: UInt32? = nil) throws -> Data {
        let number = version ?? self.primaryVersion
        if number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        let key = try self.rsaKey(number)
        let limit = key.keySizeInBits / 8 - 2 * 32 - 2
        guard plaintext.count <= limit else {
            throw BulwarkError(.invalidArgument, "plaintext too long for RSA-OAEP with a \(key.keySizeInBits)-bit key (\(limit) bytes at most)")
        }
        let encryption = try _RSA.Encryption.PublicKey(derRepresentation: key.publicKey.derRepresentation)
        return try encryption.encrypt(Data(plaintext), padding: .PKCS1_OAEP_SHA256)
    }

    /// Decrypts a ciphertext made by ``rsaEncrypt(_:version:)`` (or by anyone with the version's
    /// public key).
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` for anything that does not decrypt
    ///   (one error whatever failed: no padding oracle); the version errors.
    public func rsaDecrypt<Ciphertext: DataProtocol>(_ ciphertext: Ciphertext, version: UInt32) throws -> Data {
        let key = try self.rsaKey(version)
        guard let encryption = try? _RSA.Encryption.PrivateKey(derRepresentation: key.derRepresentation),
            let plaintext = try? encryption.decrypt(Data(ciphertext), padding: .PKCS1_OAEP_SHA256)
        else {
            throw BulwarkError(.authenticationFailed, "the RSA ciphertext does not decrypt with this version")
        }
        return plaintext
    }

    /// A version's RSA key, usable for decryption (enabled, at or above the minimum decryption version).
    private func rsaKey(_ number: UInt32) throws -> _RSA.Signing.PrivateKey {
        guard [KeyType.rsa2048, .rsa3072, .rsa4096].contains(self.type) else {
            throw BulwarkError(.wrongPurpose, "key '\(self.name)' is a \(self.type) key; only RSA keys encrypt with RSA-OAEP")
        }
        let chosen = try self.usableVersion(number, forDecryption: true)
        guard case .signer(let signer)? = chosen.primitive, let key = signer.rsaKey else {
            throw BulwarkError(.keyVersionDestroyed, "version \(number) of '\(self.name)' has no key material")
        }
        return key
    }
}
