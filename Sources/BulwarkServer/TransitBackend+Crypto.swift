import Bulwark
import Crypto
import Foundation

extension TransitBackend {
    /// Runs `single` once, or over `batch_input` with per-item errors (Vault's batch semantics).
    func batched(_ body: [String: Any], _ single: ([String: Any]) throws -> [String: Any]) throws -> [String: Any] {
        guard let items = body["batch_input"] as? [[String: Any]] else {
            return try single(body)
        }
        guard items.count <= 10_000 else { throw TransitError.badRequest("batch_input holds more than 10000 items") }
        var results: [[String: Any]] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                results.append(try single(item))
            } catch {
                results.append(["error": Self.clientError(error).message])
            }
        }
        return ["batch_results": results]
    }

    /// `POST transit/encrypt/:name` (creates an aes256-gcm96 key on first use, as Vault does).
    public func encrypt(_ name: String, _ body: [String: Any]) async throws -> [String: Any] {
        if self.cacheHasNoKey(name) { try await self.createKey(name, ["type": body["type"] ?? "aes256-gcm96"]) }
        return try self.encryptExisting(name, body)
    }

    /// `POST transit/encrypt/:name` under a key that exists (no upsert): the synchronous part of
    /// ``encrypt(_:_:)``.
    func encryptExisting(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            let plaintext = try Self.base64(item["plaintext"], "plaintext") ?? Data()
            let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
            if let wanted = try RequestValues.integer(item["key_version"] ?? body["key_version"], field: "key_version", in: 0...Int(UInt32.max)), wanted != 0, wanted != Int(key.primaryVersion) {
                guard let version = UInt32(exactly: wanted) else { throw TransitError.badRequest("invalid key_version") }
                let sealed = try key.encrypt(plaintext, context: context, version: version)
                return ["ciphertext": Self.vaultString(version: version, sealed), "key_version": wanted]
            }
            let sealed = try key.encrypt(plaintext, context: context)
            return ["ciphertext": Self.vaultString(version: key.primaryVersion, sealed), "key_version": Int(key.primaryVersion)]
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
            guard let text = item["ciphertext"] as? String else { throw TransitError.badRequest("missing ciphertext") }
            let (_, payload) = try Self.parseVault(text)
            let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
            return ["plaintext": try key.decrypt(payload, context: context).base64EncodedString()]
        }
    }

    /// `POST transit/rewrap/:name`: decrypts and re-encrypts under the latest version.
    public func rewrap(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            guard let text = item["ciphertext"] as? String else { throw TransitError.badRequest("missing ciphertext") }
            let (_, payload) = try Self.parseVault(text)
            let context = try Self.base64(item["associated_data"], "associated_data", required: false) ?? Data()
            let plaintext = try key.decrypt(payload, context: context)
            let sealed = try key.encrypt(plaintext, context: context)
            return ["ciphertext": Self.vaultString(version: key.primaryVersion, sealed), "key_version": Int(key.primaryVersion)]
        }
    }

    /// `POST transit/datakey/(plaintext|wrapped)/:name`.
    public func dataKey(_ name: String, plaintext: Bool, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        let bits = try RequestValues.integer(body["bits"], field: "bits", in: 0...4096) ?? 256
        guard [128, 256, 512].contains(bits) else { throw TransitError.badRequest("invalid bits: 128, 256 or 512") }
        var bytes = [UInt8](repeating: 0, count: bits / 8)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        defer { bytes.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let context = try Self.base64(body["associated_data"], "associated_data", required: false) ?? Data()
        let sealed = try key.encrypt(bytes, context: context)
        var out: [String: Any] = ["ciphertext": Self.vaultString(version: key.primaryVersion, sealed), "key_version": Int(key.primaryVersion)]
        if plaintext { out["plaintext"] = Data(bytes).base64EncodedString() }
        return out
    }

    /// `POST transit/hmac/:name`.
    public func hmac(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            let input = try Self.base64(item["input"], "input") ?? Data()
            return ["hmac": Self.vaultString(version: key.primaryVersion, try key.authenticate(input))]
        }
    }

    /// `POST transit/sign/:name`.
    public func sign(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            let input = try Self.base64(item["input"], "input") ?? Data()
            return ["signature": Self.vaultString(version: key.primaryVersion, try key.sign(input)), "key_version": Int(key.primaryVersion)]
        }
    }

    /// `POST transit/verify/:name`: HMACs (`hmac`) and signatures (`signature`).
    public func verify(_ name: String, _ body: [String: Any]) throws -> [String: Any] {
        let key = try self.key(name)
        return try self.batched(body) { item in
            let input = try Self.base64(item["input"], "input") ?? Data()
            do {
                if let text = item["hmac"] as? String {
                    try key.verify(mac: try Self.parseVault(text).1, for: input)
                } else if let text = item["signature"] as? String {
                    try key.verify(signature: try Self.parseVault(text).1, for: input)
                } else {
                    throw TransitError.badRequest("missing hmac or signature")
                }
            } catch let error as BulwarkError where error.code == .authenticationFailed {
                return ["valid": false]
            }
            return ["valid": true]
        }
    }

    /// `POST transit/random(/:bytes)`.
    public func random(_ body: [String: Any], bytes pathBytes: Int?) throws -> [String: Any] {
        let count = try pathBytes ?? RequestValues.integer(body["bytes"], field: "bytes", in: 1...(1 << 16)) ?? 32
        guard (1...(1 << 16)).contains(count) else { throw TransitError.badRequest("bytes must be 1-65536") }
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let format = body["format"] as? String ?? "base64"
        guard format == "base64" || format == "hex" else { throw TransitError.badRequest("format must be base64 or hex") }
        return ["random_bytes": format == "hex" ? Hex.encode(data) : data.base64EncodedString()]
    }

    /// `POST transit/hash(/:algorithm)`: SHA-2 and SHA-3 (no SHA-1).
    public func hash(_ body: [String: Any], algorithm pathAlgorithm: String?) throws -> [String: Any] {
        let input = try Self.base64(body["input"], "input") ?? Data()
        let algorithm = pathAlgorithm ?? body["algorithm"] as? String ?? "sha2-256"
        let digest: Data
        switch algorithm {
        case "sha2-256": digest = Data(SHA256.hash(data: input))
        case "sha2-384": digest = Data(SHA384.hash(data: input))
        case "sha2-512": digest = Data(SHA512.hash(data: input))
        case "sha3-256": digest = Data(SHA3_256.hash(data: input))
        case "sha3-384": digest = Data(SHA3_384.hash(data: input))
        case "sha3-512": digest = Data(SHA3_512.hash(data: input))
        default: throw TransitError.badRequest("unsupported hash algorithm \(algorithm)")
        }
        let format = body["format"] as? String ?? "hex"
        return ["sum": format == "base64" ? digest.base64EncodedString() : Hex.encode(digest)]
    }
}

