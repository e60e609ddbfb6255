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

/// Closes a connection whose TLS handshake has not completed within `timeout` (a client that
/// opens connections and never finishes the handshake holds no place for long). Sits after the
/// TLS handler and removes itself once the handshake is done.
final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: self.timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.deadline?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Passed on first: a removed handler's context no longer reaches the next handler.
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.deadline?.cancel()
            self.deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

/// Closes a connection on which nothing was read or written for `timeout`. It sits below the
/// HTTP parser, so it sees the fast path's traffic as well as the router's (a busy keep-alive
/// connection is never cut).
final class IdleCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.schedule(context: context, in: self.timeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.check?.cancel()
    }

    private func schedule(context: ChannelHandlerContext, in delay: TimeAmount) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.check = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            let idle = NIODeadline.now() - self.lastActivity
            if idle >= self.timeout {
                loopBound.value.close(promise: nil)
            } else {
                self.schedule(context: loopBound.value, in: self.timeout - idle)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = .now()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.lastActivity = .now()
        context.write(data, promise: promise)
    }
}
