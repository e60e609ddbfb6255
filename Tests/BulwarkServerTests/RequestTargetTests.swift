import Testing

@testable import BulwarkServer

/// The one function that accepts or refuses a request's spelling (``RequestTarget``).
@Suite struct RequestTargetTests {
    private func parse(_ method: String, _ target: String) -> Result<RequestTarget, RequestTarget.Refusal> {
        Result { () throws(RequestTarget.Refusal) in try RequestTarget.parse(method: method, target: target) }
    }

    @Test func canonicalPathsPassUnchanged() throws {
        let target = try RequestTarget.parse(method: "POST", target: "/v1/transit/decrypt/secret")
        #expect(target.path == "/v1/transit/decrypt/secret" && target.policyPath == "transit/decrypt/secret" && !target.listing)
        let key = try RequestTarget.parse(method: "GET", target: "/v1/transit/keys/a-b_c.d~e")
        #expect(key.policyPath == "transit/keys/a-b_c.d~e")
    }

    /// Every other spelling of `transit/decrypt/secret` is refused before authentication (the
    /// class of the trailing-slash and empty-segment deny bypass found on a45ba31).
    @Test(arguments: [
        "/v1/transit/decrypt/secret/", "/v1/transit/decrypt//secret", "//v1/transit/decrypt/secret", "/v1//transit/decrypt/secret",
        "/v1/transit/./decrypt/secret", "/v1/transit/decrypt/../decrypt/secret", "/v1/transit/decrypt/./secret",
        "/v1/transit/decrypt/%73ecret", "/v1/transit/decrypt%2Fsecret", "/v1/transit/decrypt/secret%00", "/v1/transit/decrypt/sec ret",
        "/v1/transit/decrypt/secret;x", "/v1/transit/decrypt\\secret", "/v1/transit/decrypt/secret#", "/v1/", "/v1", "/v2/transit/decrypt/secret",
        "/v1/transit/decrypt/." , "/v1/transit/decrypt/..",
    ])
    func otherSpellingsAreRefused(_ spelling: String) {
        guard case .failure(let refusal) = self.parse("POST", spelling) else {
            Issue.record("accepted \(spelling)")
            return
        }
        #expect([400, 404].contains(refusal.status))
    }

    @Test func dotsInsideANameAreFine() throws {
        #expect(try RequestTarget.parse(method: "GET", target: "/v1/transit/keys/...").path == "/v1/transit/keys/...")
        #expect(try RequestTarget.parse(method: "GET", target: "/v1/transit/keys/a.b").path == "/v1/transit/keys/a.b")
    }

    @Test func overlongPathsAreRefused() {
        let long = "/v1/transit/keys/" + String(repeating: "a", count: RequestTarget.maximumPathBytes)
        #expect(throws: RequestTarget.Refusal.self) { try RequestTarget.parse(method: "GET", target: long) }
    }

    @Test(arguments: ["PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "get", "FOO"])
    func methodsVaultDoesNotTakeAreRefused(_ method: String) {
        guard case .failure(let refusal) = self.parse(method, "/v1/transit/encrypt/k") else {
            Issue.record("accepted \(method)")
            return
        }
        #expect(refusal.status == 405)
    }

    /// `LIST` and `GET ?list=…` are one list request, checked against the path with a trailing
    /// slash as Vault checks it; a plain `GET` is a read.
    @Test func listRequests() throws {
        for (method, target) in [("LIST", "/v1/transit/keys"), ("GET", "/v1/transit/keys?list=true"), ("GET", "/v1/transit/keys/?list=1"),
                                 ("LIST", "/v1/transit/keys/"), ("GET", "/v1/transit/keys?x=y&list=True")] {
            let parsed = try RequestTarget.parse(method: method, target: target)
            #expect(parsed.listing && parsed.method == "LIST" && parsed.path == "/v1/transit/keys" && parsed.policyPath == "transit/keys/", "\(method) \(target)")
        }
        let read = try RequestTarget.parse(method: "GET", target: "/v1/transit/keys?list=false")
        #expect(!read.listing && read.method == "GET")
        #expect(throws: RequestTarget.Refusal.self) { try RequestTarget.parse(method: "GET", target: "/v1/transit/keys?list=true&list=false") }
        #expect(throws: RequestTarget.Refusal.self) { try RequestTarget.parse(method: "GET", target: "/v1/transit/keys?list=yes") }
        #expect(throws: RequestTarget.Refusal.self) { try RequestTarget.parse(method: "POST", target: "/v1/transit/keys?list=true") }
        // A trailing slash is a list request's only.
        #expect(throws: RequestTarget.Refusal.self) { try RequestTarget.parse(method: "GET", target: "/v1/transit/keys/") }
    }
}
