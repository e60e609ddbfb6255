import Bulwark
import BulwarkStorage
import Crypto
import Foundation

/// The keys of one tokenisation transformation, derived with HKDF-SHA256 from its 32-byte key:
/// one keys the token hash (the table's lookup key), one the value hash (convergent lookups),
/// one seals the value, the token and the metadata (AES-256-GCM, random nonce, bound to every
/// other column of the row: the transformation, the token hash, the value hash and the expiry).
/// Opening a row also recomputes both hashes from what it decrypts, so a row is only ever read
/// under the token and the value it was made for.
struct TokenVaultKeys: Sendable {
    private let tokenKey: SymmetricKey
    private let valueKey: SymmetricKey
    private let sealKey: SymmetricKey

    init(transformationKey: Data) {
        let root = SymmetricKey(data: transformationKey)
        func derive(_ label: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: root, salt: Data("bulwark-transform-v1".utf8), info: Data(label.utf8), outputByteCount: 32)
        }
        self.tokenKey = derive("token-id")
        self.valueKey = derive("value-id")
        self.sealKey = derive("seal")
    }

    /// The FF1 key and the internal tweak of an FPE transformation.
    static func fpe(transformationKey: Data) -> (key: SymmetricKey, internalTweak: [UInt8]) {
        let root = SymmetricKey(data: transformationKey)
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: root, salt: Data("bulwark-transform-v1".utf8), info: Data("fpe".utf8), outputByteCount: 32)
        let tweak = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: root, salt: Data("bulwark-transform-v1".utf8), info: Data("internal-tweak".utf8), outputByteCount: 8)
        return (key, tweak.withUnsafeBytes { Array($0) })
    }

    /// HMAC-SHA256 of the token, truncated to 128 bits (the table's key: short keys keep its
    /// index small; a collision only makes the vault pick another token).
    func tokenID(_ token: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: self.tokenKey).prefix(16))
    }

    /// HMAC-SHA256 of the value, truncated to 128 bits (convergent lookups).
    func valueID(_ value: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: self.valueKey).prefix(16))
    }

    /// The associated data of a row: every column but the sealed one. Version 1 (rows written
    /// before the value hash was bound) lacks the value hash; such rows still open, the value hash
    /// being checked against the decrypted value instead.
    private static func associatedData(transformation: String, tokenID: [UInt8], valueID: [UInt8]?, expiresAt: Int64) -> Data {
        var data = Data((valueID == nil ? "bulwark-token-v1\u{0}" : "bulwark-token-v2\u{0}").utf8)
        data.append(contentsOf: transformation.utf8)
        data.append(0)
        data.append(contentsOf: tokenID)
        if let valueID {
            data.append(UInt8(valueID.count))
            data.append(contentsOf: valueID)
        }
        withUnsafeBytes(of: expiresAt.bigEndian) { data.append(contentsOf: $0) }
        return data
    }

    /// Seals the value, token and metadata for storage.
    func seal(
        value: String, token: String, metadata: Data, transformation: String, tokenID: [UInt8], valueID: [UInt8], expiresAt: Int64
    ) throws -> [UInt8] {
        var plaintext = Data()
        for part in [Data(value.utf8), Data(token.utf8)] {
            withUnsafeBytes(of: UInt32(part.count).bigEndian) { plaintext.append(contentsOf: $0) }
            plaintext.append(part)
        }
        plaintext.append(metadata)
        let box = try AES.GCM.seal(
            plaintext, using: self.sealKey,
            authenticating: Self.associatedData(transformation: transformation, tokenID: tokenID, valueID: valueID, expiresAt: expiresAt))
        guard let combined = box.combined else { throw BulwarkError(.invalidFormat, "sealing a token failed") }
        return Array(combined)
    }

    /// Opens a stored record (authenticated before anything in it is read) and checks that its
    /// token and value hashes are those of what it holds.
    func open(_ record: TokenRecord) throws -> (value: String, token: String, metadata: Data) {
        let box = try AES.GCM.SealedBox(combined: record.sealed)
        let plaintext: Data
        do {
            plaintext = try AES.GCM.open(
                box, using: self.sealKey,
                authenticating: Self.associatedData(
                    transformation: record.transformation, tokenID: record.tokenID, valueID: record.valueID, expiresAt: record.expiresAt))
        } catch {
            plaintext = try AES.GCM.open(
                box, using: self.sealKey,
                authenticating: Self.associatedData(
                    transformation: record.transformation, tokenID: record.tokenID, valueID: nil, expiresAt: record.expiresAt))
        }
        var parts: [String] = []
        var offset = plaintext.startIndex
        for _ in 0..<2 {
            guard plaintext.endIndex - offset >= 4 else { throw BulwarkError(.keystoreCorrupted, "a stored token is malformed") }
            let length = plaintext[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard plaintext.endIndex - offset >= length else { throw BulwarkError(.keystoreCorrupted, "a stored token is malformed") }
            parts.append(String(decoding: plaintext[offset..<(offset + length)], as: UTF8.self))
            offset += length
        }
        guard Self.equal(self.tokenID(parts[1]), record.tokenID), record.valueID.isEmpty || Self.equal(self.valueID(parts[0]), record.valueID)
        else { throw BulwarkError(.keystoreCorrupted, "a stored token does not match its row") }
        return (parts[0], parts[1], Data(plaintext[offset...]))
    }

    /// Compares two hashes in time independent of their contents.
    private static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
