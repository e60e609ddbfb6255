import Hummingbird
import NIOCore

/// The request context of the key service: Hummingbird's core context plus the client
/// certificate's subject when mutual TLS verified one.
struct TransitRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The verified client certificate's subject, if any.
    let clientSubject: ClientSubject?
    /// The client's IP address (for the per-address limit on unauthenticated requests).
    let clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientSubject = ClientIdentities.shared.subject(for: source.channel)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
