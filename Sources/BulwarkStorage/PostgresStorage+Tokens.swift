import Bulwark
import Foundation
import NIOCore
import PostgresNIO

extension PostgresStorage {
    public func insertTokens(_ records: [TokenRecord]) async throws -> [Bool] {
        guard !records.isEmpty else { return [] }
        // One statement per transformation in the batch: unnest() of parallel arrays, conflicts skipped.
        var inserted = [Bool](repeating: false, count: records.count)
        let groups = Dictionary(grouping: records.indices, by: { records[$0].transformation })
        for (transformation, indices) in groups {
            let tokenIDs = indices.map { ByteBuffer(bytes: records[$0].tokenID) }
            let valueIDs = indices.map { ByteBuffer(bytes: records[$0].valueID) }
            let sealed = indices.map { ByteBuffer(bytes: records[$0].sealed) }
            let expiries = indices.map { records[$0].expiresAt }
            let now = Int64(Date().timeIntervalSince1970)
            let stored: Set<[UInt8]> = try await self.run("storing tokens") {
                var stored = Set<[UInt8]>()
                let query: PostgresQuery = """
                    INSERT INTO bulwark_tokens (transformation, token_id, value_id, sealed, expires_at, created_at)
                    SELECT \(transformation), t.token_id, NULLIF(t.value_id, ''::bytea), t.sealed, t.expires_at, \(now)
                    FROM unnest(\(tokenIDs)::bytea[], \(valueIDs)::bytea[], \(sealed)::bytea[], \(expiries)::bigint[])
                        AS t(token_id, value_id, sealed, expires_at)
                    ON CONFLICT DO NOTHING RETURNING token_id
                    """
                for try await id in try await self.client.query(query, logger: self.logger).decode(ByteBuffer.self) {
                    stored.insert(Array(id.readableBytesView))
                }
                return stored
            }
            // A batch holding the same token twice inserts it once: only the first copy counts.
            var claimed = Set<[UInt8]>()
            for index in indices where stored.contains(records[index].tokenID) {
                inserted[index] = claimed.insert(records[index].tokenID).inserted
            }
        }
        return inserted
    }

    public func tokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord] {
        try await self.selectTokens(transformation, ids: tokenIDs, byValue: false)
    }

    public func tokens(_ transformation: String, valueIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord] {
        try await self.selectTokens(transformation, ids: valueIDs, byValue: true)
    }

    private func selectTokens(_ transformation: String, ids: [[UInt8]], byValue: Bool) async throws -> [[UInt8]: TokenRecord] {
        guard !ids.isEmpty else { return [:] }
        let buffers = ids.map { ByteBuffer(bytes: $0) }
        return try await self.run("reading tokens") {
            let query: PostgresQuery =
                byValue
                ? "SELECT token_id, COALESCE(value_id, ''::bytea), sealed, expires_at FROM bulwark_tokens WHERE transformation = \(transformation) AND value_id = ANY(\(buffers)::bytea[])"
                : "SELECT token_id, COALESCE(value_id, ''::bytea), sealed, expires_at FROM bulwark_tokens WHERE transformation = \(transformation) AND token_id = ANY(\(buffers)::bytea[])"
            var found: [[UInt8]: TokenRecord] = [:]
            for try await (tokenID, valueID, sealed, expiresAt) in try await self.client.query(query, logger: self.logger)
                .decode((ByteBuffer, ByteBuffer, ByteBuffer, Int64).self)
            {
                let record = TokenRecord(
                    transformation: transformation, tokenID: Array(tokenID.readableBytesView), valueID: Array(valueID.readableBytesView),
                    sealed: Array(sealed.readableBytesView), expiresAt: expiresAt)
                found[byValue ? record.valueID : record.tokenID] = record
            }
            return found
        }
    }

    @discardableResult
    public func deleteTokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> Int {
        guard !tokenIDs.isEmpty else { return 0 }
        let buffers = tokenIDs.map { ByteBuffer(bytes: $0) }
        return try await self.countingDelete(
            "revoking tokens",
            "DELETE FROM bulwark_tokens WHERE transformation = \(transformation) AND token_id = ANY(\(buffers)::bytea[]) RETURNING 1")
    }

    public func expiredTokenCount(now: Int64) async throws -> Int {
        try await self.count("counting expired tokens", "SELECT COUNT(*) FROM bulwark_tokens WHERE expires_at > 0 AND expires_at <= \(now)")
    }

    /// The single integer a `SELECT COUNT(*)` answers.
    private func count(_ doing: String, _ query: PostgresQuery) async throws -> Int {
        try await self.run(doing) {
            var count = 0
            for try await value in try await self.client.query(query, logger: self.logger).decode(Int.self) {
                count = value
            }
            return count
        }
    }

    public func deleteExpiredTokens(now: Int64, limit: Int) async throws -> Int {
        try await self.countingDelete(
            "purging expired tokens",
            """
            DELETE FROM bulwark_tokens WHERE ctid IN (
                SELECT ctid FROM bulwark_tokens WHERE expires_at > 0 AND expires_at <= \(now) LIMIT \(limit)) RETURNING 1
            """)
    }

    @discardableResult
    public func deleteAllTokens(_ transformation: String) async throws -> Int {
        try await self.countingDelete("deleting tokens", "DELETE FROM bulwark_tokens WHERE transformation = \(transformation) RETURNING 1")
    }

    public func tokenPage(after position: (tokenID: [UInt8], transformation: String)?, limit: Int) async throws -> [TokenRecord] {
        let id = ByteBuffer(bytes: position?.tokenID ?? [])
        let transformation = position?.transformation ?? ""
        return try await self.run("reading tokens") {
            var records: [TokenRecord] = []
            let query: PostgresQuery = """
                SELECT transformation, token_id, COALESCE(value_id, ''::bytea), sealed, expires_at FROM bulwark_tokens
                WHERE (token_id, transformation) > (\(id), \(transformation)) ORDER BY token_id, transformation LIMIT \(limit)
                """
            for try await (name, tokenID, valueID, sealed, expiresAt) in try await self.client.query(query, logger: self.logger)
                .decode((String, ByteBuffer, ByteBuffer, ByteBuffer, Int64).self)
            {
                records.append(
                    TokenRecord(
                        transformation: name, tokenID: Array(tokenID.readableBytesView), valueID: Array(valueID.readableBytesView),
                        sealed: Array(sealed.readableBytesView), expiresAt: expiresAt))
            }
            return records
        }
    }

    public func tokenCount(_ transformation: String) async throws -> Int {
        try await self.count("counting tokens", "SELECT COUNT(*) FROM bulwark_tokens WHERE transformation = \(transformation)")
    }

    private func countingDelete(_ what: String, _ query: PostgresQuery) async throws -> Int {
        try await self.run(what) {
            var count = 0
            for try await _ in try await self.client.query(query, logger: self.logger).decode(Int32.self) { count += 1 }
            return count
        }
    }
}
