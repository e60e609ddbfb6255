import HTTPTypes

/// `transit/keys/`: create, read, delete, list, configure, rotate and trim keys, and export
/// exportable ones (Vault's `path_keys.go`, `path_keys_config.go`, `path_rotate.go`,
/// `path_trim.go`, `path_export.go`); the engine's `config/keys` and `cache-config`
/// (`path_config_keys.go`, `path_cache_config.go`).
enum TransitKeyEndpoints {
    /// Key settings: written in clear in the audit log.
    static let settings: Set<String> = [
        "type", "exportable", "auto_rotate_period", "allow_plaintext_backup", "derived", "convergent_encryption", "key_size",
        "min_decryption_version", "min_encryption_version", "deletion_allowed", "min_available_version", "disable_upsert", "size",
    ]

    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = [
        Endpoint("transit/keys/:name", .write, request: TransitBackend.KeyCreation.self, auditClear: settings, label: "transit/keys/write",
            keyParameter: "name", noContent: { routes, call, request in try await routes.backend.createKey(call.name, request) }),
        Endpoint("transit/keys/:name", .read, request: NoFields.self, label: "transit/keys/get", keyParameter: "name", answer: { routes, call, _ in
            try routes.backend.readKey(call.name)
        }),
        Endpoint("transit/keys/:name", .delete, request: NoFields.self, label: "transit/keys/delete", keyParameter: "name", noContent: { routes, call, _ in
            try await routes.backend.deleteKey(call.name)
        }),
        Endpoint("transit/keys", .list, request: NoFields.self, label: "transit/keys/list", answer: { routes, _, _ in routes.backend.listKeys() }),
        Endpoint("transit/keys/:name/config", .write, request: TransitBackend.KeyConfiguration.self, auditClear: settings,
            label: "transit/keys/config", keyParameter: "name", noContent: { routes, call, request in try await routes.backend.configureKey(call.name, request) }),
        Endpoint("transit/keys/:name/soft-delete", .delete, request: NoFields.self, label: "transit/keys/soft-delete", keyParameter: "name",
            answer: { routes, call, _ in try await routes.backend.softDeleteKey(call.name) }),
        Endpoint("transit/keys/:name/soft-delete-restore", .write, request: NoFields.self, label: "transit/keys/soft-delete-restore",
            keyParameter: "name", answer: { routes, call, _ in try await routes.backend.restoreSoftDeletedKey(call.name) }),
        Endpoint("transit/keys/:name/rotate", .write, request: NoFields.self, label: "transit/keys/rotate", keyParameter: "name", noContent: { routes, call, _ in
            try await routes.backend.rotateKey(call.name)
        }),
        Endpoint("transit/keys/:name/trim", .write, request: TransitBackend.KeyTrim.self, auditClear: settings, label: "transit/keys/trim",
            keyParameter: "name", noContent: { routes, call, request in try await routes.backend.trimKey(call.name, request) }),
        Endpoint("transit/config/keys", .read, request: NoFields.self, label: "transit/config/keys", answer: { routes, _, _ in
            try await routes.backend.keysConfiguration()
        }),
        Endpoint("transit/config/keys", .write, request: TransitBackend.KeysConfigurationRequest.self, auditClear: settings,
            label: "transit/config/keys", answer: { routes, _, request in try await routes.backend.configureKeys(request) }),
        Endpoint("transit/cache-config", .read, request: NoFields.self, label: "transit/cache-config", answer: { routes, _, _ in
            routes.backend.cacheConfiguration()
        }),
        Endpoint("transit/cache-config", .write, request: TransitBackend.CacheConfigurationRequest.self, auditClear: settings,
            label: "transit/cache-config", answer: { routes, _, request in try routes.backend.configureCache(request) }),
        // Vault's path_export.go: an exportable key's secrets (hashed in the audit log).
        Endpoint("transit/export/:type/:name", .read, request: NoFields.self, label: "transit/export", keyParameter: "name", answer: { routes, call, _ in
            try routes.backend.exportKey(call.name, type: call.parameters["type"] ?? "", version: nil)
        }),
        Endpoint("transit/export/:type/:name/:version", .read, request: NoFields.self, label: "transit/export", keyParameter: "name",
            answer: { routes, call, _ in
                try routes.backend.exportKey(call.name, type: call.parameters["type"] ?? "", version: call.parameters["version"])
            }),
    ]
}
