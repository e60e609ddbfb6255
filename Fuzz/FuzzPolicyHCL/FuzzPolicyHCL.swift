import BulwarkServer
import FuzzSupport

// ACL policies in Vault's HCL (ACLPolicy(hcl:), as `PUT sys/policies/acl/:name` receives them).

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if let policy = try? ACLPolicy(hcl: FuzzInput(data, size).text) {
        for rule in policy.rules where rule.pattern.isEmpty && !rule.capabilities.isEmpty {
            _ = rule.capabilities.sorted()
        }
    }
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
