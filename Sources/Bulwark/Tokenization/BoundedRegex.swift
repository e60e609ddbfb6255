import Foundation

#if os(Linux) && canImport(_FoundationICU)
import _FoundationICU
#elseif os(Linux)
#error("BoundedRegex needs the toolchain's _FoundationICU on Linux: without it template matching would be unbounded")
#endif

/// A whole-value regular expression (ICU syntax, as `NSRegularExpression`) whose every match is
/// bounded in time, so that a pattern with catastrophic backtracking (`(a+)+`, `(a|aa)*`) cannot
/// hold a thread for seconds or years on a value chosen to trigger it: past
/// ``stepLimit`` steps of ICU's matcher (a few tens of milliseconds) the match is abandoned and
/// reported as ``BulwarkError/Code/invalidArgument``.
///
/// On Linux the bound is ICU's own (`uregex_setTimeLimit`, through the toolchain's ICU). Where
/// that ICU is not reachable (Darwin), matching falls back to `NSRegularExpression`, unbounded in
/// time; patterns and values are then still bounded in length.
final class BoundedRegex: @unchecked Sendable {
    /// ICU's match-step limit per match (about 0.4 ms a step on this class of machine; a card
    /// number against a template takes a few microseconds).
    static let stepLimit: Int32 = 100
    /// The longest pattern accepted, in UTF-16 units.
    static let maximumPatternLength = 2048

    /// The time all of one request's matches may take together: a batch of ten thousand values
    /// that each stop just short of ``stepLimit`` must not hold a thread for minutes. Past it,
    /// every further match of the request fails at once (see ``withRequestBudget(_:)``).
    static let requestBudget: Duration = .seconds(1)

    /// When the current request's matching time runs out (nil: no request budget, only the
    /// per-match bound).
    @TaskLocal static var deadline: ContinuousClock.Instant?

    /// Runs `body` with one matching budget of ``requestBudget`` for every match it makes.
    static func withRequestBudget<T>(_ body: () async throws -> T) async throws -> T {
        try await Self.$deadline.withValue(.now + Self.requestBudget) { try await body() }
    }

    /// The number of capture groups.
    let groupCount: Int

    #if os(Linux) && canImport(_FoundationICU)
    // The compiled pattern: never matched on directly (ICU's matcher state lives in the regex
    // object), only cloned, so it is shared between threads read-only.
    private let compiled: OpaquePointer
    #else
    private let regex: NSRegularExpression
    #endif

    /// Compiles `pattern`, anchored at both ends.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when it is too long or does not compile.
    init(anchoring pattern: String) throws {
        let anchored = "^(?:" + pattern + ")$"
        guard pattern.utf16.count <= Self.maximumPatternLength else {
            throw BulwarkError(.invalidArgument, "the template pattern is longer than \(Self.maximumPatternLength) characters")
        }
        #if os(Linux) && canImport(_FoundationICU)
        var status = U_ZERO_ERROR
        let units = Array(anchored.utf16)
        guard let compiled = swift_uregex_open(units, Int32(units.count), 0, nil, &status), status.rawValue <= U_ZERO_ERROR.rawValue else {
            throw BulwarkError(.invalidArgument, "the template pattern is not a valid regular expression")
        }
        let groups = swift_uregex_groupCount(compiled, &status)
        guard status.rawValue <= U_ZERO_ERROR.rawValue else {
            swift_uregex_close(compiled)
            throw BulwarkError(.invalidArgument, "the template pattern is not a valid regular expression")
        }
        self.compiled = compiled
        self.groupCount = Int(groups)
        #else
        do {
            self.regex = try NSRegularExpression(pattern: anchored, options: [])
        } catch {
            throw BulwarkError(.invalidArgument, "the template pattern is not a valid regular expression")
        }
        self.groupCount = self.regex.numberOfCaptureGroups
        #endif
    }

    #if os(Linux) && canImport(_FoundationICU)
    deinit { swift_uregex_close(self.compiled) }
    #endif

    /// The ranges of the capture groups (nil for a group that took no part) when the pattern
    /// matches all of `value`, or nil when it does not.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the match is abandoned at the step limit.
    func groups(of value: String) throws -> [Range<String.Index>?]? {
        if let deadline = Self.deadline, ContinuousClock.now >= deadline {
            throw BulwarkError(.invalidArgument, "this request's time for matching values against templates is spent")
        }
        #if os(Linux) && canImport(_FoundationICU)
        var status = U_ZERO_ERROR
        guard let matcher = swift_uregex_clone(self.compiled, &status), status.rawValue <= U_ZERO_ERROR.rawValue else {
            throw BulwarkError(.invalidArgument, "the value could not be matched against the template's pattern")
        }
        defer { swift_uregex_close(matcher) }
        swift_uregex_setTimeLimit(matcher, Self.stepLimit, &status)
        // A terminating zero, so that even an empty value has a buffer to point at.
        let units = Array(value.utf16) + [0]
        let length = Int32(units.count - 1)
        return try units.withUnsafeBufferPointer { text -> [Range<String.Index>?]? in
            // ICU reads the text in place: it stays valid for the whole of this closure.
            guard let base = text.baseAddress else { return nil }
            swift_uregex_setText(matcher, base, length, &status)
            let matched = swift_uregex_matches(matcher, -1, &status)
            if status == U_REGEX_TIME_OUT || status == U_REGEX_STACK_OVERFLOW {
                throw BulwarkError(.invalidArgument, "the value takes too long to match against the template's pattern")
            }
            guard status.rawValue <= U_ZERO_ERROR.rawValue else {
                throw BulwarkError(.invalidArgument, "the value could not be matched against the template's pattern")
            }
            guard matched != 0 else { return nil }
            var out: [Range<String.Index>?] = []
            out.reserveCapacity(self.groupCount)
            for group in stride(from: 1, through: self.groupCount, by: 1) {
                // ICU does nothing when handed an error status: a fresh one per call.
                var startStatus = U_ZERO_ERROR
                var endStatus = U_ZERO_ERROR
                let start = swift_uregex_start(matcher, Int32(group), &startStatus)
                let end = swift_uregex_end(matcher, Int32(group), &endStatus)
                guard startStatus.rawValue <= U_ZERO_ERROR.rawValue, endStatus.rawValue <= U_ZERO_ERROR.rawValue else {
                    throw BulwarkError(.invalidArgument, "the value could not be matched against the template's pattern")
                }
                guard start >= 0, end >= start else {
                    out.append(nil)  // the group took no part in the match
                    continue
                }
                let lower = String.Index(utf16Offset: Int(start), in: value)
                let upper = String.Index(utf16Offset: Int(end), in: value)
                out.append(lower..<upper)
            }
            return out
        }
        #else
        let range = NSRange(value.startIndex..<value.endIndex, in: value)
        guard let match = self.regex.firstMatch(in: value, options: [], range: range) else { return nil }
        return (0..<self.groupCount).map { index in
            let groupRange = match.range(at: index + 1)
            guard groupRange.location != NSNotFound else { return nil }
            return Range(groupRange, in: value)
        }
        #endif
    }
}
