public import Foundation

/// A token that must be passed to read raw key bytes.
///
/// As in Tink, every place that touches raw secrets names this type, so reviewers can find
/// them all with one search. Holding the token grants nothing by itself: the key must also
/// have been created exportable.
public struct InsecureSecretKeyAccess: Sendable {
    private init() {}
    /// The only instance.
    public static let token = InsecureSecretKeyAccess()
}

extension Keyset {
    /// Exports the raw secret bytes of one version.
    /// - Parameters:
    ///   - version: The version to export.
    ///   - access: ``InsecureSecretKeyAccess/token``, a greppable marker of secret access.
    /// - Returns: The raw key bytes. Treat them as the secret they are.
    /// - Throws: ``BulwarkError/Code/notExportable`` unless the key was created exportable.
    public func exportRawKeyMaterial(version: UInt32, access: InsecureSecretKeyAccess) throws -> Data {
        guard self.isExportable else {
            throw BulwarkError(.notExportable, "key '\(self.name)' was not created exportable")
        }
        let chosen = try self.usableVersion(version, forDecryption: false)
        guard let material = chosen.material else {
            throw BulwarkError(.keyVersionDestroyed, "version \(version) of '\(self.name)' was destroyed")
        }
        return material.rawBytes
    }
}
