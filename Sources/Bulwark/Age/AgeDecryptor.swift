import Crypto
public import Foundation

/// Decrypts an age v1 file (binary or armored) with X25519 identities, in constant memory.
///
/// Nothing is returned until the header has verified (its MAC, under the file key one of the
/// identities unwrapped), and each chunk is returned only once its tag verified; the caller must
/// still treat output as unconfirmed until ``finish()`` succeeds (a file cut at a chunk boundary
/// is only detected there), as `bulwark decrypt` does by writing nothing until then.
public struct AgeDecryptor: Sendable {
    private enum State: Sendable { case undecided, header, nonce, payload, finished, failed }
    private let identities: [AgeIdentity]
    private var state = State.undecided
    private var armor: AgeArmor.Decoder?
    private var buffer = Data()
    private var payloadKey: SymmetricKey?
    private var counter: UInt64 = 0
    /// White space skipped before an armored file (at most ``maximumLeadingSpace``).
    private var leadingSpace = 0
    /// How far the header search got (it resumes there, not from the start).
    private var searched = 0
    static let maximumLeadingSpace = 1024

    /// - Parameter identities: At least one.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for none.
    public init(identities: [AgeIdentity]) throws {
        guard !identities.isEmpty else { throw BulwarkError(.invalidArgument, "give at least one age identity") }
        self.identities = identities
    }

    /// Takes more of the file; returns the plaintext of the chunks that verified.
    /// - Throws: ``BulwarkError/Code/invalidFormat`` for a malformed header or armor;
    ///   `unknownKey` when no identity opens any stanza; `authenticationFailed` for an altered
    ///   header or chunk. After an error, or after ``finish()``, every call throws.
    public mutating func update<Bytes: DataProtocol>(_ bytes: Bytes) throws -> Data {
        var out = Data()
        try self.update(bytes, into: &out)
        return out
    }

    /// ``update(_:)`` appending the plaintext to `out` (a buffer the caller reuses).
    public mutating func update<Bytes: DataProtocol>(_ bytes: Bytes, into out: inout Data) throws {
        try self.guarded { decryptor in
            var input = bytes as? Data ?? Data(bytes)
            if decryptor.state == .undecided {
                // Armored files may start with white space (then "-----BEGIN"); binary ones start
                // with "age-encryption.org/". Skipped space is counted, never kept.
                let skipped = input.prefix { AgeArmor.isSpace($0) }.count
                decryptor.leadingSpace += skipped
                input = Data(input.dropFirst(skipped))
                guard decryptor.leadingSpace <= Self.maximumLeadingSpace else {
                    throw BulwarkError(.invalidFormat, "not an age file: too much white space before it")
                }
                guard let first = input.first else { return }
                if first == UInt8(ascii: "-") {
                    decryptor.armor = AgeArmor.Decoder()
                } else if decryptor.leadingSpace > 0 {
                    throw BulwarkError(.invalidFormat, "not an age file: a binary age file starts with its version line")
                }
                decryptor.state = .header
            }
            if var armor = decryptor.armor {
                input = try armor.update(input)
                decryptor.armor = armor
            }
            try decryptor.binary(input, into: &out)
        }
    }

    /// Ends the file: the last chunk must be there and verify.
    /// - Throws: ``BulwarkError/Code/streamTruncated`` for a file cut short; the errors of
    ///   ``update(_:)``.
    public mutating func finish() throws -> Data {
        var out = Data()
        try self.guarded { decryptor in
            if var armor = decryptor.armor {
                let rest = try armor.finish()
                decryptor.armor = armor
                try decryptor.binary(rest, into: &out)
            }
            guard decryptor.state == .payload, let key = decryptor.payloadKey else {
                throw BulwarkError(.streamTruncated, "the age file ends before its payload")
            }
            guard decryptor.buffer.count >= 16 else { throw BulwarkError(.streamTruncated, "the age file is cut short") }
            if decryptor.buffer.count == 16, decryptor.counter > 0 {
                throw BulwarkError(.invalidFormat, "the age file's last chunk is empty")
            }
            out += try Self.open(decryptor.buffer, key: key, counter: decryptor.counter, final: true)
            decryptor.buffer = Data()
            decryptor.state = .finished
        }
        return out
    }

    /// Runs `body`, making the decryptor unusable when it throws (a caller that catches an
    /// error and goes on must not have the rest of the file read as something else).
    private mutating func guarded(_ body: (inout AgeDecryptor) throws -> Void) throws {
        switch self.state {
        case .failed: throw BulwarkError(.invalidArgument, "the age decryptor stopped at an earlier error")
        case .finished: throw BulwarkError(.invalidArgument, "the age decryptor has finished")
        default: break
        }
        do {
            return try body(&self)
        } catch {
            self.state = .failed
            self.buffer = Data()
            self.payloadKey = nil
            self.fileKey = nil
            throw error
        }
    }

    private mutating func binary(_ input: Data, into out: inout Data) throws {
        self.buffer.append(input)
        if self.state == .header {
            guard let length = AgeHeader.length(in: self.buffer, resume: &self.searched) else {
                guard self.buffer.count <= AgeFormat.maximumHeaderBytes else { throw BulwarkError(.invalidFormat, "the age header is too long") }
                return
            }
            let header = try AgeHeader(parsing: Data(self.buffer.prefix(length)))
            self.buffer = Data(self.buffer.dropFirst(length))
            self.payloadKey = nil
            self.fileKey = try self.unwrap(header)
            self.state = .nonce
        }
        if self.state == .nonce {
            guard self.buffer.count >= 16, let fileKey = self.fileKey else { return }
            self.payloadKey = AgeFormat.payloadKey(fileKey: fileKey, nonce: Data(self.buffer.prefix(16)))
            self.fileKey = nil
            self.buffer = Data(self.buffer.dropFirst(16))
            self.state = .payload
        }
        guard let key = self.payloadKey else { return }
        var start = self.buffer.startIndex
        // A chunk is opened as not-final only when more bytes follow it.
        while self.buffer.endIndex - start > AgeFormat.sealedChunkSize {
            out.append(try Self.open(self.buffer[start..<(start + AgeFormat.sealedChunkSize)], key: key, counter: self.counter, final: false))
            self.counter += 1
            start += AgeFormat.sealedChunkSize
        }
        if start != self.buffer.startIndex { self.buffer = Data(self.buffer[start...]) }
    }

    private var fileKey: SymmetricKey?

    /// The file key from the first stanza an identity opens, once the header MAC verifies.
    private func unwrap(_ header: AgeHeader) throws -> SymmetricKey {
        if header.stanzas.contains(where: { $0.arguments.first == "scrypt" }) {
            guard header.stanzas.count == 1 else { throw BulwarkError(.invalidFormat, "an scrypt stanza must be the only one") }
            throw BulwarkError(.invalidArgument, "this file is encrypted with a passphrase (scrypt), which bulwark does not open; use age")
        }
        var fileKey: SymmetricKey?
        for stanza in header.stanzas where stanza.arguments.first == "X25519" {
            guard stanza.arguments.count == 2, let share = AgeBase64.decode(stanza.arguments[1]), share.count == 32 else {
                throw BulwarkError(.invalidFormat, "an X25519 stanza has malformed arguments")
            }
            guard stanza.body.count == 32 else { throw BulwarkError(.invalidFormat, "an X25519 stanza's body is not 32 bytes") }
            for identity in self.identities where fileKey == nil {
                fileKey = try identity.unwrap(share: share, body: stanza.body)
            }
        }
        guard let fileKey else { throw BulwarkError(.unknownKey, "no identity given opens this age file") }
        guard HMAC<SHA256>.isValidAuthenticationCode(header.mac, authenticating: header.authenticated, using: AgeFormat.macKey(fileKey: fileKey)) else {
            throw BulwarkError(.authenticationFailed, "the age header's MAC does not verify: it was altered")
        }
        return fileKey
    }

    private static func open(_ chunk: Data, key: SymmetricKey, counter: UInt64, final: Bool) throws -> Data {
        guard chunk.count >= 16,
            let box = try? ChaChaPoly.SealedBox(nonce: try AgeFormat.chunkNonce(counter, final: final), ciphertext: chunk.dropLast(16), tag: chunk.suffix(16)),
            let plaintext = try? ChaChaPoly.open(box, using: key)
        else {
            throw BulwarkError(.authenticationFailed, "age payload chunk \(counter) does not verify: the file was altered, cut or extended")
        }
        return plaintext
    }
}
