public import Foundation
import Crypto

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`): the `Authorization` header that authenticates a
/// request to an AWS service, computed with swift-crypto's HMAC-SHA-256 and SHA-256.
///
/// The canonical request (method, path, sorted query, lower-cased sorted headers, the payload's
/// SHA-256), the string to sign and the signing key derived from the secret, the date, the region
/// and the service follow AWS's *Signature Version 4 signing process*. It is proven against AWS's
/// published SigV4 test suite and S3 example, and against botocore's signer (``AWSSignatureV4Tests``).
public struct AWSSignatureV4: Sendable {
    /// The credentials that sign.
    public let credentials: AWSCredentials
    /// The region (`us-east-1`).
    public let region: String
    /// The service's signing name (`kms`, `s3`).
    public let service: String

    /// - Parameters:
    ///   - credentials: The credentials that sign.
    ///   - region: The region.
    ///   - service: The service's signing name.
    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to a request so that AWS accepts it: `X-Amz-Date`,
    /// `X-Amz-Security-Token` for temporary credentials, and `Authorization`.
    /// - Parameters:
    ///   - method: The HTTP method.
    ///   - path: The request's path, as sent (`/`).
    ///   - query: The query's parameters, decoded.
    ///   - headers: The headers sent, `Host` among them; each is signed.
    ///   - payload: The body.
    ///   - date: When the request is signed (AWS refuses a signature more than 5 minutes off).
    ///   - encodePathTwice: Whether path segments are URI-encoded twice (every service but S3).
    /// - Returns: The headers to add, in order.
    public func signedHeaders(
        method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payload: [UInt8], date: Date = Date(),
        encodePathTwice: Bool = true
    ) -> [(String, String)] {
        let (amzDate, day) = Self.timestamps(date)
        var all = headers
        all.append(("X-Amz-Date", amzDate))
        var added = [("X-Amz-Date", amzDate)]
        if let token = self.credentials.sessionToken {
            all.append(("X-Amz-Security-Token", token))
            added.append(("X-Amz-Security-Token", token))
        }
        let (canonical, signedNames) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: all, payloadHash: Self.hex(SHA256.hash(data: payload)), encodePathTwice: encodePathTwice)
        let scope = "\(day)/\(self.region)/\(self.service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: self.signingKey(day: day)))
        added.append(
            ("Authorization", "AWS4-HMAC-SHA256 Credential=\(self.credentials.accessKeyID)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)"))
        return added
    }

    /// The key that signs on `day` (`yyyyMMdd`): HMAC chain over the date, region, service and
    /// `aws4_request`, keyed first by `"AWS4" ‖ secret`.
    func signingKey(day: String) -> SymmetricKey {
        var seed = Array("AWS4".utf8) + self.credentials.secretAccessKey
        defer { seed.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        var key = SymmetricKey(data: seed)
        for part in [day, self.region, self.service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    /// The canonical request and the signed headers' names (`host;x-amz-date`).
    static func canonicalRequest(
        method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String, encodePathTwice: Bool
    ) -> (String, String) {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }
        if encodePathTwice { segments = segments.map { Self.encode($0) } }
        var uri = segments.joined(separator: "/")
        if uri.isEmpty { uri = "/" }
        var pairs: [(key: String, value: String)] = query.map { (key: Self.encode($0.0), value: Self.encode($0.1)) }
        pairs.sort { (a: (key: String, value: String), b: (key: String, value: String)) -> Bool in
            a.key == b.key ? a.value < b.value : a.key < b.key
        }
        let canonicalQuery: String = pairs.map { (pair: (key: String, value: String)) -> String in pair.key + "=" + pair.value }.joined(separator: "&")
        // Same-named headers join with commas; values are trimmed and inner runs of spaces collapse.
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed.trimmingCharacters(in: .whitespaces))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        let signed = names.joined(separator: ";")
        return ([method, uri, canonicalQuery, canonicalHeaders, signed, payloadHash].joined(separator: "\n"), signed)
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters (AWS's `UriEncode`).
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC.
    static func timestamps(_ date: Date) -> (String, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        return (day + String(format: "T%02d%02d%02dZ", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0), day)
    }

    static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
