import Bulwark
import Foundation
import FuzzServerSupport
import FuzzSupport

// Makes the fuzzing seeds: the test keystore (once: its keys are random, so it is kept in the
// repository and the seeds made under it stay valid) and, in Fuzz/Corpus/<harness>/, valid inputs
// made by the library plus a few malformed ones. Run it again after a format change:
// `swift run FuzzSeeds` (it rewrites the seed files, keeps the keystore).

/// The corpus directory.
let corpus = URL(fileURLWithPath: FuzzKeys.keystorePath).deletingLastPathComponent()

/// Writes `seeds` as `Fuzz/Corpus/<harness>/<name>`.
func write(_ harness: String, _ seeds: [(String, [UInt8])]) throws {
    let directory = corpus.appendingPathComponent(harness)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, bytes) in seeds {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }
    print("\(harness): \(seeds.count) seeds")
}

/// Text as seed bytes.
func text(_ value: String) -> [UInt8] { Array(value.utf8) }

/// Makes the test keystore unless it exists.
func makeKeystore() throws {
    guard !FileManager.default.fileExists(atPath: FuzzKeys.keystorePath) else { return }
    var contents = KeystoreContents()
    for (name, type) in FuzzKeys.types {
        var keyset = try Keyset.generate(name: name, type: type)
        if type.purpose == .encryption { try keyset.rotate() }  // two versions: rewrap and key_version have work
        contents.keysets[name] = keyset
    }
    try SealedKeystore.seal(contents, masterKey: FuzzKeys.masterKey, kdf: nil).write(to: URL(fileURLWithPath: FuzzKeys.keystorePath))
    print("made \(FuzzKeys.keystorePath)")
}

/// Envelopes of every encryption key (and a deterministic one), as bytes.
func envelopes() throws -> [(String, Data)] {
    var out: [(String, Data)] = []
    for name in ["aes", "aes128", "chacha"] {
        out.append((name, try FuzzKeys.keyset(name).encrypt(text("a fuzzing seed"), context: FuzzKeys.context)))
        out.append((name + "-empty", try FuzzKeys.keyset(name).encrypt([UInt8](), context: FuzzKeys.context)))
    }
    out.append(("siv", try FuzzKeys.keyset("siv").encryptDeterministically(text("a fuzzing seed"), context: FuzzKeys.context)))
    return out
}

/// Seeds for FuzzCiphertext: `bw1:` and `vault:` strings.
func ciphertextSeeds() throws -> [(String, [UInt8])] {
    var seeds = try envelopes().map { ("bw1-" + $0.0, text(EnvelopeText.encode($0.1))) }
    let vault = try FuzzKeys.keyset("aes").encrypt(text("vault plaintext"), context: [UInt8]())
    seeds.append(("vault-v1", text("vault:v1:" + vault.base64EncodedString())))
    seeds.append(("vault-v2", text("vault:v2:" + vault.base64EncodedString())))
    seeds += [("bad-vault-version", text("vault:vX:AAAA")), ("bad-vault-empty", text("vault:v1:")), ("bad-bw1", text("bw1:!!"))]
    return seeds
}

/// Seeds for FuzzEnvelope: binary envelopes, a field envelope and keystore files.
func envelopeSeeds() throws -> [(String, [UInt8])] {
    var seeds = try envelopes().map { ($0.0, [UInt8]($0.1)) }
    let encryptor = FieldEncryptor(keyEncryptionKey: try LocalKeyEncryptionKey(keyset: FuzzKeys.keyset("aes")))
    let field = try runBlocking {
        try await encryptor.encrypt(text("field value"), context: FieldContext(table: "fuzz", column: "value", rowKey: "1"))
    }.get()
    seeds.append(("field", [UInt8](field)))
    let small = KeystoreContents(keysets: ["aes": FuzzKeys.keyset("aes")], generation: 3, documents: ["doc": Data("x".utf8)])
    seeds.append(("keystore", [UInt8](try SealedKeystore.seal(small, masterKey: FuzzKeys.masterKey, kdf: nil))))
    let scrypt = try SealedKeystore.seal(KeystoreContents(), masterKey: FuzzKeys.masterKey, kdf: .scryptDefault())
    seeds.append(("keystore-scrypt-header", [UInt8](scrypt.prefix(64))))
    let argon = try SealedKeystore.seal(KeystoreContents(), masterKey: FuzzKeys.masterKey, kdf: .argon2idDefault())
    seeds.append(("keystore-argon2-header", [UInt8](argon.prefix(64))))
    return seeds
}

/// Seeds for FuzzStream: streams of 64-byte segments.
func streamSeeds() throws -> [(String, [UInt8])] {
    var seeds: [(String, [UInt8])] = []
    for name in ["aes", "aes128", "chacha"] {
        for length in [0, 40, 130] {
            var encryptor = try FuzzKeys.keyset(name).makeStreamEncryptor(context: FuzzKeys.context, segmentSize: 64)
            var out = [UInt8](encryptor.header)
            var plaintext = [UInt8](repeating: 0x61, count: length)
            while plaintext.count > encryptor.plaintextSegmentSize {
                out += try encryptor.sealSegment(plaintext.prefix(encryptor.plaintextSegmentSize), isFinal: false)
                plaintext.removeFirst(encryptor.plaintextSegmentSize)
            }
            out += try encryptor.sealSegment(plaintext, isFinal: true)
            seeds.append(("\(name)-\(length)", out))
        }
    }
    return seeds
}

/// Seeds for FuzzFernet.
func fernetSeeds() throws -> [(String, [UInt8])] {
    let key = try Fernet.Key(base64: FuzzKeys.fernetKeyBase64)
    let made = Date(timeIntervalSince1970: 1_700_000_000)
    return [
        ("token", text(try Fernet.encrypt(text("fernet seed"), using: key, now: made))),
        ("token-empty", text(try Fernet.encrypt([UInt8](), using: key, now: made))),
        ("token-long", text(try Fernet.encrypt([UInt8](repeating: 0x62, count: 100), using: key, now: made))),
        ("key", text(FuzzKeys.fernetKeyBase64)),
        ("bad-version", text("gAAAAA")), ("bad-empty", []),
    ]
}

/// Seeds for FuzzPasswordHash: one hash per spelling, made by the library, and malformed ones.
func passwordSeeds() throws -> [(String, [UInt8])] {
    let policies: [(String, PasswordPolicy.Algorithm)] = [
        ("argon2id", .argon2id(.init(memoryKiB: 19456, iterations: 2, parallelism: 1))), ("bcrypt", .bcrypt(cost: 4)),
        ("scrypt", .scrypt(logN: 14, blockSize: 8, parallelism: 1)), ("pbkdf2-sha256", .pbkdf2SHA256(iterations: 210_000)),
        ("pbkdf2-sha512", .pbkdf2SHA512(iterations: 210_000)),
    ]
    var seeds: [(String, [UInt8])] = []
    for (name, algorithm) in policies {
        seeds.append((name, text(try PasswordHasher(policy: PasswordPolicy(algorithm: algorithm)).hash("fuzz password"))))
    }
    let long = PasswordPolicy(algorithm: .bcrypt(cost: 4), bcryptLongPasswords: .prehash)
    seeds.append(("bcrypt-sha256", text(try PasswordHasher(policy: long).hash(String(repeating: "p", count: 80)))))
    seeds += [
        ("argon2i-v16", text("$argon2i$m=64,t=1,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ")),
        ("django-scrypt", text("scrypt$c2FsdA$16384$8$1$" + Data(repeating: 7, count: 64).base64EncodedString())),
        ("bcrypt-2y", text("$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")),
        ("bad-bcrypt-2x", text("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")),
        ("bad-argon2-params", text("$argon2id$v=19$m=1,t=0,p=0$c29tZXNhbHQ$AAAA")),
    ]
    return seeds
}

/// Seeds for FuzzPolicyHCL.
func policySeeds() -> [(String, [UInt8])] {
    [
        ("encrypt-only", text("path \"transit/encrypt/app\" {\n  capabilities = [\"update\"]\n}\n")),
        ("globs", text("# admin\npath \"transit/keys/*\" { capabilities = [\"create\", \"read\", \"list\", \"sudo\"] }\n"
            + "path \"transit/+/app-*\" { capabilities = [\"update\"] } // comment\npath \"sys/*\" { capabilities = [\"deny\"] }\n")),
        ("empty", []),
        ("bad-attribute", text("path \"x\" { policy = \"write\" }")),
        ("bad-unterminated", text("path \"x\" { capabilities = [\"read\"")),
    ]
}

/// Seeds for FuzzRequestJSON: a body per endpoint and key, with vault ciphertexts of the test keys.
func requestSeeds() throws -> [(String, [UInt8])] {
    let aes = FuzzKeys.keyset("aes")
    let ciphertext = "vault:v1:" + (try aes.encrypt(text("hello"), context: [UInt8]())).base64EncodedString()
    let bodies: [String: [String]] = [
        "transit/encrypt/:name": [
            #"{"plaintext":"aGVsbG8="}"#, #"{"plaintext":"aGVsbG8=","associated_data":"YWQ=","key_version":1}"#,
            #"{"batch_input":[{"plaintext":"YQ=="},{"plaintext":"Yg==","reference":"r"}]}"#,
        ],
        "transit/decrypt/:name": [#"{"ciphertext":"\#(ciphertext)"}"#, #"{"batch_input":[{"ciphertext":"\#(ciphertext)"},{"ciphertext":"vault:v9:AA=="}]}"#],
        "transit/rewrap/:name": [#"{"ciphertext":"\#(ciphertext)","key_version":2}"#],
        "transit/datakey/plaintext/:name": [#"{"bits":256}"#], "transit/datakey/wrapped/:name": [#"{"bits":512,"associated_data":"YQ=="}"#],
        "transit/hmac/:name": [#"{"input":"aGVsbG8=","algorithm":"sha2-512"}"#, #"{"batch_input":[{"input":"YQ=="}]}"#],
        "transit/hmac/:name/sha2-256": [#"{"input":"aGVsbG8="}"#],
        "transit/sign/:name": [#"{"input":"aGVsbG8="}"#, #"{"input":"aGVsbG8=","hash_algorithm":"sha2-256","marshaling_algorithm":"jws"}"#],
        "transit/verify/:name": [#"{"input":"aGVsbG8=","signature":"vault:v1:AAAA"}"#, #"{"input":"aGVsbG8=","hmac":"vault:v1:AAAA"}"#],
        "transit/random": [#"{"bytes":16,"format":"hex"}"#], "transit/random/:bytes": [#"{"format":"base64"}"#],
        "transit/hash": [#"{"input":"aGVsbG8=","algorithm":"sha3-256","format":"hex"}"#], "transit/hash/sha2-512": [#"{"input":"YQ=="}"#],
        "transit/keys/:name": [#"{"type":"aes256-gcm96","auto_rotate_period":"24h"}"#, #"{"type":"ed25519","exportable":true}"#],
        "transit/keys/:name/config": [#"{"min_decryption_version":1,"auto_rotate_period":"1h30m","deletion_allowed":false}"#],
    ]
    var seeds: [(String, [UInt8])] = []
    for (endpointIndex, endpoint) in FuzzBackend.endpoints.enumerated() {
        for (bodyIndex, body) in (bodies[endpoint.path] ?? ["{}"]).enumerated() {
            for (keyIndex, key) in FuzzBackend.keyNames.enumerated() where keyIndex == 0 || bodyIndex == 0 {
                let name = endpoint.path.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: ":", with: "")
                seeds.append(("\(name)-\(bodyIndex)-\(key)", [UInt8(endpointIndex), UInt8(keyIndex)] + text(body)))
            }
        }
    }
    seeds.append(("bad-json", [1, 0] + text(#"{"ciphertext":"#)))
    seeds.append(("bad-field", [0, 0] + text(#"{"plaintext":"YQ==","nonce":"AAAA"}"#)))
    return seeds
}

/// Seeds for FuzzRequestTarget: a method index, then the target.
func targetSeeds() -> [(String, [UInt8])] {
    let targets: [(UInt8, String)] = [
        (2, "/v1/transit/encrypt/app"), (0, "/v1/transit/keys?list=true"), (4, "/v1/transit/keys/"), (0, "/v1/sys/health?standby=ok"),
        (1, "/v1/sys/policies/acl/app-policy"), (3, "/v1/transit/keys/app"), (0, "/v1/transit//keys"), (0, "/v1/transit/%2e%2e/x"),
        (0, "/v1/transit/keys?list=false&list=true"), (5, "/v1/x"),
    ]
    return targets.enumerated().map { ("target-\($0.offset)", [$0.element.0] + text($0.element.1)) }
}

/// Seeds for FuzzTransform: selector, alphabet, pattern, format, value, tweak (NUL-separated).
func transformSeeds() -> [(String, [UInt8])] {
    let inputs: [(UInt8, [String])] = [
        (0x00, ["", "", "", "4111-1111-1111-1111", ""]), (0x04, ["", "", "", "123-45-6789", "tweak"]),
        (0x00, ["", "", "$1 $2 $3 $4", "4111111111111111", ""]), (0x01, ["0123456789ABCDEF", "", "", "DEADBEEF00", "t"]),
        (0x12, ["", #"(\w+)@([a-z]+)"#, "$1@$2", "user@host", ""]), (0x03, ["αβγδεζηθικ", "([α-κ]{6,})", "", "αβγδεζηθ", ""]),
        (0x02, ["", #"(\d{3})-(\d{4})"#, "", "555-0100", ""]), (0x03, ["aa", "(a", "", "aaa", ""]),
    ]
    return inputs.enumerated().map { index, input in
        ("transform-\(index)", [input.0] + input.1.map(text).joined(separator: [0]))
    }
}

/// Seeds for FuzzURLs.
func urlSeeds() -> [(String, [UInt8])] {
    [
        "sqlite:/var/lib/bulwark/store.sqlite", "sqlite://relative/store.db", "sqlite:store",
        "postgres://bulwark:secret@db.example:5432/bulwark?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        "postgresql://user@10.0.0.5/db?sslmode=require&pool_size=20&connect_timeout=10",
        "postgres://u@[::1]:6543/d?sslcert=c.pem&sslkey=k.pem", "postgres://u@h/d?sslmode=prefer", "postgres://",
        FuzzKeys.masterKeyBase64, "mysql://x",
    ].enumerated().map { ("url-\($0.offset)", text($0.element)) }
}

/// Seeds for FuzzAge: files to the test identity (empty, small, across a chunk edge, armored,
/// two recipients), the age testkit's `x25519` file, and key texts.
func ageSeeds() throws -> [(String, [UInt8])] {
    let identity = FuzzKeys.ageIdentity
    func file(_ size: Int, armored: Bool = false, extra: [AgeRecipient] = []) throws -> [UInt8] {
        var encryptor = try AgeEncryptor(recipients: [identity.recipient] + extra, armored: armored)
        let plaintext = Data((0..<size).map { UInt8(truncatingIfNeeded: $0) })
        return Array(encryptor.prefix + (try encryptor.update(plaintext)) + (try encryptor.finish()))
    }
    // c2sp.org/age testkit `x25519` (header, then its payload).
    let testkit = text("age-encryption.org/v1\n-> X25519 TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc\n"
        + "EmECAEcKN+n/Vs9SbWiV+Hu0r+E8R77DdWYyd83nw7U\n--- Vn+54jqiiUCE+WZcEVY3f1sqHjlu/z1LCQ/T7Xm7qI0\n")
        + [0xee, 0xcf, 0x62, 0xc7, 0xce, 0x91, 0xb4, 0x33, 0x27, 0x4e, 0x68, 0xd4, 0xf2, 0xf9, 0x13, 0x4c, 0xb7, 0x4c,
           0x5b, 0xfe, 0xf7, 0xbe, 0xaa, 0x52, 0xc8, 0xf0, 0xbc, 0x0e, 0x99, 0x2c, 0x1e, 0x83, 0x31, 0xfb, 0x66]
    return [
        ("empty", try file(0)), ("small", try file(100)), ("chunk-edge", try file(65_537)), ("armored", try file(300, armored: true)),
        ("two-recipients", try file(10, extra: [AgeIdentity.generate().recipient])), ("testkit-x25519", testkit),
        ("recipient", text(identity.recipient.text)),
        ("identity-file", text("# created: 2026-12-01\n# public key: \(identity.recipient.text)\n\(identity.secretText(access: .token))\n")),
        ("bwpk1", text(try Keyset.generate(name: "p", type: .hpkeX25519).hybridPublicKey().text)),
    ]
}

#if !BULWARK_FUZZING
/// Writes the keystore (if missing) and every harness's seeds.
@main enum Seeds {
    static func main() throws {
        try makeKeystore()
        try write("FuzzCiphertext", try ciphertextSeeds())
        try write("FuzzEnvelope", try envelopeSeeds())
        try write("FuzzStream", try streamSeeds())
        try write("FuzzFernet", try fernetSeeds())
        try write("FuzzPasswordHash", try passwordSeeds())
        try write("FuzzPolicyHCL", policySeeds())
        try write("FuzzRequestJSON", try requestSeeds())
        try write("FuzzRequestTarget", targetSeeds())
        try write("FuzzTransform", transformSeeds())
        try write("FuzzURLs", urlSeeds())
        try write("FuzzAge", try ageSeeds())
    }
}
#endif
