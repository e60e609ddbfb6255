/// Where a field value lives: table, column and row key. Every field ciphertext is bound to it as
/// associated data, so a ciphertext copied into another row or column fails to decrypt.
public struct FieldContext: Sendable, Hashable {
    /// The table (or collection) name.
    public var table: String
    /// The column (or attribute) name.
    public var column: String
    /// The row's primary key, as text.
    public var rowKey: String

    /// Creates a context.
    public init(table: String, column: String, rowKey: String) {
        self.table = table
        self.column = column
        self.rowKey = rowKey
    }

    /// The unambiguous byte encoding used as associated data: a label, then each part with a
    /// 32-bit big-endian length prefix.
    var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + 12 + self.table.utf8.count + self.column.utf8.count + self.rowKey.utf8.count)
        out.append(contentsOf: "bulwark-field-v1".utf8)
        out.appendBigEndian(UInt32(self.table.utf8.count))
        out.append(contentsOf: self.table.utf8)
        out.appendBigEndian(UInt32(self.column.utf8.count))
        out.append(contentsOf: self.column.utf8)
        out.appendBigEndian(UInt32(self.rowKey.utf8.count))
        out.append(contentsOf: self.rowKey.utf8)
        return out
    }
}
