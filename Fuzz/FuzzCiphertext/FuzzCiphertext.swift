import Bulwark
import BulwarkServer
import Foundation
import FuzzSupport

// Ciphertext strings as clients send them back: `bw1:` text envelopes (EnvelopeText) and Vault's
// `vault:v<N>:<base64>` (TransitBackend.parseVault), each then opened with the fixed test keys.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = FuzzInput(data, size).text
    if let envelope = try? EnvelopeText.decode(text) {
        openWithTestKeys(envelope, context: FuzzKeys.context)
    }
    if let (_, payload) = try? TransitBackend.parseVault(text) {
        openWithTestKeys(payload, context: [])
    }
    return 0
}

/// Opens `envelope` with the test key its header names (any key when the header does not parse).
func openWithTestKeys(_ envelope: Data, context: [UInt8]) {
    let keys = FuzzKeys.contents
    let named = (try? EnvelopeHeader(peeking: envelope)).flatMap { try? keys.keyset(withID: $0.keyID) }
    for key in named.map({ [$0] }) ?? [FuzzKeys.keyset("aes"), FuzzKeys.keyset("siv")] {
        _ = try? key.decrypt(envelope, context: context)
        _ = try? key.decryptDeterministically(envelope, context: context)
    }
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
