import Crypto
import Foundation
import Synchronization

/// A token bucket per API token: `rate` requests per second with bursts up to `burst`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// - Parameters:
    ///   - rate: Requests per second allowed per token (sustained).
    ///   - burst: The most requests allowed at once.
    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Whether one more request from `token` may go through now.
    func admit(_ token: String, now: ContinuousClock.Instant = .now) -> Bool {
        self.buckets.withLock { buckets in
            var bucket = buckets[token] ?? Bucket(tokens: self.burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(self.burst, bucket.tokens + seconds * self.rate)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[token] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[token] = bucket
            // Forget buckets that have refilled (their owner has been idle) once the table is large,
            // so a stream of new keys cannot grow it; the sweep runs once per 50,000 new keys.
            if buckets.count > 100_000 {
                buckets = buckets.filter { entry in
                    let idle = now - entry.value.updated
                    let refill = (Double(idle.components.seconds) + Double(idle.components.attoseconds) / 1e18) * self.rate
                    return entry.value.tokens + refill < self.burst
                }
                if buckets.count > 50_000 { buckets.removeAll(keepingCapacity: true) }
            }
            return true
        }
    }
}
