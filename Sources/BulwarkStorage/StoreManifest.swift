import Bulwark
import Crypto
import Foundation

/// The sealed manifest that ties a store's entries together, so that a database writer without
/// the master key cannot roll one entry back to an earlier version, delete one, or bring back a
/// deleted one unnoticed.
///
/// Every entry carries its path and a version (the sealed ``KeystoreContents/generation``, one
/// more on every write). The manifest (sealed at ``path``) holds a random MAC key and, for each of
/// ``bucketCount`` buckets (chosen by a keyed hash of the path), the XOR of
/// `HMAC(key, path ‖ 0 ‖ version)` (its first ``width`` bytes) over the entries in it. Each write changes its entry and the
/// manifest in one transaction; a scan recomputes every bucket and treats every entry of a bucket
/// that does not match as unreadable (fail closed: the bucket's keys and tokens are not served).
/// The MACs are unknown to whoever cannot unseal the manifest, so no set of old entries can be
/// chosen that XORs to the same value. A whole store rolled back together with its manifest (a
/// restored backup) is consistent and not detected here.
struct StoreManifest {
    /// Where the manifest lives.
    static let path = "sys/manifest"
    /// Buckets: a mismatch withholds about 1/64 of the entries, not all of them.
    static let bucketCount = 64
    /// Bytes per bucket: 128 bits of unknown MAC (the manifest stays 1 KiB, rewritten per write).
    static let width = 16

    private(set) var key: SymmetricKey
    private(set) var buckets: [UInt8]

    /// An empty manifest with a fresh key.
    init() {
        self.key = SymmetricKey(size: .bits256)
        self.buckets = [UInt8](repeating: 0, count: Self.bucketCount * Self.width)
    }

    /// Whether the manifest covers the entry at `path` (not the seal record, not itself, not a
    /// node's own bookkeeping).
    static func covers(_ path: String) -> Bool {
        path != SealedStore.sealPath && path != SealConfiguration.path && path != Self.path && !path.hasPrefix(StoragePaths.unannounced)
    }

    /// The bucket of `path`.
    func bucket(of path: String) -> Int {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(("bucket " + path).utf8), using: self.key)
        return mac.withUnsafeBytes { Int($0[0]) % Self.bucketCount }
    }

    /// Adds (or, applied again, removes) the entry `path` at `version`.
    mutating func toggle(_ path: String, version: UInt64) {
        var message = Array(path.utf8)
        message.append(0)
        withUnsafeBytes(of: version.bigEndian) { message.append(contentsOf: $0) }
        let mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: self.key))
        let start = self.bucket(of: path) * Self.width
        for index in 0..<Self.width { self.buckets[start + index] ^= mac[index] }
    }

    /// The buckets that differ from `other`'s (same key).
    func mismatches(_ other: StoreManifest) -> Set<Int> {
        var result = Set<Int>()
        for bucket in 0..<Self.bucketCount {
            let range = (bucket * Self.width)..<(bucket * Self.width + Self.width)
            var difference: UInt8 = 0
            for index in range { difference |= self.buckets[index] ^ other.buckets[index] }
            if difference != 0 { result.insert(bucket) }
        }
        return result
    }

    /// The same key with every bucket empty (to recompute from entries).
    func emptied() -> StoreManifest {
        var copy = self
        copy.buckets = [UInt8](repeating: 0, count: Self.bucketCount * Self.width)
        return copy
    }

    /// As sealed documents.
    var documents: [String: Data] {
        ["manifest-key": self.key.withUnsafeBytes { Data($0) }, "manifest-buckets": Data(self.buckets)]
    }

    /// From sealed documents.
    init(documents: [String: Data]) throws {
        guard let key = documents["manifest-key"], key.count == 32, let buckets = documents["manifest-buckets"],
            buckets.count == Self.bucketCount * Self.width
        else { throw BulwarkError(.keystoreCorrupted, "the store's manifest is malformed") }
        self.key = SymmetricKey(data: key)
        self.buckets = Array(buckets)
    }
}
