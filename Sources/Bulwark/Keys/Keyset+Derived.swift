import Crypto
public import Foundation

/// Derived keys as Vault makes them (`derived=true`, `kdf=hkdf_sha256`; facts from OpenBao's
/// `sdk/helper/keysutil/policy.go`): each operation's key is HKDF-SHA256 of the version's key with
/// no salt and the caller's context as info, so one key serves many tenants or rows without
/// any two sharing an encryption key. The ciphertext is Vault's: nonce ‖ ciphertext ‖ tag, the
/// version named outside it (`vault:vN:`), associated data bound as usual.
///
/// Convergent keys (Vault's convergent version 3) derive 32 more bytes, an HMAC-SHA256 key,
/// and take the nonce from the HMAC of the plaintext under it (and of the associated data,
/// when there is some: ``convergentNonce(_:associated:nonceKey:)``): equal plaintexts under one
/// version, context and associated data give equal ciphertexts (what an exact-match lookup
/// needs), and nothing else repeats a nonce. No nonce ever comes from the caller.
extension Keyset {
    /// Encrypts `plaintext` under the key `derivationContext` derives from a version.
    /// - Parameters:
    ///   - plaintext: The data to protect.
    ///   - context: Associated data, bound as by ``encrypt(_:context:)``.
    ///   - derivationContext: What the key is derived for (a tenant, a row): non-empty.
    ///   - version: The version (the primary when nil); a chosen one must be at or above
    ///     ``minimumEncryptionVersion``.
    /// - Returns: nonce ‖ ciphertext ‖ tag, and the version used.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a key that is not derived or an
    ///   empty derivation context; version errors as ``encrypt(_:context:version:)``.
    public func encrypt(
        _ plaintext: some DataProtocol, context: some DataProtocol, derivingFrom derivationContext: some DataProtocol, version: UInt32? = nil
    ) throws -> (sealed: Data, version: UInt32) {
        let number = version ?? self.primaryVersion
        if version != nil, number < self.minimumEncryptionVersion {
            throw BulwarkError(.keyVersionBelowMinimum, "version \(number) of key '\(self.name)' is below its minimum encryption version \(self.minimumEncryptionVersion)")
        }
        let (encryptionKey, nonceKey) = try self.derivedKeys(version: number, forDecryption: false, derivationContext: Data(derivationContext))
        let message = Data(plaintext)
        let associated = Data(context)
        guard let nonceKey else {
            return (try Self.sealDerived(self.type, message, key: encryptionKey, nonce: nil, associated: associated), number)
        }
        let nonce = Self.convergentNonce(message, associated: associated, nonceKey: nonceKey)
        return (try Self.sealDerived(self.type, message, key: encryptionKey, nonce: nonce, associated: associated), number)
    }

    /// A convergent key's nonce (12 bytes). Without associated data it is Vault's: the HMAC of
    /// the plaintext. With it, the associated data must be in the input too: otherwise one
    /// plaintext under two associated data would take one nonce with two tags, which gives
    /// away AES-GCM's authentication key and lets ciphertexts be altered or moved (OpenBao
    /// has that flaw). Such nonces are the HMAC of len(AD) ‖ AD ‖ plaintext under a key of
    /// their own (an HMAC of a label under the nonce key), so no input of either kind can
    /// give the other's nonce.
    static func convergentNonce(_ message: Data, associated: Data, nonceKey: SymmetricKey) -> Data {
        guard !associated.isEmpty else { return Data(HMAC<SHA256>.authenticationCode(for: message, using: nonceKey)).prefix(12) }
        let boundKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("bulwark convergent nonce with associated data v1".utf8), using: nonceKey))
        var mac = HMAC<SHA256>(key: boundKey)
        mac.update(data: withUnsafeBytes(of: UInt64(associated.count).bigEndian) { Data($0) })
        mac.update(data: associated)
        mac.update(data: message)
        return Data(mac.finalize()).prefix(12)
    }

    /// Decrypts what ``encrypt(_:context:derivingFrom:version:)`` made with `version`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` for a wrong context, derivation
    ///   context or altered bytes; `invalidFormat` for a ciphertext too short to hold a nonce
    ///   and a tag; version errors as ``decrypt(_:context:)``.
    public func decrypt(
        _ sealed: some DataProtocol, context: some DataProtocol, derivingFrom derivationContext: some DataProtocol, version: UInt32
    ) throws -> Data {
        let (encryptionKey, _) = try self.derivedKeys(version: version, forDecryption: true, derivationContext: Data(derivationContext))
        let bytes = Data(sealed)
        guard bytes.count >= 12 + 16 else { throw BulwarkError(.invalidFormat, "the ciphertext is too short to hold a nonce and a tag") }
        let refused = BulwarkError(.authenticationFailed, "the ciphertext does not decrypt with this context (or was altered)")
        do {
            switch self.type {
            case .chacha20Poly1305:
                return try ChaChaPoly.open(try ChaChaPoly.SealedBox(combined: bytes), using: encryptionKey, authenticating: Data(context))
            default:
                return try AES.GCM.open(try AES.GCM.SealedBox(combined: bytes), using: encryptionKey, authenticating: Data(context))
            }
        } catch {
            throw refused
        }
    }

    /// The encryption key `derivationContext` derives from `version`, and for a convergent key
    /// the nonce's HMAC key: HKDF-SHA256(version key, no salt, info = context), its first bytes
    /// the encryption key, the next 32 the HMAC key (one HKDF output, as Vault reads it).
    func derivedKeys(version: UInt32, forDecryption: Bool, derivationContext: Data) throws -> (SymmetricKey, SymmetricKey?) {
        guard self.isDerived else {
            throw BulwarkError(.invalidArgument, "key '\(self.name)' is not derived: encrypt with encrypt(_:context:)")
        }
        try self.requirePurpose(.encryption, for: "encrypt with a derived key")
        guard !derivationContext.isEmpty else {
            throw BulwarkError(.invalidArgument, "key '\(self.name)' is derived: every operation needs a non-empty context")
        }
        let chosen = try self.usableVersion(version, forDecryption: forDecryption)
        guard case .symmetric(let base)? = chosen.material else {
            throw BulwarkError(.keyVersionDestroyed, "version \(version) of '\(self.name)' has no key material")
        }
        let length = self.type.materialLength
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: base, info: derivationContext, outputByteCount: length + (self.isConvergent ? 32 : 0))
        return derived.withUnsafeBytes { bytes in
            let encryption = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            guard self.isConvergent else { return (encryption, nil) }
            return (encryption, SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[length...])))
        }
    }

    /// nonce ‖ ciphertext ‖ tag under `key`; a fresh random nonce unless `nonce` is given (the
    /// convergent one, computed here, never a caller's).
    private static func sealDerived(_ type: KeyType, _ message: Data, key: SymmetricKey, nonce: Data?, associated: Data) throws -> Data {
        switch type {
        case .chacha20Poly1305:
            let chosen = try nonce.map { try ChaChaPoly.Nonce(data: $0) } ?? ChaChaPoly.Nonce()
            return try ChaChaPoly.seal(message, using: key, nonce: chosen, authenticating: associated).combined
        default:
            let chosen = try nonce.map { try AES.GCM.Nonce(data: $0) } ?? AES.GCM.Nonce()
            guard let combined = try AES.GCM.seal(message, using: key, nonce: chosen, authenticating: associated).combined else {
                throw BulwarkError(.internalFailure, "AES-GCM gave no combined form")
            }
            return combined
        }
    }
}
