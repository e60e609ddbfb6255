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

    /// The JSON types a schema admits besides `null` (from `type`, or each `anyOf` entry's).
    private func types(_ schema: [String: Any]) -> Set<String> {
        var types = Set<String>()
        if let one = schema["type"] as? String { types.insert(one) }
        if let many = schema["type"] as? [String] { types.formUnion(many) }
        for entry in schema["anyOf"] as? [[String: Any]] ?? [] { types.formUnion(self.types(entry)) }
        types.remove("null")
        return types
    }

    /// A schema's properties, through `$ref` and the objects of an `anyOf` (a single call or a batch).
    private func properties(_ schema: [String: Any], in document: [String: Any]) -> [String: [String: Any]] {
        if let reference = schema["$ref"] as? String, reference.hasPrefix("#/components/schemas/") {
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
            return self.properties(schemas?[String(reference.dropFirst(21))] as? [String: Any] ?? [:], in: document)
        }
        var properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        for entry in schema["anyOf"] as? [[String: Any]] ?? [] {
            properties.merge(self.properties(entry, in: document)) { first, _ in first }
        }
        return properties
    }

    /// Each typed endpoint's request schema in the served document names the request type's fields
    /// with the JSON types the decoder takes for them (a duration as seconds or a string, a raw
    /// JSON value as a string or an object), and an integer's bounds lie inside its Swift type's.
    @Test func requestSchemasAgreeWithTheSwiftTypes() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var checked = 0
        for endpoint in Endpoints.all {
            guard let type = endpoint.requestType, !endpoint.fields.subtracting(["name"]).isEmpty else { continue }
            let recorded = RequestSchemaRecorder.fields(of: type)
            let operations = (paths[endpoint.openAPIPath] ?? [:]).values.compactMap { $0 as? [String: Any] }
            let bodies = operations.compactMap {
                ((($0["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
            }
            #expect(!bodies.isEmpty, "\(endpoint.path): no request body in the document")
            for body in bodies {
                let properties = self.properties(body, in: document)
                for field in endpoint.fields.subtracting(["name"]).sorted() {
                    guard let swift = recorded[field] else {
                        Issue.record("\(endpoint.path): \(field) is not a field of \(type)")
                        continue
                    }
                    guard let schema = properties[field] else {
                        Issue.record("\(endpoint.path): \(field) is not in the document")
                        continue
                    }
                    #expect(self.types(schema) == swift.types, "\(endpoint.path): \(field) is \(self.types(schema).sorted()) in the document, \(swift.types.sorted()) in Swift")
                    if let range = swift.range {
                        let bounds = ([schema] + (schema["anyOf"] as? [[String: Any]] ?? [])).filter { $0["minimum"] != nil || $0["maximum"] != nil }
                        for bound in bounds {
                            let minimum = (bound["minimum"] as? NSNumber)?.intValue ?? range.lowerBound
                            let maximum = (bound["maximum"] as? NSNumber)?.intValue ?? range.upperBound
                            #expect(range.contains(minimum) && range.contains(maximum), "\(endpoint.path): \(field) bounds \(minimum)...\(maximum) outside \(range)")
                        }
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 150, "\(checked) fields checked")
    }
}
