import Foundation

/// `sys/seal-status`, `sys/unseal` and `sys/seal` on an unsealed server (Vault's API), and the
/// unseal key's rotation (`sys/rotate/root/…`, OpenBao's). A sealed server answers the first two
/// from ``SealedServer``, with the same answers.
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
        // A new unseal key for the same master key, authorised by a token with sudo and a quorum
        // of the current shares (OpenBao's authenticated replacement of Vault's sys/rekey).
        Endpoint("sys/rotate/root/init", .read, access: .sudo, request: NoFields.self, label: "sys/rotate", answer: { routes, _, _ in
            routes.sealGate.rotationStatus()
        }),
        Endpoint(
            "sys/rotate/root/init", .write, access: .sudo, request: RotationStart.self, auditClear: RotationStart.fields, label: "sys/rotate",
            answer: { routes, call, request in
                try routes.sealGate.startRotation(shares: request.secretShares, threshold: request.secretThreshold, owner: call.token)
            }),
        Endpoint("sys/rotate/root/init", .delete, access: .sudo, request: NoFields.self, label: "sys/rotate", noContent: { routes, call, _ in
            try routes.sealGate.cancelRotation(owner: call.token, byRoot: routes.isRoot(call.token))
        }),
        Endpoint("sys/rotate/root/update", .write, access: .sudo, request: RotationUpdate.self, label: "sys/rotate", answer: { routes, call, request in
            try await routes.sealGate.rotationUpdate(key: request.key, nonce: request.nonce, owner: call.token)
        }),
        // The new shares take effect only once a quorum of them comes back (always required:
        // shares lost with an answer must not leave a store nobody can unseal).
        Endpoint("sys/rotate/root/verify", .write, access: .sudo, request: RotationUpdate.self, label: "sys/rotate", answer: { routes, call, request in
            try await routes.sealGate.rotationVerify(key: request.key, nonce: request.nonce, owner: call.token)
        }),
        // A new root token from a quorum of unseal key shares (OpenBao's authenticated
        // replacement of Vault's sys/generate-root), encoded with a one-time pad the server makes.
        Endpoint("sys/generate-root-token/attempt", .read, access: .sudo, request: NoFields.self, label: "sys/generate-root", answer: { routes, _, _ in
            routes.sealGate.rootGenerationStatus()
        }),
        Endpoint(
            "sys/generate-root-token/attempt", .write, access: .sudo, request: RootGenerationStart.self, label: "sys/generate-root",
            answer: { routes, call, request in
                try routes.sealGate.startRootGeneration(otp: request.otp, pgpKey: request.pgpKey, owner: call.token)
            }),
        Endpoint("sys/generate-root-token/attempt", .delete, access: .sudo, request: NoFields.self, label: "sys/generate-root", noContent: { routes, call, _ in
            try routes.sealGate.cancelRootGeneration(owner: call.token, byRoot: routes.isRoot(call.token))
        }),
        Endpoint(
            "sys/generate-root-token/update", .write, access: .sudo, request: RotationUpdate.self, label: "sys/generate-root",
            answer: { routes, call, request in
                try await routes.sealGate.rootGenerationUpdate(key: request.key, nonce: request.nonce, owner: call.token) {
                    try await routes.auth.generateRoot()
                }
            }),
    ]
}

/// `POST sys/generate-root-token/attempt`: OpenBao's fields, both refused when given (the server
/// makes the one-time pad; no PGP).
struct RootGenerationStart: EndpointRequest {
    /// A caller's one-time pad (refused).
    var otp: String?
    /// A PGP key to encrypt the token to (refused).
    var pgpKey: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case otp
        case pgpKey = "pgp_key"
    }
}

/// `POST sys/rotate/root/init`: the new counts (OpenBao's PGP, backup and verification options are refused).
struct RotationStart: EndpointRequest {
    /// How many new shares.
    var secretShares: Int
    /// How many of them unseal.
    var secretThreshold: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case secretShares = "secret_shares"
        case secretThreshold = "secret_threshold"
    }
}

/// `POST sys/rotate/root/update`: one current share and the rotation's nonce.
struct RotationUpdate: EndpointRequest {
    /// One current share, hex or base64 (hashed in the audit log, as every value not allowlisted).
    var key: String
    /// The nonce `sys/rotate/root/init` answered.
    var nonce: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case key, nonce
    }
}

extension TransitRoutes {
    /// The server's seal: the one it was started with, or a static seal's.
    var sealGate: SealGate { self.options.seal ?? SealGate.staticSeal }

    /// Whether `token` is the root token.
    func isRoot(_ token: String) -> Bool {
        if case .root = self.auth.principal(token) { return true }
        return false
    }
}

extension SealGate {
    /// The gate of a server whose master key comes from its configuration: never sealed.
    static let staticSeal = SealGate(configuration: nil)
}
