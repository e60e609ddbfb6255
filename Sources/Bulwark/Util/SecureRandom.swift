import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Random bytes for nonces, salts and key material.
///
/// Bytes come from the operating system's CSPRNG (`getrandom`/`arc4random`), read in blocks
/// and handed out from a buffer so that a 12-byte nonce does not cost a system call. The buffer
/// is discarded when the process id changes, so a forked child never repeats its parent's nonces,
/// and each handed-out byte is cleared from the buffer.
enum SecureRandom {
    private struct Pool: ~Copyable {
        var bytes: [UInt8]
        var offset: Int
        var pid: pid_t

        init() {
            self.bytes = [UInt8](repeating: 0, count: SecureRandom.poolSize)
            self.offset = SecureRandom.poolSize
            self.pid = getpid()
        }
    }

    static let poolSize = 4096
    private static let pool = Mutex(Pool())

    /// Fills `buffer` with random bytes.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        if buffer.count > 256 {
            systemFill(buffer)
            return
        }
        pool.withLock { pool in
            let pid = getpid()
            if pool.pid != pid || pool.offset + buffer.count > pool.bytes.count {
                pool.bytes.withUnsafeMutableBytes { systemFill($0) }
                pool.offset = 0
                pool.pid = pid
            }
            pool.bytes.withUnsafeMutableBytes { source in
                let slice = UnsafeMutableRawBufferPointer(rebasing: source[pool.offset..<(pool.offset + buffer.count)])
                buffer.copyMemory(from: UnsafeRawBufferPointer(slice))
                slice.initializeMemory(as: UInt8.self, repeating: 0)
            }
            pool.offset += buffer.count
        }
    }

    /// Returns `count` random bytes.
    static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    /// A random non-zero 32-bit identifier.
    static func identifier() -> UInt32 {
        while true {
            var value: UInt32 = 0
            withUnsafeMutableBytes(of: &value) { fill($0) }
            if value != 0 { return value }
        }
    }

    private static func systemFill(_ buffer: UnsafeMutableRawBufferPointer) {
        var generator = SystemRandomNumberGenerator()
        var index = 0
        while index + 8 <= buffer.count {
            buffer.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < buffer.count {
            buffer[index] = UInt8(truncatingIfNeeded: generator.next() as UInt64)
            index += 1
        }
    }
}
