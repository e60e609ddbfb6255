import Bulwark
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, error-checked POSIX file operations: full reads and writes, fsync, atomic replace.
public enum POSIXFile {
    /// Reads until `buffer` is full or the input ends; returns the bytes read.
    public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw BulwarkError(.ioFailure, "read failed: \(String(cString: strerror(errno)))")
            }
            filled += count
        }
        return filled
    }

    /// Writes all of `buffer`.
    public static func writeFully(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < buffer.count {
            let count = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw BulwarkError(.ioFailure, "write failed: \(String(cString: strerror(errno)))")
            }
            written += count
        }
    }

    /// Reads a whole (small) file.
    public static func readAll(path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try readFully(fd, into: $0) }
            data.append(contentsOf: chunk[..<count])
            if count < chunk.count { break }
        }
        return data
    }

    /// Creates a fresh temporary file beside `path` (same directory, so rename is atomic).
    /// - Returns: The descriptor and the temporary path.
    public static func createTemporary(besides path: String, mode: UInt32 = 0o600) throws -> (Int32, String) {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let candidate = (directory.isEmpty ? "." : directory) + "/.\(base).\(getpid()).\(suffix).tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
            if fd >= 0 { return (fd, candidate) }
            if errno != EEXIST {
                throw BulwarkError(.ioFailure, "cannot create a file beside \(path): \(String(cString: strerror(errno)))")
            }
        }
        throw BulwarkError(.ioFailure, "cannot create a temporary file beside \(path)")
    }

    /// fsyncs a descriptor.
    public static func sync(_ fd: Int32) throws {
        guard fsync(fd) == 0 else {
            throw BulwarkError(.ioFailure, "fsync failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Moves a finished temporary file over `path` and makes the rename durable.
    public static func commit(temporary: String, to path: String) throws {
        CrashPoint.reach("before-rename")
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BulwarkError(.ioFailure, "cannot replace \(path): \(reason)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            defer { close(dirFD) }
            try sync(dirFD)
        }
    }

    /// Atomically and durably replaces `path` with `data`: temporary file, fsync, rename,
    /// fsync of the directory. On any failure the old file is left as it was.
    public static func writeAtomically(_ data: Data, to path: String, mode: UInt32 = 0o600) throws {
        let (fd, temporary) = try createTemporary(besides: path, mode: mode)
        do {
            try data.withUnsafeBytes { try writeFully(fd, UnsafeRawBufferPointer(rebasing: $0[..<($0.count / 2)])) }
            CrashPoint.reach("mid-write")
            try data.withUnsafeBytes { try writeFully(fd, UnsafeRawBufferPointer(rebasing: $0[($0.count / 2)...])) }
            try sync(fd)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        try commit(temporary: temporary, to: path)
    }
}

/// Fault injection for the crash-safety tests: when `BULWARK_TEST_CRASH_POINT` names a point,
/// the process kills itself there with SIGKILL, as a power cut or `kill -9` would.
enum CrashPoint {
    static let armed = ProcessInfo.processInfo.environment["BULWARK_TEST_CRASH_POINT"]

    static func reach(_ name: String) {
        if let armed, armed == name {
            kill(getpid(), SIGKILL)
        }
    }
}
