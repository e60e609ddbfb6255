import Bulwark
import Foundation
import FuzzSupport

// age files (binary or armored) through AgeDecryptor with the test identity, fed whole and cut in
// two at a point the input's first byte picks: the outcome must not depend on the cut (a lost
// invariant is a crash). The same bytes as text go to the key parsers: AgeRecipient (Bech32),
// AgeIdentity, an identity file, and HybridPublicKey (`bwpk1:`).

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = FuzzInput(data, size)
    let bytes = input.bytes
    let whole = decrypt([bytes[...]])
    if let first = bytes.first, bytes.count > 1 {
        let cut = Int(first) * bytes.count / 256
        if decrypt([bytes[..<cut], bytes[cut...]]) != whole {
            fatalError("age decryption depends on how the input is cut")
        }
    }
    let text = input.text
    _ = try? AgeRecipient(text: text)
    _ = try? AgeIdentity(text: text)
    _ = try? AgeIdentity.identities(in: text)
    _ = try? HybridPublicKey(text: text)
    return 0
}

/// The plaintext, or nil when the file is refused.
func decrypt(_ parts: [ArraySlice<UInt8>]) -> Data? {
    guard var decryptor = try? AgeDecryptor(identities: [FuzzKeys.ageIdentity]) else { return nil }
    var out = Data()
    for part in parts {
        guard let opened = try? decryptor.update(part) else { return nil }
        out += opened
    }
    guard let last = try? decryptor.finish() else { return nil }
    return out + last
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
