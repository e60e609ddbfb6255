import AsyncHTTPClient
import Bulwark
public import Foundation
import NIOCore
import NIOHTTP1

/// A client of AWS Key Management Service (the JSON 1.1 protocol, `TrentService.*`), signed with
/// ``AWSSignatureV4`` over AsyncHTTPClient: `Encrypt`, `Decrypt`, `GenerateDataKey` and
/// `DescribeKey`, which is what key custody needs. No AWS SDK is involved.
///
/// Every call names its key (KMS would otherwise decrypt with whatever key a ciphertext names) and
/// takes an *encryption context*, which KMS binds to the ciphertext as associated data and writes
/// to CloudTrail: decrypting with another context fails. KMS's errors come back as
/// ``BulwarkError``s whose message names the KMS error type, never a key byte.
public final class AWSKMSClient: Sendable {
    /// Where requests go (`https://kms.us-east-1.amazonaws.com`, or a local endpoint such as moto's).
    public let endpoint: URL
    /// The signer.
    let signer: AWSSignatureV4
    private let client: HTTPClient
    private let timeout: TimeAmount

    /// - Parameters:
    ///   - region: The region (`us-east-1`).
    ///   - credentials: The credentials that sign.
    ///   - endpoint: Another endpoint than the region's (a VPC endpoint, a test server);
    ///     `https://kms.REGION.amazonaws.com` when nil.
    ///   - timeout: How long one call may take.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for an endpoint that is not an http(s) URL.
    public init(region: String, credentials: AWSCredentials, endpoint: String? = nil, timeout: Duration = .seconds(10)) throws {
        guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw BulwarkError(.invalidArgument, "the AWS region must be a name such as us-east-1")
        }
        let address = endpoint ?? "https://kms.\(region).amazonaws.com"
        guard let url = URL(string: address), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host,
            url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw BulwarkError(.invalidArgument, "the KMS endpoint must be an http(s) URL with no query, fragment or user")
        }
        // Decrypt answers carry plaintext keys: plain HTTP only to this machine (a test server).
        guard scheme == "https" || ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()) else {
            throw BulwarkError(.invalidArgument, "the KMS endpoint must use https (plain http is allowed for a loopback address only)")
        }
        self.endpoint = url
        self.signer = AWSSignatureV4(credentials: credentials, region: region, service: "kms")
        let seconds = max(1, Int64(timeout.components.seconds))
        self.timeout = .seconds(seconds)
        self.client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(min(seconds, 5)), read: .seconds(seconds))))
    }

    /// A client configured from the environment as the AWS tools (and Vault's `awskms` seal) read
    /// it: `AWS_REGION` (or `AWS_DEFAULT_REGION`), credentials from ``AWSCredentials/fromEnvironment(_:)``,
    /// and an endpoint from `AWS_KMS_ENDPOINT` (Vault's name) or `AWS_ENDPOINT_URL_KMS` when set.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the region or the credentials are missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment, region: String? = nil, endpoint: String? = nil) throws -> AWSKMSClient {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let region = region ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else {
            throw BulwarkError(.invalidArgument, "AWS KMS needs a region: set AWS_REGION")
        }
        guard let credentials = AWSCredentials.fromEnvironment(environment) else {
            throw BulwarkError(.invalidArgument, "AWS KMS needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        return try AWSKMSClient(
            region: region, credentials: credentials,
            endpoint: endpoint ?? value("AWS_KMS_ENDPOINT") ?? value("AWS_ENDPOINT_URL_KMS"))
    }

    /// Closes the connections (also done, without waiting, when the client goes away).
    public func shutdown() async throws {
        try await self.client.shutdown()
    }

    deinit {
        // Not waited for: the HTTP client keeps itself alive until its connections are closed.
        // Shut down already, it answers a failed future, which nobody needs.
        _ = self.client.shutdown()
    }

    /// `Encrypt`: `plaintext` (at most 4096 bytes) under the key `keyID`, bound to `context`.
    /// - Returns: The ciphertext blob (which names the key inside it).
    public func encrypt(keyID: String, plaintext: [UInt8], context: [String: String]) async throws -> [UInt8] {
        let answer = try await self.call(
            "Encrypt", ["KeyId": keyID, "Plaintext": Data(plaintext).base64EncodedString(), "EncryptionContext": context])
        return try Self.bytes(answer, "CiphertextBlob")
    }

    /// `Decrypt`: the plaintext of `ciphertext`, which must have been made by the key `keyID`
    /// with `context`.
    /// - Throws: ``BulwarkError/Code/authenticationFailed`` when KMS does not authenticate it (another
    ///   key, another context, a changed byte: KMS's `InvalidCiphertextException`, `IncorrectKeyException`).
    public func decrypt(keyID: String, ciphertext: [UInt8], context: [String: String]) async throws -> [UInt8] {
        let answer = try await self.call(
            "Decrypt", ["KeyId": keyID, "CiphertextBlob": Data(ciphertext).base64EncodedString(), "EncryptionContext": context])
        if let used = answer["KeyId"] as? String, !Self.names(used, keyID) {
            throw BulwarkError(.authenticationFailed, "KMS decrypted with another key than the one asked for")
        }
        return try Self.bytes(answer, "Plaintext")
    }

    /// `GenerateDataKey`: a fresh 256-bit data key and its ciphertext blob under `keyID`, bound to `context`.
    public func generateDataKey(keyID: String, context: [String: String]) async throws -> (plaintext: [UInt8], ciphertext: [UInt8]) {
        let answer = try await self.call("GenerateDataKey", ["KeyId": keyID, "KeySpec": "AES_256", "EncryptionContext": context])
        var plaintext = try Self.bytes(answer, "Plaintext")
        guard plaintext.count == 32 else {
            plaintext.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
            throw BulwarkError(.invalidFormat, "KMS answered a data key that is not 256 bits")
        }
        return (plaintext, try Self.bytes(answer, "CiphertextBlob"))
    }

    /// `DescribeKey`: the key's ARN, and whether it is enabled for encryption.
    public func describeKey(keyID: String) async throws -> (arn: String, enabled: Bool) {
        let answer = try await self.call("DescribeKey", ["KeyId": keyID])
        guard let metadata = answer["KeyMetadata"] as? [String: Any], let arn = metadata["Arn"] as? String else {
            throw BulwarkError(.invalidFormat, "KMS answered DescribeKey without the key's metadata")
        }
        return (arn, metadata["Enabled"] as? Bool ?? false)
    }

    /// Whether the key id KMS answered (an ARN) is the key asked for (an id, an ARN or an alias;
    /// an alias cannot be compared and is taken on KMS's word).
    static func names(_ answered: String, _ asked: String) -> Bool {
        if asked.hasPrefix("alias/") || asked.contains(":alias/") { return true }
        return answered == asked || answered.hasSuffix(":key/" + asked)
    }

    /// The bytes of the base64 field `name`.
    private static func bytes(_ answer: [String: Any], _ name: String) throws -> [UInt8] {
        guard let text = answer[name] as? String, let data = Data(base64Encoded: text) else {
            throw BulwarkError(.invalidFormat, "KMS answered without \(name)")
        }
        return Array(data)
    }

    /// Sends one signed `TrentService.operation` request and answers its JSON object.
    func call(_ operation: String, _ body: [String: Any]) async throws -> [String: Any] {
        let payload = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        // The Host header as sent: the port only when it is not the scheme's default.
        var host = self.endpoint.host ?? ""
        if let port = self.endpoint.port, !(port == 443 && self.endpoint.scheme == "https") && !(port == 80 && self.endpoint.scheme == "http") {
            host += ":\(port)"
        }
        let path = self.endpoint.path.isEmpty ? "/" : self.endpoint.path
        let headers = [("Host", host), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.\(operation)")]
        let signed = self.signer.signedHeaders(method: "POST", path: path, headers: headers, payload: payload)
        var request = HTTPClientRequest(url: self.endpoint.absoluteString)
        request.method = .POST
        for (name, value) in headers + signed where name != "Host" { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: payload))
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await self.client.execute(request, timeout: self.timeout)
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw BulwarkError(.unavailable, "AWS KMS at \(self.endpoint.absoluteString) cannot be reached (\(operation)): \(error)")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        guard (200..<300).contains(status) else {
            throw Self.error(status: status, json: json, operation: operation)
        }
        guard let json else { throw BulwarkError(.invalidFormat, "AWS KMS answered \(operation) with no JSON object") }
        return json
    }

    /// KMS's error (`__type`, `message`) as a typed error.
    static func error(status: Int, json: [String: Any]?, operation: String) -> BulwarkError {
        // `__type` may be prefixed with a namespace (`com.amazonaws.kms#NotFoundException`).
        let type = (json?["__type"] as? String).map { String($0.split(separator: "#").last ?? "") } ?? "HTTP \(status)"
        // KMS's messages name keys and ARNs, never plaintext; keep them short all the same.
        // One line of printable characters (an answer cannot write lines of its own into the log).
        let raw = (json?["message"] ?? json?["Message"]) as? String ?? ""
        var message = ""
        for scalar in raw.unicodeScalars.prefix(while: { $0 != "\n" && $0 != "\r" }).prefix(200) where scalar.value >= 0x20 && scalar.value != 0x7F {
            message.unicodeScalars.append(scalar)
        }
        let text = "AWS KMS refused \(operation): \(type)\(message.isEmpty ? "" : ": " + message)"
        switch type {
        case "InvalidCiphertextException", "IncorrectKeyException":
            return BulwarkError(.authenticationFailed, text + " (another key or encryption context, or a changed ciphertext)")
        case "NotFoundException":
            return BulwarkError(.unknownKey, text)
        case "DisabledException", "KMSInvalidStateException", "KeyUnavailableException":
            return BulwarkError(.unavailable, text)
        case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
            "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationToken":
            return BulwarkError(.permissionDenied, text)
        case "ValidationException", "InvalidKeyUsageException", "SerializationException":
            return BulwarkError(.invalidArgument, text)
        default:
            return BulwarkError(status >= 500 || status == 429 ? .unavailable : .invalidArgument, text)
        }
    }
}
