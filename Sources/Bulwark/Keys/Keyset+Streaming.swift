public import Foundation
import Crypto

extension Keyset {
    /// Starts a stream encrypted with the primary version.
    /// - Parameters:
    ///   - context: Associated data bound to the whole stream (for example the file's purpose).
    ///   - segmentSize: Ciphertext bytes per segment; 64 KiB by default.
    /// - Throws: ``BulwarkError/Code/wrongPurpose`` unless this is an AEAD encryption key.
    public func makeStreamEncryptor<Context: DataProtocol>(
        context: Context, segmentSize: Int = StreamHeader.defaultSegmentSize
    ) throws -> StreamEncryptor {
        try self.requirePurpose(.encryption, for: "encrypt a stream")
        try self.requireUnderived("encrypt a stream")
        guard StreamHeader.segmentSizeRange.contains(segmentSize) else {
            throw BulwarkError(.invalidArgument, "a stream segment size must be between 64 bytes and 16 MiB")
        }
        let version = try self.usableVersion(self.primaryVersion, forDecryption: false)
        guard case .symmetric(let key) = version.material else {
            throw BulwarkError(.keyVersionDestroyed, "the primary version of '\(self.name)' has no key material")
        }
        return try context.withContiguousBytes { contextBytes in
            let header = StreamHeader(
                algorithmID: self.type.wireID, keyID: self.id, keyVersion: version.number,
                contextCheck: EnvelopeHeader.contextCheck(contextBytes), segmentSize: segmentSize,
                salt: SecureRandom.bytes(32), noncePrefix: SecureRandom.bytes(7))
            return StreamEncryptor(cipher: try StreamSegmentCipher(header: header, versionKey: key, context: contextBytes))
        }
    }

    /// Starts decrypting a stream whose header was read with ``StreamHeader/init(parsing:)``.
    /// - Parameters:
    ///   - header: The stream's header.
    ///   - context: The context given at encryption.
    /// - Throws: key and version errors as ``decrypt(_:context:)``.
    public func makeStreamDecryptor<Context: DataProtocol>(header: StreamHeader, context: Context) throws -> StreamDecryptor {
        try self.requirePurpose(.encryption, for: "decrypt a stream")
        try self.requireUnderived("decrypt a stream")
        guard header.keyID == self.id else {
            throw BulwarkError(.unknownKey, "the stream was made by key id \(header.keyID), not by key '\(self.name)' (id \(self.id))")
        }
        guard header.algorithmID == self.type.wireID else {
            throw BulwarkError(.authenticationFailed, "the stream header names another algorithm: it was altered")
        }
        let version = try self.usableVersion(header.keyVersion, forDecryption: true)
        guard case .symmetric(let key) = version.material else {
            throw BulwarkError(.keyVersionDestroyed, "version \(header.keyVersion) of '\(self.name)' has no key material")
        }
        return try context.withContiguousBytes { contextBytes in
            var decryptor = StreamDecryptor(cipher: try StreamSegmentCipher(header: header, versionKey: key, context: contextBytes))
            decryptor.contextMismatch = EnvelopeHeader.contextCheck(contextBytes) != header.contextCheck
            return decryptor
        }
    }
}
