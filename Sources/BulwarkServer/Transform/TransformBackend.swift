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
        /// This node's configuration writes, against the snapshots a refresh applies.
        var local = LocalWrites()
        /// Entries the last load could not read (path → reason), skipped.
        var unreadable: [String: String] = [:]
    }

    /// The configuration entries the last load skipped because they could not be read.
    var unreadableEntries: [String: String] { self.state.withLock { $0.unreadable } }

    let store: SealedStore
    let state = Mutex(State())
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
    var writeCount: UInt64 { self.state.withLock { $0.local.count } }

    /// Reloads the configuration from the store (after a change here or on another node).
    /// Applied unless a newer snapshot was (see ``LocalWrites``), so that a stream of local writes
    /// cannot keep other nodes' changes out; an
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
            guard let kept = current.local.admit(snapshot.sequence, writesBefore: before) else { return true }
            var fresh = loaded
            for path in kept {
                Self.keep(path, from: current, in: &fresh)
            }
            if !kept.isEmpty {
                for (name, transformation) in fresh.transformations {
                    fresh.compiled[name] = Self.compile(name, transformation, fresh)
                }
            }
            fresh.local = current.local
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
        guard let stored = state.alphabets[name] else { throw BulwarkError(.invalidArgument, "alphabet \"\(name)\" not found") }
        return try FPEAlphabet(stored.alphabet)
    }

    static func template(_ name: String, _ state: State) throws -> TransformTemplate {
        if let builtin = Config.builtinTemplates[name] { return builtin }
        guard let stored = state.templates[name] else { throw BulwarkError(.invalidArgument, "template \"\(name)\" not found") }
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
            problem = ServiceError.normalized(error).message
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
}
