import Bulwark
import BulwarkKeystore
package import BulwarkServer
import BulwarkStorage
import Foundation
import FuzzSupport

/// A Transit backend in this process over a throw-away SQLite store holding the fixed test keys,
/// and the endpoints a request body can be sent to, each with the fields the server accepts.
package enum FuzzBackend {
    /// One endpoint: its path (for the record) and what the server does with a parsed body.
    package struct Endpoint: Sendable {
        /// The route as the harness sends to it (names its seeds).
        package let path: String
        /// The fields the server accepts there, read from the endpoint table.
        package let fields: Set<String>
        /// The backend call the route makes, given the key named in the path.
        package let call: @Sendable (TransitBackend, String, [String: Any]) async throws -> [String: Any]?

        /// An endpoint of the server's table at `pattern` (`path` when nil); traps when the table
        /// has no endpoint taking a body there: the harness follows the table.
        init(
            path: String, pattern: String? = nil, call: @escaping @Sendable (TransitBackend, String, [String: Any]) async throws -> [String: Any]?
        ) {
            guard let fields = Endpoints.writeFields(ofPattern: pattern ?? path) else {
                preconditionFailure("the endpoint table has no write endpoint \(pattern ?? path)")
            }
            self.path = path
            self.fields = fields
            self.call = call
        }
    }

    /// The endpoints that take a JSON body, in a fixed order (a harness input's first byte picks one).
    package static let endpoints: [Endpoint] = [
        Endpoint(path: "transit/encrypt/:name") { try await answer($0.encrypt($1, decode($2))) },
        Endpoint(path: "transit/decrypt/:name") { try answer($0.decrypt($1, decode($2))) },
        Endpoint(path: "transit/rewrap/:name") { try await answer($0.rewrap($1, decode($2))) },
        Endpoint(path: "transit/datakey/plaintext/:name") { try await answer($0.dataKey($1, plaintext: true, decode($2))) },
        Endpoint(path: "transit/datakey/wrapped/:name") { try await answer($0.dataKey($1, plaintext: false, decode($2))) },
        Endpoint(path: "transit/hmac/:name") { try answer($0.hmac($1, decode($2))) },
        Endpoint(path: "transit/hmac/:name/sha2-256", pattern: "transit/hmac/:name/:algorithm") { try answer($0.hmac($1, decode($2), algorithm: "sha2-256")) },
        Endpoint(path: "transit/sign/:name") { try answer($0.sign($1, decode($2))) },
        Endpoint(path: "transit/verify/:name") { try answer($0.verify($1, decode($2))) },
        Endpoint(path: "transit/random") { backend, _, body in try answer(backend.random(decode(body), bytes: nil)) },
        Endpoint(path: "transit/random/:bytes", pattern: "transit/random/:urlbytes") { backend, _, body in try answer(backend.random(decode(body), bytes: 32)) },
        Endpoint(path: "transit/hash") { backend, _, body in try answer(backend.hash(decode(body), algorithm: nil)) },
        Endpoint(path: "transit/hash/sha2-512", pattern: "transit/hash/:algorithm") { backend, _, body in try answer(backend.hash(decode(body), algorithm: "sha2-512")) },
        Endpoint(path: "transit/keys/:name") { backend, name, body in
            try await backend.createKey(name, decode(body))
            return nil
        },
        // Configuration changes a key: always the scratch key, so the other keys stay as the seeds expect.
        Endpoint(path: "transit/keys/:name/config") { backend, _, body in
            try await backend.configureKey(scratchKey, decode(body))
            return nil
        },
    ]

    /// `body` decoded into an endpoint's request type, as the server decodes it.
    private static func decode<Request: EndpointRequest>(_ body: [String: Any]) throws -> Request {
        try RequestDecoder.decode(Request.self, from: body)
    }

    /// A typed answer as the server writes it.
    private static func answer(_ value: some Encodable) throws -> [String: Any] {
        try AnswerEncoder.encode(value)
    }

    /// The key that configuration requests change.
    package static let scratchKey = "scratch"

    /// The key names a request may name: the test keys and one that does not exist.
    package static let keyNames = FuzzKeys.types.map(\.name) + ["missing"]

    /// The backend, made once per process.
    package static let backend: TransitBackend = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulwark-fuzz-\(getpid())").path
        let result = runBlocking { () async throws -> TransitBackend in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let storage = try SQLiteStorage(path: directory + "/store.sqlite")
            let store = try await SealedStore.open(
                backend: storage, masterKey: .base64(FuzzKeys.masterKeyBase64), dataDirectory: directory)
            var keysets = FuzzKeys.contents.keysets
            keysets[scratchKey] = try Keyset.generate(name: scratchKey)
            for (name, keyset) in keysets {
                _ = try await store.updateKeyset(name) { _ in keyset }
            }
            return try await TransitBackend.open(store: store)
        }
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("bulwark-fuzz-\(getpid())").path) }
        switch result {
        case .success(let backend): return backend
        case .failure(let error): fatalError("the fuzz backend: \(error)")
        }
    }()

    /// Sends `body` (JSON bytes) to `endpoint` with key `name` as the server would: parsed with
    /// `JSONSerialization`, refused unless an object, checked against the endpoint's fields, then
    /// passed to the backend.
    /// - Returns: The backend's answer, or nil when refused before or by the backend.
    @discardableResult
    package static func send(_ body: [UInt8], to endpoint: Endpoint, key name: String) -> [String: Any]? {
        // The fast path's typed decoding must read every body it takes as JSONSerialization does.
        let flat = body.withUnsafeBytes { FlatJSONObject($0) }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            precondition(flat == nil && body.withUnsafeBytes({ FlatJSONObject.batch($0, maximumItems: 10_000) }) == nil, "typed decoding took a body JSONSerialization refuses")
            return nil
        }
        if let flat { Self.checkAgreement(flat, parsed) }
        if let items = body.withUnsafeBytes({ FlatJSONObject.batch($0, maximumItems: 10_000) }) {
            let general = parsed["batch_input"] as? [[String: Any]]
            precondition(parsed.count == 1 && general?.count == items.count, "typed decoding: a batch reads otherwise")
            for (item, other) in zip(items, general ?? []) { Self.checkAgreement(item, other) }
        }
        guard Fields.check(parsed, allowed: endpoint.fields) == nil else { return nil }
        let request = Handed(parsed)
        let backend = self.backend
        let answer = runBlocking { Handed(try await endpoint.call(backend, name, request.value)) }
        return (try? answer.get())?.value
    }

    /// Traps unless `typed` holds exactly the fields and values of `general`.
    private static func checkAgreement(_ typed: FlatJSONObject, _ general: [String: Any]) {
        precondition(typed.fields.count == general.count, "typed decoding: a different number of fields")
        for (name, value) in typed.fields {
            guard let other = general[name] else { preconditionFailure("typed decoding: field \(name) is not there") }
            let kind = (other as? NSNumber).map { String(cString: $0.objCType) }
            let agrees: Bool
            switch value {
            case .string(let text): agrees = other as? String == text
            case .integer(let number):
                agrees = !RequestValues.isBoolean(other) && kind != "d" && kind != "f" && (other as? NSNumber)?.int64Value == Int64(number)
            case .boolean(let flag): agrees = RequestValues.isBoolean(other) && other as? Bool == flag
            case .null: agrees = other is NSNull
            }
            precondition(agrees, "typed decoding: field \(name) reads otherwise")
        }
    }
}
