import Bulwark
import Foundation

extension TransitBackend {
    /// Encrypts one item for `transit/encrypt`, `rewrap` and `datakey`: Bulwark's envelope under
    /// a symmetric key; under an `hpke-*` key, a hybrid message to the version's public key (the
    /// same bytes a client holding only the public key makes, so either kind decrypts the same
    /// way). No nonce or ephemeral key ever comes from the request.
    /// - Parameters:
    ///   - version: The version (nil: the primary). A chosen version must be at or above the
    ///     minimum encryption version.
    static func seal<Plaintext: DataProtocol>(_ key: Keyset, _ plaintext: Plaintext, context: Data, version: UInt32?) throws -> Data {
        if key.purpose == .hybridEncryption {
            return try key.hybridPublicKey(version: version).encrypt(plaintext, context: context)
        }
        guard let version else { return try key.encrypt(plaintext, context: context) }
        return try key.encrypt(plaintext, context: context, version: version)
    }

    /// Decrypts one `vault:vN:` ciphertext for `transit/decrypt` and `rewrap`.
    ///
    /// A hybrid message's `vN` must name the version its header names: the prefix is not
    /// authenticated, and a client that reads it to decide what to rewrap must not be misled
    /// by one that was altered. (For symmetric envelopes the header alone decides, as before.)
    static func open(_ key: Keyset, _ text: String, context: Data) throws -> Data {
        let (version, payload) = try Self.parseVault(text)
        guard key.purpose == .hybridEncryption else { return try key.decrypt(payload, context: context) }
        guard let header = try? EnvelopeHeader(peeking: payload), header.keyVersion == version else {
            throw BulwarkError(.invalidArgument, "invalid ciphertext: the vN prefix does not name the version the message was made for")
        }
        return try key.hybridDecrypt(payload, context: context)
    }
}
