import BulwarkTestSupport
import Foundation
import Testing

/// schemathesis against a real `bulwark server --dev` (`Tests/Interop/api_fuzz.py`, run with the
/// python of its own venv, which `scripts/test.sh` makes and exports as `BULWARK_API_FUZZ_PYTHON`):
/// the OpenAPI document validated, then every check over the examples, coverage, fuzzing and
/// stateful phases (no 5xx, statuses and response schemas as documented, schema-violating
/// requests refused, schema-valid ones accepted, undeclared methods answered 405 with `Allow`).
/// Bounded to a few examples per operation (2-4 minutes here); `--long` runs more by hand.
@Suite("API fuzzing: schemathesis against the served OpenAPI document", .serialized)
struct APIFuzzTests {
    static var python: String {
        ProcessInfo.processInfo.environment["BULWARK_API_FUZZ_PYTHON"] ?? NSHomeDirectory() + "/.cache/bulwark/api-fuzz-venv/bin/python"
    }

    static var interop: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop")
    }

    @Test("schemathesis finds nothing: every operation, every check, stateful links included")
    func schemathesis() throws {
        let python = Self.python
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "no api-fuzz venv at \(python): run scripts/test.sh (it makes one) or set BULWARK_API_FUZZ_PYTHON")
        let server = try DevServer()
        // The document the server serves is the one fuzzed (and it is the committed one).
        let spec = server.cli.path("openapi.json")
        let fetched = try server.cli.shell(
            "curl -s -o '\(spec)' -w '%{http_code}' --cacert '\(server.caFile)' -H 'X-Vault-Token: \(server.token)' '\(server.url)/v1/sys/internal/specs/openapi'")
        #expect(fetched.text == "200")
        let script = Self.interop.appendingPathComponent("api_fuzz.py").path
        // A fixed seed, so that CI is repeatable; BULWARK_API_FUZZ_SEED explores others.
        let seed = ProcessInfo.processInfo.environment["BULWARK_API_FUZZ_SEED"].flatMap(Int.init) ?? 20_261_201
        let result = try server.cli.shell(
            "'\(python)' '\(script)' '\(server.url)' '\(server.token)' '\(server.caFile)' '\(spec)' --workers 1 --seed \(seed) 2>&1")
        #expect(result.status == 0, "\(result.text.suffix(12000))")
        #expect(result.text.contains("api-fuzz: 1 passed, 0 failed"), "\(result.text.suffix(2000))")
        #expect(server.stop() == 0)
    }
}
