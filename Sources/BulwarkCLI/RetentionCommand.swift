import ArgumentParser
import Bulwark
import BulwarkClient
import Foundation
import NIOHTTP1

/// `bulwark retention run [--dry-run]`: runs the key service's retention job now.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "The key service's retention job (BULWARK_ADDR, BULWARK_TOKEN, BULWARK_CACERT).",
        subcommands: [Run.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete expired tokens and audit segments now (the server also does so hourly); --dry-run only lists them.")
        @Flag(name: .customLong("dry-run"), help: "Show what would be removed; remove nothing.") var dryRun = false

        func run() async throws {
            try await reportingClientErrors {
                let data = try await TransitClient.withEnvironment { try await $0.call(.POST, "sys/retention", body: ["dry_run": self.dryRun]).data }
                let verb = self.dryRun ? "would remove" : "removed"
                let tokens = data["tokens"] as? [String] ?? []
                let segments = data["audit_segments"] as? [String] ?? []
                print("\(verb) \(tokens.count) token(s) and \(segments.count) audit segment(s)")
                for accessor in tokens { print("  token accessor \(accessor)") }
                for segment in segments { print("  audit segment \(segment)") }
                if let vault = data["transform_tokens"] as? Int, vault > 0 {
                    print("\(verb) \(vault) expired token(s) of the tokenisation vault")
                }
            }
        }
    }
}
