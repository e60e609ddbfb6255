/// Fresh secret material for one new version of a key type, made ahead of
/// ``Keyset/rotate(using:now:)``: opaque, never printed, used once.
public struct PreparedKeyMaterial: Sendable, CustomStringConvertible {
    /// The key type the material is for.
    public let type: KeyType
    let material: KeyMaterial

    /// The HMAC key size the material was made with (nil: the type's).
    let keySize: Int?

    /// Generates material for `type` from the system's CSPRNG.
    public init(for type: KeyType) throws {
        self.type = type
        self.keySize = nil
        self.material = try KeyMaterial.generate(for: type)
    }

    /// Generates material for the next version of `keyset` (its type, and its HMAC key size).
    public init(for keyset: Keyset) throws {
        self.type = keyset.type
        self.keySize = keyset.keySize
        self.material = try KeyMaterial.generate(for: keyset.type, length: keyset.keySize)
    }

    /// Whether the material is for `keyset`'s next version (its type and its HMAC key size).
    public func fits(_ keyset: Keyset) -> Bool {
        self.type == keyset.type && self.keySize == keyset.keySize
    }

    /// The type only: never the material.
    public var description: String { "PreparedKeyMaterial(\(self.type))" }
}
