public import Foundation

/// Credentials that sign requests to AWS (an access key, its secret, and for temporary
/// credentials a session token).
///
/// The secret is held privately and reached only by ``AWSSignatureV4`` to derive a signing key;
/// `description` shows the access key id alone, so credentials in a log or an error reveal nothing.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomReflectable {
    /// The access key id (`AKIA…`, or `ASIA…` for temporary credentials): not a secret.
    public let accessKeyID: String
    /// The session token of temporary credentials (sent as `X-Amz-Security-Token`).
    public let sessionToken: String?
    /// The secret access key.
    let secretAccessKey: [UInt8]

    /// - Parameters:
    ///   - accessKeyID: The access key id.
    ///   - secretAccessKey: The secret access key.
    ///   - sessionToken: The session token of temporary credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = Array(secretAccessKey.utf8)
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Credentials from the environment as the AWS tools read them: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN`; nil when either of the first
    /// two is missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AWSCredentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
    }

    /// The access key id, never the secret or the session token.
    public var description: String { "AWSCredentials(\(self.accessKeyID))" }

    /// What `dump` and debuggers show: the access key id only.
    public var customMirror: Mirror { Mirror(self, children: ["accessKeyID": self.accessKeyID], displayStyle: .struct) }
}
