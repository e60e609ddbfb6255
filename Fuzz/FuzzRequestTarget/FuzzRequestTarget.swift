import BulwarkServer
import FuzzSupport

// A request's method and target (RequestTarget.parse, which the router, the fast path and the
// policy check all go through), and the policy path derived from an accepted one.

/// The methods tried: the accepted ones, then some that must be refused.
let methods = ["GET", "PUT", "POST", "DELETE", "LIST", "PATCH", "get", ""]

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let method = methods[Int(input.byte()) % methods.count]
    if let target = try? RequestTarget.parse(method: method, target: String(decoding: input.rest, as: UTF8.self)) {
        _ = target.policyPath
    }
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
