import Bulwark
import BulwarkStorage
import Crypto
import Foundation
import Synchronization

/// Vault's Transform engine (`/v1/transform/`) over Bulwark: roles, transformations (FF1
/// format-preserving encryption, masking, tokenisation), templates and alphabets, independent of
/// HTTP. Configuration lives in the ``SealedStore`` (transformation keys sealed with it) and is
/// cached in memory; tokens live in the backend's token table, sealed (``TokenVaultKeys``).
final class TransformBackend: Sendable {
    typealias Config = TransformConfiguration

    /// A transformation ready to use: its templates resolved and its keys derived.
    struct Compiled: Sendable {
        let name: String
        let config: Config.Transformation
        let templates: [TransformTemplate]
        let ff1: FF1?
        let internalTweak: [UInt8]
        let vault: TokenVaultKeys?
        let tokenFormat: TokenFormat
        /// Why the transformation cannot be used now (a template or alphabet is missing), or nil.
        let problem: String?
    }

    struct State: Sendable {
        var roles: [String: Config.Role] = [:]
        var transformations: [String: Config.Transformation] = [:]
        var templates: [String: Config.Template] = [:]
        var alphabets: [String: Config.Alphabet] = [:]
        var compiled: [String: Compiled] = [:]
        /// Local writes so far (see ``refresh()``).
        var writes: UInt64 = 0
        /// The entries written here (path → the write's number), until a refresh from a
        /// snapshot taken after them has applied them.
        var recent: [String: UInt64] = [:]
        /// The ``StoreSnapshot/sequence`` of the snapshot applied last (an older one is not applied).
        var applied: UInt64 = 0
        /// Entries the last load could not read (path → reason), skipped.
        var unreadable: [String: String] = [:]
    }

    /// The configuration entries the last load skipped because they could not be read.
    var unreadableEntries: [String: String] { self.state.withLock { $0.unreadable } }

    let store: SealedStore
    private let state = Mutex(State())
    /// The most values one request may carry.
    static let maximumBatch = 10_000

    init(store: SealedStore) {
        self.store = store
    }

    static func open(store: SealedStore) async throws -> TransformBackend {
        let backend = TransformBackend(store: store)
        try await backend.refresh()
        return backend
    }

    // MARK: - Configuration

    static func path(_ kind: String, _ name: String) -> String { "transform/\(kind)/\(name)" }

    /// Local writes so far (read before a snapshot is taken; see ``refresh(from:writesBefore:)``).
    var writeCount: UInt64 { self.state.withLock { $0.writes } }

    /// Reloads the configuration from the store (after a change here or on another node).
    /// Applied always, so that a stream of local writes cannot keep other nodes' changes out; an
    /// entry written here while the store was read keeps its in-memory value (the snapshot may
    /// predate it) until a later refresh.
    /// - Returns: False when such entries were kept (refresh again to settle them).
    @discardableResult
    func refresh(from snapshot: StoreSnapshot? = nil, writesBefore: UInt64? = nil) async throws -> Bool {
        let before = writesBefore ?? self.writeCount
        var state = State()
        let decoder = JSONDecoder()
        let snapshot = if let snapshot { snapshot } else { try await self.store.snapshot() }
        let scan = try await self.store.readableDocuments(prefix: "transform/", in: snapshot)
        state.unreadable = scan.unreadable
        for (path, data) in scan.values {
            let parts = path.split(separator: "/", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            do {
                switch parts[1] {
                case "role": state.roles[parts[2]] = try decoder.decode(Config.Role.self, from: data)
                case "transformation": state.transformations[parts[2]] = try decoder.decode(Config.Transformation.self, from: data)
                case "template": state.templates[parts[2]] = try decoder.decode(Config.Template.self, from: data)
                case "alphabet": state.alphabets[parts[2]] = try decoder.decode(Config.Alphabet.self, from: data)
                default: continue
                }
            } catch {
                state.unreadable[path] = "not a valid \(parts[1]) configuration"
            }
        }
        for (name, transformation) in state.transformations {
            state.compiled[name] = Self.compile(name, transformation, state)
        }
        let loaded = state
        return self.state.withLock { current in
            // A newer snapshot was applied meanwhile: this one would bring back what it replaced.
            guard snapshot.sequence > current.applied else { return true }
            var fresh = loaded
            fresh.applied = snapshot.sequence
            let kept = current.recent.filter { $0.value > before }
            for path in kept.keys {
                Self.keep(path, from: current, in: &fresh)
            }
            if !kept.isEmpty {
                for (name, transformation) in fresh.transformations {
                    fresh.compiled[name] = Self.compile(name, transformation, fresh)
                }
            }
            fresh.writes = current.writes
            fresh.recent = kept
            current = fresh
            return kept.isEmpty
        }
    }

    /// Puts `current`'s entry at `path` (or its absence) into `state`.
    private static func keep(_ path: String, from current: State, in state: inout State) {
        let parts = path.split(separator: "/", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { return }
        let name = parts[2]
        switch parts[1] {
        case "role": state.roles[name] = current.roles[name]
        case "transformation": state.transformations[name] = current.transformations[name]
        case "template": state.templates[name] = current.templates[name]
        case "alphabet": state.alphabets[name] = current.alphabets[name]
        default: return
        }
        state.unreadable[path] = current.unreadable[path]
    }

    static func alphabet(_ name: String, _ state: State) throws -> FPEAlphabet {
        if let builtin = Config.builtinAlphabets[name] { return builtin }
        guard let stored = state.alphabets[name] else { throw TransitError.badRequest("alphabet \"\(name)\" not found") }
        return try FPEAlphabet(stored.alphabet)
    }

    static func template(_ name: String, _ state: State) throws -> TransformTemplate {
        if let builtin = Config.builtinTemplates[name] { return builtin }
        guard let stored = state.templates[name] else { throw TransitError.badRequest("template \"\(name)\" not found") }
        return try TransformTemplate(
            pattern: stored.pattern, alphabet: try Self.alphabet(stored.alphabet, state), encodeFormat: stored.encodeFormat,
            decodeFormats: stored.decodeFormats)
    }

    static func compile(_ name: String, _ config: Config.Transformation, _ state: State) -> Compiled {
        var templates: [TransformTemplate] = []
        var problem: String?
        do {
            templates = try config.templates.map { try Self.template($0, state) }
        } catch {
            problem = TransitBackend.clientError(error).message
        }
        var ff1: FF1?
        var tweak: [UInt8] = []
        if config.type == .fpe, !config.key.isEmpty {
            let derived = TokenVaultKeys.fpe(transformationKey: config.key)
            ff1 = try? FF1(key: derived.key)
            tweak = derived.internalTweak
        }
        var format = TokenFormat.opaque
        if config.type == .tokenization, let template = templates.first {
            format = .formatPreserving(
                template: template, preservePrefix: config.preservePrefix, preserveSuffix: config.preserveSuffix,
                luhn: TokenFormat.LuhnRequirement(rawValue: config.luhn) ?? .any)
        }
        return Compiled(
            name: name, config: config, templates: templates, ff1: ff1, internalTweak: tweak,
            vault: config.type == .tokenization ? TokenVaultKeys(transformationKey: config.key) : nil, tokenFormat: format,
            problem: problem)
    }

    private func write<T: Encodable>(_ kind: String, _ name: String, _ value: T?) async throws {
        let data = try value.map { try JSONEncoder().encode($0) }
        try await self.store.updateDocument(Self.path(kind, name)) { _ in data }
        // Count the write, then load a snapshot taken after it; a refresh racing this one from
        // an older snapshot keeps this entry's in-memory value rather than go back.
        self.state.withLock { state in
            state.writes &+= 1
            state.recent[Self.path(kind, name)] = state.writes
        }
        try await self.refresh()
    }

    private var snapshot: State { self.state.withLock { $0 } }

    /// `POST transform/role/:name`.
    func writeRole(_ name: String, _ body: [String: Any]) async throws {
        try Config.checkName(name)
        guard let transformations = try Config.list(body["transformations"], field: "transformations") else {
            throw TransitError.badRequest("missing transformations")
        }
        try await self.write("role", name, Config.Role(transformations: transformations))
    }

    func readRole(_ name: String) throws -> [String: Any] {
        guard let role = self.snapshot.roles[name] else { throw TransitError(404, "role not found") }
        return ["transformations": role.transformations]
    }

    func list(_ kind: String) -> [String: Any] {
        let state = self.snapshot
        switch kind {
        case "role": return ["keys": state.roles.keys.sorted()]
        case "template": return ["keys": (state.templates.keys.sorted())]
        case "alphabet": return ["keys": state.alphabets.keys.sorted()]
        default:
            let names = state.transformations.filter { kind == "transformation" || $0.value.type.rawValue == kind }.keys.sorted()
            return ["keys": names]
        }
    }

    func delete(_ kind: String, _ name: String) async throws {
        let state = self.snapshot
        switch kind {
        case "role": guard state.roles[name] != nil else { throw TransitError(404, "role not found") }
        case "template": guard state.templates[name] != nil else { throw TransitError(404, "template not found") }
        case "alphabet": guard state.alphabets[name] != nil else { throw TransitError(404, "alphabet not found") }
        default:
            guard let transformation = state.transformations[name], kind == "transformation" || transformation.type.rawValue == kind else {
                throw TransitError(404, "transformation not found")
            }
            if transformation.type == .tokenization {
                guard transformation.deletionAllowed else {
                    throw TransitError.badRequest("deletion is not allowed for this tokenization transformation (set deletion_allowed first)")
                }
                // The key goes with the configuration; the sealed tokens are removed too.
                try await self.write("transformation", name, Config.Transformation?.none)
                try await self.store.backend.deleteAllTokens(name)
                return
            }
            try await self.write("transformation", name, Config.Transformation?.none)
            return
        }
        try await self.write(kind, name, Config.Role?.none)
    }

    /// `POST transform/template/:name`.
    func writeTemplate(_ name: String, _ body: [String: Any]) async throws {
        try Config.checkName(name)
        let type = (try RequestValues.string(body["type"], field: "type")) ?? "regex"
        guard type == "regex" else { throw TransitError.badRequest("template type must be \"regex\"") }
        guard let pattern = body["pattern"] as? String, !pattern.isEmpty else { throw TransitError.badRequest("missing pattern") }
        guard let alphabet = body["alphabet"] as? String else { throw TransitError.badRequest("missing alphabet") }
        var decodeFormats: [String: String] = [:]
        if let formats = body["decode_formats"] as? [String: Any] {
            for (key, value) in formats {
                guard let text = value as? String else { throw TransitError.badRequest("decode_formats values must be strings") }
                decodeFormats[key] = text
            }
        }
        let template = Config.Template(
            type: type, pattern: pattern, alphabet: alphabet, encodeFormat: try RequestValues.string(body["encode_format"], field: "encode_format"), decodeFormats: decodeFormats)
        var state = self.snapshot
        state.templates[name] = template
        _ = try Self.template(name, state)  // compiles: a bad pattern or alphabet is refused now
        try await self.write("template", name, template)
    }

    func readTemplate(_ name: String) throws -> [String: Any] {
        guard let template = self.snapshot.templates[name] else { throw TransitError(404, "template not found") }
        var out: [String: Any] = ["type": template.type, "pattern": template.pattern, "alphabet": template.alphabet]
        if let format = template.encodeFormat { out["encode_format"] = format }
        if !template.decodeFormats.isEmpty { out["decode_formats"] = template.decodeFormats }
        return out
    }

    /// `POST transform/alphabet/:name`.
    func writeAlphabet(_ name: String, _ body: [String: Any]) async throws {
        try Config.checkName(name)
        guard let text = body["alphabet"] as? String else { throw TransitError.badRequest("missing alphabet") }
        _ = try FPEAlphabet(text)
        try await self.write("alphabet", name, Config.Alphabet(alphabet: text))
    }

    func readAlphabet(_ name: String) throws -> [String: Any] {
        guard let alphabet = self.snapshot.alphabets[name] else { throw TransitError(404, "alphabet not found") }
        return ["alphabet": alphabet.alphabet]
    }

    /// `POST transform/transformation/:name` (type in the body) and
    /// `POST transform/transformations/<type>/:name`.
    func writeTransformation(_ name: String, type pathType: String?, _ body: [String: Any]) async throws {
        try Config.checkName(name)
        let existing = self.snapshot.transformations[name]
        let bodyType = try RequestValues.string(body["type"], field: "type")
        if let pathType, let bodyType, pathType != bodyType {
            throw TransitError.badRequest("the type in the path and in the body differ")
        }
        guard let typeName = pathType ?? bodyType ?? existing?.type.rawValue else {
            throw TransitError.badRequest("missing type")
        }
        guard let type = Config.Transformation.Kind(rawValue: typeName) else {
            throw TransitError.badRequest("unsupported transformation type \"\(typeName)\" (fpe, masking or tokenization)")
        }
        if let existing, existing.type != type {
            throw TransitError.badRequest("a transformation's type cannot be changed")
        }
        let templates = try Config.list(body["templates"], field: "templates") ?? Config.list(body["template"], field: "template") ?? existing?.templates ?? []
        if type == .fpe || type == .masking, templates.isEmpty {
            throw TransitError.badRequest("missing template")
        }
        let tweakSource = (try RequestValues.string(body["tweak_source"], field: "tweak_source")) ?? existing?.tweakSource ?? "supplied"
        guard ["supplied", "generated", "internal"].contains(tweakSource) else {
            throw TransitError.badRequest("tweak_source must be supplied, generated or internal")
        }
        let masking = (try RequestValues.string(body["masking_character"], field: "masking_character")) ?? existing?.maskingCharacter ?? "*"
        guard masking.count >= 1 else { throw TransitError.badRequest("masking_character must be one character") }
        let convergent = (try RequestValues.boolean(body["convergent"], field: "convergent")) ?? existing?.convergent ?? false
        if let existing, existing.convergent != convergent {
            throw TransitError.badRequest("convergent cannot be changed after creation")
        }
        let maxTTL = try RequestValues.duration(body["max_ttl"], field: "max_ttl").map { Int($0.components.seconds) } ?? (body["max_ttl"] == nil ? existing?.maxTTL ?? 0 : 0)
        let mappingMode = (try RequestValues.string(body["mapping_mode"], field: "mapping_mode")) ?? existing?.mappingMode ?? "default"
        guard mappingMode == "default" else {
            throw TransitError.badRequest("mapping_mode \"\(mappingMode)\" is not supported: values are never exportable in bulk")
        }
        let stores = try Config.list(body["stores"], field: "stores") ?? existing?.stores ?? ["builtin/internal"]
        guard stores == ["builtin/internal"] else {
            throw TransitError.badRequest("only the builtin/internal store is supported (the server's own storage)")
        }
        let luhn = (try RequestValues.string(body["luhn"], field: "luhn")) ?? existing?.luhn ?? "any"
        guard TokenFormat.LuhnRequirement(rawValue: luhn) != nil else { throw TransitError.badRequest("luhn must be any, valid or invalid") }
        let prefix = try RequestValues.integer(body["preserve_prefix"], field: "preserve_prefix", in: 0...64) ?? existing?.preservePrefix ?? 0
        let suffix = try RequestValues.integer(body["preserve_suffix"], field: "preserve_suffix", in: 0...64) ?? existing?.preserveSuffix ?? 0
        guard prefix >= 0, suffix >= 0 else { throw TransitError.badRequest("preserve_prefix and preserve_suffix cannot be negative") }
        if type != .tokenization, prefix != 0 || suffix != 0 || luhn != "any" {
            throw TransitError.badRequest("preserve_prefix, preserve_suffix and luhn apply to tokenization transformations")
        }
        if type == .tokenization, templates.isEmpty, prefix != 0 || suffix != 0 || luhn != "any" {
            throw TransitError.badRequest("preserve_prefix, preserve_suffix and luhn need a template (format-preserving tokens)")
        }
        let transformation = Config.Transformation(
            type: type, templates: templates, tweakSource: tweakSource, maskingCharacter: String(masking.prefix(1)),
            allowedRoles: try Config.list(body["allowed_roles"], field: "allowed_roles") ?? existing?.allowedRoles ?? [],
            key: existing?.key ?? (type == .masking ? Data() : Data(SecureRandom.bytes(32))), convergent: convergent, maxTTL: maxTTL,
            mappingMode: mappingMode, deletionAllowed: (try RequestValues.boolean(body["deletion_allowed"], field: "deletion_allowed")) ?? existing?.deletionAllowed ?? false,
            stores: stores, preservePrefix: prefix, preserveSuffix: suffix, luhn: luhn)
        let compiled = Self.compile(name, transformation, self.snapshot)
        if let problem = compiled.problem { throw TransitError.badRequest(problem) }
        if type == .tokenization, let template = compiled.templates.first {
            if luhn != "any", template.alphabet.radix != 10 { throw TransitError.badRequest("a Luhn requirement needs a decimal template") }
        }
        try await self.write("transformation", name, transformation)
    }

    func readTransformation(_ name: String, type pathType: String?) throws -> [String: Any] {
        guard let config = self.snapshot.transformations[name], pathType == nil || config.type.rawValue == pathType else {
            throw TransitError(404, "transformation not found")
        }
        var out: [String: Any] = ["type": config.type.rawValue, "allowed_roles": config.allowedRoles, "templates": config.templates]
        switch config.type {
        case .fpe: out["tweak_source"] = config.tweakSource
        case .masking: out["masking_character"] = config.maskingCharacter
        case .tokenization:
            out["convergent"] = config.convergent
            out["max_ttl"] = config.maxTTL
            out["mapping_mode"] = config.mappingMode
            out["stores"] = config.stores
            out["deletion_allowed"] = config.deletionAllowed
            out["token_format"] = config.templates.isEmpty ? "opaque" : "format-preserving"
            out["preserve_prefix"] = config.preservePrefix
            out["preserve_suffix"] = config.preserveSuffix
            out["luhn"] = config.luhn
        }
        return out
    }

    // MARK: - Operations

    /// The transformation `item` names (or the role's only one), checked against the role and
    /// the transformation's `allowed_roles`.
    func resolve(role roleName: String, _ item: [String: Any], state: State) throws -> Compiled {
        guard let role = state.roles[roleName] else { throw TransitError.badRequest("role \"\(roleName)\" not found") }
        let name: String
        if let requested = try RequestValues.string(item["transformation"], field: "transformation"), !requested.isEmpty {
            name = requested
        } else if role.transformations.count == 1 {
            name = role.transformations[0]
        } else {
            throw TransitError.badRequest("the role has several transformations: name one with \"transformation\"")
        }
        guard role.transformations.contains(name) else {
            throw TransitError.badRequest("transformation \"\(name)\" is not part of role \"\(roleName)\"")
        }
        guard let compiled = state.compiled[name] else { throw TransitError.badRequest("transformation \"\(name)\" not found") }
        guard compiled.config.allows(role: roleName) else {
            throw TransitError.badRequest("transformation \"\(name)\" does not allow role \"\(roleName)\" (allowed_roles)")
        }
        if let problem = compiled.problem { throw TransitError.badRequest(problem) }
        return compiled
    }

    static func items(_ body: [String: Any]) throws -> (items: [[String: Any]], batch: Bool) {
        if let items = try TransitBackend.batchItems(body) { return (items, true) }
        return ([body], false)
    }

    /// One result per item, each a result object or an error message.
    typealias Outcome = Result<[String: Any], TransitError>

    static func respond(_ outcomes: [Outcome], items: [[String: Any]], batch: Bool) throws -> [String: Any] {
        if !batch {
            switch outcomes[0] {
            case .success(let data): return data
            case .failure(let error): throw error
            }
        }
        var results: [[String: Any]] = []
        results.reserveCapacity(outcomes.count)
        for (outcome, item) in zip(outcomes, items) {
            var entry: [String: Any]
            switch outcome {
            case .success(let data): entry = data
            case .failure(let error): entry = ["error": error.message]
            }
            if let reference = item["reference"] as? String { entry["reference"] = reference }
            results.append(entry)
        }
        return ["batch_results": results]
    }

    static func value(_ item: [String: Any]) throws -> String {
        guard let value = item["value"] as? String, !value.isEmpty else { throw TransitError.badRequest("missing value") }
        return value
    }

    static func matching(_ compiled: Compiled, _ value: String) throws -> TransformTemplate {
        guard let template = try compiled.templates.first(where: { try $0.groups(of: value) != nil }) else {
            throw TransitError.badRequest("the value does not match any template of transformation \"\(compiled.name)\"")
        }
        return template
    }

    /// The FF1 tweak for an item, and the generated tweak to return (if any).
    static func tweak(_ compiled: Compiled, _ item: [String: Any], encoding: Bool) throws -> ([UInt8], String?) {
        switch compiled.config.tweakSource {
        case "internal":
            return (compiled.internalTweak, nil)
        case "generated" where encoding:
            let tweak = SecureRandom.bytes(8)
            return (tweak, Data(tweak).base64EncodedString())
        default:
            guard let text = item["tweak"] as? String, let tweak = Data(base64Encoded: text), !tweak.isEmpty else {
                throw TransitError.badRequest("this transformation needs a base64 tweak")
            }
            guard tweak.count <= FF1.maximumTweakLength else { throw TransitError.badRequest("the tweak is too long") }
            return (Array(tweak), nil)
        }
    }

    /// `POST transform/encode/:role`.
    func encode(role: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { compiled, item in
                let value = try Self.value(item)
                let template = try Self.matching(compiled, value)
                guard compiled.config.type == .fpe else {
                    let character = compiled.config.maskingCharacter.first ?? "*"
                    return ["encoded_value": try Masking.mask(value, template: template, character: character)]
                }
                let (tweak, generated) = try Self.tweak(compiled, item, encoding: true)
                guard let ff1 = compiled.ff1 else { throw TransitError(500, "the transformation has no key") }
                let encoded = try template.transform(value, format: template.encodeFormat) { numerals in
                    numerals = try ff1.encrypt(numerals: numerals, radix: template.alphabet.radix, tweak: tweak)
                }
                var result: [String: Any] = ["encoded_value": encoded]
                if let generated { result["tweak"] = generated }
                return result
            },
            tokens: { compiled, items, indices, outcomes in
                try await self.tokenize(compiled, items: items, indices: indices, outcomes: &outcomes)
            })
    }

    /// Seconds until an item's token expires (its `ttl`, capped by the transformation's `max_ttl`),
    /// or 0 for never.
    static func lifetime(_ compiled: Compiled, _ item: [String: Any]) throws -> Int64 {
        let requested = try RequestValues.duration(item["ttl"], field: "ttl").map { Int64($0.components.seconds) } ?? 0
        let maximum = Int64(compiled.config.maxTTL)
        if maximum > 0 { return requested > 0 ? min(requested, maximum) : maximum }
        return requested
    }

    static func metadata(_ item: [String: Any]) throws -> Data {
        guard let metadata = item["metadata"] else { return Data() }
        if let text = metadata as? String { return Data(JSONText.encode(text)) }
        guard metadata is [String: Any] else { throw TransitError.badRequest("metadata must be a string or an object") }
        return Data(JSONText.encode(metadata))
    }

    /// Tokenises the items at `indices` (all of one transformation): one batch insert, retried for
    /// the rare token collision; convergent transformations first look for the value's token.
    func tokenize(_ compiled: Compiled, items: [[String: Any]], indices: [Int], outcomes: inout [Outcome]) async throws {
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
                        expiresAt: lifetime > 0 ? now + lifetime : 0, metadata: try Self.metadata(items[index])))
            } catch {
                outcomes[index] = .failure(TransitBackend.clientError(error))
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
                    outcomes[entry.index] = .failure(TransitError(500, "the stored token failed authentication"))
                    return false
                }
                outcomes[entry.index] = .success(["encoded_value": stored.token])
                return false
            }
        }
        if compiled.config.convergent { try await reuseStored() }
        var attempts = 0
        while !waiting.isEmpty {
            attempts += 1
            guard attempts <= 16 else {
                for entry in waiting {
                    outcomes[entry.index] = .failure(.badRequest("no free token could be found for the value (the token format leaves too few choices)"))
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
                    outcomes[entry.index] = .failure(TransitBackend.clientError(error))
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
                    outcomes[entry.index] = .success(["encoded_value": tokens[position]])
                } else {
                    retry.append(entry)
                }
            }
            for (entry, first) in duplicates {
                if inserted[first] { outcomes[entry.index] = .success(["encoded_value": tokens[first]]) } else { retry.append(entry) }
            }
            waiting = retry
            // A convergent conflict may be another request storing the same value: use its token.
            if compiled.config.convergent && !waiting.isEmpty { try await reuseStored() }
        }
    }

    /// The stored records for the token values of `indices` (tokenisation), with per-item failures.
    func lookup(_ compiled: Compiled, items: [[String: Any]], indices: [Int], outcomes: inout [Outcome]) async throws
        -> [Int: (record: TokenRecord, opened: (value: String, token: String, metadata: Data))]
    {
        guard let keys = compiled.vault else { return [:] }
        var ids: [Int: [UInt8]] = [:]
        for index in indices {
            do {
                ids[index] = keys.tokenID(try Self.value(items[index]))
            } catch {
                outcomes[index] = .failure(TransitBackend.clientError(error))
            }
        }
        let found = try await self.store.backend.tokens(compiled.name, tokenIDs: Array(Set(ids.values)))
        let now = Int64(Date().timeIntervalSince1970)
        var out: [Int: (record: TokenRecord, opened: (value: String, token: String, metadata: Data))] = [:]
        for (index, id) in ids {
            guard let record = found[id] else {
                outcomes[index] = .failure(.badRequest("token not found"))
                continue
            }
            if record.expiresAt > 0 && record.expiresAt <= now {
                outcomes[index] = .failure(.badRequest("token expired"))
                continue
            }
            do {
                out[index] = (record, try keys.open(record))
            } catch {
                outcomes[index] = .failure(.badRequest("the stored token failed authentication"))
            }
        }
        return out
    }

    /// Runs `body` per item for FPE and masking, and `tokens` per tokenisation transformation.
    private func perItem(
        role: String, _ body: [String: Any],
        direct: (Compiled, [String: Any]) throws -> [String: Any],
        tokens: (Compiled, [[String: Any]], [Int], inout [Outcome]) async throws -> Void
    ) async throws -> [String: Any] {
        let (items, batch) = try Self.items(body)
        let state = self.snapshot
        var outcomes = [Outcome](repeating: .failure(TransitError(500, "not processed")), count: items.count)
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
                outcomes[index] = .failure(TransitBackend.clientError(error))
            }
        }
        for (_, (compiled, indices)) in pending {
            try await tokens(compiled, items, indices, &outcomes)
        }
        return try Self.respond(outcomes, items: items, batch: batch)
    }

    /// `POST transform/decode/:role(/:decode_format)`.
    func decode(role: String, format pathFormat: String?, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { compiled, item in
                guard compiled.config.type == .fpe, let ff1 = compiled.ff1 else {
                    throw TransitError.badRequest("masking transformations cannot be decoded")
                }
                let value = try Self.value(item)
                let template = try Self.matching(compiled, value)
                let (tweak, _) = try Self.tweak(compiled, item, encoding: false)
                var format: String?
                if let name = try pathFormat ?? RequestValues.string(item["decode_format"], field: "decode_format") {
                    guard let chosen = template.decodeFormats[name] else { throw TransitError.badRequest("decode format \"\(name)\" not found") }
                    format = chosen
                }
                let decoded = try template.transform(value, format: format) { numerals in
                    numerals = try ff1.decrypt(numerals: numerals, radix: template.alphabet.radix, tweak: tweak)
                }
                return ["decoded_value": decoded]
            },
            tokens: { compiled, items, indices, outcomes in
                for (index, entry) in try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes) {
                    outcomes[index] = .success(["decoded_value": entry.opened.value])
                }
            })
    }

    /// `POST transform/validate/:role`: whether each token is stored and unexpired.
    func validate(role: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { _, _ in throw TransitError.badRequest("validate applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                let found = try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes)
                for index in indices {
                    if case .failure(let error) = outcomes[index], error.status == 400,
                        error.message == "token not found" || error.message == "token expired"
                    {
                        outcomes[index] = .success(["valid": false])
                    } else if found[index] != nil {
                        outcomes[index] = .success(["valid": true])
                    }
                }
            })
    }

    /// `POST transform/tokenized/:role`: whether each value has an unexpired token (convergent
    /// transformations only: others keep no value index, by design).
    func tokenized(role: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { _, _ in throw TransitError.badRequest("tokenized applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                guard compiled.config.convergent, let keys = compiled.vault else {
                    for index in indices {
                        outcomes[index] = .failure(.badRequest("tokenized needs a convergent transformation: others keep no index of values"))
                    }
                    return
                }
                var ids: [Int: [UInt8]] = [:]
                for index in indices {
                    do { ids[index] = keys.valueID(try Self.value(items[index])) } catch { outcomes[index] = .failure(TransitBackend.clientError(error)) }
                }
                let found = try await self.store.backend.tokens(compiled.name, valueIDs: Array(Set(ids.values)))
                let now = Int64(Date().timeIntervalSince1970)
                for (index, id) in ids {
                    // A row counts only when it opens and holds this value.
                    let record = found[id].flatMap { record in
                        (try? keys.open(record)).flatMap { opened in (try? Self.value(items[index])) == opened.value ? record : nil }
                    }
                    outcomes[index] = .success(["tokenized": record.map { $0.expiresAt == 0 || $0.expiresAt > now } ?? false])
                }
            })
    }

    /// `POST transform/metadata/:role`: each token's expiry and metadata.
    func metadata(role: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { _, _ in throw TransitError.badRequest("metadata applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                for (index, entry) in try await self.lookup(compiled, items: items, indices: indices, outcomes: &outcomes) {
                    var result: [String: Any] = ["value": entry.opened.token]
                    result["expiration_time"] =
                        entry.record.expiresAt > 0
                        ? ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(entry.record.expiresAt))) : NSNull()
                    if entry.opened.metadata.isEmpty {
                        result["metadata"] = NSNull()
                    } else {
                        result["metadata"] = (try? JSONSerialization.jsonObject(with: entry.opened.metadata, options: [.fragmentsAllowed])) ?? NSNull()
                    }
                    outcomes[index] = .success(result)
                }
            })
    }

    /// `POST transform/revoke/:role` (Bulwark's addition): deletes each token, so it never decodes again.
    func revoke(role: String, _ body: [String: Any]) async throws -> [String: Any] {
        try await self.perItem(
            role: role, body,
            direct: { _, _ in throw TransitError.badRequest("revoke applies to tokenization transformations") },
            tokens: { compiled, items, indices, outcomes in
                guard let keys = compiled.vault else { return }
                for index in indices {
                    do {
                        let id = keys.tokenID(try Self.value(items[index]))
                        let removed = try await self.store.backend.deleteTokens(compiled.name, tokenIDs: [id])
                        outcomes[index] = removed == 1 ? .success(["revoked": true]) : .failure(.badRequest("token not found"))
                    } catch let error as TransitError {
                        outcomes[index] = .failure(error)
                    }
                }
            })
    }
}
