import Bulwark
import Crypto
import Foundation

/// Transit's operations with no key: random bytes and hashes (Vault's `path_random.go`, `path_hash.go`).
extension TransitBackend {
    /// `POST transit/random(/:bytes)`.
    public func random(_ request: RandomRequest, bytes pathBytes: Int?) throws -> RandomAnswer {
        // The body's count is checked even when the path gives one: the two must agree.
        let bodyBytes = try RequestValues.integer(request.bytes, field: "bytes", in: 1...(1 << 16))
        if let pathBytes, let bodyBytes, pathBytes != bodyBytes { throw BulwarkError(.invalidArgument, "the bytes in the path and in the body differ") }
        let count = pathBytes ?? bodyBytes ?? 32
        guard (1...(1 << 16)).contains(count) else { throw BulwarkError(.invalidArgument, "bytes must be 1-65536") }
        let data = Data(SecureRandom.bytes(count))
        let format = request.format ?? "base64"
        guard format == "base64" || format == "hex" else { throw BulwarkError(.invalidArgument, "format must be base64 or hex") }
        // Vault's other sources mix in a seal's entropy; Bulwark has only the platform's: refused by name.
        guard request.source ?? "platform" == "platform" else { throw BulwarkError(.invalidArgument, "source: only \"platform\" is supported") }
        return RandomAnswer(randomBytes: format == "hex" ? Hex.encode(data) : data.base64EncodedString())
    }

    /// `POST transit/hash(/:algorithm)`: SHA-2 and SHA-3 (no SHA-1).
    public func hash(_ request: HashRequest, algorithm pathAlgorithm: String?) throws -> HashAnswer {
        let input = try Self.base64(request.input, "input") ?? Data()
        let bodyAlgorithm = request.algorithm
        if let pathAlgorithm, let bodyAlgorithm, pathAlgorithm != bodyAlgorithm {
            throw BulwarkError(.invalidArgument, "the algorithm in the path and in the body differ")
        }
        let algorithm = pathAlgorithm ?? bodyAlgorithm ?? "sha2-256"
        let digest: Data
        switch algorithm {
        case "sha2-256": digest = Data(SHA256.hash(data: input))
        case "sha2-384": digest = Data(SHA384.hash(data: input))
        case "sha2-512": digest = Data(SHA512.hash(data: input))
        case "sha3-256": digest = Data(SHA3_256.hash(data: input))
        case "sha3-384": digest = Data(SHA3_384.hash(data: input))
        case "sha3-512": digest = Data(SHA3_512.hash(data: input))
        default: throw BulwarkError(.invalidArgument, "unsupported hash algorithm \(algorithm)")
        }
        let format = request.format ?? "hex"
        guard format == "hex" || format == "base64" else { throw BulwarkError(.invalidArgument, "format must be hex or base64") }
        return HashAnswer(sum: format == "base64" ? digest.base64EncodedString() : Hex.encode(digest))
    }
}

