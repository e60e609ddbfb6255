import Bulwark
import BulwarkRedaction
import Foundation
import Logging
import Testing

@Suite("Redaction")
struct RedactorTests {
    let redactor = Redactor()

    /// Lines with planted secrets: the secret text must be gone, the expected marker present.
    static let planted: [(line: String, secret: String, marker: String)] = [
        ("charge card=4111 1111 1111 1111 amount=10", "4111 1111 1111 1111", "[PAN …1111]"),
        ("pan 5555-5555-5555-4444 ok", "5555-5555-5555-4444", "[PAN …4444]"),
        ("amex 378282246310005.", "378282246310005", "[PAN …0005]"),
        ("ssn: 078-05-1120 on file", "078-05-1120", "[SSN]"),
        ("contact jane.roe+billing@example.co.uk today", "jane.roe+billing@example.co.uk", "[EMAIL]"),
        ("iban DE89 3704 0044 0532 0130 00 received", "DE89 3704 0044 0532 0130 00", "[IBAN …3000]"),
        ("iban GB82WEST12345698765432", "GB82WEST12345698765432", "[IBAN …5432]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
         "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "[JWT]"),
        ("Authorization: Bearer abcdef0123456789abcdef", "abcdef0123456789abcdef", "Bearer [REDACTED]"),
        ("header Basic dXNlcjpwYXNzd29yZA== sent", "dXNlcjpwYXNzd29yZA==", "Basic [REDACTED]"),
        ("aws AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE", "[AWS-KEY]"),
        ("login password=hunter2 ok", "hunter2", "password=[REDACTED]"),
        ("{\"user\":\"bob\",\"password\": \"s3cr3t pass\",\"n\":1}", "s3cr3t pass", "\"password\": \"[REDACTED]\""),
        ("GET /cb?code=1&access_token=tok_9f8e7d6c&x=1", "tok_9f8e7d6c", "access_token=[REDACTED]"),
        ("DB_PASSWORD=correcthorse", "correcthorse", "DB_PASSWORD=[REDACTED]"),
        ("client-secret: abc123xyz", "abc123xyz", "client-secret: [REDACTED]"),
        ("key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY----- done",
         "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "[PRIVATE KEY]"),
    ]

    /// Look-alikes that must survive untouched.
    static let lookAlikes: [String] = [
        "order 4111111111111112 shipped",  // Luhn-invalid
        "ts=2026-11-26T14:28:15.123Z level=info",
        "epoch 1700000000123 ms",
        "request 550e8400-e29b-41d4-a716-446655440000 done",
        "order-id 1234567890123456",  // starts with 1
        "phone +1 415 555 2671",
        "version 4.5.2 build 20261126",
        "ssn-like 000-12-3456 and 666-12-3456 and 123-00-4567",
        "ratio 12:30:45 at https://example.com/path?page=2",
        "email-like user@localhost and @handle",
        "GB00WEST12345698765432 bad checksum",
        "token_count=5",
        "AKIA short",
        "eyJ not a jwt",
    ]

    @Test("Planted secrets of every kind are removed, with their hint")
    func planted() {
        for (line, secret, marker) in Self.planted {
            let redacted = self.redactor.redact(line)
            #expect(!redacted.contains(secret), "\(redacted)")
            #expect(redacted.contains(marker), "\(redacted)")
        }
    }

    @Test("Look-alikes survive untouched")
    func lookAlikes() {
        for line in Self.lookAlikes {
            #expect(self.redactor.redact(line) == line)
        }
    }

    @Test("Every Luhn-valid test card number is removed; Luhn-invalid ones survive")
    func testCards() throws {
        let url = try #require(Bundle.module.url(forResource: "Vectors/pan", withExtension: "txt"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }
        var valid = 0
        for line in lines {
            let fields = line.split(separator: "\t")
            let pan = String(fields[0])
            let text = "paid with \(pan) today"
            let grouped = "paid with \(stride(from: 0, to: pan.count, by: 4).map { String(pan.dropFirst($0).prefix(4)) }.joined(separator: " ")) today"
            if fields[1] == "true" {
                valid += 1
                #expect(!self.redactor.redact(text).contains(pan), "\(pan)")
                #expect(self.redactor.redact(text).contains("[PAN …\(pan.suffix(4))]"))
                #expect(!self.redactor.redact(grouped).contains(String(pan.suffix(4)) + " "), "\(grouped)")
            } else {
                #expect(self.redactor.redact(text) == text, "\(pan)")
            }
        }
        #expect(valid >= 40)
    }

    @Test("Options: masked e-mails, chosen detectors, extra secret keys")
    func options() {
        let masked = Redactor(configuration: RedactionConfiguration(emailStyle: .maskLocalPart))
        #expect(masked.redact("to jane@example.com.") == "to j***@example.com.")
        let onlyCards = Redactor(configuration: RedactionConfiguration(kinds: [.cardNumber]))
        #expect(onlyCards.redact("a@b.io 4111111111111111") == "a@b.io [PAN …1111]")
        let custom = Redactor(configuration: RedactionConfiguration(secretKeys: ["otp"]))
        #expect(custom.redact("otp=123456 password=x") == "otp=[REDACTED] password=x")
    }

    @Test("Keyed pseudonyms: stable per key version, different after rotation")
    func pseudonyms() throws {
        var key = try Keyset.generate(name: "pseudo", type: .hmacSHA256)
        let redactor = Redactor(configuration: RedactionConfiguration(pseudonymKey: key))
        let a = redactor.redact("card 4111111111111111 and again 4111-1111-1111-1111")
        let parts = a.components(separatedBy: "[PAN ")
        #expect(parts.count == 3 && parts[1].prefix(20) == parts[2].prefix(20) && parts[1].hasPrefix("psd1_"), "\(a)")
        let email = redactor.redact("Jane@Example.com")
        #expect(email == redactor.redact("jane@example.com") && email.hasPrefix("[EMAIL psd1_"))
        let pseudonymizer = try Pseudonymizer(key: key)
        let first = try pseudonymizer.pseudonym(for: "user-42")
        let again = try pseudonymizer.pseudonym(for: "user-42")
        let other = try pseudonymizer.pseudonym(for: "user-43")
        #expect(first == again && first != other)
        try key.rotate()
        let rotated = try Pseudonymizer(key: key).pseudonym(for: "user-42")
        #expect(rotated.hasPrefix("psd2_") && rotated.dropFirst(5) != first.dropFirst(5))
        #expect(throws: BulwarkError.self) { try Pseudonymizer(key: try Keyset.generate(name: "aead")) }
    }

    @Test("Generalisation helpers")
    func generalisation() {
        #expect(Generalization.month(of: Date(timeIntervalSince1970: 1_764_166_095)) == "2025-11")
        #expect(Generalization.year(of: Date(timeIntervalSince1970: 0)) == 1970)
        #expect(Generalization.ageBand(37) == "30-39" && Generalization.ageBand(95) == "90+" && Generalization.ageBand(4, width: 5) == "0-4")
        #expect(Generalization.postcode("SW1A 1AA") == "SW1****" && Generalization.postcode("94107", keep: 3) == "941**")
    }

    @Test("A private-key block split across stream chunks is dropped whole")
    func streamingPEM() {
        var state = Redactor.StreamState()
        var out: [UInt8] = []
        let chunks = ["before\n-----BEGIN EC PRIVATE KEY-----\nAAAA\n", "BBBB\nCCCC\n", "-----END EC PRIVATE KEY-----\nafter\n"]
        for chunk in chunks {
            var copy = chunk
            copy.withUTF8 { self.redactor.redact($0, into: &out, state: &state) }
        }
        let text = String(decoding: out, as: UTF8.self)
        #expect(text == "before\n[PRIVATE KEY]\n\nafter\n", "\(text)")
    }
}

/// Captures what the wrapped handler receives.
final class CapturingHandler: LogHandler, @unchecked Sendable {
    var events: [LogEvent] = []
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }
    func log(event: LogEvent) { self.events.append(event) }
}

@Suite("RedactingLogHandler")
struct RedactingLogHandlerTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "card 4111111111111111 declined" }
    }

    @Test("Message, metadata, provider values and errors are redacted before the wrapped handler sees them")
    func redactsEverything() {
        let capture = CapturingHandler()
        var logger = Logger(label: "test") { _ in RedactingLogHandler(wrapping: capture) }
        logger[metadataKey: "request"] = "from jane@example.com"
        logger.error(
            "payment 4111 1111 1111 1111 failed for password=hunter2",
            error: Failure(),
            metadata: ["password": "hunter2", "nested": ["token": "abc", "card": "5555555555554444"], "count": "3"])
        let event = capture.events[0]
        let everything = "\(event.message) \(event.metadata ?? [:]) \(String(describing: event.error))"
        for secret in ["4111", "hunter2", "jane@example.com", "abc\"", "5555555555554444"] {
            #expect(!everything.contains(secret), "\(secret) leaked: \(everything)")
        }
        #expect(event.message.description == "payment [PAN …1111] failed for password=[REDACTED]")
        #expect(event.metadata?["password"] == "[REDACTED]" && event.metadata?["count"] == "3")
        #expect(event.metadata?["request"] == "from [EMAIL]")
    }
}
