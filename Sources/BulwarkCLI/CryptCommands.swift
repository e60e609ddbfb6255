import ArgumentParser
import Bulwark
import BulwarkKeystore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bulwark encrypt`: a file or standard input to a Bulwark stream.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a file or standard input of any size with a key's primary version.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The encryption key's name.") var key: String
    @Option(help: "Context (associated data) bound to the ciphertext; decryption must repeat it.") var context: String = ""
    @Argument(help: "Input file (default: standard input).") var input: String?
    @Argument(help: "Output file (default: standard output). Written atomically.") var output: String?

    func run() throws {
        try reportingErrors {
            let keyset = try lookUp(self.key, in: try self.store.keystore().load())
            let inputFD = try openInput(self.input)
            defer { if inputFD != STDIN_FILENO { close(inputFD) } }
            try writeOutput(self.output) { outputFD in
                try FileStreamCipher.encrypt(input: inputFD, output: outputFD, keyset: keyset, context: Data(self.context.utf8))
            }
        }
    }
}

/// `bulwark decrypt`: a Bulwark stream back to plaintext; nothing is written unless it all verifies.
struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt what 'bulwark encrypt' wrote; the key version is found from the data.",
        discussion: "On any failure the exit status is 1 and nothing is written to the output.")
    @OptionGroup var store: StoreOptions
    @Option(help: "The context given at encryption.") var context: String = ""
    @Argument(help: "Input file (default: standard input).") var input: String?
    @Argument(help: "Output file (default: standard output). Written atomically.") var output: String?

    func run() throws {
        try reportingErrors {
            var inputFD = try openInput(self.input)
            defer { if inputFD != STDIN_FILENO { close(inputFD) } }
            let header = try FileStreamCipher.readHeader(input: inputFD)
            let contents = try self.store.keystore().load()
            let keyset = try contents.keyset(withID: header.keyID)
            let decryptor = try keyset.makeStreamDecryptor(header: header, context: Data(self.context.utf8))
            if self.output != nil {
                // Plaintext goes to a temporary file that only replaces OUT once every segment verified.
                try writeOutput(self.output) { outputFD in
                    try FileStreamCipher.decrypt(input: inputFD, output: outputFD, decryptor: decryptor)
                }
                return
            }
            // To standard output: verify the whole stream first, then decrypt it again for real.
            if lseek(inputFD, 0, SEEK_CUR) < 0 || !isRegularFile(inputFD) {
                let spooled = try spoolToTemporaryFile(inputFD)
                if inputFD != STDIN_FILENO { close(inputFD) }
                inputFD = spooled
            }
            let start = lseek(inputFD, 0, SEEK_CUR)
            try FileStreamCipher.decrypt(input: inputFD, output: nil, decryptor: decryptor)
            guard lseek(inputFD, start, SEEK_SET) == start else {
                throw BulwarkError(.ioFailure, "cannot rewind the input")
            }
            try FileStreamCipher.decrypt(input: inputFD, output: STDOUT_FILENO, decryptor: decryptor)
        }
    }
}

func openInput(_ path: String?) throws -> Int32 {
    guard let path, path != "-" else { return STDIN_FILENO }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw BulwarkError(.ioFailure, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    return fd
}

func isRegularFile(_ fd: Int32) -> Bool {
    var info = stat()
    return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// Runs `body` with the output descriptor: standard output, or a temporary file beside `path`
/// that is fsynced and renamed over it only when `body` succeeds (and removed when it fails).
func writeOutput(_ path: String?, _ body: (Int32) throws -> Void) throws {
    guard let path, path != "-" else {
        try body(STDOUT_FILENO)
        return
    }
    let (fd, temporary) = try POSIXFile.createTemporary(besides: path)
    do {
        try body(fd)
        try POSIXFile.sync(fd)
        close(fd)
    } catch {
        close(fd)
        unlink(temporary)
        throw error
    }
    try POSIXFile.commit(temporary: temporary, to: path)
}

/// Copies a non-seekable input (ciphertext only) into an unlinked temporary file.
func spoolToTemporaryFile(_ input: Int32) throws -> Int32 {
    let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    var template = Array((directory + "/bulwark-spool-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        throw BulwarkError(.ioFailure, "cannot create a spool file in \(directory)")
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try POSIXFile.readFully(input, into: $0) }
        try buffer.withUnsafeBytes { try POSIXFile.writeFully(fd, UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        if count < buffer.count { break }
    }
    guard lseek(fd, 0, SEEK_SET) == 0 else {
        throw BulwarkError(.ioFailure, "cannot rewind the spool file")
    }
    return fd
}
