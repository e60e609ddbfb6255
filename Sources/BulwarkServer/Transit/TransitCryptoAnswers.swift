extension TransitBackend {
    /// An operation's answer: one result, or a batch's (`batch_results`, each a result or that
    /// item's error, in the order of `batch_input`), as Vault answers.
    public enum Batched<Result: Encodable & Sendable>: Encodable, Sendable {
        /// A single call's result.
        case single(Result)
        /// A batch's results.
        case batch([Item])

        /// One item of a batch: its result, or why it failed (a message fit for the caller).
        public enum Item: Encodable, Sendable {
            /// The item's result.
            case success(Result)
            /// The item's error.
            case failure(String)

            /// The result, when the item succeeded.
            public var result: Result? {
                if case .success(let result) = self { return result }
                return nil
            }

            public func encode(to encoder: any Encoder) throws {
                switch self {
                case .success(let result): try result.encode(to: encoder)
                case .failure(let message):
                    var container = encoder.container(keyedBy: BatchKeys.self)
                    try container.encode(message, forKey: .error)
                }
            }
        }

        /// The single call's result (nil for a batch).
        public var result: Result? {
            if case .single(let result) = self { return result }
            return nil
        }

        /// A batch's items (nil for a single call).
        public var items: [Item]? {
            if case .batch(let items) = self { return items }
            return nil
        }

        private enum BatchKeys: String, CodingKey {
            case error
            case batchResults = "batch_results"
        }

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .single(let result): try result.encode(to: encoder)
            case .batch(let items):
                var container = encoder.container(keyedBy: BatchKeys.self)
                try container.encode(items, forKey: .batchResults)
            }
        }
    }

    /// `encrypt` and `rewrap`: a ciphertext and the version that made it.
    public struct Ciphertext: Encodable, Sendable, Equatable {
        /// `vault:v<version>:<base64>`.
        public let ciphertext: String
        /// The version.
        public let keyVersion: Int

        enum CodingKeys: String, CodingKey {
            case ciphertext
            case keyVersion = "key_version"
        }
    }

    /// `decrypt`: the plaintext, base64.
    public struct Plaintext: Encodable, Sendable, Equatable {
        /// The plaintext, base64.
        public let plaintext: String
    }

    /// `datakey`: the sealed data key, and (`plaintext` only) the key itself, base64.
    public struct DataKey: Encodable, Sendable, Equatable {
        /// The data key sealed under the key: `vault:v<version>:<base64>`.
        public let ciphertext: String
        /// The version that sealed it.
        public let keyVersion: Int
        /// The data key, base64 (`datakey/plaintext` only).
        public let plaintext: String?

        enum CodingKeys: String, CodingKey {
            case ciphertext, plaintext
            case keyVersion = "key_version"
        }
    }

    /// `hmac`: the MAC, `vault:v<version>:<base64>`.
    public struct MAC: Encodable, Sendable, Equatable {
        /// The MAC.
        public let hmac: String
    }

    /// `sign`: the signature and the version that made it.
    public struct Signature: Encodable, Sendable, Equatable {
        /// `vault:v<version>:<base64>` (base64url without padding for `marshaling_algorithm=jws`).
        public let signature: String
        /// The version.
        public let keyVersion: Int

        enum CodingKeys: String, CodingKey {
            case signature
            case keyVersion = "key_version"
        }
    }

    /// `verify`: whether the MAC or signature is the input's.
    public struct Verification: Encodable, Sendable, Equatable {
        /// Whether it verified.
        public let valid: Bool
    }
}
