import Bulwark
import FuzzSupport

// Stored password-hash strings: PHC Argon2, bcrypt ($2a/$2b/$2y and $bcrypt-sha256$), passlib and
// Django scrypt and PBKDF2 (PasswordHash.parse, which PasswordHasher.verify calls first). Only
// the parsers: verifying would run the (deliberately slow) hash the string asks for.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = try? PasswordHash.parse(FuzzInput(data, size).text)
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
