import Testing

@testable import BulwarkServer

/// The bookkeeping the three store caches share: which local writes a snapshot may predate.
@Suite struct LocalWritesTests {
    @Test func writesDuringASnapshotAreKeptUntilALaterOneCoversThem() {
        var local = LocalWrites()
        local.note("a")
        let before = local.count  // a snapshot starts here: it covers "a"
        local.note("b")  // written while it is read: it may be missing
        local.note("c")
        #expect(local.admit(10, writesBefore: before) == ["b", "c"])
        // Still noted: a later snapshot taken before them is applied and keeps them again.
        #expect(local.admit(11, writesBefore: before) == ["b", "c"])
        // A snapshot taken after them covers them.
        #expect(local.admit(12, writesBefore: local.count) == [])
        #expect(local.admit(13, writesBefore: 0) == [], "nothing is noted any more")
    }

    @Test func anOlderOrEqualSnapshotIsNotApplied() {
        var local = LocalWrites()
        #expect(local.admit(5, writesBefore: 0) == [])
        #expect(local.admit(5, writesBefore: 0) == nil)
        #expect(local.admit(4, writesBefore: 0) == nil)
        local.note("k")
        #expect(local.admit(6, writesBefore: 0) == ["k"])
        #expect(local.count == 1)
    }
}
