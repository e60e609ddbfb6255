import Bulwark
/// Transit's operations with a key or none: encrypt, decrypt, rewrap, data keys, HMAC, sign,
/// verify, random bytes and hashes (Vault's `path_encrypt.go`, `path_decrypt.go`, …).
enum TransitCryptoEndpoints {
    /// Versions, algorithms and formats: written in clear in the audit log.
    static let settings: Set<String> = [
        "key_version", "type", "algorithm", "hash_algorithm", "signature_algorithm", "marshaling_algorithm", "salt_length", "format", "bits", "bytes",
        "prehashed", "source", "convergent_encryption",
    ]

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("transit/encrypt/:name", .write, request: TransitBackend.EncryptRequest.self, auditClear: settings, label: "transit/encrypt",
            keyParameter: "name", fastPath: .encrypt, createsKey: true, answer: { routes, call, request in try await routes.backend.encrypt(call.name, request) }),
        Endpoint("transit/decrypt/:name", .write, request: TransitBackend.DecryptRequest.self, auditClear: settings, label: "transit/decrypt",
            keyParameter: "name", fastPath: .decrypt, answer: { routes, call, request in try routes.backend.decrypt(call.name, request) }),
        Endpoint("transit/rewrap/:name", .write, request: TransitBackend.RewrapRequest.self, auditClear: settings, label: "transit/rewrap",
            keyParameter: "name", answer: { routes, call, request in try await routes.backend.rewrap(call.name, request) }),
        Endpoint("transit/datakey/plaintext/:name", .write, request: TransitBackend.DataKeyRequest.self, auditClear: settings, label: "transit/datakey",
            keyParameter: "name", answer: { routes, call, request in try await routes.backend.dataKey(call.name, plaintext: true, request) }),
        Endpoint("transit/datakey/wrapped/:name", .write, request: TransitBackend.DataKeyRequest.self, auditClear: settings, label: "transit/datakey",
            keyParameter: "name", answer: { routes, call, request in try await routes.backend.dataKey(call.name, plaintext: false, request) }),
        Endpoint("transit/random", .write, request: TransitBackend.RandomRequest.self, auditClear: settings, label: "transit/random",
            answer: { routes, _, request in try routes.backend.random(request, bytes: nil) }),
        Endpoint("transit/random/:urlbytes", .write, request: TransitBackend.RandomRequest.self, auditClear: settings, label: "transit/random",
            answer: { routes, call, request in
                // The path names a byte count or nothing else (Vault answers 400 too).
                guard let count = Int(call.parameters["urlbytes"] ?? "") else { throw BulwarkError(.invalidArgument, "bytes in the path must be a number") }
                return try routes.backend.random(request, bytes: count)
            }),
        Endpoint("transit/hash", .write, request: TransitBackend.HashRequest.self, auditClear: settings, label: "transit/hash",
            answer: { routes, _, request in try routes.backend.hash(request, algorithm: nil) }),
        Endpoint("transit/hash/:algorithm", .write, request: TransitBackend.HashRequest.self, auditClear: settings, label: "transit/hash",
            answer: { routes, call, request in try routes.backend.hash(request, algorithm: call.parameters["algorithm"]) }),
    ] + Self.algorithmOperations

    /// HMAC, sign and verify, each also with an algorithm segment (`hmac/:name/sha2-256`), which
    /// must agree with the key.
    private static let algorithmOperations: [Endpoint] =
        Self.withAlgorithm("hmac") { backend, name, algorithm, request in try backend.hmac(name, request, algorithm: algorithm) }
        + Self.withAlgorithm("sign") { backend, name, algorithm, request in try backend.sign(name, request, algorithm: algorithm) }
        + Self.withAlgorithm("verify") { backend, name, algorithm, request in try backend.verify(name, request, algorithm: algorithm) }

    /// `transit/<operation>/:name` and `transit/<operation>/:name/:algorithm`.
    private static func withAlgorithm<Answer: Encodable & Sendable>(
        _ operation: String, _ run: @escaping @Sendable (TransitBackend, String, String?, TransitBackend.SignatureRequest) throws -> Answer
    ) -> [Endpoint] {
        ["transit/\(operation)/:name", "transit/\(operation)/:name/:algorithm"].map { path in
            Endpoint(
                path, .write, request: TransitBackend.SignatureRequest.self, only: TransitBackend.SignatureRequest.fields(operation), auditClear: settings,
                label: "transit/" + operation, keyParameter: "name",
                answer: { routes, call, request in try run(routes.backend, call.name, call.parameters["algorithm"], request) })
        }
    }
}
