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
        let all = [primary] + backups
        guard !backups.isEmpty else {
            throw BulwarkError(.invalidArgument, "pin a backup key too (RFC 7469): without one, the next certificate locks every client out")
        }
        guard Set(all).count == all.count else { throw BulwarkError(.invalidArgument, "the same pin is given twice") }
        for pin in all where Data(base64Encoded: pin)?.count != SHA256.byteCount {
            throw BulwarkError(.invalidArgument, "a pin is the base64 of a SHA-256 digest (44 characters ending in '=')")
        }
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

    /// The DER body of a `PUBLIC KEY` PEM block (a SubjectPublicKeyInfo, whatever the algorithm).
    private static func publicKeyDER(_ pem: String) -> Data? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
            let end = lines[begin...].firstIndex(of: "-----END PUBLIC KEY-----")
        else { return nil }
        return Data(base64Encoded: lines[(begin + 1)..<end].joined())
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
