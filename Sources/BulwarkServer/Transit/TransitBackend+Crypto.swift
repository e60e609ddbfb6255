import Bulwark
import Crypto
import Foundation

extension TransitBackend {
    /// The most items one request may carry.
    static let maximumBatch = 10_000

    /// `batch`'s items, or nil for a single call; refused (400) when empty or over
    /// ``maximumBatch`` (Vault: "missing batch input to process").
    static func batchItems<Item>(_ batch: [Item]?) throws -> [Item]? {
        guard let items = batch else { return nil }
        guard !items.isEmpty else { throw BulwarkError(.invalidArgument, "missing batch input to process") }
        guard items.count <= Self.maximumBatch else { throw BulwarkError(.invalidArgument, "batch_input holds more than \(Self.maximumBatch) items") }
        return items
    }

    /// Runs `single` on the request, or on each item of its batch with per-item errors (Vault's
    /// batch semantics: a single call's error is the request's, an item's is that item's).
    func batched<Item, Result: Encodable & Sendable>(
        _ request: Item, _ batch: [Item]?, _ single: (Item) throws -> Result
    ) throws -> Batched<Result> {
        guard let items = try Self.batchItems(batch) else { return .single(try single(request)) }
        var results: [Batched<Result>.Item] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                results.append(.success(try single(item)))
            } catch {
                results.append(.failure(ServiceError.normalized(error).message))
            }
        }
        return .batch(results)
    }

    /// `POST transit/encrypt/:name` (creates an aes256-gcm96 key on first use, as Vault does).
    /// Reserves encryptions for the versions it uses first (``EncryptionBudget``); a version at
    /// its limit rotates the key when `auto_rotate_period` is set, and is refused otherwise.
    public func encrypt(_ name: String, _ request: EncryptRequest) async throws -> Batched<Ciphertext> {
        if self.cacheHasNoKey(name) {
            // transit/config/keys may forbid creating keys here (Vault's words, status 400).
            if try await self.keysConfiguration().disableUpsert { throw BulwarkError(.invalidArgument, "encryption key not found") }
            try Self.checkUpsertType(existing: nil, requested: request.type)
            // As Vault: a context in the request (or its first item) makes the new key derived.
            let context = request.batchInput?.first?.context ?? request.context
            let derived = !(context ?? "").isEmpty
            try await self.createKey(
                name, KeyCreation(type: request.type, derived: derived ? true : nil, convergentEncryption: request.convergentEncryption))
        }
        let wanted = (request.batchInput ?? [request]).map { $0.keyVersion ?? request.keyVersion }
        return try await self.budgeted(name, wanted, items: request.batchInput) { try self.encryptExisting(name, request) }
    }

    /// Runs an operation that encrypts with random nonces (encrypt, rewrap, datakey) after
    /// reserving what it will spend (`wanted`: each item's `key_version`); reserves again if
    /// concurrent requests spent it meanwhile. `items` is only checked (an empty or oversized
    /// batch is refused before anything is reserved).
    private func budgeted<Item, Result>(
        _ name: String, _ wanted: [Int?], items: [Item]?, _ operation: () throws -> Result
    ) async throws -> Result {
        _ = try Self.batchItems(items)
        for _ in 0..<8 {
            try await self.reserveEncryptions(name, wanted)
            do {
                return try operation()
            } catch is BudgetShortfall {
                continue
            }
        }
        throw BulwarkError(.unavailable, "encryptions for this key are being reserved; retry")
    }

    /// Raised by ``encryptExisting(_:_:)`` when this node holds too few reserved encryptions.
    struct BudgetShortfall: Error {}

    /// The versions a request's items encrypt with (`wanted`: each item's `key_version`), and
    /// how many items each (an item naming a version the key does not have, or no version at
    /// all, fails by itself later and is not counted).
    private func encryptionCounts(_ key: Keyset, _ wanted: [Int?]) -> [UInt32: Int] {
        var counts: [UInt32: Int] = [:]
        for keyVersion in wanted {
            let asked = keyVersion.flatMap { (0...Int(UInt32.max)).contains($0) ? UInt32($0) : nil }
            if keyVersion != nil, asked == nil { continue }
            let version = asked.flatMap { $0 == 0 ? nil : $0 } ?? key.primaryVersion
            guard version <= key.latestVersion else { continue }
            counts[version, default: 0] += 1
        }
        return counts
    }

    /// Makes sure this node holds reserved encryptions for the items (router path).
    func reserveEncryptions(_ name: String, _ wanted: [Int?]) async throws {
        var key = try self.key(name)
        guard EncryptionBudget.counts(key.type) else { return }
        for (version, count) in self.encryptionCounts(key, wanted) {
            let account = EncryptionBudget.Version(key: name, version: version)
            while !self.budget.hasAvailable(account, count: count) {
                if try await self.budget.reserve(account, store: self.store) { continue }
                // The last blocks may have gone to a background reservation still landing here.
                await self.budget.settle(account)
                if self.budget.hasAvailable(account, count: count) { continue }
                guard version == key.primaryVersion, key.rotationPeriod != nil else {
                    throw BulwarkError(.invalidArgument, 
                        "key version \(version) has made its \(self.budget.limit) encryptions with random nonces (NIST SP 800-38D): rotate the key")
                }
                // Auto-rotation is on: a new primary version takes over before the limit is passed.
                try await self.rotateKey(name)
                key = try self.key(name)
                return try await self.reserveEncryptions(name, wanted)
            }
        }
    }

    /// Whether the fast path may take a request for `name` at all: not for an `hpke-*` key, whose
    /// public-key work (a key agreement per item) runs on the router's tasks, never inline on a
    /// connection's event loop. A key that does not exist is the fast path's to refuse.
    func fastPathMayTake(_ name: String) -> Bool {
        guard let key = try? self.key(name) else { return true }
        return !Self.isPublicKeyEncryption(key.type) && !key.isDerived
    }

    /// Whether the fast path may encrypt with `name` now: enough reserved encryptions for a full
    /// batch under its primary version (otherwise the router reserves first).
    func canEncryptWithoutReserving(_ name: String) -> Bool {
        guard let key = try? self.key(name) else { return false }
        guard EncryptionBudget.counts(key.type) else { return true }
        return self.budget.hasAvailable(.init(key: name, version: key.primaryVersion), count: 10_000)
    }

    /// Spends reserved encryptions for a request's items; starts a background reservation when
    /// a block runs low.
    private func spendEncryptions(_ key: Keyset, _ wanted: [Int?]) throws {
        guard EncryptionBudget.counts(key.type) else { return }
        for (version, count) in self.encryptionCounts(key, wanted) {
            try self.spendEncryptions(key, version: version, count: count)
        }
    }

    /// Spends `count` reserved encryptions of one version of a counted key.
    private func spendEncryptions(_ key: Keyset, version: UInt32, count: Int) throws {
        let account = EncryptionBudget.Version(key: key.name, version: version)
        let (spent, prefetch) = self.budget.spend(account, count: count)
        // Low, or short (a version the fast path had not reserved for): reserve in the background.
        if prefetch || (spent != .granted && self.budget.startReserving(account)) {
            let budget = self.budget
            let store = self.store
            Task { _ = try? await budget.reserve(account, store: store) }
        }
        guard spent == .granted else { throw BudgetShortfall() }
    }

    /// An item's `context` (base64) for a derived key. Any other key refuses a non-empty one
    /// (Vault ignores it: a caller who meant it to bind something would never learn it did not).
    static func derivation(_ key: Keyset, _ context: String?) throws -> Data? {
        guard key.isDerived else {
            if let context, !context.isEmpty { throw Self.contextRefusal }
            return nil
        }
        return try Self.base64(context, "context", required: false)
    }

    /// Signing and HMAC keys are never derived here: a non-empty `context` is refused.
    static func refuseContext(_ request: SignatureRequest) throws {
        for item in [request] + (request.batchInput ?? []) {
            if let context = item.context, !context.isEmpty { throw Self.contextRefusal }
        }
    }

    /// The version an item asks for with `key_version` (0 or absent: the primary).
    static func version(_ key: Keyset, _ keyVersion: Int?) throws -> UInt32 {
        let wanted = try RequestValues.integer(keyVersion, field: "key_version", in: 0...Int(UInt32.max)) ?? 0
        return wanted == 0 ? key.primaryVersion : UInt32(wanted)
    }

    /// `POST transit/encrypt/:name` under a key that exists (no upsert): the synchronous part of
    /// ``encrypt(_:_:)``.
    func encryptExisting(_ name: String, _ request: EncryptRequest) throws -> Batched<Ciphertext> {
        let key = try self.key(name)
        // `type` only chooses the type of a key created by this call; for an existing key it is
        // ignored, as in Vault, but a name that is no key type is refused rather than passed over.
        // Checked before any encryption is spent on the request.
        for item in [request] + (request.batchInput ?? []) {
            if let typeName = item.type, Self.vaultTypes[typeName] == nil {
                throw BulwarkError(.invalidArgument, "unsupported key type")
            }
            try Self.checkUpsertType(existing: key, requested: item.type)
        }
        _ = try Self.batchItems(request.batchInput)
        try Self.checkHybridBatch(key, request.batchInput)
        try Self.checkContexts(key, topLevel: request.context, items: request.batchInput?.map(\.context))
        // convergent_encryption chooses a new key's kind: one that contradicts this key's, or
        // one in a batch item (never read there), is refused rather than passed over.
        if let convergent = request.convergentEncryption, convergent != key.isConvergent {
            throw BulwarkError(.invalidArgument, "convergent_encryption: the key is \(key.isConvergent ? "" : "not ")convergent")
        }
        if request.batchInput?.contains(where: { $0.convergentEncryption != nil }) == true {
            throw BulwarkError(.invalidArgument, "convergent_encryption applies to the request, not to batch items")
        }
        try self.spendEncryptions(key, (request.batchInput ?? [request]).map { $0.keyVersion ?? request.keyVersion })
        return try self.batched(request, request.batchInput) { item in
            let plaintext = try Self.base64(item.plaintext, "plaintext") ?? Data()
            let context = try Self.base64(item.associatedData, "associated_data", required: false) ?? Data()
            let derivation = try Self.derivation(key, item.context)
            if let wanted = try RequestValues.integer(item.keyVersion ?? request.keyVersion, field: "key_version", in: 0...Int(UInt32.max)),
                wanted != 0, wanted != Int(key.primaryVersion)
            {
                let version = UInt32(wanted)
                let sealed = try Self.seal(key, plaintext, context: context, derivation: derivation, version: version)
                return Ciphertext(ciphertext: Self.vaultString(version: version, sealed), keyVersion: wanted)
            }
            let sealed = try Self.seal(key, plaintext, context: context, derivation: derivation, version: nil)
            return Ciphertext(ciphertext: Self.vaultString(version: key.primaryVersion, sealed), keyVersion: Int(key.primaryVersion))
        }
    }

    /// An item of a typed encrypt (``TransitFastPath``).
    struct PlainItem {
        /// `plaintext`, base64.
        var plaintext: String
        /// `associated_data`, base64.
        var associatedData: String?
        /// `key_version`.
        var keyVersion: Int?
    }

    /// ``encryptExisting(_:_:)`` for items in their common shape (base64 `plaintext`, optional
    /// `associated_data`, `key_version` absent, 0 or the primary's), without `[String: Any]`: the
    /// same encryptions spent and the same ciphertexts, in order. Nil when an item needs the
    /// general path (another `key_version`, text that is not base64), which then answers (and
    /// counts) the whole request; nothing is spent before every item is known to be good.
    func encryptTyped(_ name: String, _ items: [PlainItem]) throws -> [(ciphertext: String, version: UInt32)]? {
        let key = try self.key(name)
        // Public-key work stays off the connection's event loop (the router's business), and a
        // derived key needs each item's context, which the typed items do not carry.
        if Self.isPublicKeyEncryption(key.type) || key.isDerived { return nil }
        var inputs: [(plaintext: Data, context: Data)] = []
        inputs.reserveCapacity(items.count)
        for item in items {
            if let keyVersion = item.keyVersion, keyVersion != 0, keyVersion != Int(key.primaryVersion) { return nil }
            guard let plaintext = Data(base64Encoded: item.plaintext) else { return nil }
            var context = Data()
            if let associatedData = item.associatedData {
                guard let decoded = Data(base64Encoded: associatedData) else { return nil }
                context = decoded
            }
            inputs.append((plaintext, context))
        }
        if EncryptionBudget.counts(key.type) {
            try self.spendEncryptions(key, version: key.primaryVersion, count: items.count)
        }
        return try inputs.map { input in
            (Self.vaultString(version: key.primaryVersion, try Self.seal(key, input.plaintext, context: input.context, version: nil)), key.primaryVersion)
        }
    }

    /// ``decrypt(_:_:)`` for items in their common shape (`ciphertext`, optional
    /// `associated_data`): the plaintexts, base64, in order. Throws what the general path would
    /// refuse an item with (the caller then lets the general path answer the request).
    func decryptTyped(_ name: String, _ items: [(ciphertext: String, associatedData: String?)]) throws -> [String] {
        let key = try self.key(name)
        // Public-key work stays off the connection's event loop (the key may have been made
        // after the request's head was admitted).
        if Self.isPublicKeyEncryption(key.type) { throw BulwarkError(.unavailable, "public-key work is not done on the fast path") }
        if key.isDerived { throw BulwarkError(.unavailable, "derived keys are not served on the fast path") }
        return try items.map { item in
            let context = try Self.base64(item.associatedData, "associated_data", required: false) ?? Data()
            return try Self.open(key, item.ciphertext, context: context).base64EncodedString()
        }
    }

    /// Whether the key `name` exists (in this node's view of the store).
    func hasKey(_ name: String) -> Bool {
        !self.cacheHasNoKey(name)
    }

    func cacheHasNoKey(_ name: String) -> Bool {
        self.existingKey(name) == nil
    }

    /// `POST transit/decrypt/:name`.
    public func decrypt(_ name: String, _ request: DecryptRequest) throws -> Batched<Plaintext> {
        let key = try self.key(name)
        try Self.checkHybridBatch(key, request.batchInput)
        try Self.checkContexts(key, topLevel: request.context, items: request.batchInput?.map(\.context))
        return try self.batched(request, request.batchInput) { item in
            guard let text = item.ciphertext else { throw BulwarkError(.invalidArgument, "missing ciphertext") }
            let context = try Self.base64(item.associatedData, "associated_data", required: false) ?? Data()
            let derivation = try Self.derivation(key, item.context)
            return Plaintext(plaintext: try Self.open(key, text, context: context, derivation: derivation).base64EncodedString())
        }
    }

    /// `POST transit/rewrap/:name`: decrypts and re-encrypts under the latest version.
    public func rewrap(_ name: String, _ request: RewrapRequest) async throws -> Batched<Ciphertext> {
        let wanted = (request.batchInput ?? [request]).map { $0.keyVersion ?? request.keyVersion }
        return try await self.budgeted(name, wanted, items: request.batchInput) {
            let key = try self.key(name)
            try Self.checkHybridBatch(key, request.batchInput)
            try Self.checkContexts(key, topLevel: request.context, items: request.batchInput?.map(\.context))
            try self.spendEncryptions(key, wanted)
            return try self.batched(request, request.batchInput) { item in
                guard let text = item.ciphertext else { throw BulwarkError(.invalidArgument, "missing ciphertext") }
                let context = try Self.base64(item.associatedData, "associated_data", required: false) ?? Data()
                let derivation = try Self.derivation(key, item.context)
                let plaintext = try Self.open(key, text, context: context, derivation: derivation)
                let version = try Self.version(key, item.keyVersion ?? request.keyVersion)
                let sealed = try Self.seal(key, plaintext, context: context, derivation: derivation, version: version)
                return Ciphertext(ciphertext: Self.vaultString(version: version, sealed), keyVersion: Int(version))
            }
        }
    }

    /// `POST transit/datakey/(plaintext|wrapped)/:name`.
    public func dataKey(_ name: String, plaintext: Bool, _ request: DataKeyRequest) async throws -> DataKey {
        try await self.budgeted(name, [request.keyVersion], items: [DataKeyRequest]?.none) {
            try self.dataKeyNow(name, plaintext: plaintext, request)
        }
    }

    private func dataKeyNow(_ name: String, plaintext: Bool, _ request: DataKeyRequest) throws -> DataKey {
        let key = try self.key(name)
        try Self.checkContexts(key, topLevel: request.context, items: nil)
        try self.spendEncryptions(key, [request.keyVersion])
        let bits = try RequestValues.integer(request.bits, field: "bits", in: 0...4096) ?? 256
        guard [128, 256, 512].contains(bits) else { throw BulwarkError(.invalidArgument, "invalid bits: 128, 256 or 512") }
        var bytes = SecureRandom.bytes(bits / 8)
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let context = try Self.base64(request.associatedData, "associated_data", required: false) ?? Data()
        let version = try Self.version(key, request.keyVersion)
        let sealed = try Self.seal(key, bytes, context: context, derivation: try Self.derivation(key, request.context), version: version)
        return DataKey(
            ciphertext: Self.vaultString(version: version, sealed), keyVersion: Int(version),
            plaintext: plaintext ? Data(bytes).base64EncodedString() : nil)
    }

    /// `POST transit/hmac/:name[/:algorithm]`: the bare HMAC, as Vault's, with any key type
    /// (each version has its own HMAC key: ``Keyset/standardMAC(for:version:hash:)``), any
    /// SHA-2/SHA-3 `algorithm` and an older `key_version` on request.
    public func hmac(_ name: String, _ request: SignatureRequest, algorithm: String? = nil) throws -> Batched<MAC> {
        try Self.refuseContext(request)
        let key = try self.key(name)
        return try self.batched(request, request.batchInput) { item in
            try Self.checkOptions(key, item, request, pathAlgorithm: algorithm)
            let hash = try Self.macHash(item, request, pathAlgorithm: algorithm)
            let version = try Self.version(key, item.keyVersion ?? request.keyVersion)
            let input = try Self.base64(item.input, "input") ?? Data()
            return MAC(hmac: Self.vaultString(version: version, try key.standardMAC(for: input, version: version, hash: hash)))
        }
    }

    /// The hash of an HMAC item: the path's, `algorithm` or `hash_algorithm` (Vault's names), or
    /// nil for the key's own (SHA-512 for `hmac-sha512` keys, otherwise SHA-256, Vault's default).
    static func macHash(_ item: SignatureRequest, _ request: SignatureRequest, pathAlgorithm: String?) throws -> SignatureHash? {
        func option(_ path: KeyPath<SignatureRequest, String?>) -> String? {
            guard let text = item[keyPath: path] ?? request[keyPath: path], !text.isEmpty else { return nil }
            return text
        }
        guard let name = pathAlgorithm ?? option(\.algorithm) ?? option(\.hashAlgorithm) else { return nil }
        return try Self.hash(named: name)
    }

    /// A hash by Vault's name; `sha1`, `sha2-224` and `none` refused by name (no SHA-1 for
    /// signatures or MACs; swift-crypto has no SHA-224; `none` is RSA's).
    static func hash(named name: String) throws -> SignatureHash {
        if let hash = SignatureHash(vaultName: name) { return hash }
        switch name {
        case "sha1": throw BulwarkError(.invalidArgument, "hash_algorithm \"sha1\" is refused: SHA-1 is not used for signatures or MACs")
        case "sha2-224": throw BulwarkError(.invalidArgument, "hash_algorithm \"sha2-224\" is not supported (sha2-256, sha2-384, sha2-512, sha3-256, sha3-384, sha3-512)")
        case "none": throw BulwarkError(.invalidArgument, "hash_algorithm \"none\" (unhashed PKCS#1 v1.5) is not supported")
        default: throw BulwarkError(.invalidArgument, "invalid hash algorithm")
        }
    }

    /// `POST transit/sign/:name[/:algorithm]`: the signature alone, as Vault makes it (Ed25519 of
    /// the input; ECDSA of the input's hash, DER or with `marshaling_algorithm=jws` `r ‖ s` in
    /// base64url), so a verifier holding only the public key checks it.
    public func sign(_ name: String, _ request: SignatureRequest, algorithm: String? = nil) throws -> Batched<Signature> {
        try Self.refuseContext(request)
        let key = try self.key(name)
        try Self.checkHybridBatch(key, request.batchInput)
        return try self.batched(request, request.batchInput) { item in
            try Self.checkOptions(key, item, request, pathAlgorithm: algorithm)
            let options = try Self.signingOptions(key, item, request, pathAlgorithm: algorithm)
            let version = try Self.version(key, item.keyVersion ?? request.keyVersion)
            let input = try Self.base64(item.input, "input") ?? Data()
            let signature = try key.standardSignature(
                for: input, version: version, hash: options.hash, prehashed: options.prehashed, encoding: options.jws ? .raw : .der,
                rsaPadding: options.rsaPadding)
            let text = options.jws ? "vault:v\(version):" + Base64URL.encode(signature) : Self.vaultString(version: version, signature)
            return Signature(signature: text, keyVersion: Int(version))
        }
    }

    /// `POST transit/verify/:name[/:algorithm]`: HMACs (`hmac`) and signatures (`signature`).
    ///
    /// Signatures are checked as Vault's (`vN` names the version). Those made by Bulwark before
    /// its signatures matched Vault's (`vault:vN:` + header ‖ signature, ``Keyset/sign(_:)``) still
    /// verify with the default options: they are told apart by shape alone (74 bytes for
    /// Ed25519, not DER for ECDSA), so no signature can be read both ways.
    public func verify(_ name: String, _ request: SignatureRequest, algorithm: String? = nil) throws -> Batched<Verification> {
        try Self.refuseContext(request)
        let key = try self.key(name)
        try Self.checkHybridBatch(key, request.batchInput)
        return try self.batched(request, request.batchInput) { item in
            try Self.checkOptions(key, item, request, pathAlgorithm: algorithm)
            let input = try Self.base64(item.input, "input") ?? Data()
            do {
                if let text = item.hmac {
                    let hash = try Self.macHash(item, request, pathAlgorithm: algorithm)
                    let (version, bytes) = try Self.parseVault(text)
                    try Self.checkVerifyVersion(item, request, version)
                    if hash == nil, Self.isLegacyMAC(bytes, key, version: version) {
                        try key.verify(mac: bytes, for: input)
                    } else {
                        try key.verify(standardMAC: bytes, for: input, version: version, hash: hash)
                    }
                } else if let text = item.signature {
                    let options = try Self.signingOptions(key, item, request, pathAlgorithm: algorithm)
                    let (version, bytes) = try Self.parseSignature(text, jws: options.jws)
                    try Self.checkVerifyVersion(item, request, version)
                    if options.isDefault, Self.isLegacySignature(bytes, key, version: version) {
                        try key.verify(signature: bytes, for: input)
                    } else {
                        try key.verify(
                            standardSignature: bytes, for: input, version: version, hash: options.hash,
                            prehashed: options.prehashed, encoding: options.jws ? .raw : .der, rsaPadding: options.rsaPadding)
                    }
                } else {
                    throw BulwarkError(.invalidArgument, "missing hmac or signature")
                }
            } catch let error as BulwarkError where error.code == .authenticationFailed {
                return Verification(valid: false)
            }
            return Verification(valid: true)
        }
    }

    /// A signature's version and bytes: standard base64, or base64url without padding for
    /// `marshaling_algorithm=jws` (as Vault writes them).
    static func parseSignature(_ text: String, jws: Bool) throws -> (UInt32, Data) {
        guard jws else { return try Self.parseVault(text) }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "vault", parts[1].hasPrefix("v"), let version = UInt32(parts[1].dropFirst()),
            !parts[2].contains("="), let payload = Base64URL.decode(parts[2])
        else {
            throw BulwarkError(.invalidArgument, "invalid signature: not vault:vN: and base64url")
        }
        return (version, payload)
    }

    /// Whether `bytes` is a signature made by ``Keyset/sign(_:)`` for this key and version `vN`
    /// rather than a standard one: its 10-byte header (format 1, the key's algorithm id, key id
    /// and version, big-endian) comes first, and its length or first byte rules out a standard
    /// signature (74 bytes for Ed25519, where a standard one has 64; no DER SEQUENCE (0x30) first
    /// for ECDSA). Anything else, mislabelled versions included, is checked as a standard
    /// signature, and fails as one.
    static func isLegacySignature(_ bytes: Data, _ key: Keyset, version: UInt32) -> Bool {
        let algorithmID: UInt8
        switch key.type {
        case .ed25519:
            guard bytes.count == 74 else { return false }
            algorithmID = 0x20
        case .ecdsaP256:
            guard bytes.count > 10, bytes.first != 0x30 else { return false }
            algorithmID = 0x21
        default:
            return false
        }
        return Self.hasLegacyHeader(bytes, algorithmID: algorithmID, key: key, version: version)
    }

    /// Whether `bytes` is an HMAC made by ``Keyset/authenticate(_:)`` for this HMAC key and
    /// version `vN` (a 10-byte header, then the 32- or 64-byte tag: 42 or 74 bytes, lengths no
    /// standard HMAC has) rather than a standard one.
    static func isLegacyMAC(_ bytes: Data, _ key: Keyset, version: UInt32) -> Bool {
        switch key.type {
        case .hmacSHA256: bytes.count == 42 && Self.hasLegacyHeader(bytes, algorithmID: 0x10, key: key, version: version)
        case .hmacSHA512: bytes.count == 74 && Self.hasLegacyHeader(bytes, algorithmID: 0x11, key: key, version: version)
        default: false
        }
    }

    /// Whether `bytes` starts with Bulwark's 10-byte header: format 1, `algorithmID`, the key's
    /// id and `version` (big-endian).
    static func hasLegacyHeader(_ bytes: Data, algorithmID: UInt8, key: Keyset, version: UInt32) -> Bool {
        let header = [UInt8](bytes.prefix(10))
        guard header.count == 10 else { return false }
        func word(_ at: Int) -> UInt32 { header[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        return header[0] == 0x01 && header[1] == algorithmID && word(2) == key.id && word(6) == version
    }

    /// The value's vN names the version; a `key_version` beside it must agree.
    static func checkVerifyVersion(_ item: SignatureRequest, _ request: SignatureRequest, _ version: UInt32) throws {
        if let wanted = try RequestValues.integer(item.keyVersion ?? request.keyVersion, field: "key_version", in: 0...Int(UInt32.max)),
            wanted != 0, wanted != Int(version)
        {
            throw BulwarkError(.invalidArgument, "key_version differs from the version the value names")
        }
    }

    /// The hash, prehash and encoding options of one sign or verify item, as Vault reads them.
    struct SigningOptions {
        var hash = SignatureHash.sha256
        var prehashed = false
        var jws = false
        var rsaPadding = RSASignaturePadding.pss

        /// Nothing asked beyond the defaults: the only options legacy signatures were made with.
        var isDefault: Bool { self.hash == .sha256 && !self.prehashed && !self.jws && self.rsaPadding == .pss }
    }

    /// Reads `hash_algorithm` (or the path's), `prehashed` and `marshaling_algorithm`. Hashes are
    /// Vault's names; `sha1`, `sha2-224` and `none` are refused by name (no SHA-1 for signatures;
    /// swift-crypto has no SHA-224; `none` is for RSA). Ed25519 ignores the hash, as Vault does,
    /// and refuses `prehashed` (Vault ignores it and signs the digest as a message).
    static func signingOptions(_ key: Keyset, _ item: SignatureRequest, _ request: SignatureRequest, pathAlgorithm: String?) throws -> SigningOptions {
        func option(_ path: KeyPath<SignatureRequest, String?>) -> String? {
            guard let text = item[keyPath: path] ?? request[keyPath: path], !text.isEmpty else { return nil }
            return text
        }
        var options = SigningOptions()
        if let name = pathAlgorithm ?? option(\.algorithm) ?? option(\.hashAlgorithm) {
            let hash = try Self.hash(named: name)
            options.hash = [KeyType.ecdsaP256, .ecdsaP384, .ecdsaP521].contains(key.type) || Self.isRSA(key.type) ? hash : .sha256
        }
        if Self.isRSA(key.type) {
            if let name = option(\.signatureAlgorithm) {
                guard let padding = RSASignaturePadding(vaultName: name) else {
                    throw BulwarkError(.invalidArgument, "invalid signature_algorithm (pss or pkcs1v15)")
                }
                options.rsaPadding = padding
            }
            // PSS here always uses a salt as long as the digest (Vault's `hash`; its `auto`
            // signs with the longest salt, which verifiers with `auto` accept too).
            if let salt = option(\.saltLength), salt != "auto", salt != "hash", Int(salt) != options.hash.byteCount || options.rsaPadding != .pss {
                throw BulwarkError(.invalidArgument, "salt_length: PSS signatures here use a salt as long as the digest (auto, hash or \(options.hash.byteCount))")
            }
        } else if option(\.saltLength) != nil {
            throw BulwarkError(.invalidArgument, "salt_length applies to RSA keys")
        }
        options.prehashed = (item.prehashed ?? request.prehashed) == true
        switch option(\.marshalingAlgorithm) {
        case nil, "asn1": options.jws = false
        case "jws": options.jws = true
        default: throw BulwarkError(.invalidArgument, "invalid marshaling type (asn1 or jws)")
        }
        return options
    }

    /// Refuses, by name, what no key here can honour rather than ignoring it: hashes named
    /// differently in the path, `algorithm` and `hash_algorithm`; prehashed input for an HMAC;
    /// RSA's `signature_algorithm`. Hashes are read by ``macHash(_:_:pathAlgorithm:)`` and
    /// ``signingOptions(_:_:_:pathAlgorithm:)``. An item's own option wins; the request's
    /// applies to items without one.
    static func checkOptions(_ key: Keyset, _ item: SignatureRequest, _ request: SignatureRequest, pathAlgorithm: String?) throws {
        func option(_ path: KeyPath<SignatureRequest, String?>) -> String? {
            guard let text = item[keyPath: path] ?? request[keyPath: path], !text.isEmpty else { return nil }
            return text
        }
        if let named = option(\.algorithm), let hashed = option(\.hashAlgorithm), named != hashed {
            throw BulwarkError(.invalidArgument, "algorithm and hash_algorithm differ")
        }
        let bodyAlgorithm = option(\.algorithm) ?? option(\.hashAlgorithm)
        if let pathAlgorithm, let bodyAlgorithm, pathAlgorithm != bodyAlgorithm {
            throw BulwarkError(.invalidArgument, "the algorithm in the path and in the body differ")
        }
        if key.purpose == .mac, (item.prehashed ?? request.prehashed) == true {
            throw BulwarkError(.invalidArgument, "prehashed input is not supported for HMAC")
        }
        if !Self.isRSA(key.type), option(\.signatureAlgorithm) != nil {
            throw BulwarkError(.invalidArgument, "signature_algorithm applies to RSA keys")
        }
    }
}
