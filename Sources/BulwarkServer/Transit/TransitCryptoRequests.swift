extension TransitBackend {
    /// `POST transit/encrypt/:name`: one plaintext, or a batch of items with the same fields
    /// (Vault's `path_encrypt.go`). `key_version` and `type` given at the top apply to items
    /// that do not give their own.
    public struct EncryptRequest: EndpointRequest {
        /// The plaintext, base64.
        public var plaintext: String?
        /// Data bound to the ciphertext (Bulwark's AEAD associated data), base64.
        public var associatedData: String?
        /// The version to encrypt with (0 or absent: the primary), range-checked per item.
        public var keyVersion: Int?
        /// The type of a key this call creates (ignored for an existing key, but must be a type).
        public var type: String?
        /// A caller's label for the item.
        public var reference: String?
        /// The derivation context (base64) a derived key needs; refused by any other key.
        public var context: String?
        /// Caller nonces: refused unless absent or empty.
        public var nonce: String?
        /// Whether a key this call creates (with a `context`) encrypts convergently.
        public var convergentEncryption: Bool?
        /// Vault's status for a batch with failed items (accepted; Bulwark answers 200 with per-item errors).
        public var partialFailureResponseCode: Int?
        /// The items of a batch.
        public var batchInput: [EncryptRequest]?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case plaintext, type, reference, context, nonce
            case associatedData = "associated_data"
            case keyVersion = "key_version"
            case convergentEncryption = "convergent_encryption"
            case partialFailureResponseCode = "partial_failure_response_code"
            case batchInput = "batch_input"
        }

        /// A single encryption (or, with `batchInput`, a batch).
        public init(plaintext: String? = nil, associatedData: String? = nil, keyVersion: Int? = nil, batchInput: [EncryptRequest]? = nil) {
            self.plaintext = plaintext
            self.associatedData = associatedData
            self.keyVersion = keyVersion
            self.batchInput = batchInput
        }
    }

    /// `POST transit/decrypt/:name`: one ciphertext, or a batch (Vault's `path_decrypt.go`).
    public struct DecryptRequest: EndpointRequest {
        /// `vault:v<version>:<base64>`.
        public var ciphertext: String?
        /// The data the ciphertext was bound to, base64.
        public var associatedData: String?
        /// A caller's label for the item.
        public var reference: String?
        /// The derivation context (base64) a derived key needs; refused by any other key.
        public var context: String?
        /// Caller nonces: refused unless absent or empty.
        public var nonce: String?
        /// Vault's status for a batch with failed items (accepted).
        public var partialFailureResponseCode: Int?
        /// The items of a batch.
        public var batchInput: [DecryptRequest]?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case ciphertext, reference, context, nonce
            case associatedData = "associated_data"
            case partialFailureResponseCode = "partial_failure_response_code"
            case batchInput = "batch_input"
        }

        /// A single decryption (or, with `batchInput`, a batch).
        public init(ciphertext: String? = nil, associatedData: String? = nil, batchInput: [DecryptRequest]? = nil) {
            self.ciphertext = ciphertext
            self.associatedData = associatedData
            self.batchInput = batchInput
        }
    }

    /// `POST transit/rewrap/:name`: ciphertexts re-encrypted under the latest (or a given)
    /// version without the plaintext leaving the service (Vault's `path_rewrap.go`).
    public struct RewrapRequest: EndpointRequest {
        /// `vault:v<version>:<base64>`.
        public var ciphertext: String?
        /// The data the ciphertext is bound to, base64 (it stays bound).
        public var associatedData: String?
        /// The version to re-encrypt with (0 or absent: the primary); the top's applies to items.
        public var keyVersion: Int?
        /// A caller's label for the item.
        public var reference: String?
        /// The derivation context (base64) a derived key needs; refused by any other key.
        public var context: String?
        /// Caller nonces: refused unless absent or empty.
        public var nonce: String?
        /// The items of a batch.
        public var batchInput: [RewrapRequest]?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case ciphertext, reference, context, nonce
            case associatedData = "associated_data"
            case keyVersion = "key_version"
            case batchInput = "batch_input"
        }

        /// A single rewrap (or, with `batchInput`, a batch).
        public init(ciphertext: String? = nil, associatedData: String? = nil, keyVersion: Int? = nil, batchInput: [RewrapRequest]? = nil) {
            self.ciphertext = ciphertext
            self.associatedData = associatedData
            self.keyVersion = keyVersion
            self.batchInput = batchInput
        }
    }

    /// `POST transit/datakey/(plaintext|wrapped)/:name`: a new random data key, sealed under the
    /// key (Vault's `path_datakey.go`).
    public struct DataKeyRequest: EndpointRequest {
        /// 128, 256 (default) or 512.
        public var bits: Int?
        /// Data bound to the sealed data key, base64.
        public var associatedData: String?
        /// The version to seal with (0 or absent: the primary).
        public var keyVersion: Int?
        /// The derivation context (base64) a derived key needs; refused by any other key.
        public var context: String?
        /// Caller nonces: refused unless absent or empty.
        public var nonce: String?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case bits, context, nonce
            case associatedData = "associated_data"
            case keyVersion = "key_version"
        }

        /// A data key of `bits` bits (256 when nil).
        public init(bits: Int? = nil, associatedData: String? = nil) {
            self.bits = bits
            self.associatedData = associatedData
        }
    }

    /// `POST transit/hmac|sign|verify/:name[/:algorithm]`: input to MAC, sign or verify, one or a
    /// batch (Vault's `path_hmac.go`, `path_sign_verify.go`). Options given at the top apply to
    /// items that do not give their own.
    public struct SignatureRequest: EndpointRequest {
        /// The input, base64.
        public var input: String?
        /// The version (0 or absent: the latest; `hmac` and `sign` may name an older one at or
        /// above the minimum encryption and decryption versions; on `verify` it must agree with
        /// the value's `vN`).
        public var keyVersion: Int?
        /// The hash (`hmac`'s name for it): any SHA-2/SHA-3 name; absent, the key's own.
        public var algorithm: String?
        /// The hash (`sign`'s name for it).
        public var hashAlgorithm: String?
        /// ECDSA signs `input` as the digest itself (its length must be the hash's); refused for
        /// Ed25519 and HMAC.
        public var prehashed: Bool?
        /// RSA padding: `pss` (the default) or `pkcs1v15`; refused for other keys.
        public var signatureAlgorithm: String?
        /// RSA-PSS salt: `auto`, `hash` or the digest's length (the salt here is always as long
        /// as the digest); refused for other keys.
        public var saltLength: String?
        /// The signature's encoding: `asn1` (DER, standard base64) or `jws` (`r ‖ s`, base64url).
        public var marshalingAlgorithm: String?
        /// Key derivation: refused unless absent or empty (signing and HMAC keys are never derived).
        public var context: String?
        /// A caller's label for the item.
        public var reference: String?
        /// `verify`: the MAC to check.
        public var hmac: String?
        /// `verify`: the signature to check.
        public var signature: String?
        /// The items of a batch.
        public var batchInput: [SignatureRequest]?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case input, algorithm, prehashed, context, reference, hmac, signature
            case keyVersion = "key_version"
            case hashAlgorithm = "hash_algorithm"
            case signatureAlgorithm = "signature_algorithm"
            case saltLength = "salt_length"
            case marshalingAlgorithm = "marshaling_algorithm"
            case batchInput = "batch_input"
        }

        /// The fields each operation accepts: `hmac` the MAC's, `sign` the signature's, `verify`
        /// both and the value to check.
        static func fields(_ operation: String) -> Set<String> {
            switch operation {
            case "hmac": ["input", "key_version", "algorithm", "batch_input", "reference"]
            case "sign": Self.fields.subtracting(["hmac", "signature"])
            default: Self.fields
            }
        }

        /// One input (or, with `batchInput`, a batch).
        public init(input: String? = nil, hmac: String? = nil, signature: String? = nil, batchInput: [SignatureRequest]? = nil) {
            self.input = input
            self.hmac = hmac
            self.signature = signature
            self.batchInput = batchInput
        }
    }
}
