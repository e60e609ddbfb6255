import Foundation
import Testing

@testable import BulwarkServer

/// The document the server serves is `docs/openapi.json` (embedded by `scripts/embed-openapi.py`).
@Suite struct OpenAPIDocumentTests {
    @Test func servedDocumentIsTheRepositorysOne() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
        let inRepository = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? NSDictionary
        let served = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? NSDictionary
        #expect(inRepository != nil && served == inRepository, "run scripts/embed-openapi.py after changing docs/openapi.json")
        #expect((served?["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = served?["paths"] as? [String: Any] ?? [:]
        #expect(paths["/v1/sys/internal/specs/openapi"] != nil || paths.count > 50)
    }
}
