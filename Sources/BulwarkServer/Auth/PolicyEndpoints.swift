import HTTPTypes

/// `sys/policy/` and `sys/policies/acl/` (the same policies under Vault's two paths): write,
/// read, delete and list ACL policies.
enum PolicyEndpoints {
    /// The group's endpoints, in ``Endpoints/all``.
    static let all: [Endpoint] = ["sys/policy", "sys/policies/acl"].flatMap { prefix -> [Endpoint] in
        let label = prefix == "sys/policy" ? "sys/policy" : "sys/policies"
        return [
            Endpoint(prefix + "/:name", .write, request: PolicyWrite.self, auditClear: ["name"], label: label, noContent: { routes, call, request in
                try await routes.auth.writePolicy(call.name, request)
            }),
            Endpoint(prefix + "/:name", .read, request: NoFields.self, label: label, answer: { routes, call, _ in try routes.auth.readPolicy(call.name) }),
            Endpoint(prefix + "/:name", .delete, request: NoFields.self, label: label, noContent: { routes, call, _ in
                try await routes.auth.deletePolicy(call.name)
            }),
            // Vault answers a read of sys/policy with the list, and lists sys/policies/acl.
            Endpoint(prefix, prefix == "sys/policy" ? .readOrList : .list, request: NoFields.self, label: label, answer: { routes, _, _ in
                routes.auth.listPolicies()
            }),
        ]
    }
}

/// `POST sys/policy/:name`: the policy's HCL text, as `policy` or under Vault's older name `rules`.
struct PolicyWrite: EndpointRequest {
    /// The HCL text.
    var policy: String?
    /// The HCL text (Vault's older field).
    var rules: String?
    /// The name again, as Vault's clients send it (the path's name is the one used).
    var name: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case policy, rules, name
    }
}

/// `GET sys/policy/:name`: the policy's text, under both of Vault's names.
struct PolicyDescription: Encodable, Sendable {
    /// The policy's name.
    let name: String
    /// The HCL text.
    let rules: String
    /// The HCL text.
    let policy: String
}

/// `LIST sys/policies/acl`: the policies' names (`root` first), under both of Vault's names.
struct PolicyList: Encodable, Sendable {
    /// The names.
    let keys: [String]
    /// The names.
    let policies: [String]
}
