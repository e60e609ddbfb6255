import CBulwarkLibCrypto
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Incremented in the child after every `fork()`, so a buffered pool is never reused there.
private let forkGeneration = Atomic<UInt64>(0)

/// Random bytes for nonces, salts and key material.
///
/// Bytes come from the operating system's CSPRNG (`getrandom` on Linux, `arc4random_buf`
/// elsewhere), read 4 KiB at a time and handed out from a buffer so that a 12-byte nonce does
/// not cost a system call. A `pthread_atfork` child handler bumps a generation counter, and the
/// buffer is discarded when it changes, so a forked child never repeats its parent's nonces.
/// Each handed-out byte is cleared from the buffer.
package enum SecureRandom {
    private struct Pool: ~Copyable {
        var bytes: [UInt8]
        var offset: Int
        var generation: UInt64

        init() {
            self.bytes = [UInt8](repeating: 0, count: SecureRandom.poolSize)
            self.offset = SecureRandom.poolSize
            self.generation = UInt64.max
        }
    }

    static let poolSize = 4096
    private static let pool = Mutex(Pool())
    private static let forkHandlerInstalled: Bool = {
        pthread_atfork(nil, nil, { forkGeneration.add(1, ordering: .sequentiallyConsistent) }) == 0
    }()

    /// Fills `buffer` with random bytes.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        guard buffer.count <= 256, Self.forkHandlerInstalled else {
            systemFill(buffer)
            return
        }
        let generation = forkGeneration.load(ordering: .sequentiallyConsistent)
        pool.withLock { pool in
            if pool.generation != generation || pool.offset + buffer.count > pool.bytes.count {
                pool.bytes.withUnsafeMutableBytes { systemFill($0) }
                pool.offset = 0
                pool.generation = generation
            }
            let start = pool.offset
            pool.bytes.withUnsafeMutableBytes { source in
                let slice = UnsafeMutableRawBufferPointer(rebasing: source[start..<(start + buffer.count)])
                buffer.copyMemory(from: UnsafeRawBufferPointer(slice))
                _ = slice.initializeMemory(as: UInt8.self, repeating: 0)
            }
            pool.offset += buffer.count
        }
    }

    /// Returns `count` random bytes.
    package static func bytes(_ count: Int) -> [UInt8] {
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

    /// Reads straight from the kernel's CSPRNG.
    private static func systemFill(_ buffer: UnsafeMutableRawBufferPointer) {
        #if canImport(Darwin)
        arc4random_buf(buffer.baseAddress!, buffer.count)
        #else
        var filled = 0
        while filled < buffer.count {
            let count = getrandom(buffer.baseAddress! + filled, buffer.count - filled, 0)
            if count < 0 {
                if errno == EINTR { continue }
                // No entropy source: there is no safe way to go on.
                fatalError("getrandom failed with errno \(errno)")
            }
            filled += count
        }
        #endif
    }
}
