import NIOCore
import Synchronization

/// The fast path's answers of one event loop that wait for their audit lines (group commit): the
/// lines are written together, in one write, once the loop has read every connection that was
/// ready; the answers are sent once the log's sync thread has synced them — or, if the write or
/// the sync failed, refusals in their place.
/// Used only on its event loop.
final class AuditBatch {
    private struct Waiting {
        let lines: [[UInt8]]
        let deliver: (_ written: Bool) -> Void
    }

    private let audit: AuditLog
    private let eventLoop: any EventLoop
    private var waiting: [Waiting] = []
    private var scheduled = false

    init(audit: AuditLog, eventLoop: any EventLoop) {
        self.audit = audit
        self.eventLoop = eventLoop
    }

    /// Queues an exchange's lines; `deliver` runs once they are written (`true`) or could not be.
    func add(_ lines: [[UInt8]], deliver: @escaping (_ written: Bool) -> Void) {
        self.eventLoop.preconditionInEventLoop()
        self.waiting.append(Waiting(lines: lines, deliver: deliver))
        guard !self.scheduled else { return }
        self.scheduled = true
        self.eventLoop.assumeIsolated().execute { self.run() }
    }

    private func run() {
        let batch = self.waiting
        self.waiting = []
        self.scheduled = false
        // Written now; the answers leave once the log's sync thread has the lines on the disk
        // (the event loop goes on reading meanwhile).
        let bound = NIOLoopBound(batch, eventLoop: self.eventLoop)
        let eventLoop = self.eventLoop
        self.audit.commit(batch.flatMap(\.lines)) { written in
            eventLoop.execute {
                for entry in bound.value { entry.deliver(written) }
            }
        }
    }
}

/// One ``AuditBatch`` per event loop, shared by the connections on it.
final class AuditBatches: Sendable {
    private let audit: AuditLog
    private let batches = Mutex<[ObjectIdentifier: NIOLoopBound<AuditBatch>]>([:])

    init(audit: AuditLog) {
        self.audit = audit
    }

    /// The batch of `eventLoop` (call on that loop).
    func batch(on eventLoop: any EventLoop) -> AuditBatch {
        let bound = self.batches.withLock { batches in
            if let existing = batches[ObjectIdentifier(eventLoop)] { return existing }
            let made = NIOLoopBound(AuditBatch(audit: self.audit, eventLoop: eventLoop), eventLoop: eventLoop)
            batches[ObjectIdentifier(eventLoop)] = made
            return made
        }
        return bound.value
    }
}
