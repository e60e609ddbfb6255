/// How an ECDSA signature is written: DER (`ECDSA-Sig-Value`, RFC 3279; Vault's `asn1`) or the
/// fixed-width `r ‖ s` of JWS (RFC 7518 §3.4; Vault's `jws`). Ed25519 signatures are 64 bytes
/// in either.
public struct SignatureEncoding: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case der, raw
    }

    let backing: Backing

    /// DER, the default.
    public static let der = SignatureEncoding(backing: .der)
    /// `r ‖ s`, each as wide as the curve's order (64 bytes in all for P-256).
    public static let raw = SignatureEncoding(backing: .raw)

    /// `der` or `raw`.
    public var description: String {
        self.backing == .der ? "der" : "raw"
    }
}
