public import Bulwark
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sealed keystore in a directory (`$BULWARK_HOME`, default `./.bulwark`).
///
/// The file `keystore.bwks` holds every key encrypted under the master key. Every change is a
/// locked read-modify-write: an exclusive `flock` on `keystore.lock`, read, change, write to a
/// temporary file, fsync, rename, fsync the directory. A crash at any point leaves the previous
/// keystore intact, and concurrent processes never lose each other's changes.
public final class FileKeystore: Sendable {
    /// The keystore's directory.
    public let directory: String
    private let source: MasterKeySource
    private let resolved = Mutex<(MasterKey, PassphraseKDF?)?>(nil)

    /// The sealed keystore file.
    public var path: String { self.directory + "/keystore.bwks" }
    private var lockPath: String { self.directory + "/keystore.lock" }

    /// - Parameters:
    ///   - directory: The keystore directory (created with mode 0700 on first write).
    ///   - masterKey: Where the master key comes from.
    public init(directory: String, masterKey: MasterKeySource) {
        self.directory = directory
        self.source = masterKey
    }

    /// The directory named by `BULWARK_HOME`, or `./.bulwark`.
    public static func defaultDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["BULWARK_HOME"], !home.isEmpty { return home }
        return FileManager.default.currentDirectoryPath + "/.bulwark"
    }

    /// Whether a keystore file exists.
    public var exists: Bool { access(self.path, F_OK) == 0 }

    private func masterKey(header: SealedKeystore.Header?) throws -> (MasterKey, PassphraseKDF?) {
        if let cached = self.resolved.withLock({ $0 }) { return cached }
        let value = try self.source.resolve(header: header, keystoreDirectory: self.directory)
        self.resolved.withLock { $0 = value }
        return value
    }

    /// Reads the keystore; an absent keystore reads as empty.
    /// - Throws: `wrongMasterKey`, `keystoreCorrupted`, `insecurePermissions` or `ioFailure`.
    public func load() throws -> KeystoreContents {
        guard self.exists else { return KeystoreContents() }
        let data = try POSIXFile.readAll(path: self.path)
        let header = try SealedKeystore.Header(parsing: data)
        let (key, _) = try self.masterKey(header: header)
        return try SealedKeystore.open(data, masterKey: key)
    }

    /// Changes the keystore under an exclusive lock and saves it atomically.
    ///
    /// If `body` throws, nothing is written.
    /// - Parameter body: Changes the contents; its result is returned.
    public func update<Result>(_ body: (inout KeystoreContents) throws -> Result) throws -> Result {
        try self.ensureDirectory()
        let lock = try FileLock(path: self.lockPath)
        // Every temporary keystore file is made under this lock, so any left now is from a
        // writer that died before its rename: remove it.
        self.removeStaleTemporaries()
        var header: SealedKeystore.Header?
        var contents = KeystoreContents()
        if self.exists {
            let data = try POSIXFile.readAll(path: self.path)
            header = try SealedKeystore.Header(parsing: data)
            let (key, _) = try self.masterKey(header: header)
            contents = try SealedKeystore.open(data, masterKey: key)
        }
        let result = try body(&contents)
        contents.generation += 1
        var (key, kdf) = try self.masterKey(header: header)
        if case .scrypt = kdf, case .passphrase(let passphrase) = self.source {
            // Re-sealing moves a scrypt keystore to Argon2id.
            let argon2id = PassphraseKDF.argon2idDefault()
            key = try MasterKey.derive(passphrase: passphrase, using: argon2id)
            kdf = argon2id
            let migrated = (key, kdf)
            self.resolved.withLock { $0 = migrated }
        }
        try POSIXFile.writeAtomically(try SealedKeystore.seal(contents, masterKey: key, kdf: kdf), to: self.path)
        _ = consume lock
        return result
    }

    private func removeStaleTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory) else { return }
        for name in names where name.hasPrefix(".keystore.bwks.") && name.hasSuffix(".tmp") {
            unlink(self.directory + "/" + name)
        }
    }

    private func ensureDirectory() throws {
        var info = stat()
        if stat(self.directory, &info) == 0 {
            return
        }
        guard mkdir(self.directory, 0o700) == 0 || errno == EEXIST else {
            throw BulwarkError(.ioFailure, "cannot create \(self.directory): \(String(cString: strerror(errno)))")
        }
    }
}
