extension Redactor {
    func matchSSN(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        guard index + 11 <= input.count, input[index + 3] == 0x2D, input[index + 6] == 0x2D else { return nil }
        @inline(__always) func number(_ offsets: Range<Int>) -> Int? {
            var value = 0
            for offset in offsets {
                let byte = input[index + offset]
                guard Self.isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let area = number(0..<3), let group = number(4..<6), let serial = number(7..<11),
            Self.boundaryAfter(input, index + 11), index + 11 >= input.count || input[index + 11] != 0x2D,
            area != 0, area != 666, area < 900, group != 0, serial != 0
        else { return nil }
        return Match(length: 11, replacement: self.replacement("SSN", hint: nil, value: Array(input[index..<(index + 11)])))
    }

    func matchCard(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        // Cheap pre-scan without allocating: most digit runs (dates, times, ids) are short.
        var scan = index
        var count = 0
        while scan < input.count {
            let byte = input[scan]
            if Self.isDigit(byte) {
                count += 1
                scan += 1
            } else if (byte == 0x20 || byte == 0x2D), scan + 1 < input.count, Self.isDigit(input[scan + 1]) {
                scan += 1
            } else {
                break
            }
            if count > 19 && !(byte == 0x20 || byte == 0x2D) { break }
        }
        guard count >= 13 else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(19)
        var candidates: [(digits: Int, end: Int)] = []
        var position = index
        var separator: UInt8 = 0
        while position < input.count {
            let byte = input[position]
            if Self.isDigit(byte) {
                digits.append(byte - 0x30)
                if digits.count > 19 { return nil }
                position += 1
                continue
            }
            if (byte == 0x20 || byte == 0x2D), position + 1 < input.count, Self.isDigit(input[position + 1]),
                separator == 0 || separator == byte
            {
                candidates.append((digits.count, position))
                separator = byte
                position += 1
                continue
            }
            break
        }
        if !Self.boundaryAfter(input, position) { return nil }
        candidates.append((digits.count, position))
        for candidate in candidates.reversed() where (13...19).contains(candidate.digits) {
            if Self.luhn(digits[..<candidate.digits]) {
                let last4 = String(decoding: digits[(candidate.digits - 4)..<candidate.digits].map { $0 + 0x30 }, as: UTF8.self)
                return Match(
                    length: candidate.end - index,
                    replacement: self.replacement("PAN", hint: "…" + last4, value: Array(digits[..<candidate.digits])))
            }
        }
        return nil
    }

    static func luhn(_ digits: ArraySlice<UInt8>) -> Bool {
        var sum = 0
        var double = false
        for digit in digits.reversed() {
            var value = Int(digit)
            if double {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
            double.toggle()
        }
        return sum % 10 == 0
    }

    func matchEmail(_ input: UnsafeBufferPointer<UInt8>, _ index: Int, out: [UInt8], protectedEnd: Int) -> Match? {
        @inline(__always) func isLocal(_ byte: UInt8) -> Bool {
            Self.isWord(byte) || byte == 0x2E || byte == 0x25 || byte == 0x2B || byte == 0x2D
        }
        @inline(__always) func isDomain(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
        }
        // The local part was copied to `out` already; it may be taken back, but not past a replacement.
        var localLength = 0
        while index - localLength - 1 >= 0, out.count - localLength - 1 >= protectedEnd, isLocal(input[index - localLength - 1]),
            out[out.count - localLength - 1] == input[index - localLength - 1]
        {
            localLength += 1
        }
        guard localLength > 0 else { return nil }
        var position = index + 1
        var labels = 0
        var lastLabelLetters = true
        var lastLabelLength = 0
        while position < input.count {
            let start = position
            var letters = true
            while position < input.count, isDomain(input[position]) {
                if !((input[position] >= 0x41 && input[position] <= 0x5A) || (input[position] >= 0x61 && input[position] <= 0x7A)) { letters = false }
                position += 1
            }
            guard position > start else { break }
            labels += 1
            lastLabelLetters = letters
            lastLabelLength = position - start
            if position + 1 < input.count, input[position] == 0x2E, isDomain(input[position + 1]) {
                position += 1
                continue
            }
            break
        }
        guard labels >= 2, lastLabelLetters, lastLabelLength >= 2 else { return nil }
        let local = Array(input[(index - localLength)..<index])
        let domain = Array(input[(index + 1)..<position])
        let replacement: [UInt8]
        if self.configuration.pseudonymKey != nil {
            replacement = self.replacement("EMAIL", hint: nil, value: (local + [0x40] + domain).map { $0 | ($0 >= 0x41 && $0 <= 0x5A ? 0x20 : 0) })
        } else if self.configuration.emailStyle == .maskLocalPart {
            replacement = [local[0]] + Array("***@".utf8) + domain
        } else {
            replacement = Array("[EMAIL]".utf8)
        }
        return Match(length: position - index, replacement: replacement, retract: localLength)
    }

    /// `key=value`, `key: value`, `"key": "value"`, `?key=value&`: pivots on the separator.
    func matchPair(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        var keyEnd = index
        let separator = input[index]
        if keyEnd > 0, input[keyEnd - 1] == 0x22 || input[keyEnd - 1] == 0x27 { keyEnd -= 1 }
        var keyStart = keyEnd
        while keyStart > 0, keyEnd - keyStart < 64, Self.isWord(input[keyStart - 1]) || input[keyStart - 1] == 0x2D || input[keyStart - 1] == 0x2E {
            keyStart -= 1
        }
        guard keyEnd - keyStart >= 2, self.lastKeyBytes[Int(input[keyEnd - 1])], self.isSecretKey(input, keyStart, keyEnd) else {
            return nil
        }
        var position = index + 1
        if separator == 0x3A, position < input.count, input[position] == 0x2F { return nil }  // a URL scheme
        while position < input.count, input[position] == 0x20 { position += 1 }
        guard position < input.count else { return nil }
        var replacement = Array(input[index..<position])
        let quote = input[position]
        if quote == 0x22 || quote == 0x27 {
            var end = position + 1
            while end < input.count, input[end] != quote {
                if input[end] == 0x5C { end += 1 }
                end += 1
            }
            guard end < input.count, end > position + 1 else { return nil }
            replacement += [quote] + Array("[REDACTED]".utf8) + [quote]
            return Match(length: end + 1 - index, replacement: replacement)
        }
        var end = position
        // `Bearer xyz` and `Basic xyz` keep their scheme and lose the credential.
        for bytes in Self.pairSchemes where Self.hasPrefix(input, at: position, bytes) {
            replacement += bytes
            end += bytes.count
            break
        }
        let valueStart = end
        while end < input.count {
            let byte = input[end]
            if byte == 0x20 || byte == 0x26 || byte == 0x2C || byte == 0x3B || byte == 0x22 || byte == 0x27 || byte == 0x7D
                || byte == 0x29 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x23
            {
                break
            }
            end += 1
        }
        guard end > valueStart else { return nil }
        replacement += Array("[REDACTED]".utf8)
        return Match(length: end - index, replacement: replacement)
    }

    func isSecretKey(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let length = end - start
        @inline(__always) func lower(_ byte: UInt8) -> UInt8 {
            if byte >= 0x41 && byte <= 0x5A { return byte | 0x20 }
            return byte == 0x2D ? 0x5F : byte
        }
        for key in self.secretKeys where key.count == length {
            var same = true
            for offset in 0..<length where lower(input[start + offset]) != key[offset] {
                same = false
                break
            }
            if same { return true }
        }
        for suffix in self.secretSuffixes where suffix.count < length {
            var same = true
            let offsetStart = end - suffix.count
            for offset in 0..<suffix.count where lower(input[offsetStart + offset]) != suffix[offset] {
                same = false
                break
            }
            if same { return true }
        }
        return false
    }

    func matchPrivateKey(_ input: UnsafeBufferPointer<UInt8>, _ index: Int, state: inout StreamState) -> Match? {
        let begin = Self.pemBegin
        guard Self.hasPrefix(input, at: index, begin),
            let close = Self.find(Self.pemDashes, in: input, from: index + begin.count), close - index < 64
        else { return nil }
        let label = String(decoding: input[(index + begin.count)..<close], as: UTF8.self)
        guard label.hasSuffix("PRIVATE KEY") else { return nil }
        if let end = Self.find(Array("-----END ".utf8), in: input, from: close + 5),
            let endClose = Self.find(Array("-----".utf8), in: input, from: end + 9)
        {
            return Match(length: endClose + 5 - index, replacement: Array("[PRIVATE KEY]".utf8))
        }
        // The block goes on past this chunk: drop the rest and keep dropping until its end.
        state.inPrivateKey = true
        return Match(length: input.count - index, replacement: Array("[PRIVATE KEY]\n".utf8))
    }

    @inline(__always)
    static func isBase64URL(_ byte: UInt8) -> Bool {
        isWord(byte) || byte == 0x2D
    }

    func matchJWT(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        guard index + 3 < input.count, input[index + 1] == 0x79, input[index + 2] == 0x4A else { return nil }
        var position = index
        for part in 0..<3 {
            let start = position
            while position < input.count, Self.isBase64URL(input[position]) { position += 1 }
            let length = position - start
            if part < 2 {
                guard length >= 8, position < input.count, input[position] == 0x2E else { return nil }
                position += 1
            }
        }
        return Match(length: position - index, replacement: Array("[JWT]".utf8))
    }

    func matchAuthorization(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        for bytes in Self.headerSchemes {
            guard Self.hasPrefix(input, at: index, bytes) else { continue }
            var position = index + bytes.count
            let start = position
            while position < input.count {
                let byte = input[position]
                guard Self.isWord(byte) || byte == 0x2E || byte == 0x2D || byte == 0x7E || byte == 0x2B || byte == 0x2F || byte == 0x3D
                else { break }
                position += 1
            }
            guard position - start >= 8 else { return nil }
            return Match(length: position - index, replacement: bytes + Array("[REDACTED]".utf8))
        }
        return nil
    }

    func matchAWS(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        guard index + 20 <= input.count, input[index + 2] == 0x49, input[index + 3] == 0x41,
            input[index + 1] == 0x4B || input[index + 1] == 0x53
        else { return nil }
        for offset in 4..<20 {
            let byte = input[index + offset]
            guard (byte >= 0x41 && byte <= 0x5A) || Self.isDigit(byte) else { return nil }
        }
        guard Self.boundaryAfter(input, index + 20) else { return nil }
        return Match(length: 20, replacement: self.replacement("AWS-KEY", hint: nil, value: Array(input[index..<(index + 20)])))
    }

    func matchIBAN(_ input: UnsafeBufferPointer<UInt8>, _ index: Int) -> Match? {
        guard index + 15 <= input.count, (0x41...0x5A).contains(input[index + 1]), Self.isDigit(input[index + 2]),
            Self.isDigit(input[index + 3])
        else { return nil }
        var characters: [UInt8] = []
        var candidates: [(count: Int, end: Int)] = []
        var position = index
        while position < input.count, characters.count <= 34 {
            let byte = input[position]
            if (byte >= 0x41 && byte <= 0x5A) || Self.isDigit(byte) {
                characters.append(byte)
                position += 1
            } else if byte == 0x20, position + 1 < input.count, characters.count % 4 == 0,
                (input[position + 1] >= 0x41 && input[position + 1] <= 0x5A) || Self.isDigit(input[position + 1])
            {
                candidates.append((characters.count, position))
                position += 1
            } else {
                break
            }
        }
        if Self.boundaryAfter(input, position) { candidates.append((characters.count, position)) }
        for candidate in candidates.reversed() where (15...34).contains(candidate.count) {
            if Self.ibanChecksumValid(characters[..<candidate.count]) {
                let last4 = String(decoding: characters[(candidate.count - 4)..<candidate.count], as: UTF8.self)
                return Match(
                    length: candidate.end - index,
                    replacement: self.replacement("IBAN", hint: "…" + last4, value: Array(characters[..<candidate.count])))
            }
        }
        return nil
    }

    /// ISO 13616: move the first four characters to the end, letters to 10-35, mod 97 == 1.
    static func ibanChecksumValid(_ characters: ArraySlice<UInt8>) -> Bool {
        let rearranged = Array(characters.dropFirst(4)) + Array(characters.prefix(4))
        var remainder = 0
        for byte in rearranged {
            if isDigit(byte) {
                remainder = (remainder * 10 + Int(byte - 0x30)) % 97
            } else {
                remainder = (remainder * 100 + Int(byte - 0x41 + 10)) % 97
            }
        }
        return remainder == 1
    }
}

extension Redactor {
    static let pairSchemes: [[UInt8]] = ["Bearer ", "Basic ", "bearer ", "basic ", "Token ", "token "].map { Array($0.utf8) }
    static let headerSchemes: [[UInt8]] = ["Bearer ", "bearer ", "Basic ", "basic "].map { Array($0.utf8) }
    static let pemBegin = Array("-----BEGIN ".utf8)
    static let pemDashes = Array("-----".utf8)

    /// Whether `literal` starts at `index` (with at least one byte after it), without allocating.
    @inline(__always)
    static func hasPrefix(_ input: UnsafeBufferPointer<UInt8>, at index: Int, _ literal: [UInt8]) -> Bool {
        guard index + literal.count < input.count else { return false }
        for offset in 0..<literal.count where input[index + offset] != literal[offset] { return false }
        return true
    }
}
