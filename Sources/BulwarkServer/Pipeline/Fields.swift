import Foundation

/// The check every request body passes before an operation reads it: fields the endpoint does
/// not accept (its request type's, see ``EndpointRequest``) are refused with a 400 naming them,
/// so a typo (`plaintxt`) or an option Bulwark does not implement never passes silently; every
/// field has one JSON type wherever it appears (``kinds``); caller nonces are refused. (A
/// `context` is the operation's to judge: derived keys need one, others refuse it.)
package enum Fields {
    /// The JSON type a field must have wherever it appears (JSON `null` is the same as absent).
    /// A field of another type is refused by name before any operation reads it, so no handler
    /// can take `{"reference": {}}` for an absent reference.
    package enum Kind: Sendable {
        /// A JSON string.
        case string
        /// A JSON integer (or integral number), or a decimal string, as Vault's weak decoding takes it.
        case integer
        /// `true` or `false` (not a number, not a string).
        case boolean
        /// A JSON string or object (Transform's and tokens' `metadata`).
        case stringOrObject
        /// A duration: a JSON integer (or integral number) or a string (its value is checked by
        /// ``RequestValues/duration(_:field:)`` where it is read).
        case duration

        func admits(_ value: Any) -> Bool {
            switch self {
            case .string: value is String
            case .integer: (try? RequestValues.integer(value, field: "", in: Int.min...Int.max)) != nil
            case .boolean: RequestValues.isBoolean(value)
            case .stringOrObject: value is String || value is [String: Any]
            case .duration: value is String || (!RequestValues.isBoolean(value) && Kind.integer.admits(value))
            }
        }
    }

    /// The type of every typed field of the API, whatever the endpoint (durations, lists and
    /// objects are checked by the operations that read them).
    package static let kinds: [String: Kind] = {
        var kinds: [String: Kind] = [:]
        for name in [
            "accessor", "algorithm", "alphabet", "associated_data", "ciphertext", "context", "decode_format", "encode_format", "format",
            "hash_algorithm", "hmac", "input", "luhn", "mapping_mode", "marshaling_algorithm", "masking_character", "nonce",
            "pattern", "plaintext", "policy", "reference", "rules", "signature", "signature_algorithm", "source", "template", "token",
            "transformation", "tweak", "tweak_source", "type", "value",
        ] { kinds[name] = .string }
        for name in [
            "bits", "bytes", "key_size", "key_version", "min_available_version", "min_decryption_version", "min_encryption_version",
            "num_uses", "partial_failure_response_code", "preserve_prefix", "preserve_suffix", "size",
        ] { kinds[name] = .integer }
        for name in [
            "allow_plaintext_backup", "convergent", "convergent_encryption", "deletion_allowed", "derived", "disable_upsert", "dry_run", "exportable",
            "no_default_policy", "no_parent", "prehashed", "renewable",
        ] { kinds[name] = .boolean }
        kinds["metadata"] = .stringOrObject
        for name in ["ttl", "max_ttl", "explicit_max_ttl", "period", "increment", "lease", "auto_rotate_period"] { kinds[name] = .duration }
        return kinds
    }()

    /// Why `body` is refused, or nil: unknown fields, fields of the wrong type (at the top level
    /// and in every batch item), caller-chosen nonces.
    /// - Parameter operationNonce: `nonce` names an operation's id (`sys/rotate/root/update`, `sys/generate-root-token/update`), not
    ///   an encryption nonce: not refused.
    package static func check(_ body: [String: Any], allowed: Set<String>, operationNonce: Bool = false) -> String? {
        var items: [[String: Any]] = [body]
        if let batch = body["batch_input"] {
            guard let objects = batch as? [[String: Any]] else { return "batch_input must be a list of objects" }
            items += objects
        }
        for item in items {
            if let unknown = item.keys.filter({ !allowed.contains($0) && $0 != "name" }).sorted().first {
                return "unknown field \"\(unknown)\""
            }
            do {
                // The first wrong field by name, so the answer does not depend on hash order.
                var wrong: (field: String, kind: Kind)?
                // `null` is tested last, on a value of the wrong type only: testing a native string
                // against Foundation's `NSNull` first would bridge it, on every field of every item.
                for (field, value) in item {
                    guard let kind = Self.kinds[field], !kind.admits(value), !RequestValues.isNull(value), field < (wrong?.field ?? "\u{10FFFF}") else { continue }
                    wrong = (field, kind)
                }
                switch wrong {
                case .some((let field, .string)): return "\(field) must be a string"
                case .some((let field, .integer)): return "\(field) must be an integer"
                case .some((let field, .boolean)): return "\(field) must be true or false"
                case .some((let field, .stringOrObject)): return "\(field) must be a string or an object"
                case .some((let field, .duration)): return "\(field) must be a duration (seconds, or a string such as \"24h\")"
                case nil: break
                }
            }
            if !operationNonce, let nonce = item["nonce"] as? String, !nonce.isEmpty {
                return "caller-supplied nonces are not accepted: Bulwark generates every nonce"
            }
        }
        return nil
    }
}
