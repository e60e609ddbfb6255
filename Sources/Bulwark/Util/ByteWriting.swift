/// Big-endian integer helpers for the binary formats.
extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        self.append(UInt8(truncatingIfNeeded: value >> 24))
        self.append(UInt8(truncatingIfNeeded: value >> 16))
        self.append(UInt8(truncatingIfNeeded: value >> 8))
        self.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBigEndian(_ value: UInt16) {
        self.append(UInt8(truncatingIfNeeded: value >> 8))
        self.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBigEndian(_ value: UInt64) {
        self.appendBigEndian(UInt32(truncatingIfNeeded: value >> 32))
        self.appendBigEndian(UInt32(truncatingIfNeeded: value))
    }
}

extension RandomAccessCollection where Element == UInt8, Index == Int {
    func readBigEndianUInt32(at offset: Int) -> UInt32 {
        let base = self.startIndex + offset
        return UInt32(self[base]) << 24 | UInt32(self[base + 1]) << 16 | UInt32(self[base + 2]) << 8
            | UInt32(self[base + 3])
    }

    func readBigEndianUInt16(at offset: Int) -> UInt16 {
        let base = self.startIndex + offset
        return UInt16(self[base]) << 8 | UInt16(self[base + 1])
    }

    func readBigEndianUInt64(at offset: Int) -> UInt64 {
        UInt64(self.readBigEndianUInt32(at: offset)) << 32 | UInt64(self.readBigEndianUInt32(at: offset + 4))
    }
}

/// Compares two byte sequences in time that depends only on their lengths.
package func constantTimeEquals<A: Collection, B: Collection>(_ lhs: A, _ rhs: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) {
        difference |= left ^ right
    }
    return difference == 0
}
