import CoreMetrics
import Synchronization

/// What the key service counts, through swift-metrics (exported as Prometheus text at
/// `/v1/sys/metrics` when the process bootstraps swift-prometheus): requests and their latency
/// per operation, key operations per key, and audit-log failures. Handles are made once and
/// cached, so counting costs a dictionary lookup and an atomic add.
final class ServerMetrics: Sendable {
    private let counters = Mutex<[String: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])
    private let auditFailures = Counter(label: "bulwark_audit_failures_total")

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let cacheKey = label + dimensions.map { "|" + $0.0 + "=" + $0.1 }.joined()
        return self.counters.withLock { cache in
            if let existing = cache[cacheKey] { return existing }
            let made = Counter(label: label, dimensions: dimensions)
            cache[cacheKey] = made
            return made
        }
    }

    /// Counts one request of `operation` answered with `status`, and its duration.
    func request(_ operation: String, status: Int, nanoseconds: Int64) {
        self.counter("bulwark_requests_total", [("operation", operation), ("status", String(status))]).increment()
        let timer = self.timers.withLock { cache in
            if let existing = cache[operation] { return existing }
            let made = Timer(label: "bulwark_request_duration_seconds", dimensions: [("operation", operation)], preferredDisplayUnit: .seconds)
            cache[operation] = made
            return made
        }
        timer.recordNanoseconds(nanoseconds)
    }

    /// Counts one use of key `key` for `operation` (a batch counts its items).
    func keyOperation(_ key: String, _ operation: String, count: Int = 1) {
        self.counter("bulwark_key_operations_total", [("key", key), ("operation", operation)]).increment(by: count)
    }

    /// Counts an audit line that could not be written (the request was refused).
    func auditFailure() {
        self.auditFailures.increment()
    }
}
