import Crypto
import Foundation

/// Streams of any size encrypted to a public key: the stream format of ``StreamHeader``, whose
/// segment key comes from a fresh HPKE encapsulation to the key instead of a key version's bytes.
///
/// Layout: the 55-byte ``StreamHeader`` (its algorithm id names the hybrid key type, its key id
/// and version the recipient key), then HPKE's encapsulated key
/// (``StreamHeader/encapsulatedKeyLength`` bytes), then segments in the key type's AEAD
/// (AES-256-GCM, or ChaCha20-Poly1305 for the `-chacha20-poly1305` types) exactly as in a
/// symmetric stream. The stream key is HPKE's exported secret (RFC 9180 §5.3; `info` =
/// `"bulwark hybrid stream v1"` ‖ the whole header ‖ SHA-256(context), exporter context
/// `"bulwark stream key"`), from which each segment key is derived as in a symmetric stream. The
/// header, the encapsulated key and the context are all bound: any change fails the first segment.
enum HybridStream {
    static let label = Array("bulwark hybrid stream v1".utf8)
    static let exporterContext = Data("bulwark stream key".utf8)

    static func info(header: StreamHeader, context: UnsafeRawBufferPointer) -> Data {
        var info = Data(Self.label)
        info.append(header.bytes)
        info.append(contentsOf: SHA256.hash(data: context))
        return info
    }
}
