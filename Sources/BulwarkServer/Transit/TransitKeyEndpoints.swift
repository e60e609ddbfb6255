import HTTPTypes

/// `transit/keys/`: create, read, delete, list, configure, rotate and trim keys (Vault's
/// `path_keys.go`, `path_keys_config.go`, `path_rotate.go`, `path_trim.go`).
enum TransitKeyEndpoints {
    /// Key settings: written in clear in the audit log.
    static let settings: Set<String> = [
        "type", "exportable", "auto_rotate_period", "allow_plaintext_backup", "derived", "convergent_encryption", "key_size",
        "min_decryption_version", "min_encryption_version", "deletion_allowed", "min_available_version",
    ]

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("transit/keys/:name", .write, fields: Fields.createKey, auditClear: settings, label: "transit/keys/write", keyParameter: "name",
            status: .noContent, .json { routes, call in
                try await routes.backend.createKey(call.name, call.body)
                return nil
            }),
        Endpoint("transit/keys/:name", .read, label: "transit/keys/get", keyParameter: "name", .json { routes, call in
            try routes.backend.readKey(call.name)
        }),
        Endpoint("transit/keys/:name", .delete, label: "transit/keys/delete", keyParameter: "name", status: .noContent, .json { routes, call in
            try await routes.backend.deleteKey(call.name)
            return nil
        }),
        Endpoint("transit/keys", .list, label: "transit/keys/list", .json { routes, _ in routes.backend.listKeys() }),
        Endpoint("transit/keys/:name/config", .write, fields: Fields.config, auditClear: settings, label: "transit/keys/config", keyParameter: "name",
            status: .noContent, .json { routes, call in
                try await routes.backend.configureKey(call.name, call.body)
                return nil
            }),
        Endpoint("transit/keys/:name/rotate", .write, label: "transit/keys/rotate", keyParameter: "name", status: .noContent, .json { routes, call in
            try await routes.backend.rotateKey(call.name)
            return nil
        }),
        Endpoint("transit/keys/:name/trim", .write, fields: ["min_available_version"], auditClear: settings, label: "transit/keys/trim",
            keyParameter: "name", status: .noContent, .json { routes, call in
                try await routes.backend.trimKey(call.name, call.body)
                return nil
            }),
    ]
}
