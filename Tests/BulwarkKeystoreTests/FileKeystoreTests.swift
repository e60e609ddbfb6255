import Bulwark
import BulwarkKeystore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

func temporaryDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "/bulwark-test-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: try #require(made))
}

@Suite("File keystore")
struct FileKeystoreTests {
    @Test("Create, update and reload; a failed update writes nothing")
    func updates() throws {
        let directory = try temporaryDirectory() + "/home"
        let master = MasterKey.generate().base64EncodedString(access: .token)
        let store = FileKeystore(directory: directory, masterKey: .base64(master))
        #expect(try store.load().keysets.isEmpty)
        try store.update { $0.keysets["pii"] = try Keyset.generate(name: "pii") }
        var info = stat()
        #expect(stat(directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(stat(store.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect(throws: BulwarkError.self) {
            try store.update { contents in
                contents.keysets["pii"] = nil
                throw BulwarkError(.invalidArgument, "abort")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
        let reopened = FileKeystore(directory: directory, masterKey: .base64(master))
        #expect(try reopened.load().keysets["pii"] != nil)
        #expect(try reopened.load().generation == 1)
    }

    @Test("A wrong master key or a damaged keystore is refused and nothing is overwritten")
    func refusals() throws {
        let directory = try temporaryDirectory()
        let store = FileKeystore(directory: directory, masterKey: .base64(MasterKey.generate().base64EncodedString(access: .token)))
        try store.update { $0.keysets["pii"] = try Keyset.generate(name: "pii") }
        let good = try Data(contentsOf: URL(fileURLWithPath: store.path))
        let wrong = FileKeystore(directory: directory, masterKey: .base64(MasterKey.generate().base64EncodedString(access: .token)))
        expectCode(.wrongMasterKey) { try wrong.load() }
        expectCode(.wrongMasterKey) { try wrong.update { $0.keysets["evil"] = try Keyset.generate(name: "evil") } }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == good)
        // Damage the file: it is refused, and a failed update does not replace it.
        try good.prefix(good.count - 9).write(to: URL(fileURLWithPath: store.path))
        expectCode(.keystoreCorrupted) { try store.load() }
        expectCode(.keystoreCorrupted) { try store.update { _ in } }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == good.prefix(good.count - 9))
    }

    @Test("Key files: group- or world-readable, or beside the keystore, are refused")
    func keyFiles() throws {
        let base = try temporaryDirectory()
        let home = base + "/home"
        mkdir(home, 0o700)
        let keyPath = base + "/master.key"
        try Data(MasterKey.generate().base64EncodedString(access: .token).utf8).write(to: URL(fileURLWithPath: keyPath))
        chmod(keyPath, 0o644)
        expectCode(.insecurePermissions) { try FileKeystore(directory: home, masterKey: .keyFile(path: keyPath)).update { _ in } }
        chmod(keyPath, 0o600)
        try FileKeystore(directory: home, masterKey: .keyFile(path: keyPath)).update { $0.keysets["a"] = try Keyset.generate(name: "a") }
        let beside = home + "/master.key"
        try Data(MasterKey.generate().base64EncodedString(access: .token).utf8).write(to: URL(fileURLWithPath: beside))
        chmod(beside, 0o600)
        expectCode(.insecurePermissions) { try FileKeystore(directory: home, masterKey: .keyFile(path: beside)).load() }
    }

    @Test("Passphrase keystores use Argon2id and open only with the passphrase")
    func passphrase() throws {
        let directory = try temporaryDirectory()
        try FileKeystore(directory: directory, masterKey: .passphrase("correct horse battery")).update {
            $0.keysets["a"] = try Keyset.generate(name: "a")
        }
        let header = try SealedKeystore.Header(parsing: try Data(contentsOf: URL(fileURLWithPath: directory + "/keystore.bwks")))
        guard case .argon2id(let salt, let memory, let iterations, let lanes) = try #require(header.kdf) else {
            Issue.record("new keystores must use Argon2id")
            return
        }
        #expect(salt.count == 16 && memory == 65536 && iterations == 3 && lanes == 4)
        #expect(try FileKeystore(directory: directory, masterKey: .passphrase("correct horse battery")).load().keysets.count == 1)
        expectCode(.wrongMasterKey) { try FileKeystore(directory: directory, masterKey: .passphrase("wrong")).load() }
    }

    @Test("scrypt keystores still open, and re-sealing moves them to Argon2id")
    func scryptMigration() throws {
        let directory = try temporaryDirectory()
        let kdf = PassphraseKDF.scrypt(salt: Array(repeating: 9, count: 16), logN: 14, blockSize: 8, parallelism: 1)
        var contents = KeystoreContents()
        contents.keysets["old"] = try Keyset.generate(name: "old")
        let sealed = try SealedKeystore.seal(contents, masterKey: try MasterKey.derive(passphrase: "pass phrase", using: kdf), kdf: kdf)
        try sealed.write(to: URL(fileURLWithPath: directory + "/keystore.bwks"))
        let store = FileKeystore(directory: directory, masterKey: .passphrase("pass phrase"))
        #expect(try store.load().keysets["old"] != nil)
        try store.update { $0.keysets["new"] = try Keyset.generate(name: "new") }
        let header = try SealedKeystore.Header(parsing: try Data(contentsOf: URL(fileURLWithPath: store.path)))
        guard case .argon2id = try #require(header.kdf) else {
            Issue.record("re-sealing must move the keystore to Argon2id")
            return
        }
        let reopened = try FileKeystore(directory: directory, masterKey: .passphrase("pass phrase")).load()
        #expect(reopened.keysets.count == 2)
        expectCode(.wrongMasterKey) { try FileKeystore(directory: directory, masterKey: .passphrase("other")).load() }
    }

    @Test("Streams through file descriptors, including an empty input")
    func fileStreams() throws {
        let directory = try temporaryDirectory()
        let key = try Keyset.generate(name: "files")
        for length in [0, 1, 65_519, 65_520, 65_521, 3 << 20] {
            let input = directory + "/in", sealed = directory + "/sealed", output = directory + "/out"
            let plaintext = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try plaintext.write(to: URL(fileURLWithPath: input))
            let inFD = open(input, O_RDONLY), sealedFD = open(sealed, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try FileStreamCipher.encrypt(input: inFD, output: sealedFD, keyset: key, context: Data("c".utf8))
            close(inFD)
            close(sealedFD)
            let readFD = open(sealed, O_RDONLY), outFD = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let header = try FileStreamCipher.readHeader(input: readFD)
            try FileStreamCipher.decrypt(input: readFD, output: outFD, decryptor: try key.makeStreamDecryptor(header: header, context: Data("c".utf8)))
            close(readFD)
            close(outFD)
            #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == plaintext, "length \(length)")
        }
    }
}

func expectCode<R>(_ code: BulwarkError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) {
    do {
        _ = try body()
        Issue.record("expected \(code), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as BulwarkError {
        #expect(error.code == code, "got \(error.code): \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected BulwarkError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
