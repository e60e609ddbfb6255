import Bulwark
import BulwarkStorage
import FuzzSupport

// Storage and database URLs (StorageURL for `--storage`, PostgresURL with its query options and
// environment fallbacks) and the base64 master-key text (BULWARK_MASTER_KEY).

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = FuzzInput(data, size).text
    if let url = try? StorageURL(text) {
        _ = url.description
        _ = url.dataDirectory
    }
    if let url = try? PostgresURL(text, environment: ["PGPASSWORD": "fuzz", "PGSSLMODE": "require"]) {
        _ = url.hostIsAddress
    }
    _ = try? PostgresURL(text, environment: [:])
    _ = try? MasterKey(base64: text)
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
