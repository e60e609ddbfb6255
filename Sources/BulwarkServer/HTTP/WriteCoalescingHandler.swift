import NIOCore

/// Gathers the writes made between two flushes into one buffer before TLS, so that a response's
/// head and body leave as one TLS record (and one `write` to the socket), as nginx sends them,
/// rather than one record per HTTP part. Writes larger than ``limit`` pass through unchanged.
final class WriteCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most bytes gathered into one buffer (one full TLS record).
    static let limit = 16 * 1024

    private var pending: ByteBuffer?
    private var pendingPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = Self.unwrapOutboundIn(data)
        if var gathered = self.pending {
            if gathered.readableBytes + buffer.readableBytes <= Self.limit {
                self.pending = nil  // keep `gathered` uniquely referenced while it grows
                gathered.writeBuffer(&buffer)
                self.pending = gathered
                self.join(promise)
                return
            }
            self.forwardPending(context: context)
        }
        if buffer.readableBytes > Self.limit {
            context.write(data, promise: promise)
        } else {
            self.pending = buffer
            self.pendingPromise = promise
        }
    }

    func flush(context: ChannelHandlerContext) {
        self.forwardPending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.forwardPending(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.forwardPending(context: context)
    }

    private func join(_ promise: EventLoopPromise<Void>?) {
        guard let promise else { return }
        if let earlier = self.pendingPromise {
            earlier.futureResult.cascade(to: promise)
        } else {
            self.pendingPromise = promise
        }
    }

    private func forwardPending(context: ChannelHandlerContext) {
        guard let gathered = self.pending else { return }
        let promise = self.pendingPromise
        self.pending = nil
        self.pendingPromise = nil
        context.write(Self.wrapOutboundOut(gathered), promise: promise)
    }
}
