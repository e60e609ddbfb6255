import Bulwark
import Crypto
public import Foundation

/// A whole key service store as one stream of lines, for `bulwark operator backup` and
/// `restore`: every entry as stored (already sealed under the master key, so the backup reveals
/// no key even before it is encrypted), the seal record, the nodes' audit checkpoints, and every
/// row of the tokenisation vault (sealed too).
///
/// The lines are JSON: a header (`format`, `version`, `created`), one line per entry (`p`, `v`)
/// and per token (`tr`, `id`, `vid`, `s`, `x`), then a trailer with the counts and the SHA-256 of
/// every byte before it. The CLI writes them inside an age file (X25519 recipients), so the file
/// is authenticated chunk by chunk and cut-off files are refused; the trailer makes the backup's
/// completeness checkable on its own too. Restoring needs no master key: entries go back as they
/// were, and the restored store opens with the master key (or the key shares) of the store backed
/// up.
public enum StoreBackup {
    /// The header's `format`.
    static let format = "bulwark-store-backup"
    /// The header's `version`.
    static let version = 1
    /// Tokens read per page.
    static let pageSize = 2000

    /// What a backup holds, parsed and checked.
    public struct Contents: Sendable {
        /// The entries, by path.
        public var entries: [(path: String, value: [UInt8])] = []
        /// The tokenisation vault's rows.
        public var tokens: [TokenRecord] = []
        /// When the backup was taken (Unix seconds).
        public var created: Int64 = 0
    }

    /// Writes a backup of the store in `backend` as lines handed to `write` (in pieces of a few
    /// hundred kilobytes). The entries are read in one query (one consistent moment); the
    /// tokens are read after them, page by page: a token written meanwhile may or may not be in
    /// the backup, and its transformation's entry is there whenever the token is older than the
    /// backup's start.
    /// - Returns: The number of entries and of tokens written.
    /// - Throws: ``BulwarkError/Code/notInitialized`` for a store with no seal record.
    public static func export(from backend: any StorageBackend, write: (Data) throws -> Void) async throws -> (entries: Int, tokens: Int) {
        try await backend.migrate()
        let entries = try await backend.list(prefix: "")
        guard entries.contains(where: { $0.path == SealedStore.sealPath }) else {
            throw BulwarkError(.notInitialized, "\(backend.location) holds no key service store")
        }
        var hash = SHA256()
        var pending = Data()
        func emit(_ object: [String: Any]) throws {
            var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            line.append(UInt8(ascii: "\n"))
            hash.update(data: line)
            pending.append(line)
            if pending.count >= 256 << 10 {
                try write(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        try emit(["format": Self.format, "version": Self.version, "created": Int64(Date().timeIntervalSince1970)])
        for entry in entries {
            try emit(["p": entry.path, "v": Data(entry.value).base64EncodedString()])
        }
        var tokens = 0
        var position: (tokenID: [UInt8], transformation: String)?
        while true {
            let page = try await backend.tokenPage(after: position, limit: Self.pageSize)
            guard let last = page.last else { break }
            for token in page {
                try emit([
                    "tr": token.transformation, "id": Data(token.tokenID).base64EncodedString(),
                    "vid": Data(token.valueID).base64EncodedString(), "s": Data(token.sealed).base64EncodedString(), "x": token.expiresAt,
                ])
            }
            tokens += page.count
            position = (last.tokenID, last.transformation)
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        var trailer = try JSONSerialization.data(
            withJSONObject: ["end": true, "entries": entries.count, "tokens": tokens, "sha256": digest] as [String: Any], options: [.sortedKeys])
        trailer.append(UInt8(ascii: "\n"))
        pending.append(trailer)
        try write(pending)
        return (entries.count, tokens)
    }

    /// Parses a whole backup and checks it: the header, every line, the trailer's counts and
    /// digest, no path twice, the seal record present.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` naming the first problem (never a value).
    public static func parse(_ data: Data) throws -> Contents {
        var contents = Contents()
        var hash = SHA256()
        var lineNumber = 0
        var ended = false
        var paths = Set<String>()
        var tokenIDs = Set<[UInt8]>()
        var valueIDs = Set<[UInt8]>()
        var start = data.startIndex
        func refuse(_ why: String) -> BulwarkError {
            BulwarkError(.invalidFormat, "not a complete Bulwark backup: \(why) (line \(lineNumber))")
        }
        while start < data.endIndex {
            guard let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) else { throw refuse("the last line is cut off") }
            let line = data[start...newline]
            start = data.index(after: newline)
            lineNumber += 1
            guard !ended else { throw refuse("lines after the trailer") }
            guard let object = try? JSONSerialization.jsonObject(with: line.dropLast()) as? [String: Any] else {
                throw refuse("a line is not a JSON object")
            }
            if lineNumber == 1 {
                guard object["format"] as? String == Self.format, object["version"] as? Int == Self.version,
                    let created = (object["created"] as? NSNumber)?.int64Value
                else { throw refuse("the header is not a Bulwark backup's of version \(Self.version)") }
                contents.created = created
            } else if object["end"] as? Bool == true {
                let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
                guard object["entries"] as? Int == contents.entries.count, object["tokens"] as? Int == contents.tokens.count,
                    object["sha256"] as? String == digest
                else { throw refuse("the trailer's counts or digest do not match the lines before it") }
                ended = true
                continue
            } else if let path = object["p"] as? String, let value = (object["v"] as? String).flatMap({ Data(base64Encoded: $0) }),
                object.count == 2
            {
                guard !path.isEmpty, path.utf8.count <= 1024, paths.insert(path).inserted else { throw refuse("an entry's path is empty, too long or repeated") }
                contents.entries.append((path, Array(value)))
            } else if let transformation = object["tr"] as? String, let id = (object["id"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let valueID = (object["vid"] as? String).flatMap({ Data(base64Encoded: $0) }),
                let sealed = (object["s"] as? String).flatMap({ Data(base64Encoded: $0) }), let expires = (object["x"] as? NSNumber)?.int64Value,
                object.count == 5
            {
                // One row per token and per convergent value in a transformation, as the table holds them.
                let key = Array(transformation.utf8) + [0] + Array(id)
                guard tokenIDs.insert(key).inserted, valueID.isEmpty || valueIDs.insert(Array(transformation.utf8) + [0] + Array(valueID)).inserted else {
                    throw refuse("a token appears twice")
                }
                contents.tokens.append(
                    TokenRecord(transformation: transformation, tokenID: Array(id), valueID: Array(valueID), sealed: Array(sealed), expiresAt: expires))
            } else {
                throw refuse("a line is neither an entry nor a token")
            }
            hash.update(data: line)
        }
        guard lineNumber > 0 else { throw refuse("the backup is empty") }
        guard ended else { throw refuse("the trailer is missing (the backup was cut off)") }
        guard paths.contains(SealedStore.sealPath), paths.contains(StoreManifest.path) else {
            throw refuse("it holds no whole store (no seal record or no manifest)")
        }
        return contents
    }

    /// Restores checked contents into an empty store: the tokens first, then every entry in one
    /// transaction (the seal record with them, so the store is recognisable only once it is
    /// whole), then everything is read back and compared.
    /// - Throws: ``BulwarkError/Code/alreadyInitialized`` for a store that holds entries
    ///   (nothing is written then); ``BulwarkError/Code/storageFailure`` when the read-back differs.
    public static func restore(_ contents: Contents, into backend: any StorageBackend) async throws {
        try await backend.migrate()
        guard try await backend.list(prefix: "").isEmpty else {
            throw BulwarkError(.alreadyInitialized, "\(backend.location) is not empty: a backup is restored into an empty store only")
        }
        // The vault must be empty too, or hold only rows of this very backup (a restore cut short
        // before its entries were written, run again): nothing of another store is mixed in.
        let byKey = Dictionary(contents.tokens.map { (TokenKey(transformation: $0.transformation, tokenID: $0.tokenID), $0) }) { first, _ in first }
        var position: (tokenID: [UInt8], transformation: String)?
        while true {
            let page = try await backend.tokenPage(after: position, limit: Self.pageSize)
            guard let last = page.last else { break }
            for row in page where byKey[TokenKey(transformation: row.transformation, tokenID: row.tokenID)] != row {
                throw BulwarkError(.alreadyInitialized, "\(backend.location) holds tokens that are not this backup's: restore into an empty store")
            }
            position = (last.tokenID, last.transformation)
        }
        // Tokens first (conflicts skipped: a restore cut short and run again goes on where it
        // stopped), read back before the entries make the store a store.
        var index = 0
        while index < contents.tokens.count {
            let page = Array(contents.tokens[index..<min(index + Self.pageSize, contents.tokens.count)])
            _ = try await backend.insertTokens(page)
            index += page.count
        }
        try await Self.verifyTokens(contents.tokens, in: backend)
        let paths = contents.entries.map(\.path)
        let values = contents.entries.map(\.value)
        try await backend.update(paths) { current in
            guard current.allSatisfy({ $0 == nil }) else {
                throw BulwarkError(.alreadyInitialized, "\(backend.location) was written to while the backup was being restored")
            }
            return (values.map { .put($0) }, ())
        }
        // Read back: every entry as in the backup.
        let written = Dictionary(try await backend.list(prefix: "").map { ($0.path, $0.value) }) { first, _ in first }
        for (path, value) in contents.entries where written[path] != value {
            throw BulwarkError(.storageFailure, "verification failed: \(path) differs after the restore")
        }
    }

    /// A token row's identity in the vault.
    private struct TokenKey: Hashable {
        let transformation: String
        let tokenID: [UInt8]
    }

    /// Reads every token of `tokens` back and compares it.
    private static func verifyTokens(_ tokens: [TokenRecord], in backend: any StorageBackend) async throws {
        for (transformation, records) in Dictionary(grouping: tokens, by: \.transformation) {
            var offset = 0
            while offset < records.count {
                let slice = Array(records[offset..<min(offset + Self.pageSize, records.count)])
                let stored = try await backend.tokens(transformation, tokenIDs: slice.map(\.tokenID))
                for record in slice where stored[record.tokenID]?.sealed != record.sealed || stored[record.tokenID]?.expiresAt != record.expiresAt {
                    throw BulwarkError(.storageFailure, "verification failed: a token of \(transformation) differs after the restore")
                }
                offset += slice.count
            }
        }
    }
}
