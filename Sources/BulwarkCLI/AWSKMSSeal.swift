import Bulwark
import BulwarkClient
import BulwarkStorage
import Foundation

/// The `awskms` seal: the store's unseal key wrapped by an AWS KMS key (`Encrypt`/`Decrypt` with
/// the record's encryption context), as Vault's `seal "awskms"`.
struct AWSKMSSeal: SealKeyWrapper {
    let client: AWSKMSClient
    let keyID: String
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
    /// gets an error that says so, before any use of it.
    private func requireEnabled() async throws {
        let (arn, enabled) = try await self.client.describeKey(keyID: self.keyID)
        guard enabled else {
            throw BulwarkError(.unavailable, "the KMS key \(arn) is disabled or pending deletion: enable it (the server stays sealed until then)")
        }
    }

    /// Closes the client's connections.
    func shutdown() async {
        try? await self.client.shutdown()
    }

    /// The seal configured by the options and environment: the key from `keyID`,
    /// `BULWARK_AWSKMS_KEY_ID` or Vault's `VAULT_AWSKMS_SEAL_KEY_ID` (else `recorded`, the one a
    /// store's record names); the region, endpoint and credentials as ``AWSKMSClient/fromEnvironment(_:region:endpoint:)``.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when no key, region or credentials are given.
    static func configured(keyID: String?, region: String?, endpoint: String?, recorded: String? = nil) throws -> AWSKMSSeal {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let key = keyID ?? value("BULWARK_AWSKMS_KEY_ID") ?? value("VAULT_AWSKMS_SEAL_KEY_ID") ?? recorded else {
            throw BulwarkError(.invalidArgument, "the awskms seal needs its KMS key: give --kms-key-id (or BULWARK_AWSKMS_KEY_ID)")
        }
        return AWSKMSSeal(client: try AWSKMSClient.fromEnvironment(environment, region: region, endpoint: endpoint), keyID: key)
    }
}
