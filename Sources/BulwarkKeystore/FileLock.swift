import Bulwark

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on a lock file, held for one read-modify-write of the
/// keystore so that concurrent processes never lose each other's changes.
struct FileLock: ~Copyable {
    private let fd: Int32

    /// Blocks until the lock on `path` is held.
    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BulwarkError(.ioFailure, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BulwarkError(.ioFailure, "cannot lock \(path): \(reason)")
        }
        self.fd = fd
    }

    deinit {
        flock(self.fd, LOCK_UN)
        close(self.fd)
    }
}
