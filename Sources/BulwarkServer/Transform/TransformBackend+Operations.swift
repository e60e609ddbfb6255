import Bulwark
import BulwarkStorage
import Crypto
import Foundation
import Synchronization

/// The operations' shared steps (resolving a role's transformation, items, tweaks, lifetimes,
/// metadata) and `encode`.
extension TransformBackend {
    /// The transformation `item` names (or the role's only one), checked against the role and
    /// the transformation's `allowed_roles`.
    func resolve(role roleName: String, _ item: TransformRequest, state: State) throws -> Compiled {
        guard let role = state.roles[roleName] else { throw BulwarkError(.invalidArgument, "role \"\(roleName)\" not found") }
        let name: String
        if let requested = item.transformation, !requested.isEmpty {
            name = requested
        } else if role.transformations.count == 1 {
            name = role.transformations[0]
        } else {
            throw BulwarkError(.invalidArgument, "the role has several transformations: name one with \"transformation\"")
        }
        guard role.transformations.contains(name) else {
            throw BulwarkError(.invalidArgument, "transformation \"\(name)\" is not part of role \"\(roleName)\"")
        }
        guard let compiled = state.compiled[name] else { throw BulwarkError(.invalidArgument, "transformation \"\(name)\" not found") }
        guard compiled.config.allows(role: roleName) else {
            throw BulwarkError(.invalidArgument, "transformation \"\(name)\" does not allow role \"\(roleName)\" (allowed_roles)")
        }
        if let problem = compiled.problem { throw BulwarkError(.invalidArgument, problem) }
        return compiled
    }

    static func items(_ request: TransformRequest) throws -> (items: [TransformRequest], batch: Bool) {
        if let items = try TransitBackend.batchItems(request.batchInput) { return (items, true) }
        return ([request], false)
    }

    /// One result per item, or its error.
    typealias Outcome = Result<TransformResult, BulwarkError>

    static func respond(_ outcomes: [Outcome], items: [TransformRequest], batch: Bool) throws -> TransformAnswer {
        if !batch {
            switch outcomes[0] {
            case .success(let result): return .single(result)
            case .failure(let error): throw error
            }
        }
        var results: [TransformResult] = []
        results.reserveCapacity(outcomes.count)
        for (outcome, item) in zip(outcomes, items) {
            var entry: TransformResult
            switch outcome {
            case .success(let result): entry = result
            case .failure(let error): entry = TransformResult(error: error.message)
            }
            entry.reference = item.reference
            results.append(entry)
        }
        return .batch(results)
    }

    static func value(_ item: TransformRequest) throws -> String {
        guard let value = item.value, !value.isEmpty else { throw BulwarkError(.invalidArgument, "missing value") }
        return value
    }

    static func matching(_ compiled: Compiled, _ value: String) throws -> TransformTemplate {
        guard let template = try compiled.templates.first(where: { try $0.groups(of: value) != nil }) else {
            throw BulwarkError(.invalidArgument, "the value does not match any template of transformation \"\(compiled.name)\"")
        }
        return template
    }

    /// The FF1 tweak for an item, and the generated tweak to return (if any).
    static func tweak(_ compiled: Compiled, _ item: TransformRequest, encoding: Bool) throws -> ([UInt8], String?) {
        switch compiled.config.tweakSource {
        case "internal":
            return (compiled.internalTweak, nil)
        case "generated" where encoding:
            let tweak = SecureRandom.bytes(8)
            return (tweak, Data(tweak).base64EncodedString())
        default:
            guard let text = item.tweak, let tweak = Data(base64Encoded: text), !tweak.isEmpty else {
                throw BulwarkError(.invalidArgument, "this transformation needs a base64 tweak")
            }
            guard tweak.count <= FF1.maximumTweakLength else { throw BulwarkError(.invalidArgument, "the tweak is too long") }
            return (Array(tweak), nil)
        }
    }

    /// `POST transform/encode/:role`.
    func encode(role: String, _ request: TransformRequest) async throws -> TransformAnswer {
        try await self.perItem(
            role: role, request,
            direct: { compiled, item in
                let value = try Self.value(item)
                let template = try Self.matching(compiled, value)
                guard compiled.config.type == .fpe else {
                    let character = compiled.config.maskingCharacter.first ?? "*"
                    return TransformResult(encodedValue: try Masking.mask(value, template: template, character: character))
                }
                let (tweak, generated) = try Self.tweak(compiled, item, encoding: true)
                guard let ff1 = compiled.ff1 else { throw BulwarkError(.internalFailure, "the transformation has no key") }
                let encoded = try template.transform(value, format: template.encodeFormat) { numerals in
                    numerals = try ff1.encrypt(numerals: numerals, radix: template.alphabet.radix, tweak: tweak)
                }
                return TransformResult(encodedValue: encoded, tweak: generated)
            },
            tokens: { compiled, items, indices, outcomes in
                try await self.tokenize(compiled, items: items, indices: indices, outcomes: &outcomes)
            })
    }

    /// Seconds until an item's token expires (its `ttl`, capped by the transformation's `max_ttl`),
    /// or 0 for never.
    static func lifetime(_ compiled: Compiled, _ item: TransformRequest) throws -> Int64 {
        let requested = try item.ttl?.duration(field: "ttl").map { Int64($0.components.seconds) } ?? 0
        let maximum = Int64(compiled.config.maxTTL)
        if maximum > 0 { return requested > 0 ? min(requested, maximum) : maximum }
        return requested
    }

    static func metadata(_ item: TransformRequest) -> Data {
        item.metadata.map { Data($0.text) } ?? Data()
    }
}
