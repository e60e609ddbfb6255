import Crypto
import Foundation

/// The textual header of an age file: stanzas and the MAC, parsed strictly (c2sp.org/age's ABNF:
/// LF only, arguments of visible characters, bodies in 64-column canonical base64 ending with a
/// shorter line, a MAC line of exactly 43 characters).
struct AgeHeader {
    var stanzas: [AgeStanza]
    /// The header MAC (32 bytes).
    var mac: Data
    /// What the MAC covers: the header up to and including `---`.
    var authenticated: Data

    /// Builds the header for `fileKey` and its stanzas, with its MAC.
    static func make(stanzas: [AgeStanza], fileKey: SymmetricKey) -> Data {
        var text = AgeFormat.versionLine + "\n"
        for stanza in stanzas { text += stanza.text }
        text += "---"
        let authenticated = Data(text.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: authenticated, using: AgeFormat.macKey(fileKey: fileKey))
        return authenticated + Data((" " + AgeBase64.encode(Data(mac)) + "\n").utf8)
    }

    /// The length of the header at the start of `bytes` (through the MAC line's line feed), or
    /// nil when it has not all arrived. The search starts at offset `resume` and leaves there
    /// where the next search (of more bytes) must start, so that feeding a header in small pieces
    /// costs linear time.
    static func length(in bytes: Data, resume: inout Int) -> Int? {
        let marker = Data("\n---".utf8)
        let from = bytes.startIndex + min(resume, bytes.count)
        guard let found = bytes.range(of: marker, in: from..<bytes.endIndex) else {
            // A marker may be cut after its first bytes: look again from the last three.
            resume = max(0, bytes.count - (marker.count - 1))
            return nil
        }
        guard let end = bytes[found.upperBound...].firstIndex(of: 0x0A) else {
            resume = found.lowerBound - bytes.startIndex
            return nil
        }
        return end - bytes.startIndex + 1
    }

    /// ``length(in:resume:)`` from the start.
    static func length(in bytes: Data) -> Int? {
        var resume = 0
        return Self.length(in: bytes, resume: &resume)
    }

    /// Parses a complete header (``length(in:)`` bytes).
    /// - Throws: ``BulwarkError/Code/invalidFormat`` naming what is wrong (never quoting it).
    init(parsing header: Data) throws {
        func refuse(_ why: String) -> BulwarkError { BulwarkError(.invalidFormat, "not a valid age header: \(why)") }
        guard !header.contains(0x0D) else { throw refuse("a carriage return (age headers use LF only)") }
        guard let text = String(data: header, encoding: .utf8), text.hasSuffix("\n") else { throw refuse("not text") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first == AgeFormat.versionLine else {
            if lines.first?.hasPrefix("age-encryption.org/") == true { throw BulwarkError(.invalidFormat, "unsupported age version") }
            throw BulwarkError(.invalidFormat, "not an age file")
        }
        var stanzas: [AgeStanza] = []
        var index = 1
        while index < lines.count, lines[index].hasPrefix("-> ") {
            let arguments = lines[index].dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !arguments.isEmpty, arguments.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x21...0x7E).contains($0) } }) else {
                throw refuse("a stanza argument is empty or not printable")
            }
            index += 1
            var encoded = ""
            while true {
                guard index < lines.count else { throw refuse("a stanza body does not end with a short line") }
                let line = lines[index]
                index += 1
                guard line.utf8.count <= 64, AgeBase64.isAlphabet(line) else {
                    throw refuse("a stanza body line is not base64 of at most 64 columns")
                }
                encoded += line
                if line.count < 64 { break }
            }
            guard let body = AgeBase64.decode(encoded) else { throw refuse("a stanza body is not canonical base64") }
            stanzas.append(AgeStanza(arguments: arguments, body: body))
        }
        guard !stanzas.isEmpty else { throw refuse("no recipient stanza") }
        guard index == lines.count - 1, lines[index].hasPrefix("--- "), lines[index].count == 47,
            let mac = AgeBase64.decode(lines[index].dropFirst(4)), mac.count == 32
        else { throw refuse("the MAC line is missing or malformed") }
        self.stanzas = stanzas
        self.mac = mac
        self.authenticated = header.prefix(header.count - 45)
    }
}
