public import Bulwark
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the master key comes from. It never comes from the keystore's own directory.
public enum MasterKeySource: Sendable {
    /// A base64 key (usually the `BULWARK_MASTER_KEY` environment variable).
    case base64(String)
    /// A file holding the base64 key, readable by its owner only.
    case keyFile(path: String)
    /// A passphrase, stretched with the KDF recorded in the keystore (Argon2id for new ones).
    case passphrase(String)
    /// A master key already in memory (unwrapped by a seal, see `SealConfiguration`).
    case key(MasterKey)

    /// Picks the source from the environment: `BULWARK_MASTER_KEY`, then
    /// `BULWARK_MASTER_KEY_FILE`, then `BULWARK_PASSPHRASE`.
    /// - Parameter environment: The process environment.
    /// - Returns: The source, or nil when none is set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> MasterKeySource? {
        if let key = environment["BULWARK_MASTER_KEY"], !key.isEmpty { return .base64(key) }
        if let path = environment["BULWARK_MASTER_KEY_FILE"], !path.isEmpty { return .keyFile(path: path) }
        if let passphrase = environment["BULWARK_PASSPHRASE"], !passphrase.isEmpty { return .passphrase(passphrase) }
        return nil
    }

    /// Resolves the master key for a keystore.
    /// - Parameters:
    ///   - header: The existing keystore's header, or nil for a new keystore.
    ///   - keystoreDirectory: The keystore's directory; a key file inside it is refused.
    /// - Returns: The key and the passphrase KDF to record (nil unless from a passphrase).
    package func resolve(header: SealedKeystore.Header?, keystoreDirectory: String) throws -> (MasterKey, PassphraseKDF?) {
        switch self {
        case .base64(let text):
            return (try MasterKey(base64: text), nil)
        case .keyFile(let path):
            try Self.checkKeyFile(path, keystoreDirectory: keystoreDirectory)
            let text = String(decoding: try POSIXFile.readAll(path: path), as: UTF8.self)
            return (try MasterKey(base64: text), nil)
        case .key(let key):
            return (key, nil)
        case .passphrase(let passphrase):
            let kdf = header?.kdf ?? PassphraseKDF.argon2idDefault()
            return (try MasterKey.derive(passphrase: passphrase, using: kdf), kdf)
        }
    }

    static func checkKeyFile(_ path: String, keystoreDirectory: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BulwarkError(.ioFailure, "cannot read the master key file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw BulwarkError(.insecurePermissions, "the master key file \(path) is readable by group or others; chmod 600 it")
        }
        let keyDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().resolvingSymlinksInPath().path
        let storeDirectory = URL(fileURLWithPath: keystoreDirectory).resolvingSymlinksInPath().path
        guard keyDirectory != storeDirectory else {
            throw BulwarkError(.insecurePermissions, "the master key file must not sit beside the keystore it protects")
        }
    }
}
