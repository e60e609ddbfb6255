import Bulwark
/// Transit's operations with a key or none: encrypt, decrypt, rewrap, data keys, HMAC, sign,
/// verify, random bytes and hashes (Vault's `path_encrypt.go`, `path_decrypt.go`, …).
enum TransitCryptoEndpoints {
    /// Versions, algorithms and formats: written in clear in the audit log.
    static let settings: Set<String> = [
        "key_version", "type", "algorithm", "hash_algorithm", "signature_algorithm", "marshaling_algorithm", "format", "bits", "bytes",
        "prehashed", "source", "convergent_encryption",
    ]

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("transit/encrypt/:name", .write, fields: Fields.encrypt, auditClear: settings, label: "transit/encrypt", keyParameter: "name",
            fastPath: .encrypt, createsKey: true, .json { routes, call in try await routes.backend.encrypt(call.name, call.body) }),
        Endpoint("transit/decrypt/:name", .write, fields: Fields.decrypt, auditClear: settings, label: "transit/decrypt", keyParameter: "name",
            fastPath: .decrypt, .json { routes, call in try routes.backend.decrypt(call.name, call.body) }),
        Endpoint("transit/rewrap/:name", .write, fields: Fields.rewrap, auditClear: settings, label: "transit/rewrap", keyParameter: "name",
            .json { routes, call in try await routes.backend.rewrap(call.name, call.body) }),
        Endpoint("transit/datakey/plaintext/:name", .write, fields: Fields.dataKey, auditClear: settings, label: "transit/datakey",
            keyParameter: "name", .json { routes, call in try await routes.backend.dataKey(call.name, plaintext: true, call.body) }),
        Endpoint("transit/datakey/wrapped/:name", .write, fields: Fields.dataKey, auditClear: settings, label: "transit/datakey",
            keyParameter: "name", .json { routes, call in try await routes.backend.dataKey(call.name, plaintext: false, call.body) }),
        Endpoint("transit/random", .write, fields: Fields.random, auditClear: settings, label: "transit/random", .json { routes, call in
            try routes.backend.random(call.body, bytes: nil)
        }),
        Endpoint("transit/random/:urlbytes", .write, fields: Fields.random, auditClear: settings, label: "transit/random", .json { routes, call in
            // The path names a byte count or nothing else (Vault answers 400 too).
            guard let count = Int(call.parameters["urlbytes"] ?? "") else { throw BulwarkError(.invalidArgument, "bytes in the path must be a number") }
            return try routes.backend.random(call.body, bytes: count)
        }),
        Endpoint("transit/hash", .write, fields: Fields.hash, auditClear: settings, label: "transit/hash", .json { routes, call in
            try routes.backend.hash(call.body, algorithm: nil)
        }),
        Endpoint("transit/hash/:algorithm", .write, fields: Fields.hash, auditClear: settings, label: "transit/hash", .json { routes, call in
            try routes.backend.hash(call.body, algorithm: call.parameters["algorithm"])
        }),
    ] + Self.algorithmOperations

    /// HMAC, sign and verify, each also with an algorithm segment (`hmac/:name/sha2-256`), which
    /// must agree with the key.
    private static let algorithmOperations: [Endpoint] = {
        let operations: [(String, Set<String>, @Sendable (TransitBackend, String, String?, [String: Any]) throws -> [String: Any])] = [
            ("hmac", Fields.hmac, { backend, name, algorithm, body in try backend.hmac(name, body, algorithm: algorithm) }),
            ("sign", Fields.sign, { backend, name, algorithm, body in try backend.sign(name, body, algorithm: algorithm) }),
            ("verify", Fields.verify, { backend, name, algorithm, body in try backend.verify(name, body, algorithm: algorithm) }),
        ]
        return operations.flatMap { operation, fields, run in
            ["transit/\(operation)/:name", "transit/\(operation)/:name/:algorithm"].map { path in
                Endpoint(path, .write, fields: fields, auditClear: settings, label: "transit/" + operation, keyParameter: "name", .json { routes, call in
                    try run(routes.backend, call.name, call.parameters["algorithm"], call.body)
                })
            }
        }
    }()
}
