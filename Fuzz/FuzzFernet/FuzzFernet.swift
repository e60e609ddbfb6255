import Bulwark
import Foundation
import FuzzSupport

// Fernet tokens (Fernet.decrypt with and without a TTL, MultiFernet) and Fernet key text.

/// The key of the Fernet seeds.
let fernetKey: Fernet.Key = {
    do { return try Fernet.Key(base64: FuzzKeys.fernetKeyBase64) } catch { fatalError("the fuzz Fernet key: \(error)") }
}()

/// A key ring whose second key made the seeds (rotation order).
let multiKey: Fernet.MultiKey = {
    do { return try Fernet.MultiKey([Fernet.Key.generate(), fernetKey]) } catch { fatalError("the fuzz Fernet key ring: \(error)") }
}()

/// The time the seeds are read at (they were made at 1,700,000,000).
let readTime = Date(timeIntervalSince1970: 1_700_000_030)

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = FuzzInput(data, size).text
    _ = try? Fernet.decrypt(text, using: fernetKey, now: readTime)
    _ = try? Fernet.decrypt(text, using: fernetKey, ttl: 60, now: readTime)
    _ = try? multiKey.decrypt(text, ttl: 1e300, now: readTime)
    _ = try? Fernet.Key(base64: text)
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
