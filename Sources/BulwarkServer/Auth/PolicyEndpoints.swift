import HTTPTypes

/// `sys/policy/` and `sys/policies/acl/` (the same policies under Vault's two paths): write,
/// read, delete and list ACL policies.
enum PolicyEndpoints {
    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = ["sys/policy", "sys/policies/acl"].flatMap { prefix -> [Endpoint] in
        let label = prefix == "sys/policy" ? "sys/policy" : "sys/policies"
        return [
            Endpoint(prefix + "/:name", .write, fields: ["policy", "rules", "name"], auditClear: ["name"], label: label, status: .noContent, .json { routes, call in
                try await routes.auth.writePolicy(call.name, call.body)
                return nil
            }),
            Endpoint(prefix + "/:name", .read, label: label, .json { routes, call in try routes.auth.readPolicy(call.name) }),
            Endpoint(prefix + "/:name", .delete, label: label, status: .noContent, .json { routes, call in
                try await routes.auth.deletePolicy(call.name)
                return nil
            }),
            // Vault answers a read of sys/policy with the list, and lists sys/policies/acl.
            Endpoint(prefix, prefix == "sys/policy" ? .readOrList : .list, label: label, .json { routes, _ in routes.auth.listPolicies() }),
        ]
    }
}
