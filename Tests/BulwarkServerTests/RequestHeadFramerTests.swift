import NIOCore
import NIOEmbedded
import Testing

@testable import BulwarkServer

/// `LIST` is rewritten where a request starts, and nowhere else; a head must arrive in time.
@Suite struct RequestHeadFramerTests {
    /// Feeds `chunks` as separate reads and returns everything passed on.
    private func run(_ chunks: [String]) throws -> String {
        let channel = EmbeddedChannel(handler: RequestHeadFramer())
        for chunk in chunks { try channel.writeInbound(ByteBuffer(string: chunk)) }
        var out = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
        _ = try channel.finish()
        return out
    }

    @Test func listRequestLinesAreRewritten() throws {
        #expect(try self.run(["LIST /v1/transit/keys HTTP/1.1\r\nHost: x\r\n\r\n"]) == "GET /v1/transit/keys?list=true HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try self.run(["LIST /v1/a?x=1 HTTP/1.1\r\n\r\n"]) == "GET /v1/a?x=1&list=true HTTP/1.1\r\n\r\n")
    }

    /// A body that looks like a `LIST` request line is a body: passed on byte for byte.
    @Test func bodiesAreNeverRewritten() throws {
        let body = "LIST /v1/transit/keys HTTP/1.1\r\n\r\n"
        let request = "POST /v1/transit/encrypt/k HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        #expect(try self.run([request]) == request)
        // Split at every position: the same bytes come out, and a LIST after it is still rewritten.
        let next = "LIST /v1/transit/keys HTTP/1.1\r\n\r\n"
        let whole = request + next
        let expected = request + "GET /v1/transit/keys?list=true HTTP/1.1\r\n\r\n"
        for cut in 1..<whole.utf8.count {
            let bytes = Array(whole.utf8)
            let out = try self.run([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            #expect(out == expected, "cut at \(cut)")
        }
    }

    @Test func framingItDoesNotFollowEndsTheRewriting() throws {
        let chunked = "POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nLIST \r\n0\r\n\r\nLIST /v1/k HTTP/1.1\r\n\r\n"
        #expect(try self.run([chunked]) == chunked)
        let twoLengths = "POST /v1/x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nLIST /v1/k HTTP/1.1\r\n\r\n"
        #expect(try self.run([twoLengths]) == twoLengths)
        #expect(RequestHeadFramer.bodyLength(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")) == nil)
        // A combining mark after the colon hides nothing: the head is read as bytes, and any byte
        // outside printable ASCII ends the rewriting (the parser alone decides from then on).
        let hidden = "POST /v1/x HTTP/1.1\r\nTransfer-Encoding:\u{301}, chunked\r\n\r\n5\r\nLIST \r\n0\r\n\r\nLIST /v1/k HTTP/1.1\r\n\r\n"
        #expect(try self.run([hidden]) == hidden)
        #expect(RequestHeadFramer.bodyLength(ByteBuffer(string: "POST / HTTP/1.1\r\ncontent-length:  12 \r\n\r\n")) == 12)
    }

    @Test func oversizeHeadsPassUnchanged() throws {
        let huge = "LIST /v1/" + String(repeating: "a", count: RequestHeadFramer.maximumHeadBytes + 10)
        #expect(try self.run([huge, " HTTP/1.1\r\n\r\n"]) == huge + " HTTP/1.1\r\n\r\n")
    }

    /// A head trickled in (slowloris) closes the connection at the deadline; one that completes in
    /// time does not, and no deadline runs between requests.
    @Test func slowHeadsAreCut() throws {
        let channel = EmbeddedChannel(handler: RequestHeadFramer(headTimeout: .seconds(10)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: "GET /v1/sys/health HTTP/1.1\r\n\r\n"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive, "idle between requests: the idle timeout's business, not this one's")
        try channel.writeInbound(ByteBuffer(string: "GET /v1/sys/hea"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(ByteBuffer(string: "l"))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "closed 10 s after the head's first byte")
    }
}
