public import Foundation

/// Generalisation helpers for anonymised exports: coarser values that still serve analysis.
public enum Generalization {
    /// The month of a date, `YYYY-MM` (UTC).
    public static func month(of date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 0) ?? .current, from: date)
        return String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
    }

    /// The year of a date (UTC).
    public static func year(of date: Date) -> Int {
        Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 0) ?? .current, from: date).year ?? 0
    }

    /// An age band of `width` years, e.g. `30-39`; ages at or above `top` become `top+`.
    public static func ageBand(_ age: Int, width: Int = 10, top: Int = 90) -> String {
        guard age >= 0, width > 0 else { return "unknown" }
        if age >= top { return "\(top)+" }
        let low = age / width * width
        return "\(low)-\(low + width - 1)"
    }

    /// A postcode cut to its first `keep` characters (spaces dropped), the rest as `*`.
    public static func postcode(_ code: String, keep: Int = 3) -> String {
        let compact = code.filter { !$0.isWhitespace }.uppercased()
        return String(compact.prefix(keep)) + String(repeating: "*", count: max(0, compact.count - keep))
    }
}
