import Crypto
public import Foundation

/// An age X25519 recipient (`age1…`): the public key a file is encrypted to, so that the holder
/// of the matching ``AgeIdentity`` (from `age-keygen`, or a Bulwark `age-x25519` key) opens it
/// with the `age` command, `rage`, or Bulwark. See ``AgeEncryptor``.
public struct AgeRecipient: Sendable, Hashable, CustomStringConvertible {
    /// The X25519 public key (32 bytes).
    public let rawRepresentation: Data

    /// Reads `age1…` (Bech32, one case).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything else, including a key of small
    ///   order (a file encrypted to it would be readable by anyone).
    public init(text: String) throws {
        guard let (hrp, data) = Bech32.decode(text.trimmingCharacters(in: .whitespaces)), hrp == "age", data.count == 32 else {
            throw BulwarkError(.invalidFormat, "not an age X25519 recipient (age1…)")
        }
        try self.init(rawRepresentation: Data(data))
    }

    /// A recipient from a raw X25519 public key.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a key of the wrong length or of small order.
    public init(rawRepresentation: Data) throws {
        guard rawRepresentation.count == 32, !HybridSuite.isSmallOrderX25519(rawRepresentation) else {
            throw BulwarkError(.invalidFormat, "an age recipient is an X25519 public key of 32 bytes, not of small order")
        }
        self.rawRepresentation = rawRepresentation
    }

    /// A key known to be valid (an identity's own public key).
    init(unchecked rawRepresentation: Data) {
        self.rawRepresentation = rawRepresentation
    }

    /// `age1…`.
    public var text: String { Bech32.encode(hrp: "age", data: Array(self.rawRepresentation)) }

    /// ``text``.
    public var description: String { self.text }

    /// The stanza wrapping `fileKey` for this recipient (a fresh ephemeral key per stanza).
    func stanza(fileKey: SymmetricKey) throws -> AgeStanza {
        let ephemeral = Curve25519.KeyAgreement.PrivateKey()
        let share = ephemeral.publicKey.rawRepresentation
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: try Curve25519.KeyAgreement.PublicKey(rawRepresentation: self.rawRepresentation))
        let wrapKey = shared.hkdfDerivedSymmetricKey(
            using: SHA256.self, salt: share + self.rawRepresentation, sharedInfo: Data(AgeFormat.x25519Label.utf8), outputByteCount: 32)
        let body = try fileKey.withUnsafeBytes { key in
            try ChaChaPoly.seal(Data(key), using: wrapKey, nonce: try AgeFormat.zeroNonce())
        }
        return AgeStanza(arguments: ["X25519", AgeBase64.encode(share)], body: body.ciphertext + body.tag)
    }
}
