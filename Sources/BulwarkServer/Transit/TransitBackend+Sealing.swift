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
    ///   - derivation: The request's `context`, which a derived key needs (and any other key
    ///     ignores, as Vault's do).
    static func seal<Plaintext: DataProtocol>(_ key: Keyset, _ plaintext: Plaintext, context: Data, derivation: Data? = nil, version: UInt32?) throws -> Data {
        if key.isDerived {
            return try key.encrypt(plaintext, context: context, derivingFrom: try Self.derivationContext(key, derivation), version: version).sealed
        }
        if Self.isRSA(key.type) {
            try Self.refuseRSAContext(context)
            return try key.rsaEncrypt(plaintext, version: version)
        }
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
    static func open(_ key: Keyset, _ text: String, context: Data, derivation: Data? = nil) throws -> Data {
        let (version, payload) = try Self.parseVault(text)
        if key.isDerived {
            // Vault's layout under the derived key: vN names the version.
            return try key.decrypt(payload, context: context, derivingFrom: try Self.derivationContext(key, derivation), version: version)
        }
        if Self.isRSA(key.type) {
            // RSA-OAEP ciphertexts carry no header: vN names the version, as in Vault.
            try Self.refuseRSAContext(context)
            return try key.rsaDecrypt(payload, version: version)
        }
        guard key.purpose == .hybridEncryption else { return try key.decrypt(payload, context: context) }
        guard try EnvelopeHeader(peeking: payload).keyVersion == version else {
            throw BulwarkError(.invalidArgument, "invalid ciphertext: the vN prefix does not name the version the message was made for")
        }
        return try key.hybridDecrypt(payload, context: context)
    }

    /// The context a derived key needs, or Vault's refusal when the request gave none.
    static func derivationContext(_ key: Keyset, _ given: Data?) throws -> Data {
        guard let given, !given.isEmpty else {
            throw BulwarkError(.invalidArgument, 
                "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key")
        }
        return given
    }

    /// Checks a request's contexts before any work or spending: a derived key needs one in the
    /// call or in every batch item (Vault: all or none, and none fails), any other key refuses
    /// a non-empty one (Vault ignores it), and a batch's top level never carries one (only the
    /// items are read: one there would be silently dropped).
    static func checkContexts(_ key: Keyset, topLevel: String?, items: [String?]?) throws {
        let given: (String?) -> Bool = { !($0 ?? "").isEmpty }
        guard let items else {
            if key.isDerived, !given(topLevel) { _ = try Self.derivationContext(key, nil) }
            if !key.isDerived, given(topLevel) { throw Self.contextRefusal }
            return
        }
        if given(topLevel) {
            throw BulwarkError(.invalidArgument, "context: give it in each batch item (the top level of a batch is not read)")
        }
        let count = items.filter(given).count
        guard key.isDerived else {
            if count > 0 { throw Self.contextRefusal }
            return
        }
        guard count == 0 || count == items.count else {
            throw BulwarkError(.invalidArgument, "context should be set either in all the request blocks or in none")
        }
        if count == 0, !items.isEmpty { _ = try Self.derivationContext(key, nil) }
    }

    /// A context given to a key that is not derived.
    static let contextRefusal = BulwarkError(
        .invalidArgument, "key derivation (context) is for derived keys and this key is not derived; bind data with associated_data")

    /// The most items one batch may carry for an `hpke-*` key: each item is a key agreement (an
    /// ML-KEM encapsulation too for X-Wing), a hundred times an AES-GCM item's work, so a
    /// batch is bounded to about what 10,000 symmetric items cost.
    static let maximumHybridBatch = 1_000

    /// The most items one batch may carry for an RSA key: a private-key operation costs about a
    /// millisecond (RSA-2048) to several (RSA-4096), so a batch stays within about a second.
    static let maximumRSABatch = 100

    /// Refuses a batch over ``maximumHybridBatch`` for an `hpke-*` key or a costly signing key
    /// (P-384, P-521, ML-DSA, whose signatures are up to 4.6 KB), or over ``maximumRSABatch``
    /// for an RSA key (before any work).
    static func checkHybridBatch<Item>(_ key: Keyset, _ batch: [Item]?) throws {
        guard let count = batch?.count else { return }
        if Self.isRSA(key.type), count > Self.maximumRSABatch {
            throw BulwarkError(.invalidArgument, "batch_input holds more than \(Self.maximumRSABatch) items for an RSA key")
        }
        let costly: Set<KeyType> = [.ecdsaP384, .ecdsaP521, .mlDSA65, .mlDSA87]
        guard key.purpose == .hybridEncryption || costly.contains(key.type), count > Self.maximumHybridBatch else { return }
        throw BulwarkError(.invalidArgument, "batch_input holds more than \(Self.maximumHybridBatch) items for a \(Self.vaultType(key.type)) key")
    }

    /// Whether `type` is one of the RSA types (which sign and encrypt with RSA-OAEP, as Vault's).
    static func isRSA(_ type: KeyType) -> Bool {
        type == .rsa2048 || type == .rsa3072 || type == .rsa4096
    }

    /// Whether `key` encrypts to a public key (hybrid or RSA): work kept off the fast path, and
    /// keys the encrypt upsert never makes.
    static func isPublicKeyEncryption(_ type: KeyType) -> Bool {
        type.purpose == .hybridEncryption || Self.isRSA(type)
    }

    /// RSA-OAEP binds no associated data: refused rather than ignored (Vault answers 400 too).
    static func refuseRSAContext(_ context: Data) throws {
        guard context.isEmpty else { throw BulwarkError(.invalidArgument, "associated_data is not supported by RSA keys (RSA-OAEP is not an AEAD)") }
    }

    /// Refuses what would let a caller with only `create` on `transit/encrypt` change what a key
    /// name means: a hybrid key made by the encrypt upsert (anyone with its public key could then
    /// make ciphertexts that decrypt, where the application expects only the service can), or an
    /// encrypt naming a `type` other than the existing key's when either is hybrid (Vault ignores
    /// `type` for an existing key; here a symmetric/hybrid mix-up is an error, not a surprise).
    static func checkUpsertType(existing: Keyset?, requested: String?) throws {
        guard let requested, let type = Self.vaultTypes[requested] else { return }
        if let existing {
            if existing.type != type, Self.isPublicKeyEncryption(existing.type) || Self.isPublicKeyEncryption(type) {
                throw BulwarkError(.invalidArgument, "key is of type \(Self.vaultType(existing.type)), not \(requested)")
            }
        } else if Self.isPublicKeyEncryption(type) {
            throw BulwarkError(.invalidArgument, "public-key (hpke, rsa) keys are created with POST transit/keys/:name, not by encrypt")
        } else if type.purpose != .encryption {
            // Vault refuses these too: an encrypt must not leave a signing or HMAC key behind.
            throw BulwarkError(.invalidArgument, "key type \(requested) not supported for this operation")
        }
    }
}
