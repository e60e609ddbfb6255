import Foundation

/// The PEM forms of keys that Vault answers and swift-crypto does not write: RFC 5915's
/// `EC PRIVATE KEY` (what Vault exports for ECDSA keys) and the SubjectPublicKeyInfo of an
/// ML-DSA key (RFC 9881: the algorithm's OID, no parameters, the FIPS 204 public key).
enum KeyPEM {
    /// DER content of the curve OIDs (RFC 5480): prime256v1, secp384r1, secp521r1.
    static let p256 = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07] as [UInt8]
    static let p384 = [0x2B, 0x81, 0x04, 0x00, 0x22] as [UInt8]
    static let p521 = [0x2B, 0x81, 0x04, 0x00, 0x23] as [UInt8]
    /// DER content of id-ml-dsa-65 and id-ml-dsa-87 (2.16.840.1.101.3.4.3.18 and .19).
    static let mlDSA65 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12] as [UInt8]
    static let mlDSA87 = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13] as [UInt8]

    /// ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] curve OID,
    /// [1] BIT STRING uncompressed point }, PEM-armoured.
    static func ecPrivateKey(scalar: Data, publicPoint: Data, curve: [UInt8]) -> String {
        let der = Self.tlv(0x30, Self.tlv(0x02, [0x01]) + Self.tlv(0x04, Array(scalar)) + Self.tlv(0xA0, Self.tlv(0x06, curve))
            + Self.tlv(0xA1, Self.tlv(0x03, [0x00] + Array(publicPoint))))
        return Self.pem("EC PRIVATE KEY", der)
    }

    /// SubjectPublicKeyInfo with an algorithm that has no parameters, PEM-armoured.
    static func publicKey(algorithm: [UInt8], key: Data) -> String {
        let der = Self.tlv(0x30, Self.tlv(0x30, Self.tlv(0x06, algorithm)) + Self.tlv(0x03, [0x00] + Array(key)))
        return Self.pem("PUBLIC KEY", der)
    }

    /// A DER tag, length (short or long form) and content.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            var count = content.count
            var bytes: [UInt8] = []
            while count > 0 {
                bytes.insert(UInt8(count & 0xFF), at: 0)
                count >>= 8
            }
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + content
    }

    /// `-----BEGIN label-----`, base64 in 64-character lines, `-----END label-----`.
    static func pem(_ label: String, _ der: [UInt8]) -> String {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n" + body + "\n-----END \(label)-----"
    }
}
