/// The body of a request an endpoint takes, as a Swift type: its fields are its coding keys.
///
/// An endpoint built on a request type (``Endpoint/init(_:_:access:request:auditClear:label:keyParameter:createsKey:status:answer:)``)
/// accepts exactly the type's fields: the descriptor's field set, the audit allowlist's domain,
/// the manifest and the OpenAPI document read them from ``fields``, and ``RequestDecoder`` refuses
/// any other field by name. Values follow Vault's rules (see ``RequestDecoder``): `null` is the
/// same as absent, integers may be decimal strings, durations are seconds or `"24h"`.
package protocol EndpointRequest: Decodable, Sendable {
    /// The fields, by their JSON names (declared, not synthesized, so the table can list them).
    associatedtype CodingKeys: CodingKey, CaseIterable
}

extension EndpointRequest {
    /// The JSON names of the fields.
    package static var fields: Set<String> { Set(CodingKeys.allCases.map(\.stringValue)) }
}

/// The request of an endpoint that takes no fields (reads, lists, `rotate`).
struct NoFields: EndpointRequest {
    /// No field at all.
    enum CodingKeys: CodingKey, CaseIterable {
        var stringValue: String { switch self {} }
        var intValue: Int? { nil }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { nil }
    }

    /// The empty request.
    init() {}

    /// Decodes nothing: ``RequestDecoder`` has refused every field present.
    init(from decoder: any Decoder) throws {}
}
