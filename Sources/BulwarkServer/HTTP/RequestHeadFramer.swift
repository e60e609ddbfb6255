import NIOCore

/// Follows HTTP/1.1's request framing below SwiftNIO's parser, for the two jobs that need to
/// know where a request head starts and ends:
///
/// - It rewrites a request line `LIST /path HTTP/1.x` into `GET /path?list=true HTTP/1.x`, as
///   Vault treats the two alike (SwiftNIO's HTTP parser knows no `LIST`).
/// - It closes the connection when a request head has not arrived whole within `headTimeout` of
///   its first byte (slowloris: a head sent a byte at a time holds no connection for long).
///
/// It acts only where a request starts, never inside a body: it follows HTTP/1.1's framing
/// itself — a head up to its blank line, then `Content-Length` bytes of body — so a body that
/// happens to begin with `LIST /` (or a pipelined request split across reads) is passed on as it
/// came. A request whose framing it does not follow (`Transfer-Encoding`, conflicting or
/// malformed lengths, a byte outside printable ASCII in the head, a head over 64 KiB) ends the rewriting on its connection: from then on
/// every byte passes unchanged and SwiftNIO's parser alone decides (a later `LIST` there is
/// refused by it).
final class RequestHeadFramer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        /// Reading a request head (bytes so far in ``pending``).
        case head
        /// Passing on this many more bytes of the current request's body.
        case body(Int)
        /// Passing everything on unchanged.
        case passthrough
    }

    private var state = State.head
    private var pending = ByteBuffer()
    private let headTimeout: TimeAmount
    /// When the head being read began (nil between requests and in a body): one clock read per
    /// request, checked by one timer per connection (``watch``), rather than a timer per request.
    private var headStarted: NIODeadline?
    /// The connection's one head-deadline check.
    private var watch: Scheduled<Void>?

    /// - Parameter headTimeout: How long a request head may take from its first byte.
    init(headTimeout: TimeAmount = .seconds(10)) {
        self.headTimeout = headTimeout
    }

    /// The first head's deadline runs from the connection's start (TLS handshake included): a
    /// connection that never sends a request holds no place for long.
    func handlerAdded(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        self.headStarted = now
        self.schedule(context: context, at: now + self.headTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.watch?.cancel()
    }

    /// Checks at `deadline` whether the head being read is late, and schedules the next check.
    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        self.watch = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            let now = loopBound.value.eventLoop.now
            guard let started = self.headStarted else {
                self.schedule(context: loopBound.value, at: now + self.headTimeout)
                return
            }
            if now - started >= self.headTimeout {
                loopBound.value.close(promise: nil)
            } else {
                self.schedule(context: loopBound.value, at: started + self.headTimeout)
            }
        }
    }
    static let maximumHeadBytes = 64 * 1024
    private static let prefix = Array("LIST /".utf8)
    private static let headEnd = Array("\r\n\r\n".utf8)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = Self.unwrapInboundIn(data)
        while input.readableBytes > 0 {
            switch self.state {
            case .passthrough:
                context.fireChannelRead(Self.wrapInboundOut(input))
                return
            case .body(let remaining):
                let count = min(remaining, input.readableBytes)
                context.fireChannelRead(Self.wrapInboundOut(input.readSlice(length: count)!))
                self.state = remaining == count ? .head : .body(remaining - count)
            case .head:
                if self.headStarted == nil { self.headStarted = context.eventLoop.now }
                let searchFrom = max(0, self.pending.readableBytes - 3)
                if self.pending.readableBytes == 0 {
                    self.pending = input
                } else {
                    self.pending.writeBuffer(&input)
                }
                input = ByteBuffer()
                let view = self.pending.readableBytesView
                guard let end = Self.find(Self.headEnd, in: view, from: view.startIndex + searchFrom) else {
                    if self.pending.readableBytes > Self.maximumHeadBytes { self.giveUp(context: context) }
                    return
                }
                self.headStarted = nil
                let head = self.pending.readSlice(length: end - view.startIndex + 4)!
                input = self.pending
                self.pending = ByteBuffer()
                let length = Self.bodyLength(head)
                context.fireChannelRead(Self.wrapInboundOut(Self.rewrite(head) ?? head))
                switch length {
                case .some(0): self.state = .head
                case .some(let count): self.state = .body(count)
                case .none: self.state = .passthrough
                }
            }
        }
    }

    /// Passes on what was held and stops rewriting on this connection.
    private func giveUp(context: ChannelHandlerContext) {
        self.state = .passthrough
        self.headStarted = nil
        let held = self.pending
        self.pending = ByteBuffer()
        context.fireChannelRead(Self.wrapInboundOut(held))
    }

    private static func find(_ needle: [UInt8], in view: ByteBufferView, from start: Int) -> Int? {
        guard view.count >= needle.count else { return nil }
        var index = start
        while index <= view.endIndex - needle.count {
            if view[index] == needle[0], view[index + 1] == needle[1], view[index + 2] == needle[2], view[index + 3] == needle[3] {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The body length a head declares: 0 without `Content-Length`, nil when the framing is not
    /// one this handler follows (`Transfer-Encoding`, several or malformed lengths, any byte
    /// outside printable ASCII). Read as bytes, as the parser reads them.
    static func bodyLength(_ head: ByteBuffer) -> Int? {
        head.withUnsafeReadableBytes { bytes -> Int? in
            for byte in bytes where !((byte >= 0x20 && byte < 0x7F) || byte == 0x0D || byte == 0x0A || byte == 0x09) { return nil }
            var length: Int?
            var seenRequestLine = false
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                defer { start = end + 1 }
                guard end > start else { continue }  // an empty line
                // The request line first (a line of only CR counts, as split on LF does).
                guard seenRequestLine else {
                    seenRequestLine = true
                    continue
                }
                var lineEnd = end
                if bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var colon = start
                while colon < lineEnd && bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                guard colon < lineEnd else { continue }
                if Self.named(bytes, start, colon, Self.transferEncoding) { return nil }
                guard Self.named(bytes, start, colon, Self.contentLength) else { continue }
                var valueStart = colon + 1
                while valueStart < lineEnd && (bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09) { valueStart += 1 }
                var valueEnd = lineEnd
                while valueEnd > valueStart && (bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09) { valueEnd -= 1 }
                guard length == nil, valueEnd > valueStart, valueEnd - valueStart <= 18 else { return nil }
                var value = 0
                for index in valueStart..<valueEnd {
                    guard bytes[index] >= 0x30 && bytes[index] <= 0x39 else { return nil }
                    value = value * 10 + Int(bytes[index] - 0x30)
                }
                length = value
            }
            return length ?? 0
        }
    }

    private static let transferEncoding = Array("transfer-encoding".utf8)
    private static let contentLength = Array("content-length".utf8)

    /// Whether `bytes[start..<end]` is `name` (lowercase ASCII), in any case.
    private static func named(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ name: [UInt8]) -> Bool {
        guard end - start == name.count else { return false }
        for offset in 0..<name.count {
            var byte = bytes[start + offset]
            if byte >= 0x41 && byte <= 0x5A { byte |= 0x20 }
            guard byte == name[offset] else { return false }
        }
        return true
    }

    /// The head with a `LIST` request line turned into `GET …?list=true`, or nil to leave it.
    static func rewrite(_ head: ByteBuffer) -> ByteBuffer? {
        let view = head.readableBytesView
        // Empty lines before a request line are allowed (and skipped by the parser).
        let start = view.firstIndex { $0 != 0x0D && $0 != 0x0A } ?? view.endIndex
        guard view[start...].starts(with: Self.prefix), let end = view[start...].firstIndex(of: 0x0D) else { return nil }
        let line = view[start..<end]
        guard let space = line.lastIndex(of: 0x20), line[space...].starts(with: Array(" HTTP/1.".utf8)) else { return nil }
        let target = line[(start + 5)..<space]
        guard !target.contains(0x20) else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(head.readableBytes + 16)
        out.writeBytes(view[view.startIndex..<start])
        out.writeString("GET ")
        out.writeBytes(target)
        out.writeString(target.contains(UInt8(ascii: "?")) ? "&list=true" : "?list=true")
        out.writeBytes(view[space...])
        return out
    }
}
