import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

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
