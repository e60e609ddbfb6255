import Bulwark
import Foundation
import FuzzSupport

// Binary envelopes (EnvelopeHeader, Keyset.decrypt and decryptDeterministically), field envelopes
// (FieldEncryptor: a wrapped data key, then the value) and sealed keystore files (the "BWKS"
// header with its passphrase-KDF parameters, then SealedKeystore.open).

/// The field encryptor of the field-envelope seeds: data keys wrapped by the test `aes` key.
let fieldEncryptor: FieldEncryptor = {
    do {
        return FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: FuzzKeys.keyset("aes")))
    } catch {
        fatalError("the fuzz key-encryption key: \(error)")
    }
}()

/// The field the field-envelope seeds were encrypted for.
let fieldContext = FieldContext(table: "fuzz", column: "value", rowKey: "1")

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Data(FuzzInput(data, size).bytes)
    if bytes.starts(with: Array("BWKS".utf8)) {
        if let header = try? SealedKeystore.Header(parsing: bytes), header.kdf == nil {
            _ = try? SealedKeystore.open(bytes, masterKey: FuzzKeys.masterKey)
        }
        return 0
    }
    if let header = try? EnvelopeHeader(peeking: bytes), let key = try? FuzzKeys.contents.keyset(withID: header.keyID) {
        _ = try? key.decrypt(bytes, context: FuzzKeys.context)
        _ = try? key.decryptDeterministically(bytes, context: FuzzKeys.context)
    }
    if FieldEncryptor.keyEncryptionKeyVersion(of: bytes) != nil {
        _ = runBlocking { try await fieldEncryptor.decrypt(bytes, context: fieldContext) }
    }
    return 0
}

#if !BULWARK_FUZZING
/// Replays corpus files through the harness (a build without `--sanitize=fuzzer`).
@main enum Replay { static func main() { FuzzReplay.main(fuzzOneInput) } }
#endif
