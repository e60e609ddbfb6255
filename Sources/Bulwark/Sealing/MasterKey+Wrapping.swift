import Crypto
import Foundation

extension MasterKey {
    /// A fresh random 256-bit key that wraps a master key (a seal's unseal key).
    /// - Parameter access: ``InsecureSecretKeyAccess/token``: the bytes are the secret a seal splits or hands to an HSM.
    /// - Returns: 32 random bytes.
    public static func generateWrappingKey(access: InsecureSecretKeyAccess) -> [UInt8] {
        SecureRandom.bytes(32)
    }

    /// Encrypts this master key under a wrapping key (AES-256-GCM, a fresh random nonce), bound
    /// to `context`: `nonce ‖ ciphertext ‖ tag`.
    /// - Parameters:
    ///   - wrappingKey: 32 bytes (a seal's unseal key).
    ///   - context: Authenticated, not encrypted: what the wrapped key is for (the seal's settings).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for a wrapping key of another length.
    public func wrapped(under wrappingKey: [UInt8], context: [UInt8]) throws -> [UInt8] {
        guard wrappingKey.count == 32 else { throw BulwarkError(.invalidArgument, "a wrapping key is 32 bytes") }
        // The key's bytes go to AES-GCM straight from its own storage (no copy left behind).
        let box = try self.key.withUnsafeBytes { raw in
            try AES.GCM.seal(raw, using: SymmetricKey(data: wrappingKey), authenticating: context)
        }
        guard let combined = box.combined else { throw BulwarkError(.internalFailure, "AES-GCM gave no combined form") }
        return Array(combined)
    }

    /// Opens a master key wrapped by ``wrapped(under:context:)``.
    /// - Parameters:
    ///   - wrapped: `nonce ‖ ciphertext ‖ tag`.
    ///   - wrappingKey: The key it was wrapped under.
    ///   - context: The context it was bound to.
    /// - Throws: ``BulwarkError/Code/wrongMasterKey`` when the key or context is wrong or the
    ///   bytes were changed (the three are not told apart), ``BulwarkError/Code/keystoreCorrupted``
    ///   when it is not a wrapped key at all.
    public static func unwrap(_ wrapped: [UInt8], under wrappingKey: [UInt8], context: [UInt8]) throws -> MasterKey {
        guard wrapped.count == 12 + 32 + 16 else {
            throw BulwarkError(.keystoreCorrupted, "the wrapped master key has the wrong length")
        }
        guard wrappingKey.count == 32 else { throw BulwarkError(.wrongMasterKey, "the unseal key is not 32 bytes") }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            var raw = try AES.GCM.open(box, using: SymmetricKey(data: wrappingKey), authenticating: context)
            defer { raw.resetBytes(in: 0..<raw.count) }
            return MasterKey(key: SymmetricKey(data: raw))
        } catch {
            throw BulwarkError(.wrongMasterKey, "the unseal key does not open the stored master key")
        }
    }
}

extension MasterKey {
    /// A public identifier of this master key (16 bytes of HKDF output, hex): `bulwark operator
    /// init` prints it as the seal id, and a server given it (`seal_id`) refuses shares that
    /// unseal any other key (a store replaced by someone with the database). It reveals nothing
    /// of the key.
    public var sealIdentifier: String {
        self.derived("bulwark seal id v1", count: 16).withUnsafeBytes { bytes in
            bytes.map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
            }.joined()
        }
    }
}
