/// Fresh secret material for one new version of a key type, made ahead of
/// ``Keyset/rotate(using:now:)``: opaque, never printed, used once.
public struct PreparedKeyMaterial: Sendable, CustomStringConvertible {
    /// The key type the material is for.
    public let type: KeyType
    let material: KeyMaterial

    /// Generates material for `type` from the system's CSPRNG.
    public init(for type: KeyType) throws {
        self.type = type
        self.material = try KeyMaterial.generate(for: type)
    }

    /// The type only: never the material.
    public var description: String { "PreparedKeyMaterial(\(self.type))" }
}
