package import Foundation

/// URL-safe base64 (RFC 4648 §5), table-driven: the text forms of envelopes sit on hot paths.
/// The package's one base64url (the key service's tokens and accessors use it too).
package enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes, without padding unless `padded`.
    package static func encode<D: DataProtocol>(_ data: D, padded: Bool = false) -> String {
        if let text = data.withContiguousStorageIfAvailable({ Self.encode(UnsafeRawBufferPointer($0), padded: padded) }) {
            return text
        }
        return Array(data).withUnsafeBytes { Self.encode($0, padded: padded) }
    }

    /// Encodes contiguous bytes straight into the string's storage.
    static func encode(_ bytes: UnsafeRawBufferPointer, padded: Bool) -> String {
        String(unsafeUninitializedCapacity: Self.encodedCount(bytes.count, padded: padded)) { out in
            Self.encode(bytes, into: out, padded: padded)
        }
    }

    /// The characters `count` bytes encode to.
    static func encodedCount(_ count: Int, padded: Bool) -> Int {
        let rest = count % 3
        return count / 3 * 4 + (rest == 0 ? 0 : (padded ? 4 : rest + 1))
    }

    /// Encodes `bytes` at the start of `out` (at least ``encodedCount(_:padded:)`` long).
    /// - Returns: The characters written.
    static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>, padded: Bool) -> Int {
        let rest = bytes.count % 3
        return alphabet.withUnsafeBufferPointer { alphabet in
            var index = 0
            var position = 0
            while index + 3 <= bytes.count {
                let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                out[position] = alphabet[Int(value >> 18 & 63)]
                out[position + 1] = alphabet[Int(value >> 12 & 63)]
                out[position + 2] = alphabet[Int(value >> 6 & 63)]
                out[position + 3] = alphabet[Int(value & 63)]
                index += 3
                position += 4
            }
            if rest > 0 {
                let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                out[position] = alphabet[Int(value >> 18 & 63)]
                out[position + 1] = alphabet[Int(value >> 12 & 63)]
                position += 2
                if rest == 2 {
                    out[position] = alphabet[Int(value >> 6 & 63)]
                    position += 1
                }
                if padded {
                    out[position] = 0x3D
                    position += 1
                    if rest == 1 {
                        out[position] = 0x3D
                        position += 1
                    }
                }
            }
            return position
        }
    }

    /// Decodes padded or unpadded URL-safe base64; nil on any other character or a bad length.
    package static func decode(_ text: some StringProtocol) -> Data? {
        Self.decodeBytes(text).map { Data($0) }
    }

    /// ``decode(_:)`` into an array (no `Data` on the hot path).
    static func decodeBytes(_ text: some StringProtocol) -> [UInt8]? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ (input: UnsafeBufferPointer<UInt8>) in Self.decodeBuffer(input) }) {
            return result
        }
        return Array(text.utf8).withUnsafeBufferPointer { (input: UnsafeBufferPointer<UInt8>) in Self.decodeBuffer(input) }
    }

    /// Decodes four characters to three bytes at a time into storage sized up front; a
    /// character outside the alphabet (its table value has the top bits set) or non-zero
    /// leftover bits (a non-canonical encoding) refuse the whole input.
    static func decodeBuffer(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let length = Self.decodedCount(input) else { return nil }
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            ok = Self.decode(input, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = ok ? length : 0
        }
        return ok ? out : nil
    }

    /// ``decodeBuffer(_:)`` into `Data` (no intermediate array).
    static func decodeData(_ input: UnsafeBufferPointer<UInt8>) -> Data? {
        guard let length = Self.decodedCount(input) else { return nil }
        var out = Data(count: length)
        let ok = out.withUnsafeMutableBytes { Self.decode(input, into: $0) }
        return ok ? out : nil
    }

    /// The bytes `input` decodes to (trailing `=` ignored), or nil for an impossible length.
    static func decodedCount(_ input: UnsafeBufferPointer<UInt8>) -> Int? {
        var count = input.count
        while count > 0 && input[count - 1] == 0x3D { count -= 1 }
        let rest = count % 4
        guard rest != 1 else { return nil }
        return count / 4 * 3 + (rest == 0 ? 0 : rest - 1)
    }

    /// Decodes `input` (trailing `=` ignored) into `out`, exactly ``decodedCount(_:)`` long.
    /// - Returns: false on a character outside the alphabet or non-zero leftover bits.
    static func decode(_ input: UnsafeBufferPointer<UInt8>, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var count = input.count
        while count > 0 && input[count - 1] == 0x3D { count -= 1 }
        let full = count / 4
        let rest = count % 4
        return values.withUnsafeBufferPointer { values in
            var index = 0
            var position = 0
            for _ in 0..<full {
                let a = values[Int(input[index])], b = values[Int(input[index + 1])]
                let c = values[Int(input[index + 2])], d = values[Int(input[index + 3])]
                guard (a | b | c | d) & 0xC0 == 0 else { return false }
                let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                buffer[position] = UInt8(truncatingIfNeeded: value >> 16)
                buffer[position + 1] = UInt8(truncatingIfNeeded: value >> 8)
                buffer[position + 2] = UInt8(truncatingIfNeeded: value)
                index += 4
                position += 3
            }
            guard rest > 0 else { return true }
            let a = values[Int(input[index])], b = values[Int(input[index + 1])]
            let c = rest == 3 ? values[Int(input[index + 2])] : 0
            // Leftover bits must be zero (canonical encoding).
            guard (a | b | c) & 0xC0 == 0, rest == 3 ? c & 0x03 == 0 : b & 0x0F == 0 else { return false }
            buffer[position] = a << 2 | b >> 4
            if rest == 3 { buffer[position + 1] = (b & 0x0F) << 4 | c >> 2 }
            return true
        }
    }
}
