import Bulwark
import BulwarkStorage
import Foundation
import Synchronization

/// The engine's own settings (Vault's `path_config_keys.go` and `path_cache_config.go`).
extension TransitBackend {
    /// `transit/config/keys`: whether `encrypt` may create a key that does not exist.
    public struct KeysConfiguration: Codable, Sendable, Equatable {
        /// `encrypt` to a missing key answers "encryption key not found" instead of creating it.
        public var disableUpsert: Bool

        enum CodingKeys: String, CodingKey {
            case disableUpsert = "disable_upsert"
        }

        /// - Parameter disableUpsert: Whether `encrypt` may not create keys.
        public init(disableUpsert: Bool) {
            self.disableUpsert = disableUpsert
        }
    }

    /// `POST transit/config/keys`: the new setting (absent: `false`, as in Vault).
    public struct KeysConfigurationRequest: EndpointRequest, Equatable {
        /// Whether `encrypt` may not create keys.
        public var disableUpsert: Bool?

        /// The request's JSON fields.
        package enum CodingKeys: String, CodingKey, CaseIterable {
            case disableUpsert = "disable_upsert"
        }

        /// - Parameter disableUpsert: Whether `encrypt` may not create keys.
        public init(disableUpsert: Bool? = nil) {
            self.disableUpsert = disableUpsert
        }
    }

    /// `transit/cache-config`: the size of Vault's key cache (0: unbounded).
    public struct CacheConfiguration: Encodable, Sendable, Equatable {
        /// Always 0 here: every key is held in memory.
        public let size: Int
    }

    /// `POST transit/cache-config`: the size asked for.
    public struct CacheConfigurationRequest: EndpointRequest, Equatable {
        /// 0 (unbounded; absent means 0), or Vault's bounded sizes of 10 and more.
        public var size: Int?

        /// The request's JSON fields.
        package enum CodingKeys: String, CodingKey, CaseIterable {
            case size
        }

        /// - Parameter size: The cache size asked for.
        public init(size: Int? = nil) {
            self.size = size
        }
    }

    /// Where the keys configuration is stored (one document for every node; not under
    /// `transit/keys/`, which holds keys only).
    static let keysConfigurationPath = "transit/config/keys"

    /// How long a read of the keys configuration is used before the store is read again (as
    /// long as the key cache's refresh: another node's change shows within about a second).
    static let keysConfigurationLifetime = Duration.seconds(1)

    /// `GET transit/config/keys` (and the check of an encrypt to a missing key): from memory when
    /// read less than ``keysConfigurationLifetime`` ago, so that requests for made-up key names
    /// cannot make every one of them a whole-store read.
    public func keysConfiguration() async throws -> KeysConfiguration {
        let now = ContinuousClock.now
        if let cached = self.keysConfigurationCache.withLock({ $0 }), now - cached.read < Self.keysConfigurationLifetime {
            return cached.value
        }
        let value: KeysConfiguration
        if let stored = try await self.store.document(Self.keysConfigurationPath) {
            do {
                value = try JSONDecoder().decode(KeysConfiguration.self, from: stored)
            } catch {
                throw BulwarkError(.keystoreCorrupted, "the stored transit keys configuration cannot be read")
            }
        } else {
            value = KeysConfiguration(disableUpsert: false)
        }
        // A configureKeys that finished while this read ran is newer: it is kept.
        self.keysConfigurationCache.withLock { cached in
            if cached.map({ $0.read <= now }) ?? true { cached = (value, now) }
        }
        return value
    }

    /// `POST transit/config/keys`: sets `disable_upsert` (absent: false) and answers the setting.
    public func configureKeys(_ request: KeysConfigurationRequest) async throws -> KeysConfiguration {
        let configuration = KeysConfiguration(disableUpsert: request.disableUpsert ?? false)
        let encoded = try JSONEncoder().encode(configuration)
        try await self.store.updateDocument(Self.keysConfigurationPath) { _ in encoded }
        self.keysConfigurationCache.withLock { $0 = (configuration, ContinuousClock.now) }
        return configuration
    }

    /// `GET transit/cache-config`: 0, every key being held in memory.
    public func cacheConfiguration() -> CacheConfiguration {
        CacheConfiguration(size: 0)
    }

    /// `POST transit/cache-config`: 0 is what Bulwark does and is accepted; a size Vault would
    /// refuse is refused with Vault's words; a bounded cache (10 or more) is refused by name
    /// rather than recorded and ignored (every key stays in memory: there is nothing to evict).
    public func configureCache(_ request: CacheConfigurationRequest) throws -> CacheConfiguration {
        let size = request.size ?? 0
        guard size == 0 || size >= 10 else { throw BulwarkError(.invalidArgument, "size must be 0 or a value greater or equal to 10") }
        guard size == 0 else {
            throw BulwarkError(.invalidArgument, "size: a bounded key cache is not supported; every key is held in memory (size 0)")
        }
        return self.cacheConfiguration()
    }
}
