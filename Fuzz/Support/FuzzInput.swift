/// The bytes libFuzzer hands a harness, with a cursor for harnesses that carve several values
/// (a selector, then fields separated by NUL bytes) out of one input.
package struct FuzzInput {
    /// All the bytes.
    package let bytes: [UInt8]
    private var position = 0

    /// Copies `size` bytes from `data` (libFuzzer may pass a null pointer for an empty input).
    package init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        if let data, size > 0 {
            self.bytes = Array(UnsafeBufferPointer(start: data, count: size))
        } else {
            self.bytes = []
        }
    }

    /// Wraps bytes already in hand.
    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The whole input as text (invalid UTF-8 repaired, as a server reading a body would).
    package var text: String { String(decoding: self.bytes, as: UTF8.self) }

    /// The bytes not yet taken.
    package var rest: ArraySlice<UInt8> { self.bytes[self.position...] }

    /// Takes one byte, or 0 at the end.
    package mutating func byte() -> UInt8 {
        guard self.position < self.bytes.count else { return 0 }
        defer { self.position += 1 }
        return self.bytes[self.position]
    }

    /// Takes the bytes up to the next NUL (or the end) as text, and the NUL.
    package mutating func field() -> String {
        let end = self.bytes[self.position...].firstIndex(of: 0) ?? self.bytes.endIndex
        defer { self.position = min(end + 1, self.bytes.count) }
        return String(decoding: self.bytes[self.position..<end], as: UTF8.self)
    }
}
