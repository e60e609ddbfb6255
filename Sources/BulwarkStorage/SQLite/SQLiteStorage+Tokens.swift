import Bulwark
import CBulwarkSQLite
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SQLiteStorage {
    public func insertTokens(_ records: [TokenRecord]) async throws -> [Bool] {
        guard !records.isEmpty else { return [] }
        // A batch is a few milliseconds of SQLite: on the blocking-I/O pool, not an event loop.
        return try await NIOThreadPool.singleton.runIfActive { try self.insertTokensNow(records) }
    }

    private func insertTokensNow(_ records: [TokenRecord]) throws -> [Bool] {
        try self.transaction { handle in
            let insert = try SQLiteStatement(
                handle,
                """
                INSERT INTO bulwark_tokens (transformation, token_id, value_id, sealed, expires_at, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING
                """)
            let now = Int64(time(nil))
            var inserted: [Bool] = []
            inserted.reserveCapacity(records.count)
            for record in records {
                insert.reset()
                insert.bind(1, record.transformation)
                insert.bind(2, record.tokenID)
                if record.valueID.isEmpty { insert.bindNull(3) } else { insert.bind(3, record.valueID) }
                insert.bind(4, record.sealed)
                insert.bind(5, record.expiresAt)
                insert.bind(6, now)
                _ = try insert.step()
                inserted.append(SQLite.changes(handle) == 1)
            }
            return inserted
        }
    }

    public func tokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord] {
        try await NIOThreadPool.singleton.runIfActive { try self.selectTokens(transformation, ids: tokenIDs, column: "token_id", key: \.tokenID) }
    }

    public func tokens(_ transformation: String, valueIDs: [[UInt8]]) async throws -> [[UInt8]: TokenRecord] {
        try await NIOThreadPool.singleton.runIfActive { try self.selectTokens(transformation, ids: valueIDs, column: "value_id", key: \.valueID) }
    }

    private func selectTokens(
        _ transformation: String, ids: [[UInt8]], column: String, key: KeyPath<TokenRecord, [UInt8]>
    ) throws -> [[UInt8]: TokenRecord] {
        guard !ids.isEmpty else { return [:] }
        return try self.connection.withLock { connection in
            let select = try SQLiteStatement(
                connection.handle,
                "SELECT token_id, value_id, sealed, expires_at FROM bulwark_tokens WHERE transformation = ?1 AND \(column) = ?2")
            var found: [[UInt8]: TokenRecord] = [:]
            for id in ids {
                select.reset()
                select.bind(1, transformation)
                select.bind(2, id)
                if try select.step() {
                    let record = TokenRecord(
                        transformation: transformation, tokenID: select.blob(0), valueID: select.blob(1), sealed: select.blob(2),
                        expiresAt: select.integer(3))
                    found[record[keyPath: key]] = record
                }
            }
            return found
        }
    }

    @discardableResult
    public func deleteTokens(_ transformation: String, tokenIDs: [[UInt8]]) async throws -> Int {
        guard !tokenIDs.isEmpty else { return 0 }
        return try self.transaction { handle in
            let delete = try SQLiteStatement(handle, "DELETE FROM bulwark_tokens WHERE transformation = ?1 AND token_id = ?2")
            var count = 0
            for id in tokenIDs {
                delete.reset()
                delete.bind(1, transformation)
                delete.bind(2, id)
                _ = try delete.step()
                count += SQLite.changes(handle)
            }
            return count
        }
    }

    public func expiredTokenCount(now: Int64) async throws -> Int {
        try self.connection.withLock { connection in
            let count = try SQLiteStatement(connection.handle, "SELECT COUNT(*) FROM bulwark_tokens WHERE expires_at > 0 AND expires_at <= ?1")
            count.bind(1, now)
            _ = try count.step()
            return Int(count.integer(0))
        }
    }

    public func deleteExpiredTokens(now: Int64, limit: Int) async throws -> Int {
        try self.transaction { handle in
            let delete = try SQLiteStatement(
                handle,
                """
                DELETE FROM bulwark_tokens WHERE id IN (
                    SELECT id FROM bulwark_tokens WHERE expires_at > 0 AND expires_at <= ?1 LIMIT ?2)
                """)
            delete.bind(1, now)
            delete.bind(2, Int64(limit))
            _ = try delete.step()
            return SQLite.changes(handle)
        }
    }

    @discardableResult
    public func deleteAllTokens(_ transformation: String) async throws -> Int {
        try self.transaction { handle in
            let delete = try SQLiteStatement(handle, "DELETE FROM bulwark_tokens WHERE transformation = ?1")
            delete.bind(1, transformation)
            _ = try delete.step()
            return SQLite.changes(handle)
        }
    }

    public func tokenPage(after position: (tokenID: [UInt8], transformation: String)?, limit: Int) async throws -> [TokenRecord] {
        try self.connection.withLock { connection in
            let page = try SQLiteStatement(
                connection.handle,
                """
                SELECT transformation, token_id, COALESCE(value_id, x''), sealed, expires_at FROM bulwark_tokens
                WHERE (token_id, transformation) > (?1, ?2) ORDER BY token_id, transformation LIMIT ?3
                """)
            page.bind(1, position?.tokenID ?? [])
            page.bind(2, position?.transformation ?? "")
            page.bind(3, Int64(limit))
            var records: [TokenRecord] = []
            while try page.step() {
                records.append(
                    TokenRecord(transformation: page.text(0), tokenID: page.blob(1), valueID: page.blob(2), sealed: page.blob(3), expiresAt: page.integer(4)))
            }
            return records
        }
    }

    public func tokenCount(_ transformation: String) async throws -> Int {
        try self.connection.withLock { connection in
            let count = try SQLiteStatement(connection.handle, "SELECT COUNT(*) FROM bulwark_tokens WHERE transformation = ?1")
            count.bind(1, transformation)
            _ = try count.step()
            return Int(count.integer(0))
        }
    }
}
