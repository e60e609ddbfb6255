import Crypto
import CryptoExtras
public import Foundation

/// JSON Web Encryption (RFC 7516/7518) in the compact and the JSON serializations.
///
/// Key management: `dir`, `A256KW`, `A256GCMKW`, `ECDH-ES` and `ECDH-ES+A256KW` (P-256 and
/// X25519, Concat KDF), `RSA-OAEP-256`, `PBES2-HS512+A256KW`. Content: `A256GCM` and
/// `A128CBC-HS256` (the CBC-HMAC composite: the tag is checked, in constant time, before anything
/// is decrypted; CBC is never used without it). Every IV, ephemeral key, salt and content key is
/// made here from the system's CSPRNG, never taken from the caller. Decryption takes the
/// algorithms the caller accepts and refuses `zip`, `crit` and anything unauthenticated before
/// using it; every failure after the header is one ``BulwarkError/Code/authenticationFailed``
/// (an RSA-OAEP failure goes on with a random content key, RFC 7516 §11.5, so it is no oracle).
public enum JWE {
    /// How the content key reaches the recipient (`alg`).
    public enum KeyAlgorithm: String, Sendable, CaseIterable {
        /// The key is the content key.
        case direct = "dir"
        /// AES-256 key wrap (RFC 3394).
        case a256KW = "A256KW"
        /// AES-256-GCM key wrap (`iv`, `tag` in the header).
        case a256GCMKW = "A256GCMKW"
        /// ECDH-ES key agreement: the derived key is the content key (one recipient only).
        case ecdhES = "ECDH-ES"
        /// ECDH-ES key agreement, then AES-256 key wrap.
        case ecdhESA256KW = "ECDH-ES+A256KW"
        /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
        case rsaOAEP256 = "RSA-OAEP-256"
        /// PBKDF2-HMAC-SHA-512 from a password (`p2s`, `p2c`), then AES-256 key wrap.
        case pbes2HS512A256KW = "PBES2-HS512+A256KW"
    }

    /// How the content is encrypted (`enc`).
    public enum ContentAlgorithm: String, Sendable, CaseIterable {
        /// AES-256-GCM.
        case a256GCM = "A256GCM"
        /// AES-128-CBC with HMAC-SHA-256 truncated to 128 bits (RFC 7518 §5.2.3).
        case a128CBCHS256 = "A128CBC-HS256"

        var keyBytes: Int { 32 }
    }

    /// The most recipients a JSON JWE may list when decrypting.
    static let maximumRecipients = 16

    /// PBES2 iterations written (OWASP's figure for PBKDF2-HMAC-SHA-512).
    public static let pbes2Iterations = 210_000
    /// PBES2 iterations read: RFC 7518's minimum to joserfc's maximum (a token cannot make the
    /// reader spend more than about a quarter of a second).
    static let pbes2Range = 1_000...300_000

    /// One recipient: its key and how the content key reaches it.
    public struct Recipient: Sendable {
        /// The recipient's key (public for ECDH-ES and RSA, symmetric otherwise; a PBES2 key is
        /// an `oct` key holding the password).
        public let key: JWK
        /// The key management algorithm.
        public let algorithm: KeyAlgorithm

        /// - Parameters:
        ///   - key: The recipient's key.
        ///   - algorithm: The key management algorithm.
        public init(key: JWK, algorithm: KeyAlgorithm) {
            self.key = key
            self.algorithm = algorithm
        }
    }

    // MARK: - Compact

    /// Encrypts `plaintext` to one recipient in the compact serialization.
    public static func encrypt(_ plaintext: Data, to recipient: Recipient, content: ContentAlgorithm, header: [String: String] = [:]) throws -> String {
        try JOSE.refuseReserved(header)
        let (cek, members, encryptedKey) = try Self.wrap(for: recipient, content: content, sharedCEK: nil)
        var protected: [String: Any] = header
        protected.merge(members) { $1 }
        protected["enc"] = content.rawValue
        let protectedText = Base64URL.encode(try JOSE.headerJSON(protected))
        let (iv, ciphertext, tag) = try Self.seal(plaintext, cek: cek, content: content, aad: Data(protectedText.utf8))
        return JOSE.join(protectedText, encryptedKey, iv, ciphertext, tag)
    }

    /// Decrypts a compact JWE with the key its `kid` names in `keys` (or the only key).
    /// - Returns: The plaintext and the protected header.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed token; `authenticationFailed`
    ///   for a refused algorithm, a wrong key or anything altered.
    public static func decrypt(
        _ token: String, keys: JWKSet, accepting algorithms: Set<KeyAlgorithm>, acceptingContent contents: Set<ContentAlgorithm>
    ) throws -> (plaintext: Data, header: [String: Any]) {
        guard let (parts, protectedText) = JOSE.compact(token, count: 5, signedParts: 1),
            let header = JOSEJSON.object(parts[0])
        else { throw BulwarkError(.invalidFormat, "not a compact JWE") }
        let plaintext = try Self.open(
            header: header, encryptedKey: parts[1], iv: parts[2], ciphertext: parts[3], tag: parts[4], aad: protectedText,
            keys: keys, algorithms: algorithms, contents: contents)
        return (plaintext, header)
    }

    // MARK: - JSON

    /// Encrypts `plaintext` to one or more recipients in the general JSON serialization
    /// (RFC 7516 §7.2.1): `enc` in the protected header, each recipient's `alg`, `kid` and key
    /// management members in its own header; optional additional authenticated data.
    public static func encryptJSON(_ plaintext: Data, to recipients: [Recipient], content: ContentAlgorithm, aad: Data? = nil) throws -> Data {
        guard !recipients.isEmpty else { throw BulwarkError(.invalidArgument, "give at least one recipient") }
        if recipients.count > 1, recipients.contains(where: { $0.algorithm == .direct || $0.algorithm == .ecdhES }) {
            throw BulwarkError(.invalidArgument, "dir and ECDH-ES derive the content key: they take one recipient only")
        }
        var cek: SymmetricKey?
        var entries: [[String: Any]] = []
        for recipient in recipients {
            let (key, members, encryptedKey) = try Self.wrap(for: recipient, content: content, sharedCEK: cek)
            cek = key
            entries.append(["header": members, "encrypted_key": Base64URL.encode(encryptedKey)])
        }
        guard let cek else { throw BulwarkError(.internalFailure, "no content key") }
        let protectedText = Base64URL.encode(try JOSE.headerJSON(["enc": content.rawValue]))
        var aadText = protectedText
        if let aad { aadText += "." + Base64URL.encode(aad) }
        let (iv, ciphertext, tag) = try Self.seal(plaintext, cek: cek, content: content, aad: Data(aadText.utf8))
        var object: [String: Any] = [
            "protected": protectedText, "recipients": entries, "iv": Base64URL.encode(iv), "ciphertext": Base64URL.encode(ciphertext),
            "tag": Base64URL.encode(tag),
        ]
        if let aad { object["aad"] = Base64URL.encode(aad) }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// Decrypts a JWE in the general or flattened JSON serialization, with the first recipient
    /// whose `kid` names a key in `keys` (or, with one key, the first recipient it opens).
    /// The protected, shared and per-recipient headers must not repeat a member (§7.2.1).
    public static func decryptJSON(
        _ json: Data, keys: JWKSet, accepting algorithms: Set<KeyAlgorithm>, acceptingContent contents: Set<ContentAlgorithm>
    ) throws -> (plaintext: Data, aad: Data?) {
        guard let object = JOSEJSON.object(json),
            let iv = (object["iv"] as? String).flatMap({ JOSE.decode($0[...]) }),
            let ciphertext = (object["ciphertext"] as? String).flatMap({ JOSE.decode($0[...]) }),
            let tag = (object["tag"] as? String).flatMap({ JOSE.decode($0[...]) })
        else { throw BulwarkError(.invalidFormat, "not a JSON JWE") }
        let protectedText = object["protected"] as? String ?? ""
        var protected: [String: Any] = [:]
        if !protectedText.isEmpty {
            guard let bytes = JOSE.decode(protectedText[...]), let parsed = JOSEJSON.object(bytes) else {
                throw BulwarkError(.invalidFormat, "the JWE's protected header is malformed")
            }
            protected = parsed
        }
        let shared = object["unprotected"] as? [String: Any] ?? [:]
        var aad: Data?
        var aadText = protectedText
        if let text = object["aad"] as? String {
            guard let decoded = JOSE.decode(text[...]) else { throw BulwarkError(.invalidFormat, "the JWE's aad is not base64url") }
            aad = decoded
            aadText += "." + text
        }
        let recipients: [[String: Any]]
        if let list = object["recipients"] as? [[String: Any]] {
            recipients = list
        } else {
            var single: [String: Any] = [:]
            single["header"] = object["header"]
            single["encrypted_key"] = object["encrypted_key"]
            recipients = [single]
        }
        // The content algorithm must be authenticated (joserfc requires the same).
        guard protected["enc"] != nil else { throw BulwarkError(.invalidFormat, "the JWE's enc is not in its protected header") }
        // Bounded work per token: a few recipients, one password derivation at most.
        guard recipients.count <= Self.maximumRecipients else { throw BulwarkError(.invalidFormat, "the JWE has more than \(Self.maximumRecipients) recipients") }
        var derivedFromPassword = false
        var lastError = BulwarkError(.authenticationFailed, "no recipient of the JWE is one of the keys given")
        for recipient in recipients {
            let own = recipient["header"] as? [String: Any] ?? [:]
            let names = Array(protected.keys) + Array(shared.keys) + Array(own.keys)
            guard Set(names).count == names.count else { throw BulwarkError(.invalidFormat, "the JWE's headers repeat a member") }
            var header = protected
            header.merge(shared) { first, _ in first }
            header.merge(own) { first, _ in first }
            if let kid = header["kid"] as? String, keys.key(id: kid) == nil { continue }
            if JOSE.ascii(header["alg"]) == KeyAlgorithm.pbes2HS512A256KW.rawValue {
                if derivedFromPassword { continue }
                derivedFromPassword = true
            }
            var encryptedKey = Data()
            if let value = recipient["encrypted_key"] {
                guard let text = value as? String, let decoded = JOSE.decode(text[...]) else {
                    throw BulwarkError(.invalidFormat, "a JWE recipient's encrypted_key is not base64url")
                }
                encryptedKey = decoded
            }
            do {
                let plaintext = try Self.open(
                    header: header, encryptedKey: encryptedKey, iv: iv, ciphertext: ciphertext, tag: tag, aad: Data(aadText.utf8),
                    keys: keys, algorithms: algorithms, contents: contents)
                return (plaintext, aad)
            } catch let error as BulwarkError {
                lastError = error
            }
        }
        throw lastError
    }

    // MARK: - Key management

    /// The content key, the header members and the encrypted key for one recipient (the content
    /// key is `sharedCEK` when another recipient made it already).
    static func wrap(for recipient: Recipient, content: ContentAlgorithm, sharedCEK: SymmetricKey?) throws -> (SymmetricKey, [String: Any], Data) {
        var members: [String: Any] = ["alg": recipient.algorithm.rawValue, "kid": recipient.key.keyID]
        let fresh = sharedCEK ?? SymmetricKey(data: SecureRandom.bytes(content.keyBytes))
        switch (recipient.algorithm, recipient.key.key) {
        case (.direct, .symmetric(let key)):
            guard key.bitCount == content.keyBytes * 8 else { throw BulwarkError(.wrongPurpose, "a dir key for \(content.rawValue) is \(content.keyBytes) bytes") }
            return (key, members, Data())
        case (.a256KW, .symmetric(let key)):
            return (fresh, members, try Self.keyWrap(fresh, with: key))
        case (.a256GCMKW, .symmetric(let key)):
            guard key.bitCount == 256 else { throw BulwarkError(.wrongPurpose, "an A256GCMKW key is 32 bytes") }
            let box = try fresh.withUnsafeBytes { try AES.GCM.seal(Data($0), using: key) }
            members["iv"] = Base64URL.encode(Data(box.nonce))
            members["tag"] = Base64URL.encode(box.tag)
            return (fresh, members, box.ciphertext)
        case (.ecdhES, _), (.ecdhESA256KW, _):
            let (z, epk) = try Self.agree(with: recipient.key)
            members["epk"] = epk
            let direct = recipient.algorithm == .ecdhES
            let derived = Self.concatKDF(
                z: z, keyBytes: direct ? content.keyBytes : 32, algorithmID: direct ? content.rawValue : recipient.algorithm.rawValue, apu: Data(),
                apv: Data())
            if direct { return (derived, members, Data()) }
            return (fresh, members, try Self.keyWrap(fresh, with: derived))
        case (.rsaOAEP256, .rsaPublic(let key)):
            return (fresh, members, try Self.rsaEncrypt(fresh, key))
        case (.rsaOAEP256, .rsaPrivate(let key)):
            return (fresh, members, try Self.rsaEncrypt(fresh, key.publicKey))
        case (.pbes2HS512A256KW, .symmetric(let password)):
            let salt = Data(SecureRandom.bytes(16))
            members["p2s"] = Base64URL.encode(salt)
            members["p2c"] = Self.pbes2Iterations
            let kek = try Self.pbes2(password: password, salt: salt, iterations: Self.pbes2Iterations)
            return (fresh, members, try Self.keyWrap(fresh, with: kek))
        default:
            throw BulwarkError(.wrongPurpose, "this key cannot be used with \(recipient.algorithm.rawValue)")
        }
    }

    /// The content key for a recipient's header and encrypted key.
    static func unwrap(header: [String: Any], encryptedKey: Data, key: JWK, algorithm: KeyAlgorithm, content: ContentAlgorithm) throws -> SymmetricKey {
        let refused = BulwarkError(.authenticationFailed, "the JWE does not decrypt with this key")
        switch (algorithm, key.key) {
        case (.direct, .symmetric(let secret)):
            guard encryptedKey.isEmpty, secret.bitCount == content.keyBytes * 8 else { throw refused }
            return secret
        case (.a256KW, .symmetric(let secret)):
            return try Self.keyUnwrap(encryptedKey, with: secret, content: content)
        case (.a256GCMKW, .symmetric(let secret)):
            guard secret.bitCount == 256, let iv = (header["iv"] as? String).flatMap({ JOSE.decode($0[...]) }), iv.count == 12,
                let tag = (header["tag"] as? String).flatMap({ JOSE.decode($0[...]) }), tag.count == 16, encryptedKey.count == content.keyBytes,
                let box = try? AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: iv), ciphertext: encryptedKey, tag: tag),
                let cek = try? AES.GCM.open(box, using: secret)
            else { throw refused }
            return SymmetricKey(data: cek)
        case (.ecdhES, _), (.ecdhESA256KW, _):
            guard let epk = header["epk"] as? [String: Any] else { throw refused }
            let z = try Self.agree(privateKey: key, epk: epk)
            let apu = try Self.optionalMember(header["apu"], refused)
            let apv = try Self.optionalMember(header["apv"], refused)
            if algorithm == .ecdhES {
                guard encryptedKey.isEmpty else { throw refused }
                return Self.concatKDF(z: z, keyBytes: content.keyBytes, algorithmID: content.rawValue, apu: apu, apv: apv)
            }
            let kek = Self.concatKDF(z: z, keyBytes: 32, algorithmID: algorithm.rawValue, apu: apu, apv: apv)
            return try Self.keyUnwrap(encryptedKey, with: kek, content: content)
        case (.rsaOAEP256, .rsaPrivate(let privateKey)):
            // A failure continues with a random key (RFC 7516 §11.5): the content check then
            // fails the same way, so an attacker learns nothing from which step failed.
            let random = SymmetricKey(data: SecureRandom.bytes(content.keyBytes))
            guard let encryption = try? _RSA.Encryption.PrivateKey(derRepresentation: privateKey.derRepresentation),
                let cek = try? encryption.decrypt(encryptedKey, padding: .PKCS1_OAEP_SHA256), cek.count == content.keyBytes
            else { return random }
            return SymmetricKey(data: cek)
        case (.pbes2HS512A256KW, .symmetric(let password)):
            guard let salt = (header["p2s"] as? String).flatMap({ JOSE.decode($0[...]) }), salt.count >= 8,
                let iterations = Self.integer(header["p2c"]), Self.pbes2Range.contains(iterations)
            else { throw BulwarkError(.authenticationFailed, "PBES2 needs p2s of at least 8 bytes and p2c from 1,000 to 300,000") }
            return try Self.keyUnwrap(encryptedKey, with: try Self.pbes2(password: password, salt: salt, iterations: iterations), content: content)
        default:
            throw BulwarkError(.authenticationFailed, "the key cannot be used with \(algorithm.rawValue)")
        }
    }

    /// An optional base64url header member: absent is empty, anything but a base64url string refused.
    private static func optionalMember(_ value: Any?, _ refused: BulwarkError) throws -> Data {
        guard let value else { return Data() }
        guard let text = value as? String, let data = JOSE.decode(text[...]) else { throw refused }
        return data
    }

    private static func integer(_ value: Any?) -> Int? {
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        if let text = value as? String { return Int(text) }
        return nil
    }

    static func keyWrap(_ cek: SymmetricKey, with kek: SymmetricKey) throws -> Data {
        guard kek.bitCount == 256 else { throw BulwarkError(.wrongPurpose, "an A256KW key is 32 bytes") }
        return try AES.KeyWrap.wrap(cek, using: kek)
    }

    static func keyUnwrap(_ wrapped: Data, with kek: SymmetricKey, content: ContentAlgorithm) throws -> SymmetricKey {
        guard kek.bitCount == 256, wrapped.count == content.keyBytes + 8, let cek = try? AES.KeyWrap.unwrap(wrapped, using: kek) else {
            throw BulwarkError(.authenticationFailed, "the JWE's wrapped key does not unwrap with this key")
        }
        return cek
    }

    static func rsaEncrypt(_ cek: SymmetricKey, _ key: _RSA.Signing.PublicKey) throws -> Data {
        let encryption = try _RSA.Encryption.PublicKey(derRepresentation: key.derRepresentation)
        return try cek.withUnsafeBytes { try encryption.encrypt(Data($0), padding: .PKCS1_OAEP_SHA256) }
    }

    static func pbes2(password: SymmetricKey, salt: Data, iterations: Int) throws -> SymmetricKey {
        let input = Data(KeyAlgorithm.pbes2HS512A256KW.rawValue.utf8) + Data([0]) + salt
        return try password.withUnsafeBytes { bytes in
            try KDF.Insecure.PBKDF2.deriveKey(from: Data(bytes), salt: input, using: .sha512, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        }
    }

    /// The Concat KDF of NIST SP 800-56A as RFC 7518 §4.6.2 uses it (SHA-256): each round
    /// hashes counter ‖ Z ‖ OtherInfo, OtherInfo = len ‖ AlgorithmID ‖ len ‖ apu ‖ len ‖ apv ‖
    /// keydatalen, written once into one buffer.
    static func concatKDF(z: Data, keyBytes: Int, algorithmID: String, apu: Data, apv: Data) -> SymmetricKey {
        var input: [UInt8] = []
        input.reserveCapacity(4 + z.count + 4 + algorithmID.utf8.count + 4 + apu.count + 4 + apv.count + 4)
        func append(_ value: UInt32) {
            input.append(contentsOf: [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
        }
        append(1)
        z.withUnsafeBytes { input.append(contentsOf: $0) }
        append(UInt32(algorithmID.utf8.count))
        input.append(contentsOf: algorithmID.utf8)
        append(UInt32(apu.count))
        apu.withUnsafeBytes { input.append(contentsOf: $0) }
        append(UInt32(apv.count))
        apv.withUnsafeBytes { input.append(contentsOf: $0) }
        append(UInt32(keyBytes * 8))
        var output: [UInt8] = []
        output.reserveCapacity(keyBytes + 32)
        var counter: UInt32 = 1
        while output.count < keyBytes {
            input[0] = UInt8(truncatingIfNeeded: counter >> 24)
            input[1] = UInt8(truncatingIfNeeded: counter >> 16)
            input[2] = UInt8(truncatingIfNeeded: counter >> 8)
            input[3] = UInt8(truncatingIfNeeded: counter)
            output += SHA256.hash(data: input)
            counter += 1
        }
        // Z and the derived bytes are secrets: both buffers are cleared before they are freed.
        defer {
            output.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
            input.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        }
        return SymmetricKey(data: output.prefix(keyBytes))
    }

    /// A fresh ephemeral key against the recipient's public key: Z and the `epk` header member.
    static func agree(with recipient: JWK) throws -> (Data, [String: String]) {
        switch recipient.publicKey.key {
        case .p256Public(let key):
            let ephemeral = try Self.ephemeralP256()
            let peer = try recipient.p256AgreementPublic ?? P256.KeyAgreement.PublicKey(x963Representation: key.x963Representation)
            let shared = try ephemeral.sharedSecretFromKeyAgreement(with: peer)
            let point = ephemeral.publicKey.x963Representation
            let epk = ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(point[1...32]), "y": Base64URL.encode(point[33...64])]
            return (shared.withUnsafeBytes { Data($0) }, epk)
        case .x25519Public(let key):
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let shared = try ephemeral.sharedSecretFromKeyAgreement(with: key)
            return (shared.withUnsafeBytes { Data($0) }, ["kty": "OKP", "crv": "X25519", "x": Base64URL.encode(ephemeral.publicKey.rawRepresentation)])
        default:
            throw BulwarkError(.wrongPurpose, "ECDH-ES needs a P-256 or X25519 key")
        }
    }

    /// Z from the recipient's private key and the sender's `epk` (checked: on the curve, of the
    /// key's own curve, not of small order).
    static func agree(privateKey: JWK, epk: [String: Any]) throws -> Data {
        let refused = BulwarkError(.authenticationFailed, "the JWE's epk does not fit this key")
        switch (privateKey.key, try JWK.ephemeral(epk)) {
        case (.p256Private(let key), .p256(let peer)):
            let agreement = try privateKey.p256Agreement ?? P256.KeyAgreement.PrivateKey(rawRepresentation: key.rawRepresentation)
            guard let shared = try? agreement.sharedSecretFromKeyAgreement(with: peer) else { throw refused }
            return shared.withUnsafeBytes { Data($0) }
        case (.x25519Private(let key), .x25519(let peer)):
            guard let shared = try? key.sharedSecretFromKeyAgreement(with: peer) else { throw refused }
            let z = shared.withUnsafeBytes { Data($0) }
            guard z.contains(where: { $0 != 0 }) else { throw refused }
            return z
        default:
            throw refused
        }
    }

    /// A fresh P-256 key for one agreement, from 32 random bytes (the generator's FIPS
    /// pairwise self-test, an ECDSA signature and its verification, would cost more than the
    /// agreement itself); a scalar out of range, once in 2^32, is drawn again.
    static func ephemeralP256() throws -> P256.KeyAgreement.PrivateKey {
        for _ in 0..<8 {
            if let key = try? P256.KeyAgreement.PrivateKey(rawRepresentation: SecureRandom.bytes(32)) { return key }
        }
        throw BulwarkError(.internalFailure, "no P-256 key could be made")
    }

    // MARK: - Content

    static func seal(_ plaintext: Data, cek: SymmetricKey, content: ContentAlgorithm, aad: Data) throws -> (iv: Data, ciphertext: Data, tag: Data) {
        switch content {
        case .a256GCM:
            // One call into libcrypto with a nonce from the CSPRNG (the content key is used once).
            let iv = Data(SecureRandom.bytes(12))
            var sealed = Data(count: plaintext.count + 16)
            try iv.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try plaintext.withUnsafeBytes { plaintext in
                        try sealed.withUnsafeMutableBytes { output in
                            try LibCryptoAEAD.sealOnce(.aes256GCM, key: cek, nonce: nonce, aad: aad, plaintext: plaintext, output: output)
                        }
                    }
                }
            }
            return (iv, sealed.prefix(plaintext.count), sealed.suffix(16))
        case .a128CBCHS256:
            let (macKey, encKey) = Self.split(cek)
            let iv = Data(SecureRandom.bytes(16))
            let ciphertext = try AES._CBC.encrypt(plaintext, using: encKey, iv: try AES._CBC.IV(ivBytes: iv))
            return (iv, ciphertext, Self.cbcTag(macKey: macKey, aad: aad, iv: iv, ciphertext: ciphertext))
        }
    }

    static func unseal(iv: Data, ciphertext: Data, tag: Data, cek: SymmetricKey, content: ContentAlgorithm, aad: Data) throws -> Data {
        let refused = BulwarkError(.authenticationFailed, "the JWE was altered, or the key is wrong")
        switch content {
        case .a256GCM:
            guard cek.bitCount == 256, iv.count == 12, tag.count == 16 else { throw refused }
            var sealed = ciphertext
            sealed.append(tag)
            var plaintext = Data(count: ciphertext.count)
            // Any failure (a message too long for one call included) is the one refusal.
            let authentic = try? iv.withUnsafeBytes { nonce in
                try aad.withUnsafeBytes { aad in
                    try sealed.withUnsafeBytes { sealed in
                        try plaintext.withUnsafeMutableBytes { output in
                            try LibCryptoAEAD.openOnce(.aes256GCM, key: cek, nonce: nonce, aad: aad, ciphertextAndTag: sealed, output: output)
                        }
                    }
                }
            }
            guard authentic == true else { throw refused }
            return plaintext
        case .a128CBCHS256:
            guard cek.bitCount == 256, iv.count == 16, tag.count == 16, ciphertext.count % 16 == 0, !ciphertext.isEmpty else { throw refused }
            let (macKey, encKey) = Self.split(cek)
            // The tag first, in constant time; CBC only on authenticated bytes (no padding oracle).
            guard constantTimeEquals(Self.cbcTag(macKey: macKey, aad: aad, iv: iv, ciphertext: ciphertext), tag),
                let plaintext = try? AES._CBC.decrypt(ciphertext, using: encKey, iv: try AES._CBC.IV(ivBytes: iv))
            else { throw refused }
            return plaintext
        }
    }

    private static func split(_ cek: SymmetricKey) -> (mac: SymmetricKey, enc: SymmetricKey) {
        cek.withUnsafeBytes { bytes in (SymmetricKey(data: Data(bytes.prefix(16))), SymmetricKey(data: Data(bytes.suffix(16)))) }
    }

    private static func cbcTag(macKey: SymmetricKey, aad: Data, iv: Data, ciphertext: Data) -> Data {
        let bits = UInt64(aad.count) * 8
        let length = Data((0..<8).map { UInt8(truncatingIfNeeded: bits >> (56 - 8 * UInt64($0))) })
        return Data(HMAC<SHA256>.authenticationCode(for: aad + iv + ciphertext + length, using: macKey)).prefix(16)
    }

    /// Decrypts once the header names accepted algorithms and a key.
    static func open(
        header: [String: Any], encryptedKey: Data, iv: Data, ciphertext: Data, tag: Data, aad: Data, keys: JWKSet,
        algorithms: Set<KeyAlgorithm>, contents: Set<ContentAlgorithm>
    ) throws -> Data {
        guard let algorithm = JOSE.ascii(header["alg"]).flatMap(KeyAlgorithm.init(rawValue:)), algorithms.contains(algorithm),
            let content = JOSE.ascii(header["enc"]).flatMap(ContentAlgorithm.init(rawValue:)), contents.contains(content)
        else { throw BulwarkError(.authenticationFailed, "the JWE's algorithms are not among those accepted") }
        guard header["zip"] == nil else { throw BulwarkError(.authenticationFailed, "compressed JWEs (zip) are refused") }
        guard header["crit"] == nil else { throw BulwarkError(.authenticationFailed, "the JWE has critical header members this does not understand") }
        let key = try JOSE.pick(keys, keyID: header["kid"] as? String)
        try key.check(purpose: "enc", algorithm: algorithm.rawValue)
        let cek = try Self.unwrap(header: header, encryptedKey: encryptedKey, key: key, algorithm: algorithm, content: content)
        return try Self.unseal(iv: iv, ciphertext: ciphertext, tag: tag, cek: cek, content: content, aad: aad)
    }
}
