import Bulwark
import Crypto
public import Foundation
import NIOSSL

/// Public-key pins for a server's TLS certificate: the base64 SHA-256 of its key's
/// SubjectPublicKeyInfo (RFC 7469's `pin-sha256`, what `bulwark tls pins` and the usual
/// `openssl … | openssl dgst -sha256 -binary | base64` recipe print).
///
/// A connection is used only when the certificate chain verifies as usual (trusted CA, name,
/// validity) **and** the server certificate's key is pinned: a certificate from a trusted CA for
/// a key that is not pinned (a mis-issued or coerced certificate, a TLS-intercepting proxy) is
/// refused with ``BulwarkError/Code/pinMismatch`` before any request, and its token, is sent.
///
/// As RFC 7469 advises, a primary and at least one backup pin are required: the backup is the
/// pin of a key made and kept offline for the next certificate, so the server can move to it
/// with no client change (`docs/PINNING.md`).
public struct CertificatePins: Sendable, Hashable {
    /// The pins, primary first.
    public let pins: [String]

    /// - Parameters:
    ///   - primary: The pin of the key the server uses now.
    ///   - backups: At least one pin of another key (the next one).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for no backup, a repeated pin, or a value
    ///   that is not the standard base64 of 32 bytes.
    public init(primary: String, backups: [String]) throws {
        guard !backups.isEmpty else {
            throw BulwarkError(.invalidArgument, "pin a backup key too (RFC 7469): without one, the next certificate locks every client out")
        }
        // Kept in canonical form (decoded and encoded again), so that equal digests compare equal.
        let all = try ([primary] + backups).map { pin -> String in
            guard let digest = Data(base64Encoded: pin.trimmingCharacters(in: .whitespaces)), digest.count == SHA256.byteCount else {
                throw BulwarkError(.invalidArgument, "a pin is the base64 of a SHA-256 digest (44 characters ending in '=')")
            }
            return digest.base64EncodedString()
        }
        guard Set(all).count == all.count else { throw BulwarkError(.invalidArgument, "the same pin is given twice") }
        self.pins = all
    }

    /// The pin of a DER SubjectPublicKeyInfo.
    public static func pin<SPKI: DataProtocol>(subjectPublicKeyInfo: SPKI) -> String {
        Data(SHA256.hash(data: Data(subjectPublicKeyInfo))).base64EncodedString()
    }

    /// The pin of the key in a PEM certificate, of a PEM public key (any algorithm), or of an EC
    /// private key (P-256, P-384, P-521): the backup key's pin can be computed before any
    /// certificate exists for it.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for anything else.
    public static func pin(pem: String) throws -> String {
        if let certificate = try? NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem) {
            return try Self.pin(certificate)
        }
        if let spki = Self.publicKeyDER(pem) { return Self.pin(subjectPublicKeyInfo: spki) }
        if let spki = Self.ecPublicKeyDER(privateKeyPEM: pem) { return Self.pin(subjectPublicKeyInfo: spki) }
        throw BulwarkError(.invalidFormat, "not a PEM certificate, public key or private key")
    }

    /// The pin of a certificate's key.
    static func pin(_ certificate: NIOSSLCertificate) throws -> String {
        do {
            return Self.pin(subjectPublicKeyInfo: try certificate.extractPublicKey().toSPKIBytes())
        } catch {
            throw BulwarkError(.invalidFormat, "the certificate's public key cannot be read")
        }
    }

    /// Whether the server certificate's key is pinned.
    func allows(_ certificate: NIOSSLCertificate) -> Bool {
        guard let pin = try? Self.pin(certificate) else { return false }
        return self.pins.contains(pin)
    }

    /// The DER body of a `PUBLIC KEY` PEM block (a SubjectPublicKeyInfo, whatever the
    /// algorithm), when it is one: a SEQUENCE holding an algorithm SEQUENCE and a BIT STRING,
    /// every length exact (a truncated or corrupt file would otherwise give a pin that matches
    /// nothing, found out only at rotation).
    private static func publicKeyDER(_ pem: String) -> Data? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
            let end = lines[begin...].firstIndex(of: "-----END PUBLIC KEY-----"),
            let der = Data(base64Encoded: lines[(begin + 1)..<end].joined())
        else { return nil }
        let bytes = [UInt8](der)
        guard let outer = DERElement(bytes, at: 0), outer.tag == 0x30, outer.end == bytes.count,
            let algorithm = DERElement(bytes, at: outer.contentStart), algorithm.tag == 0x30,
            let key = DERElement(bytes, at: algorithm.end), key.tag == 0x03, key.end == outer.end, key.end > key.contentStart
        else { return nil }
        return der
    }

    /// An EC private key's public half as SPKI DER (P-256, P-384, P-521: the keys TLS servers
    /// here use); for other keys, give the certificate or the public key.
    private static func ecPublicKeyDER(privateKeyPEM pem: String) -> Data? {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey.derRepresentation }
        if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey.derRepresentation }
        if let key = try? P521.Signing.PrivateKey(pemRepresentation: pem) { return key.publicKey.derRepresentation }
        return nil
    }
}

/// One DER element's tag and extent (definite lengths only, as DER requires).
private struct DERElement {
    let tag: UInt8
    let contentStart: Int
    let end: Int

    init?(_ bytes: [UInt8], at offset: Int) {
        guard offset + 2 <= bytes.count else { return nil }
        self.tag = bytes[offset]
        var length = Int(bytes[offset + 1])
        var start = offset + 2
        if length & 0x80 != 0 {
            let count = length & 0x7F
            guard (1...3).contains(count), start + count <= bytes.count else { return nil }
            length = bytes[start..<(start + count)].reduce(0) { $0 << 8 | Int($1) }
            start += count
        }
        guard start + length <= bytes.count else { return nil }
        self.contentStart = start
        self.end = start + length
    }
}
