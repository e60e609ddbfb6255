import Bulwark
import BulwarkKeystore
import Crypto
import Foundation
import SwiftASN1
import X509

/// The local certificate authority of dev mode: a CA and a server certificate for `localhost`
/// and `127.0.0.1`, made on first start and kept in `$BULWARK_HOME` (keys mode 0600).
public enum DevCertificateAuthority {
    /// Paths of the dev-mode certificate files.
    public struct Files: Sendable {
        /// The CA certificate clients trust (`--cacert`).
        public let caCertificate: String
        /// The server certificate (the CA is not sent; clients trust `ca.pem`).
        public let serverChain: String
        /// The server's private key.
        public let serverKey: String
    }

    /// The server certificate's lifetime: Mozilla's "modern" profile allows at most 90 days (89, with room for clock skew).
    static let serverLifetime: TimeInterval = 89 * 86400

    /// Whether a server certificate can be kept: within Mozilla's lifetime and not within a week
    /// of its end.
    static func isCurrent(_ certificate: Certificate, now: Date) -> Bool {
        certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) <= Self.serverLifetime + 600
            && certificate.notValidAfter > now.addingTimeInterval(7 * 86400)
    }

    /// Creates the CA and server certificate unless they exist and the server certificate is
    /// current (``isCurrent(_:now:)``); otherwise both are made anew (the CA's key is not kept), so
    /// clients read `ca.pem` again.
    /// - Parameter directory: `$BULWARK_HOME`.
    public static func ensure(in directory: String) throws -> Files {
        let files = Files(
            caCertificate: directory + "/ca.pem", serverChain: directory + "/server.pem", serverKey: directory + "/server-key.pem")
        if FileManager.default.fileExists(atPath: files.serverKey), FileManager.default.fileExists(atPath: files.caCertificate),
            let pem = FileManager.default.contents(atPath: files.serverChain),
            let server = try? Certificate(pemEncoded: String(decoding: pem, as: UTF8.self)),
            Self.isCurrent(server, now: Date())
        {
            return files
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Bulwark dev CA"); OrganizationName("Bulwark (dev mode)") }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(3650 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(caKey.publicKey))
            },
            issuerPrivateKey: .init(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Self.serverLifetime - 300),
            issuer: caName, subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: .init(caKey.publicKey)).keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        try POSIXFile.writeAtomically(Data(try ca.serializeAsPEM().pemString.utf8), to: files.caCertificate, mode: 0o644)
        try POSIXFile.writeAtomically(
            Data(try server.serializeAsPEM().pemString.utf8), to: files.serverChain, mode: 0o644)
        try POSIXFile.writeAtomically(Data(serverKey.pemRepresentation.utf8), to: files.serverKey, mode: 0o600)
        return files
    }
}
