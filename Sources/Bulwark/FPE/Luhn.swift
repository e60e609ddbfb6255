/// The Luhn (mod 10) check used by payment card numbers (ISO/IEC 7812-1).
public enum Luhn {
    /// Whether the decimal digits in `digits` (numerals 0...9, most significant first) pass the check.
    public static func isValid(_ digits: some Collection<Int>) -> Bool {
        digits.count >= 2 && Self.sum(digits, doublingFromRightOffset: 1) % 10 == 0
    }

    /// Whether `text`, read as decimal digits (other characters ignored), passes the check.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        Self.isValid(text.unicodeScalars.compactMap { (48...57).contains($0.value) ? Int($0.value) - 48 : nil })
    }

    /// The check digit that makes `payload` (the digits before it) Luhn-valid.
    public static func checkDigit(for payload: some Collection<Int>) -> Int {
        (10 - Self.sum(payload, doublingFromRightOffset: 0) % 10) % 10
    }

    private static func sum(_ digits: some Collection<Int>, doublingFromRightOffset offset: Int) -> Int {
        var total = 0
        for (position, digit) in digits.reversed().enumerated() {
            if position % 2 == (offset == 0 ? 0 : 1) {
                let doubled = digit * 2
                total += doubled > 9 ? doubled - 9 : doubled
            } else {
                total += digit
            }
        }
        return total
    }
}
