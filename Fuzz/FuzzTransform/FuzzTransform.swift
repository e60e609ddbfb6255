import Bulwark
import FuzzSupport

// Transform: alphabets (FPEAlphabet), templates (TransformTemplate: pattern, encode format),
// values matched and transformed through FF1 (and back: a round trip that does not give the
// value back is a crash), masking and format-preserving tokens. The input is a selector byte,
// then NUL-separated fields: alphabet, pattern, encode format, value, tweak.
//
// Caller-written patterns are kept short and matched against short values only: a regular
// expression can backtrack exponentially, and templates are an operator's setting (values are
// the callers').

/// The built-in alphabets.
let alphabets: [FPEAlphabet] = [.numeric, .alphaLower, .alphaUpper, .alphanumericLower, .alphanumericUpper, .alphanumeric]

/// The built-in templates.
let templates: [TransformTemplate] = [.creditCardNumber, .socialSecurityNumber]

/// The FF1 cipher of the harness.
let ff1: FF1 = {
    do { return try FF1(rawKey: FuzzKeys.ff1Key, access: .token) } catch { fatalError("the fuzz FF1 key: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let selector = Int(input.byte())
    let (alphabetText, pattern, format, value, tweak) = (input.field(), input.field(), input.field(), input.field(), input.field())
    let custom = try? FPEAlphabet(alphabetText)
    guard let alphabet = selector & 1 == 1 ? custom : alphabets[(selector >> 4) % alphabets.count] else { return 0 }
    let tweakBytes = Array(tweak.utf8)
    if let encrypted = try? ff1.encrypt(value, alphabet: alphabet, tweak: tweakBytes) {
        let decrypted = try? ff1.decrypt(encrypted, alphabet: alphabet, tweak: tweakBytes)
        precondition(decrypted.map { Array($0.unicodeScalars) } == Array(value.unicodeScalars), "FF1 round trip lost the value")
    }
    let template: TransformTemplate?
    if selector & 2 == 2 {
        guard pattern.utf8.count <= 48, value.utf8.count <= 16 else { return 0 }
        template = try? TransformTemplate(pattern: pattern, alphabet: alphabet, encodeFormat: format)
    } else {
        template = templates[(selector >> 2) % templates.count]
    }
    guard let template else { return 0 }
    transform(value, template: template, format: format, tweak: tweakBytes, checkRoundTrip: selector & 2 == 0)
    return 0
}

/// Encodes `value` under `template` as the Transform engine does, decodes it again, masks it and
/// makes a format-preserving token for it.
func transform(_ value: String, template: TransformTemplate, format: String, tweak: [UInt8], checkRoundTrip: Bool) {
    let radix = template.alphabet.radix
    _ = try? template.transform(value, format: format.isEmpty ? nil : format) { $0 = try ff1.encrypt(numerals: $0, radix: radix, tweak: tweak) }
    if let encoded = try? template.transform(value, { $0 = try ff1.encrypt(numerals: $0, radix: radix, tweak: tweak) }) {
        let decoded = try? template.transform(encoded) { $0 = try ff1.decrypt(numerals: $0, radix: radix, tweak: tweak) }
        precondition(!checkRoundTrip || decoded == value, "a built-in template's FF1 round trip lost the value")
    }
    _ = try? Masking.mask(value, template: template)
    for luhn in [TokenFormat.LuhnRequirement.any, .valid, .invalid] {
        let format = TokenFormat.formatPreserving(template: template, preservePrefix: value.count % 7, preserveSuffix: 4, luhn: luhn)
        _ = try? format.token(for: value)
    }
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
