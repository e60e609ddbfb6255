import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Counts the key service's open connections and refuses those over the cap, overall and per
/// client address (an IPv6 client by its /64): a refused connection is closed before its TLS
/// handshake, so a flood costs the server one accept each, and one address cannot hold every place.
final class ConnectionLimit: Sendable {
    private let open = Atomic<Int>(0)
    private let perAddress = Mutex<[String: Int]>([:])
    /// The most connections served at once.
    let maximum: Int
    /// The most connections one address holds at once.
    let maximumPerAddress: Int

    init(maximum: Int, maximumPerAddress: Int? = nil) {
        self.maximum = maximum
        self.maximumPerAddress = maximumPerAddress ?? max(1, maximum / 8)
    }

    /// Takes a place for `channel` (given back when it closes), or returns false when none is left.
    func admit(_ channel: any Channel) -> Bool {
        let address = TransitRoutes.addressKey(channel.remoteAddress?.ipAddress)
        let admitted = self.perAddress.withLock { counts -> Bool in
            guard counts[address, default: 0] < self.maximumPerAddress else { return false }
            counts[address, default: 0] += 1
            return true
        }
        guard admitted else { return false }
        let now = self.open.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= self.maximum else {
            self.release(address)
            return false
        }
        channel.closeFuture.whenComplete { _ in self.release(address) }
        return true
    }

    private func release(_ address: String) {
        self.open.wrappingSubtract(1, ordering: .relaxed)
        self.perAddress.withLock { counts in
            let left = counts[address, default: 1] - 1
            counts[address] = left > 0 ? left : nil
        }
    }

    /// The connections open now.
    var current: Int { self.open.load(ordering: .relaxed) }
}
