/// An error thrown by Bulwark.
///
/// Modelled on swift-certificates' `CertificateError`: a struct holding a ``Code`` that callers
/// compare against the `static` codes, so new codes can be added without breaking `switch`
/// statements. The message never contains plaintext or key bytes: only names, ids and versions.
public struct BulwarkError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public let code: Code
    /// A human-readable explanation. Never contains plaintext or key material.
    public let message: String
    /// The source file that raised the error.
    public let file: String
    /// The source line that raised the error.
    public let line: UInt

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: An explanation, free of secrets.
    ///   - file: The source file (defaults to the caller's).
    ///   - line: The source line (defaults to the caller's).
    public init(_ code: Code, _ message: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// The error's description: the code and message.
    public var description: String {
        "\(self.code): \(self.message)"
    }

    /// Two errors are equal when their codes are equal.
    public static func == (lhs: BulwarkError, rhs: BulwarkError) -> Bool {
        lhs.code == rhs.code
    }

    /// Hashes the code.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension BulwarkError {
    /// The kind of a ``BulwarkError``. New codes may be added in any release.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case invalidFormat = "invalid format"
            case authenticationFailed = "authentication failed"
            case wrongContext = "wrong context"
            case unknownKey = "unknown key"
            case unknownKeyVersion = "unknown key version"
            case keyVersionDisabled = "key version disabled"
            case keyVersionDestroyed = "key version destroyed"
            case keyVersionBelowMinimum = "key version below minimum decryption version"
            case wrongPurpose = "wrong key purpose"
            case notExportable = "key not exportable"
            case invalidArgument = "invalid argument"
            case keyExists = "key exists"
            case wrongMasterKey = "wrong master key"
            case keystoreCorrupted = "keystore corrupted"
            case insecurePermissions = "insecure permissions"
            case missingMasterKey = "missing master key"
            case ioFailure = "I/O failure"
            case streamTruncated = "stream truncated"
            case tokenExpired = "token expired"
            case storageFailure = "storage failure"
            case notInitialized = "store not initialised"
            case alreadyInitialized = "store already initialised"
            case notFound = "not found"
            case permissionDenied = "permission denied"
            case unavailable = "unavailable"
            case internalFailure = "internal failure"
            case pinMismatch = "pin mismatch"
        }

        private let backing: Backing

        private init(_ backing: Backing) {
            self.backing = backing
        }

        /// A short name for the code.
        public var description: String { self.backing.rawValue }

        /// The input is not a well-formed Bulwark (or Fernet) object.
        public static let invalidFormat = Code(.invalidFormat)
        /// Authentication failed: the data was altered, or was sealed under other key material.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The context (associated data) given differs from the one bound at encryption.
        public static let wrongContext = Code(.wrongContext)
        /// No key with the requested name or id exists.
        public static let unknownKey = Code(.unknownKey)
        /// The key has no version with that number.
        public static let unknownKeyVersion = Code(.unknownKeyVersion)
        /// The key version is disabled; it can be enabled again.
        public static let keyVersionDisabled = Code(.keyVersionDisabled)
        /// The key version was destroyed; data under it is gone for good.
        public static let keyVersionDestroyed = Code(.keyVersionDestroyed)
        /// The key version is older than the key's minimum decryption version.
        public static let keyVersionBelowMinimum = Code(.keyVersionBelowMinimum)
        /// The key's purpose does not allow this operation.
        public static let wrongPurpose = Code(.wrongPurpose)
        /// The key was not created exportable.
        public static let notExportable = Code(.notExportable)
        /// An argument is out of range or inconsistent.
        public static let invalidArgument = Code(.invalidArgument)
        /// A key with that name already exists.
        public static let keyExists = Code(.keyExists)
        /// The master key does not open this keystore.
        public static let wrongMasterKey = Code(.wrongMasterKey)
        /// The keystore file is truncated or damaged.
        public static let keystoreCorrupted = Code(.keystoreCorrupted)
        /// A secret file is readable by group or others.
        public static let insecurePermissions = Code(.insecurePermissions)
        /// No master key source was configured.
        public static let missingMasterKey = Code(.missingMasterKey)
        /// Reading or writing a file failed.
        public static let ioFailure = Code(.ioFailure)
        /// A stream ended before its final segment.
        public static let streamTruncated = Code(.streamTruncated)
        /// A token is older than its allowed time to live.
        public static let tokenExpired = Code(.tokenExpired)
        /// The storage backend (a database) failed or holds something unexpected.
        public static let storageFailure = Code(.storageFailure)
        /// The key service's store has not been initialised (`bulwark operator init`).
        public static let notInitialized = Code(.notInitialized)
        /// The key service's store was initialised already.
        public static let alreadyInitialized = Code(.alreadyInitialized)
        /// The thing named (a role, a transformation, a token, a policy) does not exist.
        public static let notFound = Code(.notFound)
        /// The caller may not do this.
        public static let permissionDenied = Code(.permissionDenied)
        /// A service the operation needs is unavailable for now; retrying may succeed.
        public static let unavailable = Code(.unavailable)
        /// Something that cannot happen did (a defect, never the caller's input).
        public static let internalFailure = Code(.internalFailure)
        /// A key or certificate offered by a peer matches none the caller pinned (or a pinned
        /// version came back with other bytes): possibly a substituted key, so nothing is sent.
        public static let pinMismatch = Code(.pinMismatch)
    }
}
