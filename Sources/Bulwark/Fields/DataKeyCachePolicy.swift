/// How long a data key may be reused, as in the AWS Encryption SDK's caching materials manager.
///
/// A data key encrypts at most ``maximumMessages`` values or ``maximumBytes`` bytes, for at most
/// ``maximumAge``; then a fresh one is made. Unwrapped keys stay cached for decryption under the
/// same age limit, at most ``maximumEntries`` of them.
public struct DataKeyCachePolicy: Sendable, Hashable {
    /// Values encrypted under one data key (1 to 2^32).
    public var maximumMessages: Int
    /// Plaintext bytes encrypted under one data key (1 byte to 2^36).
    public var maximumBytes: Int
    /// How long a data key is reused or an unwrapped key kept (1 second to 1 day).
    public var maximumAge: Duration
    /// Unwrapped data keys kept for decryption (0 to 100,000).
    public var maximumEntries: Int

    /// Creates a policy.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` outside the bounds.
    public init(maximumMessages: Int = 100_000, maximumBytes: Int = 1 << 30, maximumAge: Duration = .seconds(300), maximumEntries: Int = 1000) throws {
        guard (1...(1 << 32)).contains(maximumMessages), (1...(1 << 36)).contains(maximumBytes),
            maximumAge >= .seconds(1), maximumAge <= .seconds(86400), (0...100_000).contains(maximumEntries)
        else {
            throw BulwarkError(.invalidArgument, "data-key cache limits out of range")
        }
        self.maximumMessages = maximumMessages
        self.maximumBytes = maximumBytes
        self.maximumAge = maximumAge
        self.maximumEntries = maximumEntries
    }

    /// 100,000 values, 1 GiB or 5 minutes per data key; 1,000 unwrapped keys kept.
    public static let standard = DataKeyCachePolicy(uncheckedMessages: 100_000, bytes: 1 << 30, age: .seconds(300), entries: 1000)
    /// No reuse: a fresh data key for every value (one KEK call each).
    public static let none = DataKeyCachePolicy(uncheckedMessages: 1, bytes: 1 << 36, age: .seconds(1), entries: 0)

    init(uncheckedMessages: Int, bytes: Int, age: Duration, entries: Int) {
        self.maximumMessages = uncheckedMessages
        self.maximumBytes = bytes
        self.maximumAge = age
        self.maximumEntries = entries
    }
}
