import Crypto
import Foundation

/// The hash of an ECDSA signature (Vault's `hash_algorithm`) or of an HMAC (its `algorithm`):
/// SHA-2 or SHA-3, never SHA-1 or MD5. Ed25519 hashes internally (RFC 8032) and takes none.
public struct SignatureHash: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable {
        case sha256, sha384, sha512, sha3_256, sha3_384, sha3_512
    }

    let backing: Backing

    /// SHA-256 (FIPS 180-4), the default.
    public static let sha256 = SignatureHash(backing: .sha256)
    /// SHA-384 (FIPS 180-4).
    public static let sha384 = SignatureHash(backing: .sha384)
    /// SHA-512 (FIPS 180-4).
    public static let sha512 = SignatureHash(backing: .sha512)
    /// SHA3-256 (FIPS 202).
    public static let sha3_256 = SignatureHash(backing: .sha3_256)
    /// SHA3-384 (FIPS 202).
    public static let sha3_384 = SignatureHash(backing: .sha3_384)
    /// SHA3-512 (FIPS 202).
    public static let sha3_512 = SignatureHash(backing: .sha3_512)

    /// Every supported hash.
    public static let allCases: [SignatureHash] = [.sha256, .sha384, .sha512, .sha3_256, .sha3_384, .sha3_512]

    /// The hash named as Vault names it (`sha2-256`, `sha3-512`, …), or nil for a name that is
    /// not one of ``allCases`` (Vault's `sha1` and `sha2-224` among them).
    public init?(vaultName: String) {
        guard let found = Self.allCases.first(where: { $0.description == vaultName }) else { return nil }
        self = found
    }

    init(backing: Backing) {
        self.backing = backing
    }

    /// Vault's name: `sha2-256`, `sha2-384`, `sha2-512`, `sha3-256`, `sha3-384`, `sha3-512`.
    public var description: String {
        switch self.backing {
        case .sha256: "sha2-256"
        case .sha384: "sha2-384"
        case .sha512: "sha2-512"
        case .sha3_256: "sha3-256"
        case .sha3_384: "sha3-384"
        case .sha3_512: "sha3-512"
        }
    }

    /// The digest's length in bytes.
    public var byteCount: Int {
        switch self.backing {
        case .sha256, .sha3_256: 32
        case .sha384, .sha3_384: 48
        case .sha512, .sha3_512: 64
        }
    }

    /// The digest of `message`.
    func digest<Message: DataProtocol>(_ message: Message) -> any Digest {
        switch self.backing {
        case .sha256: SHA256.hash(data: message)
        case .sha384: SHA384.hash(data: message)
        case .sha512: SHA512.hash(data: message)
        case .sha3_256: SHA3_256.hash(data: message)
        case .sha3_384: SHA3_384.hash(data: message)
        case .sha3_512: SHA3_512.hash(data: message)
        }
    }

    /// A digest computed elsewhere (a caller's prehashed input) of this hash's length, in the
    /// shape swift-crypto's ECDSA signs.
    /// - Precondition: `bytes.count == byteCount`.
    func precomputed(_ bytes: [UInt8]) -> any Digest {
        switch self.byteCount {
        case 32: PrecomputedDigest<DigestLength32>(bytes: bytes)
        case 48: PrecomputedDigest<DigestLength48>(bytes: bytes)
        default: PrecomputedDigest<DigestLength64>(bytes: bytes)
        }
    }
}

/// The length of a ``PrecomputedDigest``.
protocol DigestLength: Sendable {
    static var byteCount: Int { get }
}

/// 32 bytes (SHA-256, SHA3-256).
enum DigestLength32: DigestLength { static var byteCount: Int { 32 } }
/// 48 bytes (SHA-384, SHA3-384).
enum DigestLength48: DigestLength { static var byteCount: Int { 48 } }
/// 64 bytes (SHA-512, SHA3-512).
enum DigestLength64: DigestLength { static var byteCount: Int { 64 } }

/// A digest of `Length` bytes computed elsewhere, which swift-crypto's ECDSA signs as it is
/// (FIPS 186-5 truncates a digest longer than the curve's order to its leftmost bits).
struct PrecomputedDigest<Length: DigestLength>: Digest {
    static var byteCount: Int { Length.byteCount }

    private let bytes: [UInt8]

    init(bytes: [UInt8]) {
        precondition(bytes.count == Length.byteCount, "a precomputed digest of the wrong length")
        self.bytes = bytes
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.bytes.withUnsafeBytes(body)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        constantTimeEquals(lhs.bytes, rhs.bytes)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.bytes)
    }
}
