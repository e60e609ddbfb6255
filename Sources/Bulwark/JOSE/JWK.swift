import Crypto
import CryptoExtras
public import Foundation

/// A JSON Web Key (RFC 7517/7518/8037): EC P-256, OKP Ed25519 and X25519, `oct`, and RSA, public
/// or private. Keys read from JSON are checked (points on the curve, lengths); the key id is
/// `kid` when given, else the RFC 7638 thumbprint of a public key, or a random id for a
/// symmetric key. Private parts and symmetric keys are written only with ``InsecureSecretKeyAccess``.
public struct JWK: Sendable, CustomStringConvertible {
    enum Key: Sendable {
        case p256Private(P256.Signing.PrivateKey)
        case p256Public(P256.Signing.PublicKey)
        case ed25519Private(Curve25519.Signing.PrivateKey)
        case ed25519Public(Curve25519.Signing.PublicKey)
        case x25519Private(Curve25519.KeyAgreement.PrivateKey)
        case x25519Public(Curve25519.KeyAgreement.PublicKey)
        case symmetric(SymmetricKey)
        case rsaPrivate(_RSA.Signing.PrivateKey)
        case rsaPublic(_RSA.Signing.PublicKey)
    }

    let key: Key
    /// The key id: `kid` as given; else the RFC 7638 thumbprint of a public key, or a random id
    /// for a symmetric key (its thumbprint would be an unsalted hash of the secret, and a
    /// password's would let anyone who sees a token guess the password at SHA-256 speed).
    public let keyID: String
    /// `alg`, when the key names the one algorithm it may be used with.
    public let algorithm: String?
    /// `use`, when the key names it: `sig` (signatures only) or `enc` (encryption only).
    public let use: String?
    /// A P-256 private key's key-agreement form, made once (ECDH-ES would otherwise rebuild it,
    /// public point included, for every token).
    let p256Agreement: P256.KeyAgreement.PrivateKey?
    /// A P-256 key's public key-agreement form, made once.
    let p256AgreementPublic: P256.KeyAgreement.PublicKey?

    init(_ key: Key, keyID: String? = nil, algorithm: String? = nil, use: String? = nil) {
        self.key = key
        self.algorithm = algorithm
        self.use = use
        switch key {
        case .p256Private(let signing):
            let agreement = try? P256.KeyAgreement.PrivateKey(rawRepresentation: signing.rawRepresentation)
            self.p256Agreement = agreement
            self.p256AgreementPublic = agreement?.publicKey
        case .p256Public(let signing):
            self.p256Agreement = nil
            self.p256AgreementPublic = try? P256.KeyAgreement.PublicKey(x963Representation: signing.x963Representation)
        default:
            self.p256Agreement = nil
            self.p256AgreementPublic = nil
        }
        if let keyID {
            self.keyID = keyID
        } else if case .symmetric = key {
            self.keyID = Base64URL.encode(Data(SecureRandom.bytes(16)))
        } else {
            self.keyID = Self.thumbprint(Self.publicMembers(key))
        }
    }

    // MARK: Making keys

    /// A new P-256 key (ES256, ECDH-ES).
    public static func generateP256(keyID: String? = nil) -> JWK { JWK(.p256Private(P256.Signing.PrivateKey()), keyID: keyID) }
    /// A new Ed25519 key (EdDSA).
    public static func generateEd25519(keyID: String? = nil) -> JWK { JWK(.ed25519Private(Curve25519.Signing.PrivateKey()), keyID: keyID) }
    /// A new X25519 key (ECDH-ES).
    public static func generateX25519(keyID: String? = nil) -> JWK { JWK(.x25519Private(Curve25519.KeyAgreement.PrivateKey()), keyID: keyID) }
    /// A new random symmetric key of `bytes` bytes (HS256: 32; A256KW, A256GCMKW: 32; `dir`: the content encryption's).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for fewer than 16 bytes.
    public static func generateSymmetric(bytes: Int = 32, keyID: String? = nil) throws -> JWK {
        try JWK(symmetricKey: Data(SecureRandom.bytes(bytes)), keyID: keyID)
    }
    /// A new RSA key of 2048, 3072 or 4096 bits (RS256, PS256, RSA-OAEP-256).
    public static func generateRSA(bits: Int = 3072, keyID: String? = nil) throws -> JWK {
        guard [2048, 3072, 4096].contains(bits) else { throw BulwarkError(.invalidArgument, "RSA keys are 2048, 3072 or 4096 bits") }
        return JWK(.rsaPrivate(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits))), keyID: keyID)
    }

    /// Key type and id only: never key material.
    public var description: String {
        let members = Self.publicMembers(self.key)
        return "JWK(kty: \(members["kty"] ?? "?")\(members["crv"].map { ", crv: \($0)" } ?? ""), kid: \(self.keyID)\(self.isSecret ? ", secret" : ""))"
    }

    /// A symmetric key (`oct`) from its bytes: an HS256 secret (32 bytes at least), an A256KW,
    /// A256GCMKW or `dir` key (32 bytes), or a PBES2 password.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for fewer than 16 bytes.
    public init(symmetricKey bytes: Data, keyID: String? = nil) throws {
        guard bytes.count >= 16 else { throw BulwarkError(.invalidArgument, "a symmetric JWK has at least 16 bytes") }
        self.init(.symmetric(SymmetricKey(data: bytes)), keyID: keyID)
    }

    /// The public half; a public key, and a symmetric key (which has no public half), is itself.
    public var publicKey: JWK {
        switch self.key {
        case .p256Private(let key): JWK(.p256Public(key.publicKey), keyID: self.keyID, algorithm: self.algorithm, use: self.use)
        case .ed25519Private(let key): JWK(.ed25519Public(key.publicKey), keyID: self.keyID, algorithm: self.algorithm, use: self.use)
        case .x25519Private(let key): JWK(.x25519Public(key.publicKey), keyID: self.keyID, algorithm: self.algorithm, use: self.use)
        case .rsaPrivate(let key): JWK(.rsaPublic(key.publicKey), keyID: self.keyID, algorithm: self.algorithm, use: self.use)
        default: self
        }
    }

    /// Whether the key holds a secret (a private or symmetric key).
    public var isSecret: Bool {
        switch self.key {
        case .p256Public, .ed25519Public, .x25519Public, .rsaPublic: false
        default: true
        }
    }

    // MARK: JSON

    /// Reads a JWK (a JSON object).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed key, an unsupported `kty`
    ///   or curve, or a private part that does not match the public one.
    public init(json: Data) throws {
        guard let object = JOSEJSON.object(json) else {
            throw BulwarkError(.invalidFormat, "not a JWK (a JSON object)")
        }
        try self.init(object: object)
    }

    init(object: [String: Any]) throws {
        func member(_ name: String) throws -> Data {
            guard let text = object[name] as? String, !text.contains("="), let data = Base64URL.decode(text) else {
                throw BulwarkError(.invalidFormat, "JWK member '\(name)' is missing or not base64url")
            }
            return data
        }
        func optional(_ name: String) throws -> Data? { object[name] == nil ? nil : try member(name) }
        let key: Key
        do {
            switch (JOSE.ascii(object["kty"]), JOSE.ascii(object["crv"])) {
            case ("EC", "P-256"?):
                let x = try member("x"), y = try member("y")
                guard x.count == 32, y.count == 32 else { throw BulwarkError(.invalidFormat, "a P-256 JWK's x and y are 32 bytes each") }
                let point = Data([4]) + x + y
                let publicKey = try P256.Signing.PublicKey(x963Representation: point)
                if let d = try optional("d") {
                    let privateKey = try P256.Signing.PrivateKey(rawRepresentation: d)
                    guard privateKey.publicKey.rawRepresentation == publicKey.rawRepresentation else { throw JWK.mismatch }
                    key = .p256Private(privateKey)
                } else {
                    key = .p256Public(publicKey)
                }
            case ("OKP", "Ed25519"?):
                let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: try member("x"))
                if let d = try optional("d") {
                    let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: d)
                    guard privateKey.publicKey.rawRepresentation == publicKey.rawRepresentation else { throw JWK.mismatch }
                    key = .ed25519Private(privateKey)
                } else {
                    key = .ed25519Public(publicKey)
                }
            case ("OKP", "X25519"?):
                let raw = try member("x")
                guard raw.count == 32, !HybridSuite.isSmallOrderX25519(raw) else { throw BulwarkError(.invalidFormat, "an X25519 JWK of small order") }
                let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
                if let d = try optional("d") {
                    let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: d)
                    guard privateKey.publicKey.rawRepresentation == publicKey.rawRepresentation else { throw JWK.mismatch }
                    key = .x25519Private(privateKey)
                } else {
                    key = .x25519Public(publicKey)
                }
            case ("oct", nil):
                let bytes = try member("k")
                guard bytes.count >= 16 else { throw BulwarkError(.invalidFormat, "a symmetric JWK of fewer than 16 bytes") }
                key = .symmetric(SymmetricKey(data: bytes))
            case ("RSA", nil):
                let n = try member("n"), e = try member("e")
                guard n.drop(while: { $0 == 0 }).count * 8 >= 2048 else { throw BulwarkError(.invalidFormat, "RSA JWKs below 2048 bits are refused") }
                if let d = try optional("d") {
                    key = .rsaPrivate(try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: try member("p"), q: try member("q")))
                } else {
                    key = .rsaPublic(try _RSA.Signing.PublicKey(n: n, e: e))
                }
            default:
                throw BulwarkError(.invalidFormat, "unsupported JWK type (EC P-256, OKP Ed25519/X25519, oct, RSA)")
            }
        } catch let error as BulwarkError {
            throw error
        } catch {
            throw BulwarkError(.invalidFormat, "the JWK's key is not valid")
        }
        if let use = object["use"], !(use is String) { throw BulwarkError(.invalidFormat, "JWK member 'use' is not a string") }
        self.init(key, keyID: object["kid"] as? String, algorithm: object["alg"] as? String, use: object["use"] as? String)
    }

    /// Refuses a key whose `use` or `alg` names another purpose than `purpose` (`sig`/`enc`)
    /// and `algorithm`.
    func check(purpose: String, algorithm: String) throws {
        // Byte for byte (Swift's `!=` would pass a canonically equivalent spelling).
        if let use = self.use, !use.utf8.elementsEqual(purpose.utf8) {
            throw BulwarkError(.authenticationFailed, "the key's use is \(use), not \(purpose)")
        }
        if let bound = self.algorithm, !bound.utf8.elementsEqual(algorithm.utf8) {
            throw BulwarkError(.authenticationFailed, "the key is for \(bound), not \(algorithm)")
        }
    }

    /// A JWE's `epk`: a public P-256 or X25519 key.
    enum Ephemeral {
        case p256(P256.KeyAgreement.PublicKey)
        case x25519(Curve25519.KeyAgreement.PublicKey)
    }

    /// Reads only a public EC P-256 or OKP X25519 key: a JWE's `epk`. Anything else (private
    /// parts, RSA members whose arithmetic an attacker could make arbitrarily costly) is refused
    /// before any of it is parsed; the point is checked on its curve, X25519 not of small order.
    static func ephemeral(_ object: [String: Any]) throws -> Ephemeral {
        let refused = BulwarkError(.authenticationFailed, "the JWE's epk is not a public P-256 or X25519 key")
        guard object.keys.allSatisfy({ $0 == "kty" || $0 == "crv" || $0 == "x" || $0 == "y" }) else { throw refused }
        func coordinate(_ name: String) throws -> Data {
            guard let text = object[name] as? String, let data = JOSE.decode(text[...]), data.count == 32 else { throw refused }
            return data
        }
        switch (JOSE.ascii(object["kty"]), JOSE.ascii(object["crv"])) {
        case ("EC", "P-256"?):
            var point = Data([4])
            point.append(try coordinate("x"))
            point.append(try coordinate("y"))
            guard let key = try? P256.KeyAgreement.PublicKey(x963Representation: point) else { throw refused }
            return .p256(key)
        case ("OKP", "X25519"?):
            let raw = try coordinate("x")
            guard object["y"] == nil, !HybridSuite.isSmallOrderX25519(raw), let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw) else { throw refused }
            return .x25519(key)
        default:
            throw refused
        }
    }

    private static let mismatch = BulwarkError(.invalidFormat, "the JWK's private part does not match its public part")

    /// The public JWK as JSON (`kid` included), for publishing.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` for a symmetric key: it has no public part.
    public func publicJSON() throws -> Data {
        if case .symmetric = self.key { throw BulwarkError(.wrongPurpose, "a symmetric JWK has no public part to publish") }
        return try Self.encode(self.publicKey.members(includingPrivate: false))
    }

    /// The JWK with its private part as JSON.
    /// - Parameter access: ``InsecureSecretKeyAccess/token``: the output holds the secret.
    public func json(access: InsecureSecretKeyAccess) throws -> Data {
        try Self.encode(try self.privateMembers())
    }

    func members(includingPrivate: Bool) -> [String: String] {
        var members = Self.publicMembers(self.key)
        // A symmetric key's `k` is its secret: written only with the private members.
        if !includingPrivate { members["k"] = nil }
        members["kid"] = self.keyID
        if let algorithm = self.algorithm { members["alg"] = algorithm }
        if let use = self.use { members["use"] = use }
        return members
    }

    private func privateMembers() throws -> [String: String] {
        var members = self.members(includingPrivate: true)
        switch self.key {
        case .p256Private(let key): members["d"] = Base64URL.encode(key.rawRepresentation)
        case .ed25519Private(let key): members["d"] = Base64URL.encode(key.rawRepresentation)
        case .x25519Private(let key): members["d"] = Base64URL.encode(key.rawRepresentation)
        case .symmetric(let key): members["k"] = key.withUnsafeBytes { Base64URL.encode(Data($0)) }
        case .rsaPrivate(let key):
            // PKCS#1 RSAPrivateKey inside the DER: version, n, e, d, p, q, dp, dq, qi.
            let integers = try DERIntegers.rsaPrivateKey(key.derRepresentation)
            for (name, value) in zip(["n", "e", "d", "p", "q", "dp", "dq", "qi"], integers.dropFirst()) { members[name] = Base64URL.encode(value) }
        default: break
        }
        return members
    }

    /// The members RFC 7638 hashes (the required public ones), plus nothing else.
    static func publicMembers(_ key: Key) -> [String: String] {
        func ec(_ point: Data) -> [String: String] {
            ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(point[point.startIndex + 1..<point.startIndex + 33]), "y": Base64URL.encode(point.suffix(32))]
        }
        switch key {
        case .p256Private(let key): return ec(key.publicKey.x963Representation)
        case .p256Public(let key): return ec(key.x963Representation)
        case .ed25519Private(let key): return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.publicKey.rawRepresentation)]
        case .ed25519Public(let key): return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.rawRepresentation)]
        case .x25519Private(let key): return ["kty": "OKP", "crv": "X25519", "x": Base64URL.encode(key.publicKey.rawRepresentation)]
        case .x25519Public(let key): return ["kty": "OKP", "crv": "X25519", "x": Base64URL.encode(key.rawRepresentation)]
        case .symmetric(let key): return ["kty": "oct", "k": key.withUnsafeBytes { Base64URL.encode(Data($0)) }]
        case .rsaPrivate(let key): return Self.rsaMembers(key.publicKey)
        case .rsaPublic(let key): return Self.rsaMembers(key)
        }
    }

    private static func rsaMembers(_ key: _RSA.Signing.PublicKey) -> [String: String] {
        guard let primitives = try? key.getKeyPrimitives() else { return ["kty": "RSA"] }
        return ["kty": "RSA", "n": Base64URL.encode(primitives.modulus.drop { $0 == 0 }), "e": Base64URL.encode(primitives.publicExponent.drop { $0 == 0 })]
    }

    /// RFC 7638: SHA-256 of the required members in lexicographic order, no white space.
    static func thumbprint(_ members: [String: String]) -> String {
        let text = "{" + members.keys.sorted().map { "\"\($0)\":\"\(members[$0] ?? "")\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(Data(SHA256.hash(data: Data(text.utf8))))
    }

    static func encode(_ object: Any) throws -> Data {
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw BulwarkError(.internalFailure, "the JWK cannot be written as JSON")
        }
    }
}

/// A JWK Set (RFC 7517 §5): keys found by `kid`.
public struct JWKSet: Sendable {
    /// The keys, in order.
    public let keys: [JWK]

    /// - Parameter keys: The keys.
    public init(keys: [JWK]) {
        self.keys = keys
    }

    /// Reads `{"keys": [...]}`; keys of unsupported types are skipped (RFC 7517 §5).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` when it is not a JWK Set.
    public init(json: Data) throws {
        guard let object = JOSEJSON.object(json), let keys = object["keys"] as? [[String: Any]] else {
            throw BulwarkError(.invalidFormat, "not a JWK Set")
        }
        self.keys = keys.compactMap { try? JWK(object: $0) }
    }

    /// The public keys as a JWK Set, for publishing (symmetric keys are left out).
    /// - Throws: ``BulwarkError/Code/internalFailure`` if the JSON cannot be written.
    public func publicJSON() throws -> Data {
        let keys = self.keys.filter {
            if case .symmetric = $0.key { return false }
            return true
        }.map { $0.publicKey.members(includingPrivate: false) }
        return try JWK.encode(["keys": keys])
    }

    /// The key with `kid` `keyID`.
    public func key(id keyID: String) -> JWK? {
        // Byte for byte: Swift's `==` would take canonically equivalent spellings as one id.
        self.keys.first { $0.keyID.utf8.elementsEqual(keyID.utf8) }
    }
}

/// Reads the INTEGERs of a DER SEQUENCE (an RSA private key in PKCS#1, or inside PKCS#8).
enum DERIntegers {
    static func rsaPrivateKey(_ der: Data) throws -> [Data] {
        let bytes = [UInt8](der)
        var index = 0
        func element() throws -> (tag: UInt8, range: Range<Int>) {
            guard index + 2 <= bytes.count else { throw BulwarkError(.invalidFormat, "malformed DER") }
            let tag = bytes[index]
            var length = Int(bytes[index + 1])
            index += 2
            if length & 0x80 != 0 {
                let count = length & 0x7F
                guard (1...4).contains(count), index + count <= bytes.count else { throw BulwarkError(.invalidFormat, "malformed DER") }
                length = bytes[index..<(index + count)].reduce(0) { $0 << 8 | Int($1) }
                index += count
            }
            guard index + length <= bytes.count else { throw BulwarkError(.invalidFormat, "malformed DER") }
            return (tag, index..<(index + length))
        }
        var outer = try element()
        guard outer.tag == 0x30 else { throw BulwarkError(.invalidFormat, "malformed DER") }
        // PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey } }.
        let first = try element()
        index = first.range.upperBound
        if first.tag == 0x02, bytes[first.range] == [0], index < bytes.count, bytes[index] == 0x30 {
            let algorithm = try element()
            index = algorithm.range.upperBound
            let octets = try element()
            guard octets.tag == 0x04 else { throw BulwarkError(.invalidFormat, "malformed DER") }
            outer = try element()
            guard outer.tag == 0x30 else { throw BulwarkError(.invalidFormat, "malformed DER") }
        } else {
            index = outer.range.lowerBound
        }
        var integers: [Data] = []
        while index < outer.range.upperBound {
            let item = try element()
            guard item.tag == 0x02 else { throw BulwarkError(.invalidFormat, "malformed DER") }
            integers.append(Data(bytes[item.range].drop { $0 == 0 }))
            index = item.range.upperBound
        }
        guard integers.count >= 9 else { throw BulwarkError(.invalidFormat, "not an RSA private key") }
        return integers
    }
}
