import CoreMetrics
import Synchronization

/// What the key service counts, through swift-metrics (exported as Prometheus text at
/// `/v1/sys/metrics` when the process bootstraps swift-prometheus): requests and their latency
/// per operation, key operations per key, and audit-log failures. Handles are made once and
/// cached, so counting costs a dictionary lookup and an atomic add.
final class ServerMetrics: Sendable {
    private struct CounterKey: Hashable {
        let first: String
        let second: String
    }

    private let requestCounters = Mutex<[CounterKey: Counter]>([:])
    private let keyCounters = Mutex<[CounterKey: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])
    private let auditFailures = Counter(label: "bulwark_audit_failures_total")
    private let fastPathAnswers = Counter(label: "bulwark_fast_path_requests_total")
    private let typedAnswers = Counter(label: "bulwark_fast_path_typed_requests_total")
    private let unauthenticatedDrops = Counter(label: "bulwark_unauthenticated_dropped_total")
    private let unreadable = Gauge(label: "bulwark_store_unreadable_entries")
    private let manifestMismatches = Gauge(label: "bulwark_store_manifest_mismatches")

    private static func counter(
        in cache: borrowing Mutex<[CounterKey: Counter]>, _ key: CounterKey, _ make: () -> Counter
    ) -> Counter {
        cache.withLock { cache in
            if let existing = cache[key] { return existing }
            let made = make()
            cache[key] = made
            return made
        }
    }

    /// Counts one request of `operation` answered with `status`, and its duration.
    func request(_ operation: String, status: Int, nanoseconds: Int64) {
        let code = Self.statusText(status)
        Self.counter(in: self.requestCounters, CounterKey(first: operation, second: code)) {
            Counter(label: "bulwark_requests_total", dimensions: [("operation", operation), ("status", code)])
        }.increment()
        let timer = self.timers.withLock { cache in
            if let existing = cache[operation] { return existing }
            let made = Timer(label: "bulwark_request_duration_seconds", dimensions: [("operation", operation)], preferredDisplayUnit: .seconds)
            cache[operation] = made
            return made
        }
        timer.recordNanoseconds(nanoseconds)
    }

    private static let commonStatuses: [Int: String] = Dictionary(
        uniqueKeysWithValues: [200, 204, 400, 403, 404, 405, 413, 429, 500].map { ($0, String($0)) })

    private static func statusText(_ status: Int) -> String {
        Self.commonStatuses[status] ?? String(status)
    }

    /// Counts one use of key `key` for `operation` (a batch counts its items).
    func keyOperation(_ key: String, _ operation: String, count: Int = 1) {
        Self.counter(in: self.keyCounters, CounterKey(first: key, second: operation)) {
            Counter(label: "bulwark_key_operations_total", dimensions: [("key", key), ("operation", operation)])
        }.increment(by: count)
    }

    /// Counts a request answered in the connection's pipeline (``TransitFastPath``).
    func fastPathAnswer() {
        self.fastPathAnswers.increment()
    }

    /// Counts a fast-path request decoded typed (``FlatJSONObject``) rather than by the general
    /// decoder.
    func typedAnswer() {
        self.typedAnswers.increment()
    }

    /// Counts an audit line that could not be written (the request was refused).
    func auditFailure() {
        self.auditFailures.increment()
    }

    /// Sets how many store entries cannot be read (and are skipped).
    func unreadableEntries(_ count: Int) {
        self.unreadable.record(count)
    }

    private let budgetGauges = Mutex<[CounterKey: Gauge]>([:])

    /// Sets the share of a key version's encryption limit reserved so far (0 to 1).
    func encryptionBudget(key: String, version: UInt32, used: Double) {
        let gauge = self.budgetGauges.withLock { cache in
            let cacheKey = CounterKey(first: key, second: String(version))
            if let existing = cache[cacheKey] { return existing }
            let made = Gauge(label: "bulwark_key_encryptions_used_ratio", dimensions: [("key", key), ("version", String(version))])
            cache[cacheKey] = made
            return made
        }
        gauge.record(used)
    }

    /// Sets how many buckets of the store's manifest do not match their entries.
    func manifestMismatches(_ count: Int) {
        self.manifestMismatches.record(count)
    }

    /// Counts an unauthenticated request refused over its address's rate, without an audit line.
    func unauthenticatedDropped() {
        self.unauthenticatedDrops.increment()
    }
}
