import Bulwark
import Crypto
import Foundation

extension TransitBackend {
    /// The most items one request may carry.
    static let maximumBatch = 10_000

    /// The items of `batch_input`, or nil when the request has none; refused (400) when it is not
    /// a non-empty list of objects within ``maximumBatch`` (Vault: "missing batch input to process").
    static func batchItems(_ body: [String: Any]) throws -> [[String: Any]]? {
        guard let batch = body["batch_input"] else { return nil }
        guard let items = batch as? [[String: Any]] else { throw BulwarkError(.invalidArgument, "batch_input must be a list of objects") }
        guard !items.isEmpty else { throw BulwarkError(.invalidArgument, "missing batch input to process") }
        guard items.count <= Self.maximumBatch else { throw BulwarkError(.invalidArgument, "batch_input holds more than \(Self.maximumBatch) items") }
        return items
    }

    /// Runs `single` once, or over `batch_input` with per-item errors (Vault's batch semantics).
    func batched(_ body: [String: Any], _ single: ([String: Any]) throws -> [String: Any]) throws -> [String: Any] {
        guard let items = try Self.batchItems(body) else {
            return try single(body)
        }
        var results: [[String: Any]] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                results.append(try single(item))
            } catch {
                results.append(["error": ServiceError.normalized(error).message])
            }
        }
        return ["batch_results": results]
    }

    /// `POST transit/encrypt/:name` (creates an aes256-gcm96 key on first use, as Vault does).
    /// Reserves encryptions for the versions it uses first (``EncryptionBudget``); a version at
    /// its limit rotates the key when `auto_rotate_period` is set, and is refused otherwise.
    public func encrypt(_ name: String, _ body: [String: Any]) async throws -> [String: Any] {
        if self.cacheHasNoKey(name) { try await self.createKey(name, KeyCreation(type: try RequestValues.string(body["type"], field: "type"))) }
        return try await self.budgeted(name, body) { try self.encryptExisting(name, body) }
    }

    /// Runs an operation that encrypts with random nonces (encrypt, rewrap, datakey) after
    /// reserving what it will spend; reserves again if concurrent requests spent it meanwhile.
    private func budgeted(_ name: String, _ body: [String: Any], _ operation: () throws -> [String: Any]) async throws -> [String: Any] {
        for _ in 0..<8 {
            try await self.reserveEncryptions(name, body)
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

    /// The versions a request's items encrypt with, and how many items each (an item naming a
    /// version the key does not have fails by itself later and is not counted).
    private func encryptionCounts(_ key: Keyset, _ body: [String: Any]) throws -> [UInt32: Int] {
        // Refused before anything is reserved or spent: an oversized or empty batch burns no budget.
        let items = try Self.batchItems(body) ?? [body]
        var counts: [UInt32: Int] = [:]
        for item in items {
            let wanted = (try? RequestValues.integer(Self.field("key_version", item, body), field: "key_version", in: 0...Int(UInt32.max))) ?? nil
            let version = wanted.flatMap { $0 == 0 ? nil : UInt32($0) } ?? key.primaryVersion
            guard version <= key.latestVersion else { continue }
            counts[version, default: 0] += 1
        }
        return counts
    }

    /// Makes sure this node holds reserved encryptions for the request (router path).
    func reserveEncryptions(_ name: String, _ body: [String: Any]) async throws {
        var key = try self.key(name)
        guard EncryptionBudget.counts(key.type) else { return }
        for (version, count) in try self.encryptionCounts(key, body) {
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
                return try await self.reserveEncryptions(name, body)
            }
        }
    }

    /// Whether the fast path may encrypt with `name` now: enough reserved encryptions for a full
    /// batch under its primary version (otherwise the router reserves first).
    func canEncryptWithoutReserving(_ name: String) -> Bool {
        guard let key = try? self.key(name) else { return false }
        guard EncryptionBudget.counts(key.type) else { return true }
        return self.budget.hasAvailable(.init(key: name, version: key.primaryVersion), count: 10_000)
    }

    /// Spends reserved encryptions for a request; starts a background reservation when a block
    /// runs low.
    private func spendEncryptions(_ key: Keyset, _ body: [String: Any]) throws {
        guard EncryptionBudget.counts(key.type) else { return }
        for (version, count) in try self.encryptionCounts(key, body) {
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

    /// `POST transit/encrypt/:name` under a key that exists (no upsert): the synchronous part of
    /// ``encrypt(_:_:)``.
    func encryptExisting(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        // `type` only chooses the type of a key created by this call; for an existing key it is
        // ignored, as in Vault, but a name that is no key type is refused rather than passed over.
        // Checked before any encryption is spent on the request.
        for item in [body] + ((body["batch_input"] as? [[String: Any]]) ?? []) {
            if let typeName = try RequestValues.string(item["type"], field: "type"), Self.vaultTypes[typeName] == nil {
                throw BulwarkError(.invalidArgument, "unsupported key type")
            }
        }
        try self.spendEncryptions(key, body)
        return try self.batched(body) { item in
            let plaintext = try Self.base64(item["plaintext"], "plaintext") ?? Data()
            let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
            if let wanted = try RequestValues.integer(Self.field("key_version", item, body), field: "key_version", in: 0...Int(UInt32.max)), wanted != 0, wanted != Int(key.primaryVersion) {
                guard let version = UInt32(exactly: wanted) else { throw BulwarkError(.invalidArgument, "invalid key_version") }
                let sealed = try key.encrypt(plaintext, context: context, version: version)
                return ["ciphertext": Self.vaultString(version: version, sealed), "key_version": wanted]
            }
            let sealed = try key.encrypt(plaintext, context: context)
            return ["ciphertext": Self.vaultString(version: key.primaryVersion, sealed), "key_version": Int(key.primaryVersion)]
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
            (Self.vaultString(version: key.primaryVersion, try key.encrypt(input.plaintext, context: input.context)), key.primaryVersion)
        }
    }

    /// ``decrypt(_:_:)`` for items in their common shape (`ciphertext`, optional
    /// `associated_data`): the plaintexts, base64, in order. Throws what the general path would
    /// refuse an item with (the caller then lets the general path answer the request).
    func decryptTyped(_ name: String, _ items: [(ciphertext: String, associatedData: String?)]) throws -> [String] {
        let key = try self.key(name)
        return try items.map { item in
            let (_, payload) = try Self.parseVault(item.ciphertext)
            let context = try Self.base64(item.associatedData, "associated_data", required: false) ?? Data()
            return try key.decrypt(payload, context: context).base64EncodedString()
        }
    }

    /// Whether the key `name` exists (in this node's view of the store).
    func hasKey(_ name: String) -> Bool {
        !self.cacheHasNoKey(name)
    }

    func cacheHasNoKey(_ name: String) -> Bool {
        (try? self.key(name)) == nil
    }

    /// `POST transit/decrypt/:name`.
    public func decrypt(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            guard let text = item["ciphertext"] as? String else { throw BulwarkError(.invalidArgument, "missing ciphertext") }
            let (_, payload) = try Self.parseVault(text)
            let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
            return ["plaintext": try key.decrypt(payload, context: context).base64EncodedString()]
        }
    }

    /// `POST transit/rewrap/:name`: decrypts and re-encrypts under the latest version.
    public func rewrap(_ name: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.budgeted(name, body) {
            let key = try self.key(name)
            try self.spendEncryptions(key, body)
            return try self.batched(body) { item in
                guard let text = item["ciphertext"] as? String else { throw BulwarkError(.invalidArgument, "missing ciphertext") }
                let (_, payload) = try Self.parseVault(text)
                let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
                let plaintext = try key.decrypt(payload, context: context)
                let version = try Self.version(key, item, body)
                let sealed = try key.encrypt(plaintext, context: context, version: version)
                return ["ciphertext": Self.vaultString(version: version, sealed), "key_version": Int(version)]
            }
        }
    }

    /// The version an item asks for with `key_version` (0 or absent: the primary).
    static func version(_ key: Keyset, _ item: [String: Any], _ body: [String: Any]) throws -> UInt32 {
        let wanted = try RequestValues.integer(Self.field("key_version", item, body), field: "key_version", in: 0...Int(UInt32.max)) ?? 0
        return wanted == 0 ? key.primaryVersion : UInt32(wanted)
    }

    /// `POST transit/datakey/(plaintext|wrapped)/:name`.
    public func dataKey(_ name: String, plaintext: Bool, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.budgeted(name, body) { try self.dataKeyNow(name, plaintext: plaintext, body) }
    }

    private func dataKeyNow(_ name: String, plaintext: Bool, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        try self.spendEncryptions(key, body)
        let bits = try RequestValues.integer(body["bits"], field: "bits", in: 0...4096) ?? 256
        guard [128, 256, 512].contains(bits) else { throw BulwarkError(.invalidArgument, "invalid bits: 128, 256 or 512") }
        var bytes = SecureRandom.bytes(bits / 8)
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let context = try Self.base64(body["associated_data"], "associated_data", required: false) ?? Data()
        let version = try Self.version(key, body, body)
        let sealed = try key.encrypt(bytes, context: context, version: version)
        var out: [String: Any] = ["ciphertext": Self.vaultString(version: version, sealed), "key_version": Int(version)]
        if plaintext { out["plaintext"] = Data(bytes).base64EncodedString() }
        return out
    }

    /// `POST transit/hmac/:name[/:algorithm]`.
    public func hmac(_ name: String, _ body: [String: Any], algorithm: String? = nil) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            try Self.checkOptions(key, item, body, pathAlgorithm: algorithm)
            let input = try Self.base64(item["input"], "input") ?? Data()
            return ["hmac": Self.vaultString(version: key.primaryVersion, try key.authenticate(input))]
        }
    }

    /// `POST transit/sign/:name[/:algorithm]`.
    public func sign(_ name: String, _ body: [String: Any], algorithm: String? = nil) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            try Self.checkOptions(key, item, body, pathAlgorithm: algorithm)
            let input = try Self.base64(item["input"], "input") ?? Data()
            return ["signature": Self.vaultString(version: key.primaryVersion, try key.sign(input)), "key_version": Int(key.primaryVersion)]
        }
    }

    /// `POST transit/verify/:name[/:algorithm]`: HMACs (`hmac`) and signatures (`signature`).
    public func verify(_ name: String, _ body: [String: Any], algorithm: String? = nil) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            try Self.checkOptions(key, item, body, pathAlgorithm: algorithm)
            let input = try Self.base64(item["input"], "input") ?? Data()
            do {
                if let text = item["hmac"] as? String {
                    try key.verify(mac: try Self.parseVault(text).1, for: input)
                } else if let text = item["signature"] as? String {
                    try key.verify(signature: try Self.parseVault(text).1, for: input)
                } else {
                    throw BulwarkError(.invalidArgument, "missing hmac or signature")
                }
            } catch let error as BulwarkError where error.code == .authenticationFailed {
                return ["valid": false]
            }
            return ["valid": true]
        }
    }

    /// Refuses, by name, the HMAC and signing options Vault offers that this key cannot honour
    /// (another hash than the key's, prehashed input, RSA options, JWS marshaling, an older
    /// `key_version` for hmac/sign), rather than ignoring them. Ed25519 ignores the hash, as in Vault.
    static func checkOptions(_ key: Keyset, _ item: [String: Any], _ body: [String: Any], pathAlgorithm: String?) throws {
        func option(_ field: String) throws -> String? {
            guard let value = Self.field(field, item, body) else { return nil }
            guard let text = value as? String else { throw BulwarkError(.invalidArgument, "\(field) must be a string") }
            return text.isEmpty ? nil : text
        }
        let bodyAlgorithm = try option("algorithm") ?? option("hash_algorithm")
        if let pathAlgorithm, let bodyAlgorithm, pathAlgorithm != bodyAlgorithm {
            throw BulwarkError(.invalidArgument, "the algorithm in the path and in the body differ")
        }
        let hash = pathAlgorithm ?? bodyAlgorithm
        switch key.type {
        case .hmacSHA256, .hmacSHA512:
            let own = key.type == .hmacSHA256 ? "sha2-256" : "sha2-512"
            if let hash, hash != own { throw BulwarkError(.invalidArgument, "algorithm \"\(hash)\" is not supported by this key (\(own))") }
        case .ecdsaP256:
            if let hash, hash != "sha2-256" { throw BulwarkError(.invalidArgument, "hash_algorithm \"\(hash)\" is not supported by ecdsa-p256 keys (sha2-256)") }
            if let marshaling = try option("marshaling_algorithm"), marshaling != "asn1" {
                throw BulwarkError(.invalidArgument, "marshaling_algorithm \"\(marshaling)\" is not supported (asn1)")
            }
        default:
            break
        }
        if let prehashed = Self.field("prehashed", item, body), !(RequestValues.isBoolean(prehashed) && prehashed as? Bool == false) {
            throw BulwarkError(.invalidArgument, "prehashed input is not supported")
        }
        if try option("signature_algorithm") != nil { throw BulwarkError(.invalidArgument, "signature_algorithm applies to RSA keys, which are not supported") }
        if let wanted = try RequestValues.integer(Self.field("key_version", item, body), field: "key_version", in: 0...Int(UInt32.max)),
            wanted != 0, wanted != Int(key.primaryVersion)
        {
            throw BulwarkError(.invalidArgument, "key_version other than the latest is not supported for hmac and sign")
        }
    }

    /// A batch item's value of `name`, or the request's when the item has none: JSON `null` is
    /// absent at either level (an item's `null` does not hide the request's value).
    static func field(_ name: String, _ item: [String: Any], _ body: [String: Any]) -> Any? {
        if let value = item[name], !(value is NSNull) { return value }
        if let value = body[name], !(value is NSNull) { return value }
        return nil
    }

    /// `POST transit/random(/:bytes)`.
    public func random(_ body: [String: Any], bytes pathBytes: Int?) throws -> [String: Any] {
        // The body's count is checked even when the path gives one: the two must agree.
        let bodyBytes = try RequestValues.integer(body["bytes"], field: "bytes", in: 1...(1 << 16))
        if let pathBytes, let bodyBytes, pathBytes != bodyBytes { throw BulwarkError(.invalidArgument, "the bytes in the path and in the body differ") }
        let count = pathBytes ?? bodyBytes ?? 32
        guard (1...(1 << 16)).contains(count) else { throw BulwarkError(.invalidArgument, "bytes must be 1-65536") }
        let data = Data(SecureRandom.bytes(count))
        let format = try RequestValues.string(body["format"], field: "format") ?? "base64"
        guard format == "base64" || format == "hex" else { throw BulwarkError(.invalidArgument, "format must be base64 or hex") }
        // Vault's other sources mix in a seal's entropy; Bulwark has only the platform's: refused by name.
        let source = try RequestValues.string(body["source"], field: "source") ?? "platform"
        guard source == "platform" else { throw BulwarkError(.invalidArgument, "source: only \"platform\" is supported") }
        return ["random_bytes": format == "hex" ? Hex.encode(data) : data.base64EncodedString()]
    }

    /// `POST transit/hash(/:algorithm)`: SHA-2 and SHA-3 (no SHA-1).
    public func hash(_ body: [String: Any], algorithm pathAlgorithm: String?) throws -> [String: Any] {
        let input = try Self.base64(body["input"], "input") ?? Data()
        let bodyAlgorithm = try RequestValues.string(body["algorithm"], field: "algorithm")
        if let pathAlgorithm, let bodyAlgorithm, pathAlgorithm != bodyAlgorithm {
            throw BulwarkError(.invalidArgument, "the algorithm in the path and in the body differ")
        }
        let algorithm = pathAlgorithm ?? bodyAlgorithm ?? "sha2-256"
        let digest: Data
        switch algorithm {
        case "sha2-256": digest = Data(SHA256.hash(data: input))
        case "sha2-384": digest = Data(SHA384.hash(data: input))
        case "sha2-512": digest = Data(SHA512.hash(data: input))
        case "sha3-256": digest = Data(SHA3_256.hash(data: input))
        case "sha3-384": digest = Data(SHA3_384.hash(data: input))
        case "sha3-512": digest = Data(SHA3_512.hash(data: input))
        default: throw BulwarkError(.invalidArgument, "unsupported hash algorithm \(algorithm)")
        }
        let format = try RequestValues.string(body["format"], field: "format") ?? "hex"
        guard format == "hex" || format == "base64" else { throw BulwarkError(.invalidArgument, "format must be hex or base64") }
        return ["sum": format == "base64" ? digest.base64EncodedString() : Hex.encode(digest)]
    }
}

