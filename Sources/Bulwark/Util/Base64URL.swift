import Foundation

/// URL-safe base64 (RFC 4648 §5) helpers.
enum Base64URL {
    /// Encodes without padding.
    static func encode<D: DataProtocol>(_ data: D, padded: Bool = false) -> String {
        var text = Data(data).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        if !padded {
            while text.hasSuffix("=") { text.removeLast() }
        }
        return text
    }

    /// Decodes padded or unpadded URL-safe base64; returns nil on any other character.
    static func decode(_ text: some StringProtocol) -> Data? {
        var body = Substring(text)
        while body.hasSuffix("=") { body.removeLast() }
        guard body.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }) else { return nil }
        var standard = body.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let remainder = standard.utf8.count % 4
        if remainder == 1 { return nil }
        if remainder > 0 { standard += String(repeating: "=", count: 4 - remainder) }
        return Data(base64Encoded: standard)
    }
}
