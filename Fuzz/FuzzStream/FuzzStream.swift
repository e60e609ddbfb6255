import Bulwark
import Foundation
import FuzzSupport

// Streams: the 55-byte StreamHeader, then the segments after it (cut at the header's segment
// size, the last one final) opened by the StreamDecryptor of the test key the header names.

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput(data, size).bytes
    guard let header = try? StreamHeader(parsing: bytes) else { return 0 }
    let key = (try? FuzzKeys.contents.keyset(withID: header.keyID)) ?? FuzzKeys.keyset("aes")
    guard var decryptor = try? key.makeStreamDecryptor(header: header, context: FuzzKeys.context) else { return 0 }
    var rest = bytes[StreamHeader.length...]
    repeat {
        let segment = rest.prefix(header.segmentSize)
        rest = rest.dropFirst(segment.count)
        guard (try? decryptor.openSegment(segment, isFinal: rest.isEmpty)) != nil else { break }
    } while !rest.isEmpty
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
