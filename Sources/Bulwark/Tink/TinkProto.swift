import Foundation

/// The protocol-buffer wire format, as far as Tink's keyset and key messages need it: varints
/// (wire type 0) and length-delimited fields (wire type 2). Reading is strict (no field may run
/// past the end, a varint is at most ten bytes) and keeps the last value of a repeated scalar,
/// as protobuf does; fixed-width fields (wire types 1 and 5) are skipped, groups refused. A
/// length-delimited field given twice is refused unless the caller names it repeated (protobuf
/// would merge two copies of a message: refusing keeps Bulwark and Tink from reading one input
/// two ways).
enum TinkProto {
    /// One message's fields: varints and length-delimited values by field number, in order.
    struct Message {
        private(set) var varints: [Int: UInt64] = [:]
        private(set) var fields: [Int: [Data]] = [:]

        init(parsing data: Data, repeated: Set<Int> = []) throws {
            let bytes = [UInt8](data)
            var index = 0
            func varint() throws -> UInt64 {
                var value: UInt64 = 0
                for shift in stride(from: 0, to: 70, by: 7) {
                    guard index < bytes.count else { throw TinkProto.malformed }
                    let byte = bytes[index]
                    index += 1
                    guard shift < 63 || byte <= 1 else { throw TinkProto.malformed }
                    value |= UInt64(byte & 0x7F) << UInt64(shift)
                    if byte & 0x80 == 0 { return value }
                }
                throw TinkProto.malformed
            }
            while index < bytes.count {
                let key = try varint()
                guard key >> 3 >= 1, key >> 3 <= 536_870_911 else { throw TinkProto.malformed }
                let number = Int(key >> 3)
                switch key & 7 {
                case 0:
                    self.varints[number] = try varint()
                case 2:
                    let length = try varint()
                    guard length <= UInt64(bytes.count - index) else { throw TinkProto.malformed }
                    self.fields[number, default: []].append(Data(bytes[index..<(index + Int(length))]))
                    index += Int(length)
                case 1:
                    guard bytes.count - index >= 8 else { throw TinkProto.malformed }
                    index += 8
                case 5:
                    guard bytes.count - index >= 4 else { throw TinkProto.malformed }
                    index += 4
                default:
                    throw TinkProto.malformed
                }
            }
            guard self.fields.allSatisfy({ repeated.contains($0.key) || $0.value.count == 1 }) else { throw TinkProto.malformed }
        }

        /// A varint field (0 when absent, as proto3 reads it).
        func varint(_ number: Int) -> UInt64 { self.varints[number] ?? 0 }

        /// A bytes or message field's value (empty when absent).
        func bytes(_ number: Int) -> Data { self.fields[number]?.last ?? Data() }



        /// Every value of a repeated length-delimited field.
        func repeated(_ number: Int) -> [Data] { self.fields[number] ?? [] }
    }

    static let malformed = BulwarkError(.invalidFormat, "not a valid Tink key or keyset (protocol buffer)")

    /// Writes fields in the order given; zero varints and empty bytes are left out (proto3).
    struct Writer {
        private(set) var data = Data()

        mutating func varint(_ number: Int, _ value: UInt64) {
            guard value != 0 else { return }
            Self.appendVarint(UInt64(number << 3), to: &self.data)
            Self.appendVarint(value, to: &self.data)
        }

        mutating func bytes(_ number: Int, _ value: Data) {
            guard !value.isEmpty else { return }
            Self.appendVarint(UInt64(number << 3 | 2), to: &self.data)
            Self.appendVarint(UInt64(value.count), to: &self.data)
            self.data += value
        }

        private static func appendVarint(_ value: UInt64, to data: inout Data) {
            var rest = value
            while rest >= 0x80 {
                data.append(UInt8(rest & 0x7F) | 0x80)
                rest >>= 7
            }
            data.append(UInt8(rest))
        }
    }
}
