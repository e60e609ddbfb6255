import Crypto
import Foundation

/// The reference ``NonceAEAD`` backend: swift-crypto's `AES.GCM` and `ChaChaPoly`.
struct SwiftCryptoAEAD: NonceAEAD {
    private let algorithm: AEADAlgorithm
    private let key: SymmetricKey

    init(_ algorithm: AEADAlgorithm, key: SymmetricKey) throws {
        guard algorithm != .aes256SIV, key.bitCount == 256 else {
            throw BulwarkError(.invalidArgument, "unsupported algorithm or key size for a nonce AEAD")
        }
        self.algorithm = algorithm
        self.key = key
    }

    private static func joined(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Data {
        var data = Data(capacity: first.count + second.count)
        data.append(contentsOf: first)
        data.append(contentsOf: second)
        return data
    }

    func seal(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws {
        let associated = Self.joined(aad, aad2)
        let body: Data
        let tag: Data
        switch self.algorithm {
        case .aes256GCM, .aes128GCM:
            let box = try AES.GCM.seal(plaintext, using: self.key, nonce: try AES.GCM.Nonce(data: nonce), authenticating: associated)
            body = box.ciphertext
            tag = box.tag
        case .chacha20Poly1305:
            let box = try ChaChaPoly.seal(plaintext, using: self.key, nonce: try ChaChaPoly.Nonce(data: nonce), authenticating: associated)
            body = box.ciphertext
            tag = box.tag
        case .aes256SIV:
            throw BulwarkError(.invalidArgument, "AES-SIV is not a nonce AEAD")
        }
        body.copyBytes(to: output.bindMemory(to: UInt8.self), count: body.count)
        UnsafeMutableRawBufferPointer(rebasing: output[body.count...]).copyBytes(from: tag)
    }

    func open(
        nonce: UnsafeRawBufferPointer,
        aad: UnsafeRawBufferPointer,
        aad2: UnsafeRawBufferPointer,
        ciphertextAndTag: UnsafeRawBufferPointer,
        output: UnsafeMutableRawBufferPointer
    ) throws -> Bool {
        let associated = Self.joined(aad, aad2)
        let split = ciphertextAndTag.count - 16
        let body = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[..<split])
        let tag = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[split...])
        let plaintext: Data
        do {
            switch self.algorithm {
            case .aes256GCM, .aes128GCM:
                let box = try AES.GCM.SealedBox(nonce: try AES.GCM.Nonce(data: nonce), ciphertext: body, tag: tag)
                plaintext = try AES.GCM.open(box, using: self.key, authenticating: associated)
            case .chacha20Poly1305:
                let box = try ChaChaPoly.SealedBox(nonce: try ChaChaPoly.Nonce(data: nonce), ciphertext: body, tag: tag)
                plaintext = try ChaChaPoly.open(box, using: self.key, authenticating: associated)
            case .aes256SIV:
                throw BulwarkError(.invalidArgument, "AES-SIV is not a nonce AEAD")
            }
        } catch is CryptoKitError {
            return false
        }
        if !plaintext.isEmpty {
            plaintext.copyBytes(to: output.bindMemory(to: UInt8.self), count: plaintext.count)
        }
        return true
    }
}
