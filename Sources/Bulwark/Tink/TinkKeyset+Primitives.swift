import Crypto
public import Foundation

extension TinkKeyset {
    // MARK: Aead (AES-GCM)

    /// Tink `Aead.encrypt`: output prefix ‖ 12-byte random IV ‖ ciphertext ‖ tag, with the primary key.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless the primary is an enabled AES-GCM key.
    public func encrypt(_ plaintext: Data, associatedData: Data) throws -> Data {
        let (key, symmetric) = try self.primary("AES-GCM") { if case .aesGCM(let k) = $0 { k } else { nil } }
        let box = try AES.GCM.seal(plaintext, using: symmetric, authenticating: associatedData)
        return key.outputPrefix + Data(box.nonce) + box.ciphertext + box.tag
    }

    /// Tink `Aead.decrypt`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when no enabled key opens it.
    public func decrypt(_ ciphertext: Data, associatedData: Data) throws -> Data {
        let opened = self.firstMatch(ciphertext) { key, payload -> Data? in
            guard case .aesGCM(let symmetric) = key.material, payload.count >= 28,
                let box = try? AES.GCM.SealedBox(combined: payload)
            else { return nil }
            return try? AES.GCM.open(box, using: symmetric, authenticating: associatedData)
        }
        guard let opened else { throw BulwarkError(.authenticationFailed, "no key of the Tink keyset opens the ciphertext") }
        return opened
    }

    // MARK: DeterministicAead (AES-SIV)

    /// Tink `DeterministicAead.encryptDeterministically`: output prefix ‖ SIV ‖ ciphertext
    /// (RFC 5297 with the associated data as its one header).
    public func encryptDeterministically(_ plaintext: Data, associatedData: Data) throws -> Data {
        let (key, siv) = try self.primary("AES-SIV") { if case .aesSIV(let s) = $0 { s } else { nil } }
        let sealed = try plaintext.withUnsafeBytes { p in try associatedData.withUnsafeBytes { a in try siv.seal(p, associatedData: [a]) } }
        return key.outputPrefix + sealed
    }

    /// Tink `DeterministicAead.decryptDeterministically`.
    public func decryptDeterministically(_ ciphertext: Data, associatedData: Data) throws -> Data {
        let opened = self.firstMatch(ciphertext) { key, payload -> Data? in
            guard case .aesSIV(let siv) = key.material else { return nil }
            return (try? payload.withUnsafeBytes { p in try associatedData.withUnsafeBytes { a in try siv.open(p, associatedData: [a]) } }) ?? nil
        }
        guard let opened else { throw BulwarkError(.authenticationFailed, "no key of the Tink keyset opens the ciphertext") }
        return opened
    }

    // MARK: Mac (HMAC)

    /// Tink `Mac.computeMac`: output prefix ‖ HMAC truncated to the key's tag size (LEGACY keys
    /// MAC the data followed by a zero byte).
    public func computeMAC(_ data: Data) throws -> Data {
        let (key, hmac) = try self.primary("HMAC") { if case .hmac(let k, let h, let t) = $0 { (k, h, t) } else { nil } }
        return key.outputPrefix + hmac.1.mac(key.signedData(data), key: hmac.0).prefix(hmac.2)
    }

    /// Tink `Mac.verifyMac` (constant-time comparison).
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when no enabled key made the tag.
    public func verify(mac tag: Data, for data: Data) throws {
        let valid = self.firstMatch(tag) { key, payload -> Bool? in
            guard case .hmac(let symmetric, let hash, let size) = key.material, payload.count == size else { return nil }
            return constantTimeEquals(Array(hash.mac(key.signedData(data), key: symmetric).prefix(size)), Array(payload)) ? true : nil
        }
        guard valid == true else { throw BulwarkError(.authenticationFailed, "the tag does not verify under the Tink keyset") }
    }

    // MARK: PublicKeySign / PublicKeyVerify

    /// Tink `PublicKeySign.sign`: output prefix ‖ signature (Ed25519: 64 bytes; ECDSA: DER or
    /// IEEE P1363 as the key says; LEGACY keys sign the data followed by a zero byte).
    public func sign(_ data: Data) throws -> Data {
        let (key, _) = try self.primary("signing") { material -> Bool? in
            switch material {
            case .ed25519, .ecdsaP256: true
            default: nil
            }
        }
        let input = key.signedData(data)
        switch key.material {
        case .ed25519(let privateKey):
            return key.outputPrefix + (try privateKey.signature(for: input))
        case .ecdsaP256(let privateKey, let der):
            let signature = try privateKey.signature(for: input)
            return key.outputPrefix + (der ? signature.derRepresentation : signature.rawRepresentation)
        default:
            throw BulwarkError(.wrongPurpose, "the Tink keyset's primary key does not sign")
        }
    }

    /// Tink `PublicKeyVerify.verify`, with a private or a public keyset.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when no enabled key made the signature.
    public func verify(signature: Data, for data: Data) throws {
        let valid = self.firstMatch(signature) { key, payload -> Bool? in
            let input = key.signedData(data)
            switch key.material {
            case .ed25519(let privateKey): return privateKey.publicKey.isValidSignature(payload, for: input) ? true : nil
            case .ed25519Public(let publicKey): return publicKey.isValidSignature(payload, for: input) ? true : nil
            case .ecdsaP256(let privateKey, let der): return Self.ecdsaValid(privateKey.publicKey, der, payload, input)
            case .ecdsaP256Public(let publicKey, let der): return Self.ecdsaValid(publicKey, der, payload, input)
            default: return nil
            }
        }
        guard valid == true else { throw BulwarkError(.authenticationFailed, "the signature does not verify under the Tink keyset") }
    }

    private static func ecdsaValid(_ key: P256.Signing.PublicKey, _ der: Bool, _ signature: Data, _ data: Data) -> Bool? {
        let parsed = der ? try? P256.Signing.ECDSASignature(derRepresentation: signature) : try? P256.Signing.ECDSASignature(rawRepresentation: signature)
        guard let parsed, key.isValidSignature(parsed, for: data) else { return nil }
        return true
    }

    // MARK: HybridEncrypt / HybridDecrypt (HPKE)

    /// Tink `HybridEncrypt.encrypt`: output prefix ‖ enc ‖ ct, HPKE base mode with `info` =
    /// `contextInfo`, with a private or a public keyset.
    public func hybridEncrypt(_ plaintext: Data, contextInfo: Data) throws -> Data {
        let (key, publicKey) = try self.primary("HPKE") { material -> TinkHPKE.PublicKey? in
            switch material {
            case .hpke(let pair): pair.publicKey
            case .hpkePublic(let publicKey): publicKey
            default: nil
            }
        }
        return key.outputPrefix + (try publicKey.seal(plaintext, info: contextInfo))
    }

    /// Tink `HybridDecrypt.decrypt`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when no enabled key opens it.
    public func hybridDecrypt(_ ciphertext: Data, contextInfo: Data) throws -> Data {
        let opened = self.firstMatch(ciphertext) { key, payload -> Data? in
            guard case .hpke(let pair) = key.material else { return nil }
            return pair.open(payload, info: contextInfo)
        }
        guard let opened else { throw BulwarkError(.authenticationFailed, "no key of the Tink keyset opens the ciphertext") }
        return opened
    }
}
