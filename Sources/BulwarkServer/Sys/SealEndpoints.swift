import Foundation

/// `sys/seal-status`, `sys/unseal` and `sys/seal` on an unsealed server (Vault's API). A sealed
/// server answers the first two from ``SealedServer``, with the same answers.
enum SealEndpoints {
    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("sys/seal-status", .read, access: .anyone, label: "sys/seal-status", .open { routes, _ in
            try AnswerEncoder.encode(routes.sealGate.status())
        }),
        // Unsealed already: a well-formed body is answered with the status (as Vault), its share unused.
        Endpoint(
            "sys/unseal", .write, access: .anyone, fields: UnsealRequest.fields, label: "sys/unseal", requestType: UnsealRequest.self,
            .open { routes, body in
                _ = try UnsealRequest.checked(body)
                return try AnswerEncoder.encode(routes.sealGate.status())
            }),
        Endpoint("sys/seal", .write, access: .sudo, request: NoFields.self, label: "sys/seal", noContent: { routes, _, _ in
            try routes.sealGate.seal()
        }),
    ]
}

extension TransitRoutes {
    /// The server's seal: the one it was started with, or a static seal's.
    var sealGate: SealGate { self.options.seal ?? SealGate.staticSeal }
}

extension SealGate {
    /// The gate of a server whose master key comes from its configuration: never sealed.
    static let staticSeal = SealGate(configuration: nil)
}
