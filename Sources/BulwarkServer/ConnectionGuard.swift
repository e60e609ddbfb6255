import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Counts the key service's open connections and refuses those over the cap: a refused
/// connection is closed before its TLS handshake, so a flood costs the server one accept each.
final class ConnectionLimit: Sendable {
    private let open = Atomic<Int>(0)
    /// The most connections served at once.
    let maximum: Int

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes a place for `channel` (given back when it closes), or returns false when none is left.
    func admit(_ channel: any Channel) -> Bool {
        let now = self.open.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= self.maximum else {
            self.open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        return true
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
