import Dispatch

/// Argon2 (RFC 9106): Argon2id for new hashes, Argon2i and Argon2d for verifying; versions 0x13
/// and 0x10. Written in Swift (with ``BLAKE2b``) because no vetted Swift package has it, and
/// proven against RFC 9106's vectors, the reference implementation's tests and `argon2-cffi`.
///
/// Memory is allocated once per hash, exactly `m'` KiB (m rounded down to a multiple of 4p),
/// cleared and released before returning. Lanes run on several threads, meeting at the four
/// synchronisation points of each pass.
public enum Argon2 {
    /// The variant: how reference blocks are chosen.
    public enum Variant: String, Sendable, CaseIterable {
        /// Data-dependent addressing (verification only).
        case argon2d
        /// Data-independent addressing (verification only).
        case argon2i
        /// Hybrid; the recommended variant and the only one Bulwark hashes new passwords with.
        case argon2id

        var typeCode: UInt32 {
            switch self {
            case .argon2d: return 0
            case .argon2i: return 1
            case .argon2id: return 2
            }
        }
    }

    /// Cost parameters.
    public struct Parameters: Sendable, Hashable {
        /// The variant.
        public var variant: Variant
        /// Memory in KiB (at least 8 per lane, at most 4 GiB).
        public var memoryKiB: UInt32
        /// Passes over memory (1 to 2^20).
        public var iterations: UInt32
        /// Lanes, computed in parallel (1 to 255).
        public var parallelism: UInt32
        /// Tag length in bytes (4 to 1024).
        public var tagLength: Int
        /// The version: 0x13 (current) or 0x10 (legacy, verification only).
        public var version: UInt32

        /// Creates parameters.
        public init(
            variant: Variant = .argon2id, memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32,
            tagLength: Int = 32, version: UInt32 = 0x13
        ) {
            self.variant = variant
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
            self.tagLength = tagLength
            self.version = version
        }

        /// OWASP's recommendation and Bulwark's default: m = 19456 KiB, t = 2, p = 1.
        public static let owasp = Parameters(memoryKiB: 19456, iterations: 2, parallelism: 1)
        /// A stronger profile: m = 65536 KiB, t = 3, p = 4.
        public static let high = Parameters(memoryKiB: 65536, iterations: 3, parallelism: 4)

        /// The largest memory cost accepted: 4 GiB.
        public static let maximumMemoryKiB: UInt32 = 4 << 20

        func validate() throws {
            guard (1...255).contains(self.parallelism) else {
                throw BulwarkError(.invalidArgument, "Argon2 parallelism must be 1-255")
            }
            guard self.memoryKiB >= 8 * self.parallelism, self.memoryKiB <= Self.maximumMemoryKiB else {
                throw BulwarkError(.invalidArgument, "Argon2 memory must be between 8 KiB per lane and 4 GiB")
            }
            guard (1...(1 << 20)).contains(self.iterations) else {
                throw BulwarkError(.invalidArgument, "Argon2 iterations must be 1-1048576")
            }
            guard (4...1024).contains(self.tagLength) else {
                throw BulwarkError(.invalidArgument, "Argon2 tag length must be 4-1024 bytes")
            }
            guard self.version == 0x13 || self.version == 0x10 else {
                throw BulwarkError(.invalidArgument, "Argon2 version must be 0x13 or 0x10")
            }
        }
    }

    /// Computes an Argon2 tag.
    /// - Parameters:
    ///   - password: The password bytes.
    ///   - salt: At least 8 bytes.
    ///   - secret: Optional secret (K).
    ///   - associatedData: Optional associated data (X).
    ///   - parameters: The costs and variant.
    /// - Returns: The tag.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for parameters out of range.
    public static func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [], parameters: Parameters
    ) throws -> [UInt8] {
        try parameters.validate()
        guard salt.count >= 8, salt.count <= 1024, secret.count <= 1024, associatedData.count <= 1 << 20,
            password.count <= 1 << 20
        else {
            throw BulwarkError(.invalidArgument, "Argon2 needs a salt of 8-1024 bytes and inputs of sane length")
        }
        var h0 = BLAKE2b(outputLength: 64)
        for value in [parameters.parallelism, UInt32(parameters.tagLength), parameters.memoryKiB, parameters.iterations,
                      parameters.version, parameters.variant.typeCode] {
            h0.update(le32: value)
        }
        for input in [password, salt, secret, associatedData] {
            h0.update(le32: UInt32(input.count))
            h0.update(input)
        }
        let seed = h0.finalize()
        let state = Argon2State(parameters: parameters)
        defer { state.release() }
        state.initialize(seed: seed)
        state.fill()
        return state.finalTag()
    }

    /// H' of RFC 9106 §3.3: a variable-length hash built from BLAKE2b.
    static func variableHash(_ input: [UInt8], length: Int) -> [UInt8] {
        var first = BLAKE2b(outputLength: min(length, 64))
        first.update(le32: UInt32(length))
        first.update(input)
        var v = first.finalize()
        guard length > 64 else { return v }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        let r = (length + 31) / 32 - 2
        out += v.prefix(32)
        for _ in 1..<r {
            v = BLAKE2b.hash(v, outputLength: 64)
            out += v.prefix(32)
        }
        out += BLAKE2b.hash(v, outputLength: length - 32 * r)
        return out
    }
}
