import Bulwark
import BulwarkStorage
import Crypto
import Foundation
import Synchronization

/// Roles, templates, alphabets and transformations: written to the sealed store, read from the cache.
extension TransformBackend {
    private func write<T: Encodable>(_ kind: String, _ name: String, _ value: T?) async throws {
        let data = try value.map { try JSONEncoder().encode($0) }
        try await self.store.updateDocument(Self.path(kind, name)) { _ in data }
        // Count the write, then load a snapshot taken after it; a refresh racing this one from
        // an older snapshot keeps this entry's in-memory value rather than go back.
        self.state.withLock { $0.local.note(Self.path(kind, name)) }
        try await self.refresh()
    }

    var snapshot: State { self.state.withLock { $0 } }

    /// `POST transform/role/:name`.
    func writeRole(_ name: String, _ request: RoleWrite) async throws {
        try Config.checkName(name)
        guard let transformations = request.transformations?.names else {
            throw BulwarkError(.invalidArgument, "missing transformations")
        }
        try await self.write("role", name, Config.Role(transformations: transformations))
    }

    func readRole(_ name: String) throws -> RoleDescription {
        guard let role = self.snapshot.roles[name] else { throw BulwarkError(.notFound, "role not found") }
        return RoleDescription(transformations: role.transformations)
    }

    func list(_ kind: String) -> ListAnswer {
        let state = self.snapshot
        switch kind {
        case "role": return ListAnswer(keys: state.roles.keys.sorted())
        case "template": return ListAnswer(keys: state.templates.keys.sorted())
        case "alphabet": return ListAnswer(keys: state.alphabets.keys.sorted())
        default:
            return ListAnswer(keys: state.transformations.filter { kind == "transformation" || $0.value.type.rawValue == kind }.keys.sorted())
        }
    }

    func delete(_ kind: String, _ name: String) async throws {
        let state = self.snapshot
        switch kind {
        case "role": guard state.roles[name] != nil else { throw BulwarkError(.notFound, "role not found") }
        case "template": guard state.templates[name] != nil else { throw BulwarkError(.notFound, "template not found") }
        case "alphabet": guard state.alphabets[name] != nil else { throw BulwarkError(.notFound, "alphabet not found") }
        default:
            guard let transformation = state.transformations[name], kind == "transformation" || transformation.type.rawValue == kind else {
                throw BulwarkError(.notFound, "transformation not found")
            }
            if transformation.type == .tokenization {
                guard transformation.deletionAllowed else {
                    throw BulwarkError(.invalidArgument, "deletion is not allowed for this tokenization transformation (set deletion_allowed first)")
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
    func writeTemplate(_ name: String, _ request: TemplateWrite) async throws {
        try Config.checkName(name)
        let type = request.type ?? "regex"
        guard type == "regex" else { throw BulwarkError(.invalidArgument, "template type must be \"regex\"") }
        guard let pattern = request.pattern, !pattern.isEmpty else { throw BulwarkError(.invalidArgument, "missing pattern") }
        guard let alphabet = request.alphabet else { throw BulwarkError(.invalidArgument, "missing alphabet") }
        let template = Config.Template(
            type: type, pattern: pattern, alphabet: alphabet, encodeFormat: request.encodeFormat, decodeFormats: request.decodeFormats ?? [:])
        var state = self.snapshot
        state.templates[name] = template
        _ = try Self.template(name, state)  // compiles: a bad pattern or alphabet is refused now
        try await self.write("template", name, template)
    }

    func readTemplate(_ name: String) throws -> TemplateDescription {
        guard let template = self.snapshot.templates[name] else { throw BulwarkError(.notFound, "template not found") }
        return TemplateDescription(
            type: template.type, pattern: template.pattern, alphabet: template.alphabet, encodeFormat: template.encodeFormat,
            decodeFormats: template.decodeFormats.isEmpty ? nil : template.decodeFormats)
    }

    /// `POST transform/alphabet/:name`.
    func writeAlphabet(_ name: String, _ request: AlphabetWrite) async throws {
        try Config.checkName(name)
        guard let text = request.alphabet else { throw BulwarkError(.invalidArgument, "missing alphabet") }
        _ = try FPEAlphabet(text)
        try await self.write("alphabet", name, Config.Alphabet(alphabet: text))
    }

    func readAlphabet(_ name: String) throws -> AlphabetDescription {
        guard let alphabet = self.snapshot.alphabets[name] else { throw BulwarkError(.notFound, "alphabet not found") }
        return AlphabetDescription(alphabet: alphabet.alphabet)
    }

    /// `POST transform/transformation/:name` (type in the body) and
    /// `POST transform/transformations/<type>/:name`.
    func writeTransformation(_ name: String, type pathType: String?, _ request: TransformationWrite) async throws {
        try Config.checkName(name)
        let existing = self.snapshot.transformations[name]
        let bodyType = request.type
        if let pathType, let bodyType, pathType != bodyType {
            throw BulwarkError(.invalidArgument, "the type in the path and in the body differ")
        }
        guard let typeName = pathType ?? bodyType ?? existing?.type.rawValue else {
            throw BulwarkError(.invalidArgument, "missing type")
        }
        guard let type = Config.Transformation.Kind(rawValue: typeName) else {
            throw BulwarkError(.invalidArgument, "unsupported transformation type \"\(typeName)\" (fpe, masking or tokenization)")
        }
        if let existing, existing.type != type {
            throw BulwarkError(.invalidArgument, "a transformation's type cannot be changed")
        }
        let templates = request.templates?.names ?? request.template?.names ?? existing?.templates ?? []
        if type == .fpe || type == .masking, templates.isEmpty {
            throw BulwarkError(.invalidArgument, "missing template")
        }
        let tweakSource = request.tweakSource ?? existing?.tweakSource ?? "supplied"
        guard ["supplied", "generated", "internal"].contains(tweakSource) else {
            throw BulwarkError(.invalidArgument, "tweak_source must be supplied, generated or internal")
        }
        let masking = request.maskingCharacter ?? existing?.maskingCharacter ?? "*"
        guard masking.count >= 1 else { throw BulwarkError(.invalidArgument, "masking_character must be one character") }
        let convergent = request.convergent ?? existing?.convergent ?? false
        if let existing, existing.convergent != convergent {
            throw BulwarkError(.invalidArgument, "convergent cannot be changed after creation")
        }
        let maxTTL = request.maxTTL.map { Int($0.components.seconds) } ?? existing?.maxTTL ?? 0
        let mappingMode = request.mappingMode ?? existing?.mappingMode ?? "default"
        guard mappingMode == "default" else {
            throw BulwarkError(.invalidArgument, "mapping_mode \"\(mappingMode)\" is not supported: values are never exportable in bulk")
        }
        let stores = request.stores?.names ?? existing?.stores ?? ["builtin/internal"]
        guard stores == ["builtin/internal"] else {
            throw BulwarkError(.invalidArgument, "only the builtin/internal store is supported (the server's own storage)")
        }
        let luhn = request.luhn ?? existing?.luhn ?? "any"
        guard TokenFormat.LuhnRequirement(rawValue: luhn) != nil else { throw BulwarkError(.invalidArgument, "luhn must be any, valid or invalid") }
        let prefix = try RequestValues.integer(request.preservePrefix, field: "preserve_prefix", in: 0...64) ?? existing?.preservePrefix ?? 0
        let suffix = try RequestValues.integer(request.preserveSuffix, field: "preserve_suffix", in: 0...64) ?? existing?.preserveSuffix ?? 0
        if type != .tokenization, prefix != 0 || suffix != 0 || luhn != "any" {
            throw BulwarkError(.invalidArgument, "preserve_prefix, preserve_suffix and luhn apply to tokenization transformations")
        }
        if type == .tokenization, templates.isEmpty, prefix != 0 || suffix != 0 || luhn != "any" {
            throw BulwarkError(.invalidArgument, "preserve_prefix, preserve_suffix and luhn need a template (format-preserving tokens)")
        }
        let transformation = Config.Transformation(
            type: type, templates: templates, tweakSource: tweakSource, maskingCharacter: String(masking.prefix(1)),
            allowedRoles: request.allowedRoles?.names ?? existing?.allowedRoles ?? [],
            key: existing?.key ?? (type == .masking ? Data() : Data(SecureRandom.bytes(32))), convergent: convergent, maxTTL: maxTTL,
            mappingMode: mappingMode, deletionAllowed: request.deletionAllowed ?? existing?.deletionAllowed ?? false,
            stores: stores, preservePrefix: prefix, preserveSuffix: suffix, luhn: luhn)
        let compiled = Self.compile(name, transformation, self.snapshot)
        if let problem = compiled.problem { throw BulwarkError(.invalidArgument, problem) }
        if type == .tokenization, let template = compiled.templates.first {
            if luhn != "any", template.alphabet.radix != 10 { throw BulwarkError(.invalidArgument, "a Luhn requirement needs a decimal template") }
        }
        try await self.write("transformation", name, transformation)
    }

    func readTransformation(_ name: String, type pathType: String?) throws -> TransformationDescription {
        guard let config = self.snapshot.transformations[name], pathType == nil || config.type.rawValue == pathType else {
            throw BulwarkError(.notFound, "transformation not found")
        }
        var out = TransformationDescription(type: config.type.rawValue, allowedRoles: config.allowedRoles, templates: config.templates)
        switch config.type {
        case .fpe: out.tweakSource = config.tweakSource
        case .masking: out.maskingCharacter = config.maskingCharacter
        case .tokenization:
            out.tokenization = .init(
                convergent: config.convergent, maxTTL: config.maxTTL, mappingMode: config.mappingMode, stores: config.stores,
                deletionAllowed: config.deletionAllowed, preservePrefix: config.preservePrefix, preserveSuffix: config.preserveSuffix, luhn: config.luhn)
        }
        return out
    }
}
