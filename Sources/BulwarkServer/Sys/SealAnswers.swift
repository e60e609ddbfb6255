import Foundation

/// `GET sys/seal-status`, and the answer of `PUT sys/unseal`: Vault's fields.
struct SealStatus: Encodable, Sendable {
    /// The seal's kind: `shamir`, or `static` (the master key from the configuration).
    let type: String
    /// Always true: a server runs only on an initialised store.
    let initialized = true
    /// Whether it is sealed.
    let sealed: Bool
    /// Shares needed.
    let threshold: Int
    /// Shares made.
    let shares: Int
    /// Shares entered so far.
    let progress: Int
    /// The unseal attempt's id while shares are being entered, else "".
    let nonce: String
    /// Whether the counts are recovery shares' (an auto-unseal seal, as Vault's).
    var recoverySeal = false
    /// Always false: no seal migration in progress.
    let migration = false
    /// The server's version.
    let version = "bulwark-0.1"

    enum CodingKeys: String, CodingKey {
        case type, initialized, sealed, progress, nonce, migration, version
        case threshold = "t"
        case shares = "n"
        case recoverySeal = "recovery_seal"
    }
}

/// `GET`/`POST sys/rotate/root/init`: OpenBao's fields.
struct RotationStatus: Encodable, Sendable {
    let started: Bool
    /// The new threshold (0 when none started).
    let threshold: Int
    /// The new number of shares (0 when none started).
    let shares: Int
    /// Current shares needed to complete (new shares while verifying).
    var required: Int
    /// Current shares entered so far (nil when none started).
    var progress: Int?
    /// The rotation's nonce (nil when none started).
    var nonce: String?
    /// Always true when started: the new shares must be verified (OpenBao makes it optional).
    var verificationRequired: Bool?
    /// The verification's nonce once the new shares were answered, else "".
    var verificationNonce: String?

    init(started: Bool, threshold: Int, shares: Int, required: Int, progress: Int? = nil, nonce: String? = nil) {
        self.started = started
        self.threshold = threshold
        self.shares = shares
        self.required = required
        self.progress = progress
        self.nonce = nonce
        // Always true: Bulwark's new shares take effect only once a quorum of them comes back.
        self.verificationRequired = started ? true : nil
        self.verificationNonce = started ? "" : nil
    }

    enum CodingKeys: String, CodingKey {
        case started, required, progress, nonce
        case threshold = "t"
        case shares = "n"
        case verificationRequired = "verification_required"
        case verificationNonce = "verification_nonce"
    }
}

/// `POST sys/rotate/root/update`: the progress, or (once) the new shares.
struct RotationAnswer: Encodable, Sendable {
    var status: RotationStatus?
    var complete: Bool?
    var keys: [String]?
    var keysBase64: [String]?
    var nonce: String?
    var backup: Bool?
    var verificationRequired: Bool?

    init(status: RotationStatus) {
        self.status = status
    }

    var verificationNonce: String?

    init(complete: Bool, keys: [String], keysBase64: [String], nonce: String, verificationNonce: String) {
        self.complete = complete
        self.keys = keys
        self.keysBase64 = keysBase64
        self.nonce = nonce
        self.backup = false
        self.verificationRequired = true
        self.verificationNonce = verificationNonce
    }

    func encode(to encoder: any Encoder) throws {
        if let status = self.status {
            try status.encode(to: encoder)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.complete, forKey: .complete)
        try container.encodeIfPresent(self.keys, forKey: .keys)
        try container.encodeIfPresent(self.keysBase64, forKey: .keysBase64)
        try container.encodeIfPresent(self.nonce, forKey: .nonce)
        try container.encodeIfPresent(self.backup, forKey: .backup)
        try container.encodeIfPresent(self.verificationRequired, forKey: .verificationRequired)
        try container.encodeIfPresent(self.verificationNonce, forKey: .verificationNonce)
    }

    enum CodingKeys: String, CodingKey {
        case complete, keys, nonce, backup
        case keysBase64 = "keys_base64"
        case verificationRequired = "verification_required"
        case verificationNonce = "verification_nonce"
    }
}

/// `POST sys/rotate/root/verify`: OpenBao's fields.
struct RotationVerification: Encodable, Sendable {
    /// The verification nonce.
    let nonce: String
    /// Whether verification is still in progress.
    let started: Bool
    /// New shares entered so far.
    let progress: Int
    /// New shares needed.
    let required: Int
    /// True once the new record replaced the old one.
    var complete: Bool?

    enum CodingKeys: String, CodingKey {
        case nonce, started, progress, required, complete
    }
}

/// `sys/generate-root-token/attempt` and `/update`: OpenBao's fields.
struct RootGenerationStatus: Encodable, Sendable {
    let started: Bool
    /// Shares needed.
    let required: Int
    /// Shares entered so far.
    var progress = 0
    /// The generation's nonce (when started).
    var nonce: String?
    /// Whether the new token was made.
    var complete = false
    /// The one-time pad: in the answer that starts a generation only, else "".
    var otp = ""
    /// The new root token XOR the pad, base64 without padding (when complete).
    var encodedToken: String?

    init(started: Bool, required: Int, progress: Int = 0, nonce: String? = nil) {
        self.started = started
        self.required = required
        self.progress = progress
        self.nonce = nonce
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.started, forKey: .started)
        try container.encode(self.required, forKey: .required)
        try container.encode(self.progress, forKey: .progress)
        try container.encode(self.complete, forKey: .complete)
        try container.encodeIfPresent(self.nonce, forKey: .nonce)
        if let encoded = self.encodedToken {
            try container.encode(encoded, forKey: .encodedToken)
        } else {
            try container.encode(self.otp, forKey: .otp)
            try container.encode(AuthStore.generatedRootLength, forKey: .otpLength)
        }
        // No PGP: always "" once started (OpenBao's field).
        if self.started { try container.encode("", forKey: .pgpFingerprint) }
    }

    enum CodingKeys: String, CodingKey {
        case started, required, progress, complete, nonce, otp
        case otpLength = "otp_length"
        case pgpFingerprint = "pgp_fingerprint"
        case encodedToken = "encoded_token"
    }
}
