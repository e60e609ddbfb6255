import Foundation

/// age's ASCII armor: strict PEM (RFC 7468 §3) with the label `AGE ENCRYPTED FILE`, 64-column
/// lines of padded canonical base64, streamed both ways. Only white space before and after the
/// block is tolerated, and LF or CRLF line ends.
enum AgeArmor {
    static let begin = "-----BEGIN AGE ENCRYPTED FILE-----"
    static let end = "-----END AGE ENCRYPTED FILE-----"
    /// The white space tolerated around the block: ASCII space, tab, CR and LF only.
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    /// Writes the armor around a binary age file, in order.
    struct Encoder: Sendable {
        private var pending = Data()
        private var started = false

        /// The armor for more bytes: whole 64-column lines only.
        mutating func update(_ bytes: Data) -> Data {
            var out = Data()
            if !self.started {
                self.started = true
                out += Data((AgeArmor.begin + "\n").utf8)
            }
            self.pending += bytes
            let whole = self.pending.count / 48 * 48
            var index = self.pending.startIndex
            while index < self.pending.startIndex + whole {
                out += Data((self.pending[index..<(index + 48)].base64EncodedString() + "\n").utf8)
                index += 48
            }
            self.pending = Data(self.pending[index...])
            return out
        }

        /// The last line and the end line.
        mutating func finish() -> Data {
            var out = self.update(Data())
            if !self.pending.isEmpty { out += Data((self.pending.base64EncodedString() + "\n").utf8) }
            self.pending = Data()
            return out + Data((AgeArmor.end + "\n").utf8)
        }
    }

    /// Reads armored text back to the binary file, line by line.
    struct Decoder: Sendable {
        private enum State: Sendable { case before, body, after }
        private var state = State.before
        private var text = Data()
        /// The previous body line: the last one is only known when the end line comes.
        private var held: Substring?

        static func refuse(_ why: String) -> BulwarkError {
            BulwarkError(.invalidFormat, "not valid age armor: \(why)")
        }

        mutating func update(_ bytes: Data) throws -> Data {
            self.text += bytes
            var out = Data()
            var start = self.text.startIndex
            while let newline = self.text[start...].firstIndex(of: 0x0A) {
                var line = self.text[start..<newline]
                start = newline + 1
                if line.last == 0x0D { line = line.dropLast() }
                out += try self.take(Substring(decoding: line, as: UTF8.self))
            }
            // The lines read are dropped once, not one copy per line.
            if start != self.text.startIndex { self.text = Data(self.text[start...]) }
            guard self.text.count <= 4096 else { throw Self.refuse("a line is too long") }
            return out
        }

        mutating func finish() throws -> Data {
            var out = Data()
            if !self.text.isEmpty {
                let rest = self.text
                self.text = Data()
                out += try self.take(Substring(decoding: rest, as: UTF8.self))
            }
            guard self.state == .after else { throw BulwarkError(.streamTruncated, "the age armor has no end line") }
            return out
        }

        private mutating func take(_ line: Substring) throws -> Data {
            switch self.state {
            case .before:
                if line.utf8.allSatisfy(AgeArmor.isSpace) { return Data() }
                guard line == AgeArmor.begin else { throw Self.refuse("it does not start with \(AgeArmor.begin)") }
                self.state = .body
                return Data()
            case .after:
                guard line.utf8.allSatisfy(AgeArmor.isSpace) else { throw Self.refuse("there is data after the end line") }
                return Data()
            case .body:
                if line == AgeArmor.end {
                    guard let last = self.held else { throw Self.refuse("it is empty") }
                    self.state = .after
                    self.held = nil
                    guard (1...64).contains(last.utf8.count), last.utf8.count % 4 == 0, let data = Data(base64Encoded: String(last)),
                        data.base64EncodedString() == last
                    else { throw Self.refuse("the last line is not canonical base64") }
                    return data
                }
                var out = Data()
                if let previous = self.held {
                    guard previous.utf8.count == 64, AgeBase64.isAlphabet(previous), let data = Data(base64Encoded: String(previous)) else {
                        throw Self.refuse("a line that is not the last is not 64 columns of base64")
                    }
                    out = data
                }
                self.held = line
                return out
            }
        }
    }
}
