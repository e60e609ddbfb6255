import BulwarkClient
import BulwarkTestSupport
import Foundation
import Testing

/// AWS Signature Version 4, against AWS's published vectors and botocore's signer.
@Suite("AWSSignatureV4: AWS's SigV4 test suite, S3's example, and botocore on random requests")
struct AWSSignatureV4Tests {
    /// AWS's SigV4 test suite credentials and instant (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
    static let suite = AWSSignatureV4(
        credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), region: "us-east-1",
        service: "service")
    /// 2015-08-30T12:36:00Z.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    static func authorization(_ headers: [(String, String)]) -> String? {
        headers.first { $0.0 == "Authorization" }?.1
    }

    @Test("get-vanilla, get-vanilla-query-order-key-case and post-vanilla sign as the suite says")
    func testSuite() {
        let host = [("Host", "example.amazonaws.com")]
        let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
        // Source: AWS SigV4 test suite, get-vanilla/get-vanilla.authz.
        let vanilla = Self.suite.signedHeaders(method: "GET", path: "/", headers: host, payload: [], date: Self.suiteDate)
        #expect(Self.authorization(vanilla) == prefix + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(vanilla.first { $0.0 == "X-Amz-Date" }?.1 == "20150830T123600Z")
        // Source: AWS SigV4 test suite, get-vanilla-query-order-key-case.
        let ordered = Self.suite.signedHeaders(
            method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: host, payload: [], date: Self.suiteDate)
        #expect(Self.authorization(ordered) == prefix + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
        // Source: AWS SigV4 test suite, post-vanilla.
        let post = Self.suite.signedHeaders(method: "POST", path: "/", headers: host, payload: [], date: Self.suiteDate)
        #expect(Self.authorization(post) == prefix + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test("S3's documented GET Object example (path encoded once) signs as S3's documentation says")
    func s3Example() {
        // Source: Amazon S3 API Reference, "Signature Calculations for the Authorization Header
        // (AWS Signature Version 4)", Example: GET Object.
        let signer = AWSSignatureV4(
            credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "s3")
        let headers = [
            ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
        let signed = signer.signedHeaders(
            method: "GET", path: "/test.txt", headers: headers, payload: [], date: Date(timeIntervalSince1970: 1_369_353_600), encodePathTwice: false)
        #expect(
            Self.authorization(signed)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("200 random requests (odd path and query characters, repeated and spaced headers, session tokens, bodies) sign as botocore signs them")
    func botocoreAgrees() async throws {
        var random = SplitMix64(seed: 0x5164_7634)
        let alphabet = Array("abcXYZ019-_.~ +=&/%é€😀:;,'\"")
        func text(_ maximum: Int) -> String {
            String((0..<Int.random(in: 0...maximum, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" }).replacingOccurrences(of: "/", with: "")
        }
        var cases: [[String: Any]] = []
        var ours: [String] = []
        for index in 0..<200 {
            let segments = (0..<Int.random(in: 1...3, using: &random)).map { _ in text(8) }.filter { !$0.isEmpty && $0 != "." && $0 != ".." }
            let query = (0..<Int.random(in: 0...3, using: &random)).map { _ in ("q" + text(5), text(6)) }
            var headers = [("Host", "kms.eu-west-\(index % 3).amazonaws.com"), ("Content-Type", "application/x-amz-json-1.1")]
            if index % 2 == 0 { headers.append(("X-Amz-Target", "TrentService.Decrypt")) }
            if index % 5 == 0 { headers += [("X-Custom", "a   b  c "), ("x-custom", "second")] }
            let payload = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let token = index % 4 == 0 ? "FQoGZXIvYXdzE\(index)/session+token=" : nil
            let date = Date(timeIntervalSince1970: Double(1_600_000_000 + index * 86_321))
            let signer = AWSSignatureV4(
                credentials: AWSCredentials(accessKeyID: "AKIA\(index)TEST", secretAccessKey: "secret/\(index)+key", sessionToken: token),
                region: "eu-west-\(index % 3)", service: index % 3 == 0 ? "kms" : "sts")
            let method = ["GET", "POST", "PUT"][index % 3]
            let signed = signer.signedHeaders(
                method: method, path: "/" + segments.joined(separator: "/"), query: query, headers: headers, payload: payload, date: date)
            ours.append(Self.authorization(signed) ?? "")
            let stamp = signed.first { $0.0 == "X-Amz-Date" }?.1 ?? ""
            cases.append([
                "method": method, "host": headers[0].1, "segments": segments, "query": query.map { [$0.0, $0.1] },
                "headers": headers.dropFirst().map { [$0.0, $0.1] }, "payload": Data(payload).base64EncodedString(), "region": signer.region,
                "service": signer.service, "timestamp": stamp, "access_key": "AKIA\(index)TEST", "secret_key": "secret/\(index)+key", "token": token ?? "",
            ])
        }
        let cli = try CLIRunner()
        let input = cli.path("sigv4-cases.json")
        try JSONSerialization.data(withJSONObject: cases).write(to: URL(fileURLWithPath: input))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop/sigv4_botocore.py").path
        let run = try await cli.shellDetached("python3 '\(script)' < '\(input)'")
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let theirs = try JSONSerialization.jsonObject(with: Data(run.text.utf8)) as? [String] ?? []
        #expect(theirs.count == ours.count)
        for (index, pair) in zip(ours, theirs).enumerated() {
            #expect(pair.0 == pair.1, "request \(index): \(cases[index])")
        }
    }
}
