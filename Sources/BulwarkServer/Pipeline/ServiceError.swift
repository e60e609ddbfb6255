import Bulwark

/// What a caller of the key service may be told about a failure, decided once for every
/// operation and both transports (the HTTP layer turns the code into a status, see
/// ``TransitError/init(_:)``; batch items carry the message).
///
/// Operations throw ``BulwarkError`` codes and nothing from HTTP. This keeps the answers Vault
/// clients expect (`cipher: message authentication failed`), and keeps storage and internal
/// detail from callers.
enum ServiceError {
    /// The error as the caller sees it: a code and a message with no internal detail.
    static func normalized(_ error: any Error) -> BulwarkError {
        if error is TransitBackend.BudgetShortfall { return BulwarkError(.unavailable, "encryptions for this key are being reserved; retry") }
        guard let bulwark = error as? BulwarkError else { return BulwarkError(.internalFailure, "internal error") }
        switch bulwark.code {
        case .authenticationFailed, .wrongContext:
            return BulwarkError(.invalidArgument, "cipher: message authentication failed")
        case .keyVersionBelowMinimum, .keyVersionDisabled, .keyVersionDestroyed, .unknownKeyVersion, .unknownKey:
            return BulwarkError(.invalidArgument, "invalid key version: \(bulwark.message)")
        case .storageFailure, .ioFailure, .keystoreCorrupted, .wrongMasterKey:
            // The database is gone or failing: retryable, and no detail for the client.
            return BulwarkError(.unavailable, "the key service's storage is unavailable; try again")
        case .notFound, .permissionDenied, .unavailable, .internalFailure, .invalidArgument:
            // The key service's own answers, fixed texts written for the caller (the library
            // and storage layers never throw the first four; their failures are mapped above).
            return bulwark
        default:
            return BulwarkError(.invalidArgument, bulwark.message)
        }
    }
}
