import Testing

@testable import BulwarkServer

/// Vault's merge and priority rules (`vault/acl.go`), as ``ACL`` applies them. The generated
/// comparison with OpenBao itself is `Tests/Interop/policy_oracle.py`.
@Suite struct ACLTests {
    private func acl(_ policies: String...) throws -> ACL {
        ACL(policies: try policies.map { try ACLPolicy(hcl: $0) })
    }

    @Test func exactDenyBeatsAGlobGrantInAnotherPolicy() throws {
        let acl = try self.acl(
            #"path "transit/decrypt/*" { capabilities = ["update"] }"#, #"path "transit/decrypt/secret" { capabilities = ["deny"] }"#)
        #expect(!acl.allows("transit/decrypt/secret", listing: false, capability: "update", needsSudo: false))
        #expect(acl.allows("transit/decrypt/other", listing: false, capability: "update", needsSudo: false))
    }

    /// Vault decides by the one most specific rule: an exact grant is not overridden by a broader deny.
    @Test func anExactGrantIsNotOverriddenByABroaderDeny() throws {
        let acl = try self.acl(#"path "transit/*" { capabilities = ["deny"] }"#, #"path "transit/encrypt/k" { capabilities = ["update"] }"#)
        #expect(acl.allows("transit/encrypt/k", listing: false, capability: "update", needsSudo: false))
        #expect(!acl.allows("transit/encrypt/j", listing: false, capability: "update", needsSudo: false))
    }

    @Test func theSamePatternMergesAcrossPoliciesAndDenyWins() throws {
        let merged = try self.acl(#"path "transit/keys/k" { capabilities = ["read"] }"#, #"path "transit/keys/k" { capabilities = ["update"] }"#)
        #expect(merged.allows("transit/keys/k", listing: false, capability: "read", needsSudo: false))
        #expect(merged.allows("transit/keys/k", listing: false, capability: "update", needsSudo: false))
        let denied = try self.acl(#"path "transit/keys/k" { capabilities = ["read"] }"#, #"path "transit/keys/k" { capabilities = ["deny", "read"] }"#)
        #expect(!denied.allows("transit/keys/k", listing: false, capability: "read", needsSudo: false))
    }

    @Test func globPriority() throws {
        // A later first wildcard wins; then no trailing *; then fewer +; then longer.
        let acl = try self.acl(
            #"""
            path "transit/*" { capabilities = ["read"] }
            path "transit/keys/*" { capabilities = ["list"] }
            path "transit/+/k" { capabilities = ["update"] }
            path "transit/keys/+" { capabilities = ["delete"] }
            path "+/keys/k" { capabilities = ["sudo"] }
            """#)
        #expect(acl.capabilities(for: "transit/keys/k", listing: false) == ["delete"])
        #expect(acl.capabilities(for: "transit/encrypt/k", listing: false) == ["update"])
        #expect(acl.capabilities(for: "transit/keys/k/rotate", listing: false) == ["list"])
        #expect(acl.capabilities(for: "transit/hash", listing: false) == ["read"])
        #expect(acl.capabilities(for: "other/keys/k", listing: false) == ["sudo"])
        #expect(acl.capabilities(for: "sys/policy/x", listing: false) == nil)
    }

    @Test func prefixGlobsMatchInsideASegment() throws {
        let acl = try self.acl(#"path "transit/enc*" { capabilities = ["update"] }"#)
        #expect(acl.allows("transit/encrypt/k", listing: false, capability: "update", needsSudo: false))
        #expect(!acl.allows("transit/decrypt/k", listing: false, capability: "update", needsSudo: false))
    }

    @Test func listUsesTheTrailingSlashPathOrTheExactRuleWithoutIt() throws {
        let exact = try self.acl(#"path "transit/keys" { capabilities = ["list"] }"#)
        #expect(exact.allows("transit/keys/", listing: true, capability: "list", needsSudo: false))
        let glob = try self.acl(#"path "transit/keys/*" { capabilities = ["list"] }"#)
        #expect(glob.allows("transit/keys/", listing: true, capability: "list", needsSudo: false))
        // A list grant never serves a read.
        #expect(!glob.allows("transit/keys/k", listing: false, capability: "read", needsSudo: false))
    }

    @Test func sudoIsNeededBesidesTheCapability() throws {
        let plain = try self.acl(#"path "sys/audit/rotate" { capabilities = ["update"] }"#)
        #expect(!plain.allows("sys/audit/rotate", listing: false, capability: "update", needsSudo: true))
        let sudo = try self.acl(#"path "sys/audit/rotate" { capabilities = ["update", "sudo"] }"#)
        #expect(sudo.allows("sys/audit/rotate", listing: false, capability: "update", needsSudo: true))
    }
}
