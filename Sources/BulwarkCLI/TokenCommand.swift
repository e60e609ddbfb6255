import ArgumentParser
import Bulwark
import BulwarkClient
import Foundation
import NIOHTTP1

/// Runs an async client command, turning a ``BulwarkError`` into a message and exit status 1.
func reportingClientErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as BulwarkError {
        note("bulwark: \(error.code): \(error.message)")
        throw ExitCode(1)
    }
}

/// `bulwark token …`: tokens of the key service (Vault's token auth).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, look up and revoke key service tokens (BULWARK_ADDR, BULWARK_TOKEN, BULWARK_CACERT).",
        subcommands: [Create.self, Lookup.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token carrying policies; prints it once.")
        @Option(name: .customLong("policy"), help: "A policy to attach (repeatable).") var policies: [String] = []
        @Option(help: "Time to live, e.g. 1h or 30m (default: none).") var ttl: String?
        @Option(name: .customLong("display-name"), help: "A name shown in lookups and audit.") var displayName: String?
        @Flag(help: "Print the response as JSON.") var json = false

        func run() async throws {
            try await reportingClientErrors {
                var body: [String: Any] = ["policies": self.policies]
                if let ttl = self.ttl { body["ttl"] = ttl }
                if let name = self.displayName { body["display_name"] = name }
                let answer = try await TransitClient.withEnvironment { try await $0.call(.POST, "auth/token/create", body: body) }
                let auth = answer.auth
                if self.json {
                    print(String(decoding: try JSONSerialization.data(withJSONObject: auth, options: [.sortedKeys]), as: UTF8.self))
                    return
                }
                print("token           \(auth["client_token"] as? String ?? "")")
                print("token_accessor  \(auth["accessor"] as? String ?? "")")
                print("token_policies  \((auth["policies"] as? [String] ?? []).joined(separator: ","))")
                print("token_ttl       \(auth["lease_duration"] as? Int ?? 0)s")
            }
        }
    }

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the policies and expiry of BULWARK_TOKEN.")

        func run() async throws {
            try await reportingClientErrors {
                let data = try await TransitClient.withEnvironment { try await $0.call(.GET, "auth/token/lookup-self").data }
                print("display_name  \(data["display_name"] as? String ?? "")")
                print("policies      \((data["policies"] as? [String] ?? []).joined(separator: ","))")
                print("ttl           \(data["ttl"] as? Int ?? 0)s")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token (read from standard input when not given).")
        @Argument(help: "The token to revoke; '-' or nothing reads it from standard input.") var token: String?

        func run() async throws {
            try await reportingClientErrors {
                var value = self.token ?? "-"
                if value == "-" { value = readLine(strippingNewline: true) ?? "" }
                guard !value.isEmpty else { throw BulwarkError(.invalidArgument, "no token given") }
                _ = try await TransitClient.withEnvironment { try await $0.call(.POST, "auth/token/revoke", body: ["token": value]) }
                print("revoked")
            }
        }
    }
}

/// `bulwark policy …`: ACL policies of the key service, in Vault's HCL.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Write, read, list and delete key service policies (Vault HCL).",
        subcommands: [Write.self, Read.self, List.self, Delete.self])

    struct Write: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload a policy from a file ('-' for standard input).")
        @Argument(help: "The policy's name.") var name: String
        @Argument(help: "The HCL file, or '-'.") var file: String

        func run() async throws {
            try await reportingClientErrors {
                let text: String
                if self.file == "-" {
                    text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                } else {
                    guard let data = FileManager.default.contents(atPath: self.file) else {
                        throw BulwarkError(.ioFailure, "cannot read \(self.file)")
                    }
                    text = String(decoding: data, as: UTF8.self)
                }
                _ = try await TransitClient.withEnvironment { try await $0.call(.PUT, "sys/policy/" + self.name, body: ["policy": text]) }
                print("policy \(self.name) written")
            }
        }
    }

    struct Read: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a policy's HCL.")
        @Argument(help: "The policy's name.") var name: String

        func run() async throws {
            try await reportingClientErrors {
                let data = try await TransitClient.withEnvironment { try await $0.call(.GET, "sys/policy/" + self.name).data }
                print(data["rules"] as? String ?? "")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policy names.")

        func run() async throws {
            try await reportingClientErrors {
                let data = try await TransitClient.withEnvironment { try await $0.call(.GET, "sys/policy").data }
                for name in data["policies"] as? [String] ?? [] { print(name) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a policy.")
        @Argument(help: "The policy's name.") var name: String

        func run() async throws {
            try await reportingClientErrors {
                _ = try await TransitClient.withEnvironment { try await $0.call(.DELETE, "sys/policy/" + self.name) }
                print("policy \(self.name) deleted")
            }
        }
    }
}
