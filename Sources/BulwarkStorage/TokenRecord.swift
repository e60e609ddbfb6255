/// One entry of the tokenisation vault as a backend stores it: nothing in it is readable without
/// the transformation's keys.
///
/// - `tokenID` is a keyed hash of the token (the token itself is not stored in clear);
/// - `valueID` is a keyed hash of the value, present only for convergent transformations (the
///   same value must find its token again), unique per transformation;
/// - `sealed` is the value, the token and the metadata under AES-256-GCM, bound to the
///   transformation and `tokenID`;
/// - `expiresAt` is the expiry in Unix seconds (0: never), kept in clear so expired entries can
///   be purged without keys.
public struct TokenRecord: Sendable, Hashable {
    /// The transformation the token belongs to.
    public var transformation: String
    /// Keyed hash of the token.
    public var tokenID: [UInt8]
    /// Keyed hash of the value (convergent transformations), or empty.
    public var valueID: [UInt8]
    /// The sealed value, token and metadata.
    public var sealed: [UInt8]
    /// Expiry in Unix seconds; 0 for none.
    public var expiresAt: Int64

    /// Creates a record.
    public init(transformation: String, tokenID: [UInt8], valueID: [UInt8] = [], sealed: [UInt8], expiresAt: Int64 = 0) {
        self.transformation = transformation
        self.tokenID = tokenID
        self.valueID = valueID
        self.sealed = sealed
        self.expiresAt = expiresAt
    }
}

/// The tokenisation vault's table, which every ``StorageBackend`` provides beside its entries.
///
/// Token writes do not advance the change sequence: nodes cache no tokens, so there is nothing to
/// refresh, and writers of tokens never wait for each other on one row.
public protocol TokenVaultStorage: Sendable {
    /// Inserts the records that conflict with no stored one (same token or, for convergent
    /// transformations, same value), in one transaction.
    /// - Returns: For each record, whether it was inserted.
    func insertTokens(_ records: [TokenRecord]) async throws -> [Bool]

    /// The stored records of `transformation` with these token ids, by token id.
    func tokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord]

    /// The stored records of `transformation` with these value ids, by value id.
    func tokens(_ transformation: String, valueIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord]

    /// Deletes the records of `transformation` with these token ids.
    /// - Returns: How many were deleted.
    @discardableResult
    func deleteTokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> Int

    /// How many records expired at or before `now` (Unix seconds).
    func expiredTokenCount(now: Int64) async throws -> Int

    /// Deletes up to `limit` records that expired at or before `now` (Unix seconds).
    /// - Returns: How many were deleted.
    func deleteExpiredTokens(now: Int64, limit: Int) async throws -> Int

    /// Deletes every record of `transformation` (when the transformation is deleted).
    @discardableResult
    func deleteAllTokens(_ transformation: String) async throws -> Int

    /// Up to `limit` records in (token id, transformation) order after the given position (nil:
    /// from the start), for copying a vault to another store.
    func tokenPage(after position: (tokenID: [UInt8], transformation: String)?, limit: Int) async throws -> [TokenRecord]

    /// How many records `transformation` has.
    func tokenCount(_ transformation: String) async throws -> Int
}
