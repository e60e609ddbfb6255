import FuzzServerSupport
import FuzzSupport

// Request bodies of the Transit endpoints, through what the server does with them: JSON
// decoding, the per-endpoint field check (Fields.check), then the backend call with its value
// checks (RequestValues, base64, ciphertexts, key versions, batches) over the fixed test keys.
// The first byte picks the endpoint, the second the key; the rest is the body.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let endpoint = FuzzBackend.endpoints[Int(input.byte()) % FuzzBackend.endpoints.count]
    let key = FuzzBackend.keyNames[Int(input.byte()) % FuzzBackend.keyNames.count]
    FuzzBackend.send(Array(input.rest), to: endpoint, key: key)
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
