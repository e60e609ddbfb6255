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
        guard try EnvelopeHeader(peeking: payload).keyVersion == version else {
            throw BulwarkError(.invalidArgument, "invalid ciphertext: the vN prefix does not name the version the message was made for")
        }
        return try key.hybridDecrypt(payload, context: context)
    }

    /// The most items one batch may carry for an `hpke-*` key: each item is a key agreement (an
    /// ML-KEM encapsulation too for X-Wing), a hundred times an AES-GCM item's work, so a
    /// batch is bounded to about what 10,000 symmetric items cost.
    static let maximumHybridBatch = 1_000

    /// Refuses a batch over ``maximumHybridBatch`` for an `hpke-*` key (before any work).
    static func checkHybridBatch<Item>(_ key: Keyset, _ batch: [Item]?) throws {
        guard key.purpose == .hybridEncryption, let count = batch?.count, count > Self.maximumHybridBatch else { return }
        throw BulwarkError(.invalidArgument, "batch_input holds more than \(Self.maximumHybridBatch) items for a hybrid (hpke) key")
    }

    /// Refuses what would let a caller with only `create` on `transit/encrypt` change what a key
    /// name means: a hybrid key made by the encrypt upsert (anyone with its public key could then
    /// make ciphertexts that decrypt, where the application expects only the service can), or an
    /// encrypt naming a `type` other than the existing key's when either is hybrid (Vault ignores
    /// `type` for an existing key; here a symmetric/hybrid mix-up is an error, not a surprise).
    static func checkUpsertType(existing: Keyset?, requested: String?) throws {
        guard let requested, let type = Self.vaultTypes[requested] else { return }
        if let existing {
            if existing.type != type, existing.purpose == .hybridEncryption || type.purpose == .hybridEncryption {
                throw BulwarkError(.invalidArgument, "key is of type \(Self.vaultType(existing.type)), not \(requested)")
            }
        } else if type.purpose == .hybridEncryption {
            throw BulwarkError(.invalidArgument, "hybrid (hpke) keys are created with POST transit/keys/:name, not by encrypt")
        }
    }
}
