import Bulwark
import BulwarkStorage
import Crypto
import Foundation
import Synchronization

/// Tokenisation against the token vault, and the operations on stored tokens: `decode`,
/// `validate`, `tokenized`, `metadata`, `revoke`.
extension TransformBackend {
    /// Tokenises the items at `indices` (all of one transformation): one batch insert, retried for
    /// the rare token collision; convergent transformations first look for the value's token.
    func tokenize(_ compiled: Compiled, items: [TransformRequest], indices: [Int], outcomes: inout [Outcome]) async throws {
        guard let keys = compiled.vault else { return }
        let backend = self.store.backend
        let now = Int64(Date().timeIntervalSince1970)
        struct Entry {
            let index: Int
            let value: String
            let valueID: [UInt8]
            let expiresAt: Int64
            let metadata: Data
        }
        var entries: [Entry] = []
        entries.reserveCapacity(indices.count)
        for index in indices {
            do {
                let value = try Self.value(items[index])
                let lifetime = try Self.lifetime(compiled, items[index])
                entries.append(
                    Entry(
                        index: index, value: value, valueID: compiled.config.convergent ? keys.valueID(value) : [],
                        expiresAt: lifetime > 0 ? now + lifetime : 0, metadata: Self.metadata(items[index])))
            } catch {
                outcomes[index] = .failure(ServiceError.normalized(error))
            }
        }
        var waiting = entries
        // Convergent: a value tokenised before gets its token back (expired ones are replaced).
        var convergentTokens: [[UInt8]: (value: String, token: String)] = [:]
        func reuseStored() async throws {
            let found = try await backend.tokens(compiled.name, valueIDs: Array(Set(waiting.map(\.valueID))))
            var expired: [[UInt8]] = []
            for (valueID, record) in found {
                if record.expiresAt > 0 && record.expiresAt <= now {
                    expired.append(record.tokenID)
                    continue
                }
                // A row that does not open (or not as this value's) is reported per item, never reused.
                guard let opened = try? keys.open(record) else {
                    convergentTokens[valueID] = (value: "", token: "")
                    continue
                }
                convergentTokens[valueID] = (opened.value, opened.token)
            }
            if !expired.isEmpty { try await backend.deleteTokens(compiled.name, tokenIDs: expired) }
            waiting = waiting.filter { entry in
                guard let stored = convergentTokens[entry.valueID] else { return true }
                // The row holds this very value (not only a value with the same hash).
                guard !stored.token.isEmpty, stored.value == entry.value else {
                    outcomes[entry.index] = .failure(BulwarkError(.internalFailure, "the stored token failed authentication"))
                    return false
                }
                outcomes[entry.index] = .success(TransformResult(encodedValue: stored.token))
                return false
            }
        }
        if compiled.config.convergent { try await reuseStored() }
        var attempts = 0
        while !waiting.isEmpty {
            attempts += 1
            guard attempts <= 16 else {
                for entry in waiting {
                    outcomes[entry.index] = .failure(BulwarkError(.invalidArgument, "no free token could be found for the value (the token format leaves too few choices)"))
                }
                return
            }
            var records: [TokenRecord] = []
            var tokens: [String] = []
            var kept: [Entry] = []
            var firstOfValue: [[UInt8]: Int] = [:]
            var duplicates: [(Entry, Int)] = []
            for entry in waiting {
                // The same new value twice in one convergent batch: one token for both.
                if compiled.config.convergent, let first = firstOfValue[entry.valueID] {
                    duplicates.append((entry, first))
                    continue
                }
                let token: String
                do {
                    var candidate = try compiled.tokenFormat.token(for: entry.value)
                    while candidate == entry.value { candidate = try compiled.tokenFormat.token(for: entry.value) }
                    token = candidate
                } catch {
                    outcomes[entry.index] = .failure(ServiceError.normalized(error))
                    continue
                }
                let tokenID = keys.tokenID(token)
                let sealed = try keys.seal(
                    value: entry.value, token: token, metadata: entry.metadata, transformation: compiled.name, tokenID: tokenID,
                    valueID: entry.valueID, expiresAt: entry.expiresAt)
                if compiled.config.convergent { firstOfValue[entry.valueID] = kept.count }
                records.append(TokenRecord(transformation: compiled.name, tokenID: tokenID, valueID: entry.valueID, sealed: sealed, expiresAt: entry.expiresAt))
                tokens.append(token)
                kept.append(entry)
            }
            let inserted = try await backend.insertTokens(records)
            var retry: [Entry] = []
            for (position, entry) in kept.enumerated() {
                if inserted[position] {
                    outcomes[entry.index] = .success(TransformResult(encodedValue: tokens[position]))
                } else {
                    retry.append(entry)
                }
            }
            for (entry, first) in duplicates {
                if inserted[first] { outcomes[entry.index] = .success(TransformResult(encodedValue: tokens[first])) } else { retry.append(entry) }
            }
            waiting = retry
            // A convergent conflict may be another request storing the same value: use its token.
            if compiled.config.convergent && !waiting.isEmpty { try await reuseStored() }
        }
    }

    /// The stored records for the token values of `indices` (tokenisation), with per-item failures.
    func lookup(_ compiled: Compiled, items: [TransformRequest], indices: [Int], outcomes: inout [Outcome]) async throws
        -> [Int: (record: TokenRecord, opened: (value: String, token: String, metadata: Data))]
    {
        guard let keys = compiled.vault else { return [:] }
        var ids: [Int: [UInt8]] = [:]
        for index in indices {
            do {
                ids[index] = keys.tokenID(try Self.value(items[index]))
            } catch {
                outcomes[index] = .failure(ServiceError.normalized(error))
            }
        }
        let found = try await self.store.backend.tokens(compiled.name, tokenIDs: Array(Set(ids.values)))
        let now = Int64(Date().timeIntervalSince1970)
        var out: [Int: (record: TokenRecord, opened: (value: String, token: String, metadata: Data))] = [:]
        for (index, id) in ids {
            guard let record = found[id] else {
                outcomes[index] = .failure(BulwarkError(.invalidArgument, "token not found"))
                continue
            }
            if record.expiresAt > 0 && record.expiresAt <= now {
                outcomes[index] = .failure(BulwarkError(.invalidArgument, "token expired"))
                continue
            }
            do {
                out[index] = (record, try keys.open(record))
            } catch {
                outcomes[index] = .failure(BulwarkError(.invalidArgument, "the stored token failed authentication"))
            }
        }
        return out
    }

    /// Runs `body` per item for FPE and masking, and `tokens` per tokenisation transformation.
    func perItem(
        role: String, _ request: TransformRequest,
        direct: (Compiled, TransformRequest) throws -> TransformResult,
        tokens: (Compiled, [TransformRequest], [Int], inout [Outcome]) async throws -> Void
    ) async throws -> TransformAnswer {
        let (items, batch) = try Self.items(request)
        let state = self.snapshot
        var outcomes = [Outcome](repeating: .failure(BulwarkError(.internalFailure, "not processed")), count: items.count)
        var pending: [String: (Compiled, [Int])] = [:]
        for (index, item) in items.enumerated() {
            do {
                let compiled = try self.resolve(role: role, item, state: state)
                if compiled.config.type == .tokenization {
                    pending[compiled.name, default: (compiled, [])].1.append(index)
                } else {
                    outcomes[index] = .success(try direct(compiled, item))
                }
            } catch {
                outcomes[index] = .failure(ServiceError.normalized(error))
            }
        }
        for (_, (compiled, indices)) in pending {
            try await tokens(compiled, items, indices, &outcomes)
        }
        return try Self.respond(outcomes, items: items, batch: batch)
    }

    /// `POST transform/decode/:role(/:decode_format)`.
    func decode(role: String, format pathFormat: String?, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { compiled, item in
                guard compiled.config.type == .fpe, let ff1 = compiled.ff1 else {
                    throw BulwarkError(.invalidArgument, "masking transformations cannot be decoded")
                }
                let value = try Self.value(item)
                let template = try Self.matching(compiled, value)
                let (tweak, _) = try Self.tweak(compiled, item, encoding: false)
                var format: String?
                if let name = pathFormat ?? item.decodeFormat {
                    guard let chosen = template.decodeFormats[name] else { throw BulwarkError(.invalidArgument, "decode format \"\(name)\" not found") }
                    format = chosen
                }
                let decoded = try template.transform(value, format: format) { numerals in
                    numerals = try ff1.decrypt(numerals: numerals, radix: template.alphabet.radix, tweak: tweak)
                }
                return TransformResult(decodedValue: decoded)
            },
            tokens: { compiled, items, indices, outcomes in
                for (index, entry) in try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes) {
                    outcomes[index] = .success(TransformResult(decodedValue: entry.opened.value))
                }
            })
    }

    /// `POST transform/validate/:role`: whether each token is stored and unexpired.
    func validate(role: String, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { _, _ in throw BulwarkError(.invalidArgument, "validate applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                let found = try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes)
                for index in indices {
                    if case .failure(let error) = outcomes[index], error.code == .invalidArgument,
                        error.message == "token not found" || error.message == "token expired"
                    {
                        outcomes[index] = .success(TransformResult(valid: false))
                    } else if found[index] != nil {
                        outcomes[index] = .success(TransformResult(valid: true))
                    }
                }
            })
    }

    /// `POST transform/tokenized/:role`: whether each value has an unexpired token (convergent
    /// transformations only: others keep no value index, by design).
    func tokenized(role: String, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { _, _ in throw BulwarkError(.invalidArgument, "tokenized applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                guard compiled.config.convergent, let keys = compiled.vault else {
                    for index in indices {
                        outcomes[index] = .failure(BulwarkError(.invalidArgument, "tokenized needs a convergent transformation: others keep no index of values"))
                    }
                    return
                }
                var ids: [Int: [UInt8]] = [:]
                for index in indices {
                    do { ids[index] = keys.valueID(try Self.value(items[index])) } catch { outcomes[index] = .failure(ServiceError.normalized(error)) }
                }
                let found = try await self.store.backend.tokens(compiled.name, valueIDs: Array(Set(ids.values)))
                let now = Int64(Date().timeIntervalSince1970)
                for (index, id) in ids {
                    // A row counts only when it opens and holds this value.
                    let record = found[id].flatMap { record in
                        (try? keys.open(record)).flatMap { opened in (try? Self.value(items[index])) == opened.value ? record : nil }
                    }
                    outcomes[index] = .success(TransformResult(tokenized: record.map { $0.expiresAt == 0 || $0.expiresAt > now } ?? false))
                }
            })
    }

    /// `POST transform/metadata/:role`: each token's expiry and metadata.
    func metadata(role: String, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { _, _ in throw BulwarkError(.invalidArgument, "metadata applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                for (index, entry) in try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes) {
                    let expires = entry.record.expiresAt > 0
                        ? ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(entry.record.expiresAt))) : nil
                    let metadata = entry.opened.metadata.isEmpty ? nil : RawJSON(text: Array(entry.opened.metadata))
                    outcomes[index] = .success(TransformResult(token: .init(value: entry.opened.token, expirationTime: expires, metadata: metadata)))
                }
            })
    }

    /// `POST transform/revoke/:role` (Bulwark's addition): deletes each token, so it never decodes again.
    func revoke(role: String, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { _, _ in throw BulwarkError(.invalidArgument, "revoke applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                guard let keys = compiled.vault else { return }
                for index in indices {
                    do {
                        let id = keys.tokenID(try Self.value(items[index]))
                        let removed = try await self.store.backend.deleteTokens(compiled.name, tokenIDs: [id])
                        outcomes[index] = removed == 1 ? .success(TransformResult(revoked: true)) : .failure(BulwarkError(.invalidArgument, "token not found"))
                    } catch let error as BulwarkError where error.code == .invalidArgument {
                        outcomes[index] = .failure(error)
                    }
                }
            })
    }
}
