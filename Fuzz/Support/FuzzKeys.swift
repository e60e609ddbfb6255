package import Bulwark
import Foundation

/// Fixed keys for the harnesses, so that seeds made once (by `FuzzSeeds`) stay valid: a test-only
/// sealed keystore in `Fuzz/Corpus/fuzz-keys.bwks` under a master key written here in the clear.
/// None of this is secret; it exists so the fuzzer starts from inputs that authenticate.
package enum FuzzKeys {
    /// The master key of the test keystore (32 bytes of 0x42).
    package static let masterKeyBase64 = Data(repeating: 0x42, count: 32).base64EncodedString()
    /// The Fernet key of the Fernet seeds (32 bytes of 0x24).
    package static let fernetKeyBase64 = Data(repeating: 0x24, count: 32).base64URLEncodedStringPadded()
    /// The FF1 key of the Transform seeds.
    package static let ff1Key = [UInt8](repeating: 0x11, count: 32)
    /// The age identity of the age seeds: the age testkit's (c2sp.org/age), public test data.
    package static var ageIdentity: AgeIdentity {
        do {
            return try AgeIdentity(text: "AGE-SECRET-KEY-1XMWWC06LY3EE5RYTXM9MFLAZ2U56JJJ36S0MYPDRWSVLUL66MV4QX3S7F6")
        } catch {
            fatalError("the fuzz harnesses' age identity does not parse")
        }
    }
    /// The context (associated data) the envelope and stream seeds were made with.
    package static let context = Array("fuzz-context".utf8)
    /// The names and types of the keys in the test keystore.
    package static let types: [(name: String, type: KeyType)] = [
        ("aes", .aes256GCM), ("aes128", .aes128GCM), ("chacha", .chacha20Poly1305), ("siv", .aes256SIV),
        ("hmac", .hmacSHA256), ("ed25519", .ed25519), ("ecdsa", .ecdsaP256),
    ]

    /// Where the test keystore lives (beside the corpus directories).
    package static let keystorePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Corpus/fuzz-keys.bwks").path

    /// The test master key.
    package static var masterKey: MasterKey {
        // A constant that is valid base64 of 32 bytes; if it were not, no harness could run.
        do {
            return try MasterKey(base64: masterKeyBase64)
        } catch {
            fatalError("the fuzz harnesses' test master key is not 32 bytes of base64")
        }
    }

    /// The keys of the test keystore, read once (a harness without them cannot run: it stops).
    package static let contents: KeystoreContents = {
        guard let data = FileManager.default.contents(atPath: keystorePath) else {
            fatalError("missing \(keystorePath): run FuzzSeeds (swift run FuzzSeeds) to make it")
        }
        do {
            return try SealedKeystore.open(data, masterKey: masterKey)
        } catch {
            fatalError("cannot open \(keystorePath): \(error)")
        }
    }()

    /// The test key called `name`.
    package static func keyset(_ name: String) -> Keyset {
        guard let keyset = contents.keysets[name] else { fatalError("no key \(name) in the fuzz keystore") }
        return keyset
    }
}

extension Data {
    /// URL-safe base64 with padding (Fernet's key spelling).
    fileprivate func base64URLEncodedStringPadded() -> String {
        self.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}
