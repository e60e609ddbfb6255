import NIOCore
import NIOEmbedded
import Testing

@testable import BulwarkServer

/// `LIST` is rewritten where a request starts, and nowhere else.
@Suite struct ListMethodRewriterTests {
    /// Feeds `chunks` as separate reads and returns everything passed on.
    private func run(_ chunks: [String]) throws -> String {
        let channel = EmbeddedChannel(handler: ListMethodRewriter())
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
        #expect(ListMethodRewriter.bodyLength(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")) == nil)
        #expect(ListMethodRewriter.bodyLength(ByteBuffer(string: "POST / HTTP/1.1\r\ncontent-length:  12 \r\n\r\n")) == 12)
    }

    @Test func oversizeHeadsPassUnchanged() throws {
        let huge = "LIST /v1/" + String(repeating: "a", count: ListMethodRewriter.maximumHeadBytes + 10)
        #expect(try self.run([huge, " HTTP/1.1\r\n\r\n"]) == huge + " HTTP/1.1\r\n\r\n")
    }
}
