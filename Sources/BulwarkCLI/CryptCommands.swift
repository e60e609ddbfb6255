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
        abstract: "Encrypt a file or standard input of any size with a key's primary version, to a public key, or to age recipients.",
        discussion: """
            --recipient age1… (repeatable) writes an age v1 file (c2sp.org/age) that the age command, rage and \
            'bulwark decrypt --identity' open; --armor writes it as ASCII armor (PEM). No keystore is needed for it.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The key's name: an encryption key, or a hybrid (hpke-*) key whose primary public key is used.") var key: String?
    @Option(
        name: .customLong("public-key"),
        help: "A file holding a hybrid public key ('bulwark keys public-key'): encrypt to its holder, no keystore needed.")
    var publicKey: String?
    @Option(name: .customLong("recipient"), help: "An age X25519 recipient (age1…) to write an age file to (repeatable).")
    var recipients: [String] = []
    @Flag(help: "With --recipient: write the age file ASCII-armored.") var armor = false
    @Option(help: "Context (associated data) bound to the ciphertext; decryption must repeat it.") var context: String = ""
    @Argument(help: "Input file (default: standard input).") var input: String?
    @Argument(help: "Output file (default: standard output). Written atomically.") var output: String?

    func validate() throws {
        guard [self.key != nil, self.publicKey != nil, !self.recipients.isEmpty].filter({ $0 }).count == 1 else {
            throw ValidationError("give one of --key, --public-key or --recipient")
        }
        guard !self.armor || !self.recipients.isEmpty else { throw ValidationError("--armor is for age files (--recipient)") }
        guard self.recipients.isEmpty || self.context.isEmpty else {
            throw ValidationError("age files carry no context: drop --context with --recipient")
        }
    }

    func run() throws {
        try reportingErrors {
            if !self.recipients.isEmpty {
                let recipients = try self.recipients.map { try AgeRecipient(text: $0) }
                let inputFD = try openInput(self.input)
                defer { if inputFD != STDIN_FILENO { close(inputFD) } }
                try writeOutput(self.output) { outputFD in
                    try AgeFileCipher.encrypt(input: inputFD, output: outputFD, recipients: recipients, armor: self.armor)
                }
                return
            }
            let recipient: HybridPublicKey?
            let keyset: Keyset?
            if let path = self.publicKey {
                // A public key is about 1.7 KB of text at most (X-Wing): read no more than 8 KiB.
                let text = try readSmallFile(path, limit: 8192, what: "public key")
                recipient = try HybridPublicKey(text: text)
                keyset = nil
            } else {
                recipient = nil
                keyset = try lookUp(self.key ?? "", in: try self.store.keystore().load())
            }
            let inputFD = try openInput(self.input)
            defer { if inputFD != STDIN_FILENO { close(inputFD) } }
            try writeOutput(self.output) { outputFD in
                if let recipient {
                    try FileStreamCipher.encrypt(input: inputFD, output: outputFD, publicKey: recipient, context: Data(self.context.utf8))
                } else if let keyset {
                    try FileStreamCipher.encrypt(input: inputFD, output: outputFD, keyset: keyset, context: Data(self.context.utf8))
                }
            }
        }
    }
}

/// `bulwark decrypt`: a Bulwark stream back to plaintext; nothing is written unless it all verifies.
struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt what 'bulwark encrypt' wrote; the key version is found from the data.",
        discussion: """
            On any failure the exit status is 1 and nothing is written to the output. age files (binary or armored) \
            are read with --identity FILE (an age-keygen identity file, repeatable; no keystore needed) or \
            --identity-key NAME (an age-x25519 key of the keystore, any version that may decrypt).
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The context given at encryption.") var context: String = ""
    @Option(name: .customLong("identity"), help: "An age identity file (AGE-SECRET-KEY-1… lines): read an age file (repeatable).")
    var identityFiles: [String] = []
    @Option(name: .customLong("identity-key"), help: "An age-x25519 key of the keystore: read an age file with it.")
    var identityKey: String?
    @Argument(help: "Input file (default: standard input).") var input: String?
    @Argument(help: "Output file (default: standard output). Written atomically.") var output: String?

    func validate() throws {
        guard self.identityFiles.isEmpty || self.identityKey == nil else { throw ValidationError("give --identity or --identity-key, not both") }
        guard self.identityFiles.isEmpty && self.identityKey == nil || self.context.isEmpty else {
            throw ValidationError("age files carry no context: drop --context with --identity")
        }
    }

    func run() throws {
        try reportingErrors {
            let inputFD = try openInput(self.input)
            defer { if inputFD != STDIN_FILENO { close(inputFD) } }
            if !self.identityFiles.isEmpty || self.identityKey != nil {
                var identities: [AgeIdentity] = []
                for path in self.identityFiles {
                    // An identity file is a few lines: 64 KiB is far beyond any real one.
                    identities += try AgeIdentity.identities(in: try readSmallFile(path, limit: 65_536, what: "age identity file"))
                }
                if let name = self.identityKey {
                    identities += try lookUp(name, in: try self.store.keystore().load()).ageIdentities()
                }
                try deliverVerified(input: inputFD, output: self.output) { input, output in
                    try AgeFileCipher.decrypt(input: input, output: output, identities: identities)
                }
                return
            }
            let header = try FileStreamCipher.readHeader(input: inputFD)
            let contents = try self.store.keystore().load()
            let keyset = try contents.keyset(withID: header.keyID)
            let decryptor = try FileStreamCipher.decryptor(input: inputFD, header: header, keyset: keyset, context: Data(self.context.utf8))
            try deliverVerified(input: inputFD, output: self.output) { input, output in
                try FileStreamCipher.decrypt(input: input, output: output, decryptor: decryptor)
            }
        }
    }
}

/// Runs a decryption `pass` (from `input`'s current offset; nil output: verify only) so that
/// nothing reaches `output` unless the whole input verifies: a regular file (or a new path) is
/// written to a temporary file renamed into place at the end; /dev/null gets one verifying pass;
/// standard output, a pipe or a device get a verifying pass, then a second pass for real (a
/// non-seekable input is spooled to a temporary file first).
func deliverVerified(input: Int32, output: String?, _ pass: (Int32, Int32?) throws -> Void) throws {
    var inputFD = input
    defer { if inputFD != input { close(inputFD) } }
    var target = STDOUT_FILENO
    if let output, output != "-" {
        if isNullDevice(output) {
            // Nothing can leak into /dev/null, so one verifying pass suffices.
            try pass(inputFD, nil)
            return
        }
        var info = stat()
        if stat(output, &info) != 0 || (info.st_mode & S_IFMT) == S_IFREG {
            // Plaintext goes to a temporary file that replaces OUT once everything verified.
            try writeOutput(output) { outputFD in try pass(inputFD, outputFD) }
            return
        }
        target = open(output, O_WRONLY | O_CLOEXEC)
        guard target >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open \(output): \(String(cString: strerror(errno)))")
        }
    }
    defer { if target != STDOUT_FILENO { close(target) } }
    // To standard output, a pipe or a device: verify the whole input first, then decrypt it
    // again for real, so nothing is written unless all of it is authentic.
    if lseek(inputFD, 0, SEEK_CUR) < 0 || !isRegularFile(inputFD) {
        inputFD = try spoolToTemporaryFile(inputFD)
    }
    let start = lseek(inputFD, 0, SEEK_CUR)
    try pass(inputFD, nil)
    guard lseek(inputFD, start, SEEK_SET) == start else {
        throw BulwarkError(.ioFailure, "cannot rewind the input")
    }
    try pass(inputFD, target)
}

/// Reads a small text file (a key, a configuration), refusing one of more than `limit` bytes
/// without reading the rest (a path such as /dev/zero ends here, not in memory).
func readSmallFile(_ path: String, limit: Int, what: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        throw BulwarkError(.ioFailure, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: limit + 1)
    let count = try buffer.withUnsafeMutableBytes { try POSIXFile.readFully(fd, into: $0) }
    guard count <= limit else { throw BulwarkError(.invalidArgument, "\(path) is too large to be a \(what)") }
    return String(decoding: buffer[..<count], as: UTF8.self)
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

/// Whether `path` is the null device.
func isNullDevice(_ path: String) -> Bool {
    var target = stat()
    var null = stat()
    guard stat(path, &target) == 0, stat("/dev/null", &null) == 0 else { return false }
    return (target.st_mode & S_IFMT) == S_IFCHR && target.st_rdev == null.st_rdev
}

/// Runs `body` with the output descriptor: standard output, or a temporary file beside `path`
/// that is fsynced and renamed over it only when `body` succeeds (and removed when it fails).
/// A path that exists and is not a regular file (a pipe, a device) is written directly.
func writeOutput(_ path: String?, _ body: (Int32) throws -> Void) throws {
    guard let path, path != "-" else {
        try body(STDOUT_FILENO)
        return
    }
    var info = stat()
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        try body(fd)
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
