/// A write made on this node, remembered so that a refresh from a snapshot taken before it does
/// not undo it in memory. A refresh keeps the in-memory value of every entry written after the
/// refresh began (its number is above the refresh's mark); the record itself is kept for
/// ``grace`` after the write, so that a slower refresh that began before it, and applies after a
/// faster one has settled it, still finds it.
struct RecentWrite: Sendable {
    /// The write's number (the node's write count after it).
    let number: UInt64
    /// When it was made.
    let at: ContinuousClock.Instant

    /// How long a record outlives the refresh that settles it (far longer than a store read).
    static let grace: Duration = .seconds(30)

    /// The records a refresh must still keep after applying a snapshot read after `mark` writes.
    static func retained(_ recent: [String: RecentWrite], after mark: UInt64, now: ContinuousClock.Instant = .now) -> [String: RecentWrite] {
        recent.filter { $0.value.number > mark || now - $0.value.at < Self.grace }
    }
}
