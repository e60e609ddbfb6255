import Foundation
import Testing

@testable import Bulwark

@Suite("FF1 format-preserving encryption")
struct FF1Tests {
    struct Sample: Decodable {
        let sample: Int
        let key: String
        let tweak: String
        let radix: Int
        let plaintext: String
        let ciphertext: String
    }

    struct Samples: Decodable {
        let tests: [Sample]
    }

    /// NIST SP 800-38G FF1 samples 1–9 (`Vectors/ff1_samples.json`).
    @Test("NIST FF1 samples 1-9 encrypt and decrypt")
    func nistSamples() throws {
        let samples = try JSONDecoder().decode(Samples.self, from: try vectorData("ff1_samples.json"))
        #expect(samples.tests.count == 9)
        for sample in samples.tests {
            let alphabet = sample.radix == 10 ? FPEAlphabet.numeric : FPEAlphabet.alphanumericLower
            let ff1 = try FF1(rawKey: Array(Data(hex: sample.key)), access: .token)
            let tweak = Array(Data(hex: sample.tweak))
            #expect(try ff1.encrypt(sample.plaintext, alphabet: alphabet, tweak: tweak) == sample.ciphertext, "sample \(sample.sample)")
            #expect(try ff1.decrypt(sample.ciphertext, alphabet: alphabet, tweak: tweak) == sample.plaintext, "sample \(sample.sample)")
        }
    }

    /// 600 random cases (radix 2 to 65,536, lengths to 300, tweaks to 70 bytes, all three key sizes)
    /// against an independent Python FF1 over pyca's AES.
    @Test("agrees with an independent implementation on random cases")
    func agreesWithReference() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [[String: Any]] = []
        let radixes = [2, 3, 10, 16, 26, 36, 62, 255, 256, 1000, 65_535, 65_536]
        for index in 0..<600 {
            let radix = radixes[index % radixes.count]
            var length = Int.random(in: 2...(index % 5 == 0 ? 300 : 40), using: &generator)
            while !FF1.domainIsLargeEnough(radix: radix, length: length) { length += 1 }
            let keySize = [16, 24, 32][index % 3]
            let key = (0..<keySize).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let tweak = (0..<Int.random(in: 0...70, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let numerals = (0..<length).map { _ in Int.random(in: 0..<radix, using: &generator) }
            cases.append(["key": Data(key).hex, "tweak": Data(tweak).hex, "radix": radix, "numerals": numerals])
        }
        let results = try runPython("Interop/ff1_reference.py", input: try JSONSerialization.data(withJSONObject: cases))
        let decoded = try #require(try JSONSerialization.jsonObject(with: results) as? [[String: Any]])
        #expect(decoded.count == cases.count)
        for (testCase, result) in zip(cases, decoded) {
            let ff1 = try FF1(rawKey: Array(Data(hex: try #require(testCase["key"] as? String))), access: .token)
            let tweak = Array(Data(hex: try #require(testCase["tweak"] as? String)))
            let radix = try #require(testCase["radix"] as? Int)
            let numerals = try #require(testCase["numerals"] as? [Int])
            let ciphertext = try ff1.encrypt(numerals: numerals, radix: radix, tweak: tweak)
            #expect(ciphertext == result["ciphertext"] as? [Int], "radix \(radix) length \(numerals.count) tweak \(tweak.count)")
            #expect(try ff1.decrypt(numerals: ciphertext, radix: radix, tweak: tweak) == numerals)
        }
    }

    @Test("domains under one million values, bad radixes and foreign characters are refused")
    func refusals() throws {
        let ff1 = try FF1(rawKey: [UInt8](repeating: 7, count: 32), access: .token)
        // 10^5 < 10^6: refused; 10^6 accepted.
        expectCode(.invalidArgument) { try ff1.encrypt("12345", alphabet: .numeric) }
        #expect(try ff1.encrypt("123456", alphabet: .numeric).count == 6)
        // radix 2 needs 20 numerals (2^20 = 1,048,576).
        expectCode(.invalidArgument) { try ff1.encrypt(numerals: [Int](repeating: 1, count: 19), radix: 2) }
        #expect(try ff1.encrypt(numerals: [Int](repeating: 1, count: 20), radix: 2).count == 20)
        expectCode(.invalidArgument) { try ff1.encrypt(numerals: [0, 1], radix: 65_537) }
        expectCode(.invalidArgument) { try ff1.encrypt(numerals: [0, 1, 2, 3, 4, 5, 6], radix: 1) }
        expectCode(.invalidArgument) { try ff1.encrypt(numerals: [0, 1, 2, 3, 4, 5, 10], radix: 10) }
        expectCode(.invalidArgument) { try ff1.encrypt("12345x789", alphabet: .numeric) }
        expectCode(.invalidArgument) { try FF1(rawKey: [UInt8](repeating: 7, count: 20), access: .token) }
        expectCode(.invalidArgument) { try FPEAlphabet("0120") }
        expectCode(.invalidArgument) { try FPEAlphabet("0") }
        // Errors never echo the value.
        do {
            _ = try ff1.encrypt("98765x4321", alphabet: .numeric)
        } catch {
            #expect(!"\(error)".contains("98765"))
        }
    }

    @Test("output keeps length and alphabet; tweaks and keys change it; non-ASCII alphabets work")
    func formatAndTweaks() throws {
        let ff1 = try FF1(rawKey: [UInt8](repeating: 1, count: 32), access: .token)
        let other = try FF1(rawKey: [UInt8](repeating: 2, count: 32), access: .token)
        let alphabet = try FPEAlphabet("αβγδεζηθικλμ0123")
        var seen = Set<String>()
        var sameUnderTweak = 0, sameUnderKey = 0
        for value in 0..<2000 {
            let text = String(format: "%09d", value)
            let encrypted = try ff1.encrypt(text, alphabet: .numeric)
            #expect(encrypted.count == 9 && FPEAlphabet.numeric.contains(allOf: encrypted[...]))
            #expect(try ff1.decrypt(encrypted, alphabet: .numeric) == text)
            seen.insert(encrypted)
            if try ff1.encrypt(text, alphabet: .numeric, tweak: [1]) == encrypted { sameUnderTweak += 1 }
            if try other.encrypt(text, alphabet: .numeric) == encrypted { sameUnderKey += 1 }
        }
        #expect(seen.count == 2000)
        // A different tweak or key is a different permutation of 10^9 values.
        #expect(sameUnderTweak == 0 && sameUnderKey == 0)
        let greek = "αβγ0δεζ1ηθ"
        let sealed = try ff1.encrypt(greek, alphabet: alphabet, tweak: Array("t".utf8))
        #expect(sealed.unicodeScalars.count == 10 && alphabet.contains(allOf: sealed[...]))
        #expect(try ff1.decrypt(sealed, alphabet: alphabet, tweak: Array("t".utf8)) == greek)
    }

    @Test("Luhn check digits agree with the published test card numbers")
    func luhn() throws {
        let text = String(decoding: try vectorData("pan.txt"), as: UTF8.self)
        var checked = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t")
            guard fields.count >= 2 else { continue }
            let pan = String(fields[0])
            #expect(Luhn.isValid(pan) == (fields[1] == "true"), "\(pan)")
            let digits = pan.compactMap { $0.wholeNumberValue }
            if fields[1] == "true" {
                #expect(Luhn.checkDigit(for: digits.dropLast()) == digits.last)
            }
            checked += 1
        }
        #expect(checked > 40)
    }
}

/// Runs a script under `Tests/` with `input` on standard input and returns its standard output.
func runPython(_ script: String, input: Data) throws -> Data {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(script).path
    let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("bulwark-py-\(UUID().uuidString).json")
    let outputFile = inputFile.appendingPathExtension("out")
    let errorFile = inputFile.appendingPathExtension("err")
    try input.write(to: inputFile)
    defer {
        for file in [inputFile, outputFile, errorFile] { try? FileManager.default.removeItem(at: file) }
    }
    let command = "python3 '\(path)' < '\(inputFile.path)' > '\(outputFile.path)' 2> '\(errorFile.path)'"
    let status = command.withCString { system($0) }
    let problems = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    #expect(status == 0, "python: \(problems)")
    return try Data(contentsOf: outputFile)
}
