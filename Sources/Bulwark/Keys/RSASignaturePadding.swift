import CryptoExtras

/// How an RSA key signs (Vault's `signature_algorithm`): PSS (RFC 8017 §8.1, MGF1 with the
/// signature's hash and a salt as long as the digest), the default, or PKCS#1 v1.5 (§8.2), for
/// verifiers that need it.
public struct RSASignaturePadding: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case pss, pkcs1v15
    }

    let backing: Backing

    /// RSASSA-PSS, the default.
    public static let pss = RSASignaturePadding(backing: .pss)
    /// RSASSA-PKCS1-v1_5.
    public static let pkcs1v15 = RSASignaturePadding(backing: .pkcs1v15)

    /// Vault's name: `pss` or `pkcs1v15`.
    public var description: String {
        self.backing == .pss ? "pss" : "pkcs1v15"
    }

    /// The padding by Vault's name, or nil.
    public init?(vaultName: String) {
        switch vaultName {
        case "pss": self = .pss
        case "pkcs1v15": self = .pkcs1v15
        default: return nil
        }
    }

    init(backing: Backing) {
        self.backing = backing
    }

    var padding: _RSA.Signing.Padding {
        self.backing == .pss ? .PSS : .insecurePKCS1v1_5
    }
}
