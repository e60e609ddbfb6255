import Bulwark
import BulwarkClient
import BulwarkStorage
import Foundation

/// The `awskms` seal: the store's unseal key wrapped by an AWS KMS key (`Encrypt`/`Decrypt` with
/// the record's encryption context), as Vault's `seal "awskms"`.
struct AWSKMSSeal: SealKeyWrapper {
    let client: AWSKMSClient
    /// The key as configured (an id, ARN or alias; its ARN once ``resolved()``).
    let keyID: String
    /// The ARN the store's record names: the configured key must be that key.
    var recordedARN: String?
    var kind: SealConfiguration.Kind { .awskms }

    func wrap(_ key: [UInt8], context: [String: String]) async throws -> [UInt8] {
        try await self.requireEnabled()
        return try await self.client.encrypt(keyID: self.keyID, plaintext: key, context: context)
    }

    func unwrap(_ wrapped: [UInt8], context: [String: String]) async throws -> [UInt8] {
        try await self.requireEnabled()
        return try await self.client.decrypt(keyID: self.keyID, ciphertext: wrapped, context: context)
    }

    /// `DescribeKey` first (as Vault's awskms seal does): a disabled key or one pending deletion
    /// gets an error that says so, and a key other than the one that sealed the store (an alias
    /// moved, a wrong setting) is named, before any use of it.
    @discardableResult
    private func requireEnabled() async throws -> String {
        let (arn, enabled) = try await self.client.describeKey(keyID: self.keyID)
        guard enabled else {
            throw BulwarkError(.unavailable, "the KMS key \(arn) is disabled or pending deletion: enable it (the server stays sealed until then)")
        }
        if let recorded = self.recordedARN, recorded.hasPrefix("arn:"), recorded != arn {
            throw BulwarkError(.invalidArgument, "the configured KMS key is \(arn), but this store was sealed by \(recorded)")
        }
        return arn
    }

    /// The same seal naming its key by ARN (what a store's record keeps: an alias may move).
    func resolved() async throws -> AWSKMSSeal {
        AWSKMSSeal(client: self.client, keyID: try await self.requireEnabled(), recordedARN: nil)
    }

    /// Closes the client's connections.
    func shutdown() async {
        try? await self.client.shutdown()
    }

    /// The seal configured by the options and environment: the key from `keyID`,
    /// `BULWARK_AWSKMS_KEY_ID` or Vault's `VAULT_AWSKMS_SEAL_KEY_ID` (never from the store: whoever
    /// can write the database must not choose the key the server's credentials are used on); the
    /// region, endpoint and credentials as ``AWSKMSClient/fromEnvironment(_:region:endpoint:)``.
    /// - Parameter recorded: The key the store's record names (checked against the configured one).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when no key, region or credentials are given.
    static func configured(keyID: String?, region: String?, endpoint: String?, recorded: String? = nil) throws -> AWSKMSSeal {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let key = keyID ?? value("BULWARK_AWSKMS_KEY_ID") ?? value("VAULT_AWSKMS_SEAL_KEY_ID") else {
            let hint = recorded.map { " (this store was sealed by \($0))" } ?? ""
            throw BulwarkError(.invalidArgument, "the awskms seal needs its KMS key: give --kms-key-id (or BULWARK_AWSKMS_KEY_ID, or seal.awskms.key_id)\(hint)")
        }
        return AWSKMSSeal(
            client: try AWSKMSClient.fromEnvironment(environment, region: region, endpoint: endpoint), keyID: key, recordedARN: recorded)
    }
}
