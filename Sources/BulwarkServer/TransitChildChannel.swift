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
