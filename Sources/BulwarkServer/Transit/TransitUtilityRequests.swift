extension TransitBackend {
    /// `POST transit/random[/:bytes]`: random bytes from the platform's generator (Vault's `path_random.go`).
    public struct RandomRequest: EndpointRequest, Equatable {
        /// How many (1-65536; 32 when absent; must agree with the path's count).
        public var bytes: Int?
        /// `base64` (default) or `hex`.
        public var format: String?
        /// `platform` only (Vault's other sources mix in a seal's entropy).
        public var source: String?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case bytes, format, source
        }

        /// A request; every field left out takes Vault's default.
        public init(bytes: Int? = nil, format: String? = nil, source: String? = nil) {
            self.bytes = bytes
            self.format = format
            self.source = source
        }
    }

    /// `transit/random`'s answer.
    public struct RandomAnswer: Encodable, Sendable, Equatable {
        /// The bytes, in the format asked for.
        public let randomBytes: String

        enum CodingKeys: String, CodingKey {
            case randomBytes = "random_bytes"
        }
    }

    /// `POST transit/hash[/:algorithm]`: a digest of base64 input (Vault's `path_hash.go`).
    public struct HashRequest: EndpointRequest, Equatable {
        /// The input, base64.
        public var input: String?
        /// `sha2-256` (default), `sha2-384`, `sha2-512`, `sha3-256`, `sha3-384` or `sha3-512`.
        public var algorithm: String?
        /// `hex` (default) or `base64`.
        public var format: String?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case input, algorithm, format
        }

        /// A request for the digest of `input` (base64).
        public init(input: String?, algorithm: String? = nil, format: String? = nil) {
            self.input = input
            self.algorithm = algorithm
            self.format = format
        }
    }

    /// `transit/hash`'s answer.
    public struct HashAnswer: Encodable, Sendable, Equatable {
        /// The digest, in the format asked for.
        public let sum: String
    }
}
