import Crypto
import CryptoExtras
public import Foundation

/// JSON Web Signatures (RFC 7515) in the compact serialization: ES256, EdDSA (Ed25519), PS256,
/// RS256 and HS256.
///
/// Verification takes the algorithms the caller accepts and refuses everything else before any
/// key is used: `none`, an algorithm not in the set, an algorithm that does not fit the key's type
/// (the classic confusion: `HS256` "verified" with an RSA or EC public key as the HMAC secret), a
/// `crit` header, and a key whose `alg` names another algorithm.
public enum JWS {
    /// A signature algorithm.
    public enum Algorithm: String, Sendable, CaseIterable {
        /// ECDSA P-256 with SHA-256 (64-byte r ‖ s).
        case es256 = "ES256"
        /// Ed25519 (RFC 8037).
        case edDSA = "EdDSA"
        /// RSASSA-PSS with SHA-256.
        case ps256 = "PS256"
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        case rs256 = "RS256"
        /// HMAC-SHA-256.
        case hs256 = "HS256"
    }

    /// Signs `payload` with `key`.
    /// - Parameters:
    ///   - header: More protected header members (`typ`, `cty`, …); `alg` and `kid` are set here.
    /// - Returns: `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)`.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` when the key cannot make `algorithm` signatures.
    public static func sign(_ payload: Data, key: JWK, algorithm: Algorithm, header: [String: String] = [:]) throws -> String {
        try JOSE.refuseReserved(header)
        do {
            try key.check(purpose: "sig", algorithm: algorithm.rawValue)
        } catch let error as BulwarkError {
            throw BulwarkError(.wrongPurpose, error.message)
        }
        var members: [String: Any] = header
        members["alg"] = algorithm.rawValue
        members["kid"] = key.keyID
        let protected = Base64URL.encode(try JOSE.headerJSON(members))
        let input = protected + "." + Base64URL.encode(payload)
        let signature = try Self.signature(Data(input.utf8), key: key, algorithm: algorithm)
        return input + "." + Base64URL.encode(signature)
    }

    /// Verifies a compact JWS with the key its `kid` names in `keys` (or the only key).
    /// - Parameters:
    ///   - accepting: The algorithms the caller accepts (never `none`).
    /// - Returns: The payload and the protected header.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed token;
    ///   `authenticationFailed` for a bad signature, a refused algorithm or a key that does not fit.
    public static func verify(_ token: String, keys: JWKSet, accepting: Set<Algorithm>) throws -> (payload: Data, header: [String: Any]) {
        guard let (parts, input) = JOSE.compact(token, count: 3, signedParts: 2),
            let header = JOSEJSON.object(parts[0])
        else { throw BulwarkError(.invalidFormat, "not a compact JWS") }
        let payload = parts[1]
        let signature = parts[2]
        guard let name = JOSE.ascii(header["alg"]), let algorithm = Algorithm(rawValue: name), accepting.contains(algorithm) else {
            throw BulwarkError(.authenticationFailed, "the JWS algorithm is not one of those accepted")
        }
        guard header["crit"] == nil else { throw BulwarkError(.authenticationFailed, "the JWS has critical header members this does not understand") }
        let key = try JOSE.pick(keys, keyID: header["kid"] as? String)
        try key.check(purpose: "sig", algorithm: algorithm.rawValue)
        guard try Self.isValid(signature, for: input, key: key, algorithm: algorithm) else {
            throw BulwarkError(.authenticationFailed, "the JWS signature does not verify")
        }
        return (payload, header)
    }

    static func signature(_ input: Data, key: JWK, algorithm: Algorithm) throws -> Data {
        switch (algorithm, key.key) {
        case (.es256, .p256Private(let privateKey)): return try privateKey.signature(for: input).rawRepresentation
        case (.edDSA, .ed25519Private(let privateKey)): return try privateKey.signature(for: input)
        case (.ps256, .rsaPrivate(let privateKey)): return try privateKey.signature(for: input, padding: .PSS).rawRepresentation
        case (.rs256, .rsaPrivate(let privateKey)): return try privateKey.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation
        case (.hs256, .symmetric(let secret)):
            guard secret.bitCount >= 256 else { throw BulwarkError(.wrongPurpose, "HS256 keys are at least 32 bytes") }
            return Data(HMAC<SHA256>.authenticationCode(for: input, using: secret))
        default:
            throw BulwarkError(.wrongPurpose, "this key cannot make \(algorithm.rawValue) signatures")
        }
    }

    /// Whether the signature verifies; false (never a crash) for a key of another type.
    static func isValid(_ signature: Data, for input: Data, key: JWK, algorithm: Algorithm) throws -> Bool {
        switch (algorithm, key.key) {
        case (.es256, .p256Private(let privateKey)): return Self.es256(privateKey.publicKey, signature, input)
        case (.es256, .p256Public(let publicKey)): return Self.es256(publicKey, signature, input)
        case (.edDSA, .ed25519Private(let privateKey)): return privateKey.publicKey.isValidSignature(signature, for: input)
        case (.edDSA, .ed25519Public(let publicKey)): return publicKey.isValidSignature(signature, for: input)
        case (.ps256, .rsaPrivate(let privateKey)): return privateKey.publicKey.isValidSignature(.init(rawRepresentation: signature), for: input, padding: .PSS)
        case (.ps256, .rsaPublic(let publicKey)): return publicKey.isValidSignature(.init(rawRepresentation: signature), for: input, padding: .PSS)
        case (.rs256, .rsaPrivate(let privateKey)):
            return privateKey.publicKey.isValidSignature(.init(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        case (.rs256, .rsaPublic(let publicKey)): return publicKey.isValidSignature(.init(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        case (.hs256, .symmetric(let secret)):
            // RFC 7518 §3.2: at least 256 bits, as for signing.
            guard secret.bitCount >= 256 else { throw BulwarkError(.authenticationFailed, "HS256 keys are at least 32 bytes") }
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
        default:
            // An algorithm that does not fit the key (HS256 with a public key, …): refused.
            throw BulwarkError(.authenticationFailed, "the key cannot verify \(algorithm.rawValue) signatures")
        }
    }

    private static func es256(_ key: P256.Signing.PublicKey, _ signature: Data, _ input: Data) -> Bool {
        guard signature.count == 64, let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(parsed, for: input)
    }
}

/// What JWS and JWE share.
enum JOSE {
    /// A header member's string when it is ASCII only, else nil. Swift compares strings by
    /// canonical equivalence (`"A256\u{212A}W" == "A256KW"`: KELVIN SIGN is K); between two
    /// ASCII strings that is byte equality, so names read through this mean exactly what
    /// another JOSE implementation (comparing bytes) reads.
    static func ascii(_ value: Any?) -> String? {
        guard let text = value as? String, text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        return text
    }

    /// Strict base64url: no padding, no other characters.
    static func decode(_ text: Substring) -> Data? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ Self.decode(buffer: $0) }) { return decoded }
        return Array(text.utf8).withUnsafeBufferPointer { Self.decode(buffer: $0) }
    }

    /// Strict base64url of raw bytes (`=` is not in the alphabet, so refusing a trailing one
    /// refuses padding anywhere).
    static func decode(buffer: UnsafeBufferPointer<UInt8>) -> Data? {
        guard buffer.last != UInt8(ascii: "=") else { return nil }
        return Base64URL.decodeData(buffer)
    }

    /// A compact serialization read in one pass over its bytes: exactly `count` parts split on
    /// ".", each strictly base64url-decoded, and the bytes before the last `signedParts`
    /// separator as they were sent (the AAD of a JWE, the signing input of a JWS).
    /// - Returns: nil for another number of parts or any part that is not base64url.
    static func compact(_ token: String, count: Int, signedParts: Int) -> (decoded: [Data], signed: Data)? {
        var token = token
        return token.withUTF8 { bytes -> (decoded: [Data], signed: Data)? in
            var decoded: [Data] = []
            decoded.reserveCapacity(count)
            var start = 0
            var signedEnd = 0
            var index = 0
            while true {
                // memchr: the parts are long (a JWE's ciphertext), the scan byte by byte was not.
                if index < bytes.count, let base = bytes.baseAddress,
                    let dot = memchr(base + index, Int32(UInt8(ascii: ".")), bytes.count - index)
                {
                    index = base.distance(to: dot.assumingMemoryBound(to: UInt8.self))
                } else {
                    index = bytes.count
                }
                guard decoded.count < count,
                    let part = Self.decode(buffer: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                else { return nil }
                decoded.append(part)
                if decoded.count == signedParts { signedEnd = index }
                if index == bytes.count { break }
                index += 1
                start = index
            }
            guard decoded.count == count else { return nil }
            return (decoded, Data(UnsafeBufferPointer(rebasing: bytes[0..<signedEnd])))
        }
    }

    /// `first` and the base64url of each of `parts`, joined by "." (a compact serialization
    /// written once, with no string per part).
    static func join(_ first: String, _ parts: Data...) -> String {
        var first = first
        let length = first.utf8.count + parts.reduce(0) { $0 + 1 + Base64URL.encodedCount($1.count, padded: false) }
        return first.withUTF8 { head in
            String(unsafeUninitializedCapacity: length) { out in
                _ = UnsafeMutableBufferPointer(rebasing: out[0..<head.count]).initialize(fromContentsOf: head)
                var position = head.count
                for part in parts {
                    out[position] = UInt8(ascii: ".")
                    position += 1
                    position += part.withUnsafeBytes { Base64URL.encode($0, into: UnsafeMutableBufferPointer(rebasing: out[position...]), padded: false) }
                }
                return position
            }
        }
    }

    /// A protected header as compact JSON with its members in byte order: strings, integers,
    /// string arrays and nested objects of those, which is all JOSE headers hold here.
    /// (Foundation's sorted-keys writer compares keys with locale-aware string search and costs
    /// more than an ECDH.)
    static func headerJSON(_ members: [String: Any]) throws -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try Self.write(members, into: &out)
        return Data(out)
    }

    private static func write(_ members: [String: Any], into out: inout [UInt8]) throws {
        out.append(UInt8(ascii: "{"))
        // Names sorted alone (sorting name-value pairs copies every existential); the common
        // value types are tried first.
        for (index, name) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            guard let value = members[name] else { continue }
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.quote(name, into: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case let text as String: Self.quote(text, into: &out)
            case let object as [String: String]: try Self.write(object, into: &out)
            case let number as Int: out += Array(String(number).utf8)
            case let list as [String]:
                // ["a","b"]: each item quoted, commas between.
                out.append(UInt8(ascii: "["))
                list.first.map { Self.quote($0, into: &out) }
                for item in list.dropFirst() {
                    out.append(UInt8(ascii: ","))
                    Self.quote(item, into: &out)
                }
                out.append(UInt8(ascii: "]"))
            case let object as [String: Any]: try Self.write(object, into: &out)
            default: throw BulwarkError(.invalidArgument, "a JOSE header member is not a string, integer, list or object")
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `text` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\r`, `\t`
    /// or `\u00XX`, everything else (non-ASCII included) as its UTF-8 bytes.
    private static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most values need no escape: copied whole.
        var text = text
        let plain = text.withUTF8 { bytes -> Bool in
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Header members the library sets or refuses itself: a caller may not add them.
    static let reserved: Set<String> = [
        "alg", "enc", "kid", "zip", "crit", "b64", "epk", "apu", "apv", "p2s", "p2c", "iv", "tag", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256",
    ]

    static func refuseReserved(_ header: [String: String]) throws {
        if let name = header.keys.first(where: Self.reserved.contains) {
            throw BulwarkError(.invalidArgument, "the header member '\(name)' is set by the library (or refused), not by the caller")
        }
    }

    /// The key `kid` names, or the set's only key when the token names none.
    static func pick(_ keys: JWKSet, keyID: String?) throws -> JWK {
        if let keyID {
            guard let key = keys.key(id: keyID) else { throw BulwarkError(.authenticationFailed, "no key has the token's kid") }
            return key
        }
        guard keys.keys.count == 1, let only = keys.keys.first else {
            throw BulwarkError(.authenticationFailed, "the token names no kid and there is more than one key")
        }
        return only
    }
}
