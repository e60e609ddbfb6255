/// The kinds of secrets and personal data the redactor finds.
public enum RedactionKind: String, Sendable, CaseIterable, Codable, Hashable {
    /// Payment card numbers: 13-19 digits (optionally grouped by spaces or dashes), starting with
    /// 2-6 and passing the Luhn check, so order ids and timestamps are left alone.
    case cardNumber = "pan"
    /// US social security numbers `AAA-GG-SSSS` with valid area, group and serial.
    case ssn
    /// E-mail addresses.
    case email
    /// IBANs (ISO 13616), checked with mod 97.
    case iban
    /// JSON Web Tokens (`eyJ….….…`).
    case jwt
    /// `Bearer` and `Basic` authorisation values.
    case authorization
    /// AWS access key ids (`AKIA…`, `ASIA…`).
    case awsAccessKey = "aws-key"
    /// PEM private-key blocks.
    case privateKey = "private-key"
    /// Values of `password=`, `"secret": …`, `?token=…` and similar pairs.
    case secretAssignment = "secret-pair"
}
