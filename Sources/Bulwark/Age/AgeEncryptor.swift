import Crypto
public import Foundation

/// Encrypts one file in the age v1 format (c2sp.org/age) to X25519 recipients, in constant
/// memory: the `age` command, `rage` and ``AgeDecryptor`` open it with a matching identity.
///
/// A fresh 128-bit file key and payload nonce per file and a fresh ephemeral key per stanza, all
/// from the system's CSPRNG; the payload is ChaCha20-Poly1305 in 64 KiB chunks (age's STREAM).
/// Write ``prefix``, then what ``update(_:)`` returns, then what ``finish()`` returns.
public struct AgeEncryptor: Sendable {
    /// The header and the payload nonce: the file's first bytes.
    public let prefix: Data
    private let payloadKey: SymmetricKey
    private var pending = Data()
    private var counter: UInt64 = 0
    private var finished = false
    private var armor: AgeArmor.Encoder?

    /// - Parameters:
    ///   - recipients: At least one.
    ///   - armored: Write the ASCII-armored form (strict PEM, `AGE ENCRYPTED FILE`) that
    ///     `age --armor` writes, for channels that carry only text.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for no recipient.
    public init(recipients: [AgeRecipient], armored: Bool = false) throws {
        guard !recipients.isEmpty else { throw BulwarkError(.invalidArgument, "give at least one age recipient") }
        let fileKey = SymmetricKey(size: .init(bitCount: 128))
        let header = AgeHeader.make(stanzas: try recipients.map { try $0.stanza(fileKey: fileKey) }, fileKey: fileKey)
        let nonce = Data(SecureRandom.bytes(16))
        self.payloadKey = AgeFormat.payloadKey(fileKey: fileKey, nonce: nonce)
        if armored {
            var armor = AgeArmor.Encoder()
            self.prefix = armor.update(header + nonce)
            self.armor = armor
        } else {
            self.prefix = header + nonce
        }
    }

    /// Takes more plaintext; returns the chunks it completed (a chunk is sealed once the next
    /// byte shows it is not the last).
    public mutating func update<Plaintext: DataProtocol>(_ plaintext: Plaintext) throws -> Data {
        guard !self.finished else { throw BulwarkError(.invalidArgument, "the age encryptor has finished") }
        self.pending.append(contentsOf: plaintext)
        var out = Data()
        var start = self.pending.startIndex
        while self.pending.endIndex - start > AgeFormat.chunkSize {
            out += try self.seal(self.pending[start..<(start + AgeFormat.chunkSize)], final: false)
            start += AgeFormat.chunkSize
        }
        if start != self.pending.startIndex { self.pending = Data(self.pending[start...]) }
        return self.armored(out, last: false)
    }

    /// Seals the last chunk (empty only when the whole file is).
    public mutating func finish() throws -> Data {
        guard !self.finished else { throw BulwarkError(.invalidArgument, "the age encryptor has finished") }
        self.finished = true
        defer { self.pending = Data() }
        return self.armored(try self.seal(self.pending, final: true), last: true)
    }

    /// `bytes` through the armor when the file is armored.
    private mutating func armored(_ bytes: Data, last: Bool) -> Data {
        guard var armor = self.armor else { return bytes }
        var out = armor.update(bytes)
        if last { out += armor.finish() }
        self.armor = armor
        return out
    }

    private mutating func seal(_ chunk: Data, final: Bool) throws -> Data {
        let box = try ChaChaPoly.seal(chunk, using: self.payloadKey, nonce: try AgeFormat.chunkNonce(self.counter, final: final))
        self.counter += 1
        return box.ciphertext + box.tag
    }
}
