import Bulwark
import Foundation

/// How long the key service keeps each class of data it holds, e.g. `audit: 400d`, `tokens: 2y`.
///
/// - `audit`: closed audit-log segments older than this are deleted (the active file never is).
/// - `tokens`: tokens that expired, or were created longer ago than this, are deleted.
/// A class without a period is kept for ever (expired tokens are still removed).
public struct RetentionPolicy: Sendable, Hashable {
    /// The data classes a policy can name.
    public static let classes: Set<String> = ["audit", "tokens"]

    /// Periods by class.
    public private(set) var periods: [String: Duration]

    /// Keeps everything (expired tokens are still removed).
    public init() {
        self.periods = [:]
    }

    /// Parses `class: period` pairs; periods are a number and a unit: `s`, `m`, `h`, `d`, `w` or
    /// `y` (365 days).
    /// - Throws: ``BulwarkError/Code/invalidArgument`` for an unknown class or a bad period.
    public init(_ settings: [String: String]) throws {
        var periods: [String: Duration] = [:]
        for (name, text) in settings {
            guard Self.classes.contains(name) else {
                throw BulwarkError(.invalidArgument, "unknown retention class \"\(name)\" (known: \(Self.classes.sorted().joined(separator: ", ")))")
            }
            periods[name] = try Self.period(text)
        }
        self.periods = periods
    }

    /// Parses `400d`, `2y`, `12h`, ….
    public static func period(_ text: String) throws -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400]
        guard let unit = text.last, let factor = units[unit], let count = Int64(text.dropLast()), count > 0,
            case let (seconds, overflow) = count.multipliedReportingOverflow(by: factor), !overflow, seconds <= 1000 * 365 * 86400
        else {
            throw BulwarkError(.invalidArgument, "a retention period is a positive number and a unit (s, m, h, d, w, y) up to 1000y, not \"\(text)\"")
        }
        return .seconds(seconds)
    }

    /// The moment before which data of `name` is expired, or nil when it is kept for ever.
    func cutoff(_ name: String, now: Date) -> Date? {
        self.periods[name].map { now.addingTimeInterval(-Double($0.components.seconds)) }
    }
}
