import ArgumentParser
import Bulwark
import BulwarkKeystore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the keystore is and how to unseal it.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("master-key-file"), help: "A file holding the base64 master key (mode 600).")
    var masterKeyFile: String?

    @Option(name: .customLong("home"), help: "The keystore directory (default: $BULWARK_HOME or ./.bulwark).")
    var home: String?

    func keystore() throws -> FileKeystore {
        FileKeystore(directory: self.home ?? FileKeystore.defaultDirectory(), masterKey: try self.masterKeySource())
    }

    /// The master key's source: `--master-key-file`, the environment, or a passphrase prompt.
    func masterKeySource() throws -> MasterKeySource {
        if let path = self.masterKeyFile { return .keyFile(path: path) }
        if let source = MasterKeySource.fromEnvironment() { return source }
        if isatty(STDIN_FILENO) == 1, let entered = Self.prompt("Keystore passphrase: ") {
            return .passphrase(entered)
        }
        throw BulwarkError(
            .missingMasterKey,
            "no master key: set BULWARK_MASTER_KEY, BULWARK_MASTER_KEY_FILE or BULWARK_PASSPHRASE, or pass --master-key-file")
    }

    private static func prompt(_ text: String) -> String? {
        guard let raw = getpass(text) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }
}

/// Runs `body`, turning a ``BulwarkError`` into a one-line message on standard error and exit
/// status 1. Messages name keys, versions and causes, never secrets.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as BulwarkError {
        FileHandle.standardError.write(Data("bulwark: \(error.code): \(error.message)\n".utf8))
        throw ExitCode(1)
    }
}

/// Writes a line to standard error.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
