import Foundation

/// The base64 spellings password-hash strings use.
enum PasswordBase64 {
    /// Standard alphabet, no padding (PHC strings).
    static func encodePHC(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decodePHC(_ text: Substring) -> [UInt8]? {
        guard !text.contains("="), text.utf8.count % 4 != 1 else { return nil }
        var padded = String(text)
        while padded.utf8.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }

    /// passlib's "adapted base64": `.` instead of `+`, no padding.
    static func encodeAdapted(_ bytes: [UInt8]) -> String {
        encodePHC(bytes).replacingOccurrences(of: "+", with: ".")
    }

    static func decodeAdapted(_ text: Substring) -> [UInt8]? {
        guard !text.contains("+") else { return nil }
        return decodePHC(Substring(text.replacingOccurrences(of: ".", with: "+")))
    }

    /// Standard base64 with padding (Django).
    static func decodePadded(_ text: Substring) -> [UInt8]? {
        Data(base64Encoded: String(text)).map(Array.init)
    }

    /// A random salt of URL- and `$`-safe characters (Django-style PBKDF2 and scrypt strings).
    static func textSalt(_ count: Int = 22) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var out: [UInt8] = []
        while out.count < count {
            for byte in SecureRandom.bytes(count) where byte < 248 && out.count < count {
                out.append(alphabet[Int(byte) % 62])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `a=1,b=2` into a dictionary of integers; nil when malformed.
    static func parameters(_ text: Substring) -> [String: UInt64]? {
        var out: [String: UInt64] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, let value = UInt64(pair[1]), out[String(pair[0])] == nil,
                !pair[1].hasPrefix("+")
            else { return nil }
            out[String(pair[0])] = value
        }
        return out
    }
}
