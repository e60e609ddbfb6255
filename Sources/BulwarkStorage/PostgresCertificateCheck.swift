import Bulwark
import Foundation
import NIOCore
import NIOPosix
package import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// A strict check of the PostgreSQL server's certificate name, made once before the pool starts.
///
/// NIOSSL accepts a certificate whose IP address SAN matches the connected address whatever host
/// name was asked for, so a certificate issued by the same CA to another server on that address
/// would pass. This check opens one connection itself (PostgreSQL's `SSLRequest`, then TLS with
/// full chain verification) and requires the leaf's DNS names to match the configured host (or,
/// for a host given as an address, its IP SANs to contain it), as libpq's `verify-full` does.
package enum PostgresCertificateCheck {
    package static func verify(url: PostgresURL, tls: TLSConfiguration) async throws {
        let leaf = try await Self.fetchLeaf(url: url, tls: tls)
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: try leaf.toDERBytes())
        } catch {
            throw BulwarkError(.storageFailure, "the PostgreSQL server's certificate cannot be parsed")
        }
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        var dnsNames: [String] = []
        var addresses: [[UInt8]] = []
        for name in names ?? SubjectAlternativeNames() {
            switch name {
            case .dnsName(let dns): dnsNames.append(dns.lowercased())
            case .ipAddress(let octets): addresses.append(Array(octets.bytes))
            default: break
            }
        }
        let matches: Bool
        if url.hostIsAddress {
            matches = Self.addressBytes(url.host).map { addresses.contains($0) } ?? false
        } else {
            matches = dnsNames.contains { Self.matches(host: url.host.lowercased(), pattern: $0) }
        }
        guard matches else {
            throw BulwarkError(
                .storageFailure,
                "the PostgreSQL server's certificate is not for \(url.host) (it names \((dnsNames + addresses.map { $0.map(String.init).joined(separator: ".") }).joined(separator: ", ")))")
        }
    }

    static func matches(host: String, pattern: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*."), let dot = host.firstIndex(of: ".") else { return false }
        return host[dot...] == pattern.dropFirst() && !host[..<dot].isEmpty
    }

    static func addressBytes(_ host: String) -> [UInt8]? {
        if let v4 = try? SocketAddress(ipAddress: host, port: 0), case .v4(let address) = v4 {
            return withUnsafeBytes(of: address.address.sin_addr) { Array($0) }
        }
        if let v6 = try? SocketAddress(ipAddress: host, port: 0), case .v6(let address) = v6 {
            return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        }
        return nil
    }

    /// Connects, asks for TLS, handshakes (chain verified by NIOSSL) and returns the leaf.
    static func fetchLeaf(url: PostgresURL, tls: TLSConfiguration) async throws -> NIOSSLCertificate {
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup.singleton
        let timeout = TimeAmount.seconds(Int64(url.connectTimeout))
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group).connectTimeout(timeout).connect(host: url.host, port: url.port).get()
        } catch {
            throw BulwarkError(.storageFailure, "cannot reach PostgreSQL at \(url.host):\(url.port): \(error)")
        }
        defer { channel.close(promise: nil) }
        let promise = channel.eventLoop.makePromise(of: NIOSSLCertificate.self)
        let serverName = url.hostIsAddress ? nil : url.host
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(SSLRequestHandler(context: context, serverName: serverName, promise: promise))
        }.get()
        var request = channel.allocator.buffer(capacity: 8)
        request.writeInteger(Int32(8))
        request.writeInteger(Int32(80_877_103))
        try await channel.writeAndFlush(request).get()
        channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(BulwarkError(.storageFailure, "PostgreSQL at \(url.host):\(url.port) did not complete TLS in time"))
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as BulwarkError {
            throw error
        } catch {
            throw BulwarkError(.storageFailure, "the PostgreSQL server's certificate does not verify: \(error)")
        }
    }

    /// Reads the server's one-byte answer to `SSLRequest`, then runs the TLS handshake and hands
    /// back the peer's leaf certificate.
    final class SSLRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let context: NIOSSLContext
        let serverName: String?
        let promise: EventLoopPromise<NIOSSLCertificate>
        var upgraded = false

        init(context: NIOSSLContext, serverName: String?, promise: EventLoopPromise<NIOSSLCertificate>) {
            self.context = context
            self.serverName = serverName
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !self.upgraded else { return }
            var buffer = Self.unwrapInboundIn(data)
            guard let answer = buffer.readInteger(as: UInt8.self) else { return }
            guard answer == UInt8(ascii: "S") else {
                self.promise.fail(BulwarkError(.storageFailure, "the PostgreSQL server does not offer TLS"))
                return
            }
            self.upgraded = true
            do {
                let tls = try NIOSSLClientHandler(context: self.context, serverHostname: self.serverName)
                try context.pipeline.syncOperations.addHandler(tls, position: .first)
            } catch {
                self.promise.fail(error)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                if let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self), let leaf = tls.peerCertificate {
                    self.promise.succeed(leaf)
                } else {
                    self.promise.fail(BulwarkError(.storageFailure, "the PostgreSQL server sent no certificate"))
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.promise.fail(error)
        }
    }
}
