import Bulwark
import Foundation

/// Finds secrets and personal data in text and replaces them, in one pass over the bytes.
///
/// Each detector is triggered only by the bytes it can start (or, for e-mail and key/value
/// pairs, pivot) on, and checks word boundaries and checksums (Luhn for cards, mod 97 for IBANs,
/// SSN ranges) so look-alikes such as order ids, timestamps and UUIDs survive. Replacements keep a
/// hint (`[PAN …1111]`, `[EMAIL]`) or, with a pseudonym key, a keyed pseudonym.
public struct Redactor: Sendable {
    /// The configuration.
    public let configuration: RedactionConfiguration
    let secretKeys: [[UInt8]]
    let secretSuffixes: [[UInt8]]
    let triggers: [UInt16]
    /// The last bytes secret key names can end with (case-folded): a quick reject.
    let lastKeyBytes: [Bool]

    static let pan: UInt16 = 1 << 0, ssn: UInt16 = 1 << 1, email: UInt16 = 1 << 2, iban: UInt16 = 1 << 3
    static let jwt: UInt16 = 1 << 4, auth: UInt16 = 1 << 5, aws: UInt16 = 1 << 6, pem: UInt16 = 1 << 7
    static let pair: UInt16 = 1 << 8

    /// Creates a redactor.
    public init(configuration: RedactionConfiguration = RedactionConfiguration()) {
        self.configuration = configuration
        self.secretKeys = configuration.secretKeys.map { Array($0.utf8) }
        self.secretSuffixes = configuration.secretKeys.filter { $0.count >= 5 }.map { Array(("_" + $0).utf8) }
        var last = [Bool](repeating: false, count: 256)
        for key in configuration.secretKeys {
            if let byte = key.utf8.last {
                last[Int(byte)] = true
                if byte >= 0x61 && byte <= 0x7A { last[Int(byte - 0x20)] = true }
                if byte == 0x5F { last[0x2D] = true }
            }
        }
        self.lastKeyBytes = last
        var table = [UInt16](repeating: 0, count: 256)
        let kinds = configuration.kinds
        for digit in UInt8(ascii: "0")...UInt8(ascii: "9") {
            if kinds.contains(.ssn) { table[Int(digit)] |= Self.ssn }
            if kinds.contains(.cardNumber), digit >= UInt8(ascii: "2"), digit <= UInt8(ascii: "6") { table[Int(digit)] |= Self.pan }
        }
        if kinds.contains(.email) { table[Int(UInt8(ascii: "@"))] |= Self.email }
        if kinds.contains(.iban) {
            for letter in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(letter)] |= Self.iban }
        }
        if kinds.contains(.jwt) { table[Int(UInt8(ascii: "e"))] |= Self.jwt }
        if kinds.contains(.authorization) {
            table[Int(UInt8(ascii: "B"))] |= Self.auth
            table[Int(UInt8(ascii: "b"))] |= Self.auth
        }
        if kinds.contains(.awsAccessKey) { table[Int(UInt8(ascii: "A"))] |= Self.aws }
        if kinds.contains(.privateKey) { table[Int(UInt8(ascii: "-"))] |= Self.pem }
        if kinds.contains(.secretAssignment) {
            table[Int(UInt8(ascii: "="))] |= Self.pair
            table[Int(UInt8(ascii: ":"))] |= Self.pair
        }
        self.triggers = table
    }

    /// Redacts a string.
    public func redact(_ text: String) -> String {
        var copy = text
        return copy.withUTF8 { bytes in
            var state = StreamState()
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 16)
            self.redact(bytes, into: &out, state: &state)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// State carried between chunks of a stream (an open private-key block).
    public struct StreamState: Sendable {
        var inPrivateKey = false
        /// A fresh state.
        public init() {}
    }

    /// Redacts `input`, appending to `out`. Chunks should end at line boundaries; `state` carries a
    /// private-key block that spans chunks.
    public func redact(_ input: UnsafeBufferPointer<UInt8>, into out: inout [UInt8], state: inout StreamState) {
        var index = 0
        let count = input.count
        var protectedEnd = out.count
        if state.inPrivateKey {
            if let end = Self.find(Array("-----END ".utf8), in: input, from: 0), let close = Self.find(Array("-----".utf8), in: input, from: end + 9) {
                index = close + 5
                state.inPrivateKey = false
            } else {
                return
            }
        }
        self.triggers.withUnsafeBufferPointer { triggers in
            while index < count {
                var run = index
                while run < count && triggers[Int(input[run])] == 0 { run += 1 }
                if run > index {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<run]))
                    index = run
                    if index == count { break }
                }
                let mask = triggers[Int(input[index])]
                if let match = self.detect(mask, input, index, out: out, protectedEnd: protectedEnd, state: &state) {
                    if match.retract > 0 { out.removeLast(match.retract) }
                    out.append(contentsOf: match.replacement)
                    protectedEnd = out.count
                    index += match.length
                } else {
                    out.append(input[index])
                    index += 1
                }
            }
        }
    }

    struct Match {
        var length: Int
        var replacement: [UInt8]
        var retract = 0
    }

    @inline(__always)
    static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    @inline(__always)
    static func boundaryBefore(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        index == 0 || !isWord(input[index - 1])
    }

    @inline(__always)
    static func boundaryAfter(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        index >= input.count || !isWord(input[index])
    }

    static func find(_ needle: [UInt8], in input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard needle.count <= input.count else { return nil }
        var index = start
        while index + needle.count <= input.count {
            if input[index] == needle[0] {
                var same = true
                for offset in 1..<needle.count where input[index + offset] != needle[offset] {
                    same = false
                    break
                }
                if same { return index }
            }
            index += 1
        }
        return nil
    }

    func detect(
        _ mask: UInt16, _ input: UnsafeBufferPointer<UInt8>, _ index: Int, out: [UInt8], protectedEnd: Int,
        state: inout StreamState
    ) -> Match? {
        if mask & (Self.ssn | Self.pan) != 0, Self.boundaryBefore(input, index), index == 0 || input[index - 1] != UInt8(ascii: "-") {
            if mask & Self.ssn != 0, let match = self.matchSSN(input, index) { return match }
            if mask & Self.pan != 0, let match = self.matchCard(input, index) { return match }
            return nil
        }
        if mask & Self.email != 0, let match = self.matchEmail(input, index, out: out, protectedEnd: protectedEnd) { return match }
        if mask & Self.pair != 0, let match = self.matchPair(input, index) { return match }
        guard Self.boundaryBefore(input, index) else { return nil }
        if mask & Self.pem != 0, let match = self.matchPrivateKey(input, index, state: &state) { return match }
        if mask & Self.jwt != 0, let match = self.matchJWT(input, index) { return match }
        if mask & Self.auth != 0, let match = self.matchAuthorization(input, index) { return match }
        if mask & Self.aws != 0, let match = self.matchAWS(input, index) { return match }
        if mask & Self.iban != 0, let match = self.matchIBAN(input, index) { return match }
        return nil
    }

    /// `[KIND hint]`, or `[KIND psd:…]` with a pseudonym key.
    func replacement(_ kind: String, hint: String?, value: [UInt8]) -> [UInt8] {
        if let key = self.configuration.pseudonymKey,
            let pseudonym = try? Pseudonymizer(key: key).pseudonym(for: Array(kind.utf8) + [0x3A] + value)
        {
            return Array("[\(kind) \(pseudonym)]".utf8)
        }
        if let hint { return Array("[\(kind) \(hint)]".utf8) }
        return Array("[\(kind)]".utf8)
    }
}
