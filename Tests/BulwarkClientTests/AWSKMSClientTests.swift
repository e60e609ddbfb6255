import Bulwark
@testable import BulwarkClient
import Foundation
import Testing

/// The KMS client's endpoint rules and error mapping (the calls themselves run against moto in
/// ``AWSKMSKeyEncryptionKeyTests`` and `Tests/Interop/awskms_interop.py`).
@Suite("AWSKMSClient: endpoints allowed, KMS errors typed and cleaned")
struct AWSKMSClientTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret")

    @Test("https anywhere, plain http on loopback only; no query, fragment or user; a region is a name")
    func endpoints() throws {
        for good in ["https://kms.eu-west-1.amazonaws.com", "https://vpce-1.kms.eu-west-1.vpce.amazonaws.com:8443", "http://127.0.0.1:4566", "http://localhost:9"] {
            _ = try AWSKMSClient(region: "eu-west-1", credentials: Self.credentials, endpoint: good)
        }
        for bad in ["http://kms.example.com", "http://10.0.0.1:80", "ftp://127.0.0.1", "https://h/?x=1", "https://u:p@h", "https://h/#f", "not a url"] {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(bad)") { _ = try AWSKMSClient(region: "eu-west-1", credentials: Self.credentials, endpoint: bad) }
        }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try AWSKMSClient(region: "eu west/1", credentials: Self.credentials) }
        #expect(try AWSKMSClient(region: "ap-south-2", credentials: Self.credentials).endpoint.absoluteString == "https://kms.ap-south-2.amazonaws.com")
        // Credentials never show their secret.
        let described = "\(Self.credentials) \(String(reflecting: Self.credentials))"
        var dumped = ""
        dump(Self.credentials, to: &dumped)
        #expect(!described.contains("secret") && !dumped.contains("secret") && dumped.contains("AKIDTEST"))
    }

    @Test("KMS's error types become codes; messages are one line of printable characters, at most 200")
    func errors() {
        let cases: [(String, Int, BulwarkError.Code)] = [
            ("com.amazonaws.kms#NotFoundException", 400, .unknownKey), ("InvalidCiphertextException", 400, .authenticationFailed),
            ("IncorrectKeyException", 400, .authenticationFailed), ("DisabledException", 400, .unavailable),
            ("KMSInvalidStateException", 400, .unavailable), ("AccessDeniedException", 400, .permissionDenied),
            ("InvalidSignatureException", 403, .permissionDenied), ("ExpiredTokenException", 400, .permissionDenied),
            ("ThrottlingException", 429, .unavailable), ("KMSInternalException", 500, .unavailable), ("ValidationException", 400, .invalidArgument),
        ]
        for (type, status, code) in cases {
            let error = AWSKMSClient.error(status: status, json: ["__type": type, "message": "about key k"], operation: "Decrypt")
            #expect(error.code == code, "\(type)")
            #expect(error.message.contains("Decrypt") && error.message.contains("about key k"))
        }
        let hostile = AWSKMSClient.error(
            status: 400, json: ["__type": "AccessDeniedException", "message": "first line\u{1B}[31m\nX-Amz-Security-Token: secret-token"], operation: "Decrypt")
        #expect(!hostile.message.contains("secret-token") && !hostile.message.contains("\n") && !hostile.message.contains("\u{1B}"))
        let long = AWSKMSClient.error(status: 400, json: ["__type": "ValidationException", "message": String(repeating: "a", count: 5000)], operation: "Encrypt")
        #expect(long.message.count < 400)
        #expect(AWSKMSClient.error(status: 502, json: nil, operation: "Encrypt").code == .unavailable)
    }
}
