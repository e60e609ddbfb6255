import Foundation

/// A task executor with threads of its own, for a server a test runs in its own process.
///
/// Swift's global executor has one thread per core, and tests that wait on a child process block
/// one each; a server on that pool would then answer nothing until they finish. A server task
/// started with this preference (`Task(executorPreference: DedicatedTaskExecutor.shared)`) and its
/// child tasks run here instead.
public final class DedicatedTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// Four threads, started once, shared by every test.
    public static let shared = DedicatedTaskExecutor(threads: 4)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "bulwark-test-executor-\(index)"
            thread.start()
        }
    }

    /// Queues a job for the next free thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    private func work() {
        while true {
            self.condition.lock()
            while self.jobs.isEmpty { self.condition.wait() }
            let job = self.jobs.removeFirst()
            self.condition.unlock()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
