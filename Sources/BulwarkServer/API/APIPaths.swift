import Foundation

/// The API's paths and the methods each takes, read from its OpenAPI document
/// (``OpenAPIDocument``): what tells an unknown path (404) from a known path asked with a method
/// it does not take (405, with the `Allow` header RFC 9110 requires).
enum APIPaths {
    /// One path template: its segments (nil stands for a parameter, any one segment) and its
    /// methods, in the document's order.
    private struct Template {
        let segments: [Substring?]
        let methods: [String]
    }

    private static let templates: [Template] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any],
            let paths = document["paths"] as? [String: [String: Any]]
        else { return [] }
        return paths.map { template, item in
            Template(
                segments: template.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix("{") ? nil : $0 },
                methods: ["get", "put", "post", "delete"].filter { item[$0] != nil }.map { $0.uppercased() })
        }
    }()

    /// The methods any path may take, for a target that names none of the API's paths.
    static let anyMethods = "GET, PUT, POST, DELETE"

    /// The methods `path` (canonical, from ``RequestTarget``) takes, or nil when it is not one of
    /// the API's paths.
    static func methods(_ path: Substring) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var found: [String]?
        for template in Self.templates
        where template.segments.count == segments.count && zip(template.segments, segments).allSatisfy({ $0 == nil || $0 == $1 }) {
            // A literal template and a parameter template can both match (`transit/keys/{name}`
            // and `transit/keys/list`-like paths): their methods together.
            found = (found ?? []) + template.methods.filter { !(found ?? []).contains($0) }
        }
        return found
    }

    /// Whether `path` is one of the API's paths.
    static func isKnown(_ path: String) -> Bool { Self.methods(Substring(path)) != nil }

    /// The `Allow` header for a 405 answer: the methods of `path` (canonical), or every method
    /// for nil or a path the API does not have.
    static func allow(path: String?) -> String {
        guard let path, let methods = Self.methods(Substring(path)), !methods.isEmpty else { return Self.anyMethods }
        return ["GET", "PUT", "POST", "DELETE"].filter(methods.contains).joined(separator: ", ")
    }
}
