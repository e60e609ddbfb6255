/// Shamir's secret sharing over GF(2^8), in HashiCorp Vault's share format.
///
/// Each byte of the secret is the constant term of its own random polynomial of degree
/// `threshold - 1`; a share is that polynomial's value at one x coordinate for every byte, followed
/// by the x coordinate itself (`y₀ y₁ … yₙ₋₁ x`), as Vault's `shamir.Split` writes it. The field is
/// AES's (x⁸ + x⁴ + x³ + x + 1). Arithmetic runs without secret-dependent branches or table
/// look-ups. Fewer than `threshold` shares say nothing about the secret; a wrong combination
/// yields a wrong secret, so callers check the result (for example by opening a sealed value).
public enum Shamir {
    /// The most shares one secret can be split into (the non-zero x coordinates).
    public static let maximumShares = 255

    /// Splits `secret` into `shares` shares, any `threshold` of which rebuild it.
    /// - Parameters:
    ///   - secret: The secret (at least one byte).
    ///   - shares: How many shares to make (`threshold` to 255).
    ///   - threshold: How many shares rebuild the secret (2 to `shares`).
    /// - Returns: The shares, each `secret.count + 1` bytes, with distinct random x coordinates.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for counts out of range or an empty secret.
    public static func split(_ secret: [UInt8], shares: Int, threshold: Int) throws -> [[UInt8]] {
        guard !secret.isEmpty else { throw BulwarkError(.invalidArgument, "cannot split an empty secret") }
        guard (2...Self.maximumShares).contains(threshold) else {
            throw BulwarkError(.invalidArgument, "the threshold must be 2 to \(Self.maximumShares)")
        }
        guard (threshold...Self.maximumShares).contains(shares) else {
            throw BulwarkError(.invalidArgument, "the number of shares must be the threshold (\(threshold)) to \(Self.maximumShares)")
        }
        // Distinct non-zero x coordinates: a CSPRNG shuffle of 1...255 (Fisher-Yates), the first `shares`.
        var coordinates = Array(UInt8(1)...UInt8(255))
        for index in stride(from: coordinates.count - 1, to: 0, by: -1) {
            coordinates.swapAt(index, Self.uniform(below: index + 1))
        }
        var out = (0..<shares).map { share -> [UInt8] in
            var bytes = [UInt8](repeating: 0, count: secret.count + 1)
            bytes[secret.count] = coordinates[share]
            return bytes
        }
        var coefficients = [UInt8](repeating: 0, count: threshold)
        for (position, byte) in secret.enumerated() {
            coefficients[0] = byte
            coefficients.withUnsafeMutableBytes { SecureRandom.fill(UnsafeMutableRawBufferPointer(rebasing: $0[1...])) }
            for share in 0..<shares {
                out[share][position] = Self.evaluate(coefficients, at: coordinates[share])
            }
        }
        coefficients.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
        return out
    }

    /// Rebuilds a secret from shares made by ``split(_:shares:threshold:)`` (or Vault).
    ///
    /// Any set of at least two well-formed shares yields *a* value; only a set of at least the
    /// threshold from one split yields the secret. Check the result before trusting it.
    /// - Parameter shares: Two or more shares of one length (at least two bytes), distinct x coordinates.
    /// - Returns: The secret (one byte shorter than each share).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for fewer than two shares, shares of
    ///   different or too short lengths, more than 255 shares, or two shares with one x coordinate
    ///   (the message never shows share bytes).
    public static func combine(_ shares: [[UInt8]]) throws -> [UInt8] {
        guard shares.count >= 2 else {
            throw BulwarkError(.invalidArgument, "at least two shares are needed to rebuild a secret")
        }
        guard shares.count <= Self.maximumShares else {
            throw BulwarkError(.invalidArgument, "at most \(Self.maximumShares) shares can be combined")
        }
        let length = shares[0].count
        guard length >= 2 else { throw BulwarkError(.invalidArgument, "a share must be at least two bytes") }
        guard shares.allSatisfy({ $0.count == length }) else {
            throw BulwarkError(.invalidArgument, "all shares must be the same length")
        }
        let xs = shares.map { $0[length - 1] }
        guard !xs.contains(0) else { throw BulwarkError(.invalidArgument, "a share has the x coordinate 0") }
        guard Set(xs).count == xs.count else { throw BulwarkError(.invalidArgument, "two shares have the same x coordinate (a share given twice)") }
        // Lagrange basis at x = 0, once for all bytes: ∏_{j≠i} x_j / (x_i + x_j).
        let basis = xs.indices.map { i -> UInt8 in
            var value: UInt8 = 1
            for j in xs.indices where j != i {
                value = Self.multiply(value, Self.multiply(xs[j], Self.inverse(xs[i] ^ xs[j])))
            }
            return value
        }
        var secret = [UInt8](repeating: 0, count: length - 1)
        for position in 0..<(length - 1) {
            var value: UInt8 = 0
            for i in shares.indices {
                value ^= Self.multiply(shares[i][position], basis[i])
            }
            secret[position] = value
        }
        return secret
    }

    // MARK: GF(2^8)

    /// Horner's rule: c₀ + x(c₁ + x(c₂ + …)).
    static func evaluate(_ coefficients: [UInt8], at x: UInt8) -> UInt8 {
        var value: UInt8 = 0
        for coefficient in coefficients.reversed() {
            value = Self.multiply(value, x) ^ coefficient
        }
        return value
    }

    /// Multiplication in GF(2^8) modulo x⁸ + x⁴ + x³ + x + 1, with masks instead of branches.
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var result: UInt8 = 0
        var a = a
        var b = b
        for _ in 0..<8 {
            result ^= a & (0 &- (b & 1))
            let carry = 0 &- (a >> 7)
            a = (a << 1) ^ (carry & 0x1B)
            b >>= 1
        }
        return result
    }

    /// a⁻¹ = a²⁵⁴ (Fermat); 0 maps to 0, which ``combine(_:)`` never asks for.
    static func inverse(_ a: UInt8) -> UInt8 {
        var result: UInt8 = 1
        var base = a
        var exponent = 254
        while exponent > 0 {
            if exponent & 1 == 1 { result = Self.multiply(result, base) }
            base = Self.multiply(base, base)
            exponent >>= 1
        }
        return result
    }

    /// A uniform integer in `0..<bound` from the CSPRNG (rejection sampling; `bound` ≤ 256).
    private static func uniform(below bound: Int) -> Int {
        let limit = 256 - 256 % bound
        while true {
            let byte = Int(SecureRandom.bytes(1)[0])
            if byte < limit { return byte % bound }
        }
    }
}
