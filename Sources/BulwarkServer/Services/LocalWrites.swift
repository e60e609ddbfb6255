/// What a node's in-memory copy of the store needs to apply snapshots while it writes: the
/// count of its own writes, the entries it wrote recently, and the last snapshot it applied.
///
/// A refresh reads the store (a snapshot) and replaces the copy. A write made here while the
/// snapshot was read may be missing from it: that entry keeps its in-memory value until a
/// snapshot taken after the write applies it. A snapshot older than the one applied last is not
/// applied at all (it would bring back what that one replaced). So a stream of local writes can
/// never keep other nodes' changes out, and a refresh can never put an older key, policy or a
/// revoked token back. Used by ``TransitBackend``, ``TransformBackend`` and ``AuthStore``.
struct LocalWrites: Sendable {
    /// Local writes so far: read before a snapshot is taken (``admit(_:writesBefore:)``).
    private(set) var count: UInt64 = 0
    /// Entries written here (path → the write's number) that no applied snapshot covers yet.
    private var recent: [String: UInt64] = [:]
    /// The `StoreSnapshot.sequence` of the snapshot applied last.
    private var applied: UInt64 = 0

    /// Notes a local write of the entry at `path`.
    mutating func note(_ path: String) {
        self.count &+= 1
        self.recent[path] = self.count
    }

    /// Decides on a snapshot about to be applied.
    /// - Parameters:
    ///   - sequence: The snapshot's `StoreSnapshot.sequence`.
    ///   - before: ``count`` read before the snapshot was taken.
    /// - Returns: nil when a snapshot as new or newer was applied already (skip this one);
    ///   otherwise the paths written here since `before`, whose in-memory values the caller keeps
    ///   (they stay noted until a later snapshot covers them).
    mutating func admit(_ sequence: UInt64, writesBefore before: UInt64) -> [String]? {
        guard sequence > self.applied else { return nil }
        self.applied = sequence
        self.recent = self.recent.filter { $0.value > before }
        return self.recent.keys.sorted()
    }
}
