/// A request or response body of a typed exchange (``TransitFastPath``): one object of scalar
/// fields, or a batch of them under one field (`batch_input`, `batch_results`). Written as the
/// general path writes the same values, in clear for the answer and redacted for the audit log.
enum TypedBody {
    /// Scalar fields, in order.
    typealias Fields = [(name: String, value: FlatJSONObject.Value)]

    /// One object.
    case fields(Fields)
    /// `{"<name>":[{…},{…}]}`.
    case batch(name: String, items: [Fields])

    /// Appends the body as JSON; with `audit`, each value as the audit log writes it
    /// (``AuditLog/writeRedacted(_:key:into:)``), else as it is.
    func write(into out: inout [UInt8], redactedBy audit: AuditLog? = nil) {
        switch self {
        case .fields(let fields):
            Self.write(fields, into: &out, redactedBy: audit)
        case .batch(let name, let items):
            out.append(UInt8(ascii: "{"))
            JSONText.write(string: name, into: &out)
            out.append(contentsOf: ":[".utf8)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(item, into: &out, redactedBy: audit)
            }
            out.append(contentsOf: "]}".utf8)
        }
    }

    private static func write(_ fields: Fields, into out: inout [UInt8], redactedBy audit: AuditLog?) {
        if let audit { return audit.writeRedacted(fields: fields, into: &out) }
        out.append(UInt8(ascii: "{"))
        for (index, field) in fields.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.write(string: field.name, into: &out)
            out.append(UInt8(ascii: ":"))
            switch field.value {
            case .string(let text): JSONText.write(string: text, into: &out)
            case .integer(let number): out.append(contentsOf: String(number).utf8)
            case .boolean(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
            case .null: out.append(contentsOf: "null".utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}
