import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1
import NIOSSL

/// Each connection of the key service: TLS with the current certificate (see
/// ``TLSContextProvider``: renewed certificates apply to new connections without a restart),
/// then Vault's `LIST` verb turned into `GET …?list=true` (SwiftNIO's HTTP parser knows no
/// `LIST`), then Hummingbird's HTTP/1.1, with ``TransitFastPath`` (when enabled) between
/// SwiftNIO's HTTP/1 codec and Hummingbird's conversion to HTTP types.
struct TransitChildChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let tls: TLSContextProvider
    /// Makes each connection's fast path; `nil` sends every request through the router.
    let fastPath: (@Sendable () -> TransitFastPath)?

    var responder: HTTPChannelHandler.Responder { self.base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.tls.current))
            if self.tls.verifiesClients {
                try channel.pipeline.syncOperations.addHandler(ClientIdentityHandler())
            }
            try channel.pipeline.syncOperations.addHandler(WriteCoalescingHandler())
            try channel.pipeline.syncOperations.addHandler(ListMethodRewriter())
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            if let fastPath = self.fastPath {
                let operations = channel.pipeline.syncOperations
                try operations.addHandler(fastPath(), position: .before(try operations.handler(type: HTTP1ToHTTPServerCodec.self)))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Rewrites a request line `LIST /path HTTP/1.x` into `GET /path?list=true HTTP/1.x`, as Vault
/// treats the two alike. Only a read that starts with a complete `LIST` request line is touched:
/// request bodies here are JSON and cannot start that way.
final class ListMethodRewriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let prefix = Array("LIST /".utf8)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        guard let rewritten = Self.rewrite(buffer) else {
            context.fireChannelRead(data)
            return
        }
        context.fireChannelRead(Self.wrapInboundOut(rewritten))
    }

    static func rewrite(_ buffer: ByteBuffer) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard view.starts(with: Self.prefix), let end = view.firstIndex(of: 0x0D) else { return nil }
        let line = view[view.startIndex..<end]
        guard let space = line.lastIndex(of: 0x20), line[space...].starts(with: Array(" HTTP/1.".utf8)) else { return nil }
        let target = line[(view.startIndex + 5)..<space]
        guard !target.contains(0x20) else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(buffer.readableBytes + 16)
        out.writeString("GET ")
        out.writeBytes(target)
        out.writeString(target.contains(UInt8(ascii: "?")) ? "&list=true" : "?list=true")
        out.writeBytes(view[space...])
        return out
    }
}
