import Hummingbird
import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1
import Synchronization
import X509

/// The verified client certificate of each connection (mutual TLS), by channel, so a request
/// can be mapped to policies by its certificate's subject (Vault's cert auth, in spirit).
final class ClientIdentities: Sendable {
    static let shared = ClientIdentities()
    private let subjects = Mutex<[ObjectIdentifier: ClientSubject]>([:])

    func set(_ subject: ClientSubject?, for channel: any Channel) {
        self.subjects.withLock { $0[ObjectIdentifier(channel)] = subject }
    }

    func subject(for channel: any Channel) -> ClientSubject? {
        self.subjects.withLock { $0[ObjectIdentifier(channel)] }
    }
}

/// A verified client certificate's subject: the full distinguished name and its common name.
struct ClientSubject: Sendable, Hashable {
    let distinguishedName: String
    let commonName: String?
}

/// Records the peer certificate once the TLS handshake verified it; forgets it when the
/// connection closes.
final class ClientIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event,
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let peer = tls.peerCertificate,
            let certificate = try? Certificate(derEncoded: try peer.toDERBytes())
        {
            var commonName: String?
            for rdn in certificate.subject {
                for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                    commonName = String(describing: attribute.value)
                }
            }
            ClientIdentities.shared.set(
                ClientSubject(distinguishedName: String(describing: certificate.subject), commonName: commonName), for: context.channel)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ClientIdentities.shared.set(nil, for: context.channel)
        context.fireChannelInactive()
    }
}
