import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1
import NIOSSL

/// Each connection of the key service: admitted under the connection cap (``ConnectionLimit``),
/// TLS with the current certificate (see ``TLSContextProvider``: renewed certificates apply to
/// new connections without a restart) within the handshake deadline, then
/// ``RequestHeadFramer`` (Vault's `LIST` verb turned into `GET …?list=true`, head deadline),
/// then Hummingbird's HTTP/1.1 with its idle timeout, with ``TransitFastPath`` (when enabled) between
/// SwiftNIO's HTTP/1 codec and Hummingbird's conversion to HTTP types.
struct TransitChildChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let tls: TLSContextProvider
    /// Makes each connection's fast path; `nil` sends every request through the router.
    let fastPath: (@Sendable () -> TransitFastPath)?
    /// The cap on open connections.
    let connections: ConnectionLimit
    /// How long a TLS handshake, and a request head from its first byte, may take.
    let headTimeout: TimeAmount
    /// How long a connection may see no traffic.
    let idleTimeout: TimeAmount

    var responder: HTTPChannelHandler.Responder { self.base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard self.connections.admit(channel) else {
            // Over the cap: closed before any TLS work.
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: self.tls.current))
            try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: self.headTimeout))
            if self.tls.verifiesClients {
                try channel.pipeline.syncOperations.addHandler(ClientIdentityHandler())
            }
            try channel.pipeline.syncOperations.addHandler(WriteCoalescingHandler())
            try channel.pipeline.syncOperations.addHandler(RequestHeadFramer(headTimeout: self.headTimeout))
            try channel.pipeline.syncOperations.addHandler(IdleCloser(timeout: self.idleTimeout))
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
