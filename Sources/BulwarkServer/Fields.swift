import Foundation

/// The request fields each endpoint accepts. Anything else is refused with a 400 naming it, so a
/// typo (`plaintxt`) or an option Bulwark does not implement never passes silently.
package enum Fields {
    package static let createKey: Set<String> = [
        "type", "exportable", "auto_rotate_period", "allow_plaintext_backup", "derived", "convergent_encryption", "key_size",
    ]
    package static let config: Set<String> = [
        "min_decryption_version", "min_encryption_version", "deletion_allowed", "exportable", "allow_plaintext_backup",
        "auto_rotate_period",
    ]
    package static let encrypt: Set<String> = [
        "plaintext", "associated_data", "key_version", "type", "batch_input", "context", "nonce", "reference",
        "convergent_encryption", "partial_failure_response_code",
    ]
    package static let decrypt: Set<String> = [
        "ciphertext", "associated_data", "batch_input", "context", "nonce", "reference", "partial_failure_response_code",
    ]
    package static let rewrap: Set<String> = ["ciphertext", "associated_data", "key_version", "batch_input", "context", "nonce", "reference"]
    package static let dataKey: Set<String> = ["bits", "associated_data", "context", "nonce", "key_version"]
    package static let hmac: Set<String> = ["input", "key_version", "algorithm", "batch_input", "reference"]
    package static let sign: Set<String> = [
        "input", "key_version", "hash_algorithm", "algorithm", "prehashed", "signature_algorithm", "marshaling_algorithm",
        "batch_input", "context", "reference",
    ]
    package static let verify: Set<String> = sign.union(["hmac", "signature"])
    package static let random: Set<String> = ["bytes", "format", "source"]
    package static let hash: Set<String> = ["input", "algorithm", "format"]

    /// Why `body` is refused, or nil: unknown fields, caller-chosen nonces, key derivation.
    package static func check(_ body: [String: Any], allowed: Set<String>) -> String? {
        var items: [[String: Any]] = [body]
        if let batch = body["batch_input"] {
            guard let objects = batch as? [[String: Any]] else { return "batch_input must be a list of objects" }
            items += objects
        }
        for item in items {
            if let unknown = item.keys.filter({ !allowed.contains($0) && $0 != "name" }).sorted().first {
                return "unknown field \"\(unknown)\""
            }
            if let nonce = item["nonce"] as? String, !nonce.isEmpty {
                return "caller-supplied nonces are not accepted: Bulwark generates every nonce"
            }
            if let context = item["context"] as? String, !context.isEmpty {
                return "key derivation (context) is not supported; bind data with associated_data"
            }
            for flag in ["derived", "convergent_encryption"] {
                guard let value = item[flag], !(value is NSNull) else { continue }
                guard RequestValues.isBoolean(value), let on = value as? Bool else { return "\(flag) must be true or false" }
                if on { return "\(flag) keys are not supported; use associated_data, or deterministic keys via the library" }
            }
        }
        return nil
    }
}
