import Crypto
import Foundation

/// An age X25519 identity (`AGE-SECRET-KEY-1…`): the private key that opens files encrypted to
/// its ``recipient``. Read one from an `age-keygen` file (``identities(in:)``), or take a
/// Bulwark `age-x25519` key's (`Keyset.ageIdentities()`).
public struct AgeIdentity: Sendable, CustomStringConvertible {
    let key: Curve25519.KeyAgreement.PrivateKey

    init(key: Curve25519.KeyAgreement.PrivateKey) {
        self.key = key
    }

    /// A new random identity.
    public static func generate() -> AgeIdentity {
        AgeIdentity(key: Curve25519.KeyAgreement.PrivateKey())
    }

    /// Reads `AGE-SECRET-KEY-1…` (Bech32, one case).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything else (the message never
    ///   quotes the text).
    public init(text: String) throws {
        guard let (hrp, data) = Bech32.decode(text.trimmingCharacters(in: .whitespaces)), hrp == "age-secret-key-", data.count == 32,
            let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)
        else {
            throw BulwarkError(.invalidFormat, "not an age X25519 identity (AGE-SECRET-KEY-1…)")
        }
        self.key = key
    }

    /// Every identity in an identity file as `age-keygen` writes it: one per line, `#` comments
    /// and blank lines ignored.
    /// - Parameter file: The file's contents (not its path).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for any other line (by number, never its
    ///   text) or a file with no identity.
    public static func identities(in file: String) throws -> [AgeIdentity] {
        var found: [AgeIdentity] = []
        // Any line end (LF or CRLF: "\r\n" is one Character, so not split on "\n" alone).
        for (number, line) in file.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                found.append(try AgeIdentity(text: trimmed))
            } catch {
                throw BulwarkError(.invalidFormat, "line \(number + 1) of the identity file is not an age X25519 identity")
            }
        }
        guard !found.isEmpty else { throw BulwarkError(.invalidFormat, "the identity file holds no identity") }
        return found
    }

    /// The recipient only: never the secret.
    public var description: String { "AgeIdentity(recipient: \(self.recipient.text))" }

    /// The recipient files for this identity are encrypted to.
    public var recipient: AgeRecipient {
        AgeRecipient(unchecked: self.key.publicKey.rawRepresentation)
    }

    /// `AGE-SECRET-KEY-1…`: the secret itself, for writing an identity file.
    /// - Parameter access: ``InsecureSecretKeyAccess/token``, a greppable marker of secret access.
    public func secretText(access: InsecureSecretKeyAccess) -> String {
        Bech32.encode(hrp: "age-secret-key-", data: Array(self.key.rawRepresentation)).uppercased()
    }

    /// The file key from an X25519 stanza addressed to this identity, or nil when the stanza is
    /// for another identity (its tag does not verify). The caller has checked its shape.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when the shared secret is all zero
    ///   (a share of small order: the spec says abort).
    func unwrap(share: Data, body: Data) throws -> SymmetricKey? {
        guard let peer = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share),
            let shared = try? self.key.sharedSecretFromKeyAgreement(with: peer)
        else {
            throw BulwarkError(.authenticationFailed, "an X25519 stanza's share is not a usable public key")
        }
        let allZero = shared.withUnsafeBytes { bytes in bytes.reduce(UInt8(0)) { $0 | $1 } == 0 }
        if allZero { throw BulwarkError(.authenticationFailed, "an X25519 stanza's share has small order") }
        let wrapKey = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + self.key.publicKey.rawRepresentation, sharedInfo: Data(AgeFormat.x25519Label.utf8),
            outputByteCount: 32)
        guard let box = try? ChaChaPoly.SealedBox(nonce: try AgeFormat.zeroNonce(), ciphertext: body.prefix(16), tag: body.suffix(16)),
            let fileKey = try? ChaChaPoly.open(box, using: wrapKey)
        else { return nil }
        return SymmetricKey(data: fileKey)
    }
}
