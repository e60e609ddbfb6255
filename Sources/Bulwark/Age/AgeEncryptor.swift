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
        var out = Data()
        try self.update(plaintext, into: &out)
        return out
    }

    /// ``update(_:)`` appending to `out` (a buffer the caller reuses: no allocation per call).
    public mutating func update<Plaintext: DataProtocol>(_ plaintext: Plaintext, into out: inout Data) throws {
        guard !self.finished else { throw BulwarkError(.invalidArgument, "the age encryptor has finished") }
        let input = plaintext as? Data ?? Data(plaintext)
        guard self.armor == nil else {
            var sealed = Data()
            try self.sealChunks(input, into: &sealed)
            out.append(self.armored(sealed, last: false))
            return
        }
        try self.sealChunks(input, into: &out)
    }

    /// Seals every chunk of `pending` ‖ `input` that more bytes follow; holds back the rest.
    private mutating func sealChunks(_ input: Data, into out: inout Data) throws {
        var index = input.startIndex
        // Complete the held-back chunk; seal it once more bytes follow it.
        let fill = min(AgeFormat.chunkSize - self.pending.count, input.count)
        self.pending.append(input[index..<(index + fill)])
        index += fill
        guard index < input.endIndex else { return }
        try self.seal(self.pending, final: false, into: &out)
        self.pending.removeAll(keepingCapacity: true)
        // Whole chunks straight from the input while more bytes follow them; the last is held back.
        while input.endIndex - index > AgeFormat.chunkSize {
            try self.seal(input[index..<(index + AgeFormat.chunkSize)], final: false, into: &out)
            index += AgeFormat.chunkSize
        }
        self.pending.append(input[index...])
    }

    /// Seals the last chunk (empty only when the whole file is).
    public mutating func finish() throws -> Data {
        guard !self.finished else { throw BulwarkError(.invalidArgument, "the age encryptor has finished") }
        self.finished = true
        defer { self.pending.resetBytes(in: 0..<self.pending.count) }
        var out = Data()
        try self.seal(self.pending, final: true, into: &out)
        return self.armored(out, last: true)
    }

    /// `bytes` through the armor when the file is armored.
    private mutating func armored(_ bytes: Data, last: Bool) -> Data {
        guard var armor = self.armor else { return bytes }
        var out = armor.update(bytes)
        if last { out += armor.finish() }
        self.armor = armor
        return out
    }

    /// Appends the sealed chunk (ciphertext ‖ tag) to `out`.
    private mutating func seal(_ chunk: Data, final: Bool, into out: inout Data) throws {
        let box = try ChaChaPoly.seal(chunk, using: self.payloadKey, nonce: try AgeFormat.chunkNonce(self.counter, final: final))
        self.counter += 1
        out.append(box.ciphertext)
        out.append(box.tag)
    }
}
