import Bulwark
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// One HTTP/1.1 exchange per TLS connection, sent only after the handshake has verified the
/// chain as usual and the server certificate's key matched a pin (``CertificatePins``).
///
/// AsyncHTTPClient gives no hook between the handshake and the first request, so pinned
/// clients use this instead: the request (and its token) is written by the pipeline itself on
/// the handshake's completion event, once the pin has matched, and never otherwise.
struct PinnedTransport: Sendable {
    /// The server's host (a name or an IP literal) and port.
    let host: String
    let port: Int
    /// The client TLS context (verification on, the caller's trust roots).
    let context: NIOSSLContext
    let pins: CertificatePins
    /// The most response bytes read.
    static let bodyLimit = 16 << 20

    /// An answer: its status and body.
    struct Answer: Sendable {
        var status: Int
        var body: Data
    }

    /// Sends one request on a new connection and reads its answer.
    /// - Throws: ``BulwarkError/Code/pinMismatch`` when the server's key is not pinned (nothing
    ///   was sent); `ioFailure` when it cannot be reached, the chain does not verify, or it does
    ///   not answer within the timeout.
    func execute(method: HTTPMethod, path: String, headers: HTTPHeaders, body: Data?, timeout: TimeAmount = .seconds(60)) async throws -> Answer {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        head.headers.replaceOrAdd(name: "Host", value: self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)")
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        head.headers.replaceOrAdd(name: "Content-Length", value: String(body?.count ?? 0))
        let request = head
        let pins = self.pins
        // A connection that failed before any byte of the request was written (closed or reset
        // during connect or handshake) is tried once more: nothing was sent, so nothing repeats.
        for attempt in 0..<2 {
            do {
                return try await Self.exchange(host: self.host, port: self.port, context: self.context, of: Answer.self, timeout: timeout) { sync, answer in
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(PinnedExchangeHandler(request: request, body: body, pins: pins, answer: answer))
                }
            } catch let notSent as NotSent {
                if attempt == 1 { throw notSent.error }
            }
        }
        throw BulwarkError(.internalFailure, "unreachable")
    }

    /// A failure before any byte of the request was written.
    struct NotSent: Error {
        let error: BulwarkError
    }

    /// Connects over TLS verified by `context` (the name checked, or for an IP literal the
    /// certificate's IP address), adds the handlers `pipeline` gives after NIOSSL's, and waits
    /// for them to complete the promise, at most `timeout`; other failures are
    /// ``BulwarkError/Code/ioFailure``. A cancelled task closes the connection at once.
    ///
    /// The handlers go on the connection that won the connect (NIOSSL starts the handshake as it
    /// is added to an active channel): the attempts a Happy Eyeballs race abandons never see
    /// them, so none of them can complete or fail the exchange.
    static func exchange<Value: Sendable>(
        host: String, port: Int, context: NIOSSLContext, of: Value.Type, timeout: TimeAmount,
        _ pipeline: @escaping @Sendable (ChannelPipeline.SynchronousOperations, EventLoopPromise<Value>) throws -> Void
    ) async throws -> Value {
        let serverName = (try? SocketAddress(ipAddress: host, port: 0)) != nil ? nil : host
        // The handlers are added on the event loop as the connect completes, never after a hop
        // back to this task: a task that resumes late (a busy cooperative pool) would otherwise
        // leave the connection silent past the server's handshake deadline, closed under it.
        let connected = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .connect(host: host, port: port)
            .flatMap { channel -> EventLoopFuture<EventLoopPromise<Value>> in
                let setUp = { @Sendable () -> EventLoopPromise<Value> in
                    let result = channel.eventLoop.makePromise(of: Value.self)
                    let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                        result.fail(BulwarkError(.ioFailure, "\(host):\(port) did not answer in time"))
                    }
                    result.futureResult.whenComplete { _ in
                        deadline.cancel()
                        channel.close(promise: nil)
                    }
                    do {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try pipeline(sync, result)
                    } catch {
                        result.fail(error)
                    }
                    return result
                }
                return channel.eventLoop.inEventLoop ? channel.eventLoop.makeSucceededFuture(setUp()) : channel.eventLoop.submit(setUp)
            }
        let result: EventLoopPromise<Value>
        do {
            result = try await connected.get()
        } catch {
            throw NotSent(error: BulwarkError(.ioFailure, "cannot connect to \(host):\(port): \(error)"))
        }
        do {
            return try await withTaskCancellationHandler {
                try await result.futureResult.get()
            } onCancel: {
                result.fail(CancellationError())
            }
        } catch let error as BulwarkError {
            throw error
        } catch let notSent as NotSent {
            throw notSent
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Before the request handler wrote anything (channel errors while connecting or
            // setting up TLS).
            throw NotSent(error: BulwarkError(.ioFailure, "cannot make a verified TLS connection to \(host):\(port): \(error)"))
        }
    }
}

/// Writes the request when the TLS handshake completes with a pinned server key, then collects
/// the answer (bounded) and closes.
private final class PinnedExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let body: Data?
    private let pins: CertificatePins
    private let answer: EventLoopPromise<PinnedTransport.Answer>
    private var status: Int?
    private var received = Data()
    private var done = false
    /// Whether any byte of the request was handed to the channel.
    private var written = false

    init(request: HTTPRequestHead, body: Data?, pins: CertificatePins, answer: EventLoopPromise<PinnedTransport.Answer>) {
        self.request = request
        self.body = body
        self.pins = pins
        self.answer = answer
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard !self.done, let event = event as? TLSUserEvent, case .handshakeCompleted = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The chain and name verified (NIOSSL fails the handshake otherwise); now the key.
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        guard let certificate, self.pins.allows(certificate) else {
            self.finish(context, .failure(BulwarkError(.pinMismatch, "the server's certificate key matches no pin: nothing was sent")))
            return
        }
        self.written = true
        context.write(self.wrapOutboundOut(.head(self.request)), promise: nil)
        if let body = self.body, !body.isEmpty {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.status = Int(head.status.code)
        case .body(var buffer):
            guard self.received.count + buffer.readableBytes <= PinnedTransport.bodyLimit else {
                self.finish(context, .failure(BulwarkError(.ioFailure, "the key service's answer is over \(PinnedTransport.bodyLimit) bytes")))
                return
            }
            self.received.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let status = self.status else {
                self.finish(context, .failure(BulwarkError(.ioFailure, "the key service's answer has no status")))
                return
            }
            self.finish(context, .success(PinnedTransport.Answer(status: status, body: self.received)))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(context, .failure(self.failure(BulwarkError(.ioFailure, "TLS or HTTP failure talking to the key service: \(error)"))))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(context, .failure(self.failure(BulwarkError(.ioFailure, "the key service closed the connection before answering"))))
        context.fireChannelInactive()
    }

    /// `error`, marked as safe to retry when nothing of the request was written yet.
    private func failure(_ error: BulwarkError) -> any Error {
        self.written ? error : PinnedTransport.NotSent(error: error)
    }

    private func finish(_ context: ChannelHandlerContext, _ result: Result<PinnedTransport.Answer, any Error>) {
        guard !self.done else { return }
        self.done = true
        self.answer.completeWith(result)
        context.close(promise: nil)
    }
}

extension CertificatePins {
    /// The pin of the certificate a live server presents, over a connection verified as every
    /// connection is (trusted chain, name, validity); nothing is sent after the handshake.
    /// - Parameters:
    ///   - host: A name or an IP literal.
    ///   - caFile: A PEM CA file to trust instead of the system's roots.
    /// - Returns: The pin (base64 SHA-256 of the certificate's SubjectPublicKeyInfo).
    /// - Throws: ``BulwarkError/Code/ioFailure`` when the server cannot be reached or its chain
    ///   does not verify.
    package static func probe(host: String, port: Int, caFile: String?) async throws -> String {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.trustRoots = .file(caFile) }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw BulwarkError(.ioFailure, "the TLS settings cannot be loaded (CA file?): \(error)")
        }
        do {
            return try await PinnedTransport.exchange(host: host, port: port, context: context, of: String.self, timeout: .seconds(10)) { sync, pin in
                try sync.addHandler(CertificateProbeHandler(pin: pin))
            }
        } catch let notSent as PinnedTransport.NotSent {
            throw notSent.error
        }
    }
}

/// Reads the server certificate's pin when the handshake completes, then closes.
private final class CertificateProbeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let pin: EventLoopPromise<String>

    init(pin: EventLoopPromise<String>) {
        self.pin = pin
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            do {
                guard let certificate = try context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate else {
                    throw BulwarkError(.ioFailure, "the server presented no certificate")
                }
                self.pin.succeed(try CertificatePins.pin(certificate))
            } catch {
                self.pin.fail(error)
            }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.pin.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pin.fail(BulwarkError(.ioFailure, "the server closed the connection during the handshake"))
        context.fireChannelInactive()
    }
}
