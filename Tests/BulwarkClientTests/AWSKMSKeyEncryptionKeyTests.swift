import Bulwark
import BulwarkClient
import Crypto
import Foundation
import Testing

/// moto's KMS server, started by `Tests/Interop/moto_kms.py` and driven line by line (boto3 on the other side).
private final class MotoKMS: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    var buffered = Data()
    let port: Int
    let keyID: String

    init() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/moto_kms.py").path
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        self.process.arguments = ["python3", script]
        self.process.standardInput = self.input
        self.process.standardOutput = self.output
        self.process.standardError = FileHandle.nullDevice
        try self.process.run()
        var ready: [Substring] = []
        var line = ""
        do {
            line = try Self.readLine(self.output.fileHandleForReading, &self.buffered)
            ready = line.split(separator: " ")
        }
        guard ready.count == 3, ready[0] == "READY", let port = Int(ready[1]) else {
            throw BulwarkError(.ioFailure, "moto_kms.py did not start: \(line)")
        }
        self.port = port
        self.keyID = String(ready[2])
    }

    /// Sends one command and answers its line (blocking: called from a thread of its own).
    func ask(_ command: String) throws -> String {
        self.input.fileHandleForWriting.write(Data((command + "\n").utf8))
        return try Self.readLine(self.output.fileHandleForReading, &self.buffered)
    }

    func stop() {
        try? self.input.fileHandleForWriting.close()
        self.process.waitUntilExit()
    }

    static func readLine(_ handle: FileHandle, _ buffered: inout Data) throws -> String {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = String(decoding: buffered[buffered.startIndex..<newline], as: UTF8.self)
                buffered = Data(buffered[(newline + 1)...])
                return line
            }
            let chunk = handle.availableData
            guard !chunk.isEmpty else { throw BulwarkError(.ioFailure, "moto_kms.py ended") }
            buffered += chunk
        }
    }
}

/// Runs a blocking call on a thread of its own (never on the few threads of the concurrency pool).
private func detached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// Field encryption whose key-encryption key stays in AWS KMS (moto's server here).
@Suite("AWSKMSKeyEncryptionKey: field data keys from AWS KMS (moto, boto3)", .serialized)
struct AWSKMSKeyEncryptionKeyTests {
    @Test("Data keys boto3 decrypts with the context (only); boto3's data keys unwrap; fields round trip with three KMS calls for 250 rows; another context, an unknown key, KMS unreachable fail with typed errors")
    func fieldsThroughKMS() async throws {
        // Started, asked and stopped on threads of their own: the pipe reads block.
        let moto = try await detached { try MotoKMS() }
        let client = try AWSKMSClient(
            region: "us-east-1", credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test-secret"),
            endpoint: "http://127.0.0.1:\(moto.port)")
        let provider = try AWSKMSKeyEncryptionKey(client: client, keyID: moto.keyID, context: ["table": "patients"])
        let contextJSON = #"{"bulwark": "data key v1", "table": "patients"}"#

        // What Bulwark made, boto3 opens with the same context, and with no other.
        let (key, wrapped) = try await provider.generateDataKey()
        let keyBytes = key.withUnsafeBytes { Data($0) }
        let opened = try await detached { try moto.ask("decrypt \(wrapped.base64EncodedString()) \(contextJSON)") }
        #expect(Data(base64Encoded: opened) == keyBytes)
        let refused = try await detached { try moto.ask("decrypt \(wrapped.base64EncodedString()) {\"bulwark\": \"data key v1\", \"table\": \"billing\"}") }
        #expect(refused == "ERROR InvalidCiphertextException")
        // What boto3 made, Bulwark unwraps.
        let pair = try await detached { try moto.ask("datakey \(contextJSON)") }.split(separator: " ")
        #expect(pair.count == 2)
        let theirs = try await provider.unwrapDataKey(Data(base64Encoded: String(pair[1])) ?? Data())
        #expect(theirs.withUnsafeBytes { Data($0) } == Data(base64Encoded: String(pair[0])))
        // Another table's provider cannot unwrap it.
        let billing = try AWSKMSKeyEncryptionKey(client: client, keyID: moto.keyID, context: ["table": "billing"])
        await #expect(throws: BulwarkError(.authenticationFailed, "")) { _ = try await billing.unwrapDataKey(wrapped) }
        #expect(throws: BulwarkError(.invalidArgument, "")) { _ = try AWSKMSKeyEncryptionKey(client: client, keyID: moto.keyID, context: ["bulwark": "x"]) }

        // Fields: 250 rows, a data key per 100, three KMS calls; a fresh reader unwraps each once.
        let stored = try await roundTripFields(through: provider)
        await #expect(throws: BulwarkError(.authenticationFailed, "")) {
            _ = try await FieldEncryptor(keyEncryptionKey: provider).decrypt(stored[0].1, context: stored[1].0)
        }

        // An unknown key is a typed error.
        let unknown = try AWSKMSKeyEncryptionKey(client: client, keyID: "00000000-0000-0000-0000-000000000000")
        await #expect(throws: BulwarkError(.unknownKey, "")) { _ = try await unknown.generateDataKey() }
        // KMS gone: unavailable, with the endpoint named and no key bytes.
        try await detached { moto.stop() }
        do {
            _ = try await provider.unwrapDataKey(wrapped)
            Issue.record("unwrapped with KMS stopped")
        } catch let error as BulwarkError {
            #expect(error.code == .unavailable && error.message.contains("127.0.0.1:\(moto.port)"))
            #expect(!error.message.contains(keyBytes.base64EncodedString()))
        }
        try await client.shutdown()
    }
}
