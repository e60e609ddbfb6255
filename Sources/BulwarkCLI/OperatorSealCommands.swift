import ArgumentParser
import Bulwark
import BulwarkClient
import Foundation
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OperatorCommand {
    /// `bulwark operator unseal`: enters one key share (Vault's `operator unseal`).
    struct Unseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unseal",
            abstract: "Enter one unseal key share into a sealed server (BULWARK_ADDR, BULWARK_CACERT; no token needed).",
            discussion: "The share is read from the terminal without echo, or from standard input; it is never an argument (arguments show in the process list).")
        @Flag(help: "Forget the shares entered so far.") var reset = false

        func run() async throws {
            try await reportingClientErrors {
                var body: [String: Any]
                if self.reset {
                    body = ["reset": true]
                } else {
                    guard let share = Self.readShare() else {
                        throw BulwarkError(.invalidArgument, "no share given (type it at the prompt, or pipe it on standard input)")
                    }
                    body = ["key": share]
                }
                let answer = try await TransitClient.withEnvironment(requiringToken: false) { try await $0.call(.PUT, "sys/unseal", body: body) }
                body = [:]
                printSealStatus(answer.json ?? [:])
            }
        }

        private static func readShare() -> String? {
            if isatty(STDIN_FILENO) == 1 {
                guard let raw = getpass("Unseal key share (hidden): ") else { return nil }
                let value = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
                return value.isEmpty ? nil : value
            }
            guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else { return nil }
            return line
        }
    }

    /// `bulwark operator seal`: seals a running server (needs a token with `sudo` on `sys/seal`).
    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal", abstract: "Seal the server: it forgets its master key until unsealed again (BULWARK_ADDR, BULWARK_TOKEN, BULWARK_CACERT).")

        func run() async throws {
            try await reportingClientErrors {
                _ = try await TransitClient.withEnvironment { try await $0.call(.PUT, "sys/seal") }
                print("Sealed.")
            }
        }
    }

    /// `bulwark operator seal-status`.
    struct SealStatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seal-status", abstract: "Show whether the server is sealed and the unseal progress (BULWARK_ADDR, BULWARK_CACERT).")

        func run() async throws {
            try await reportingClientErrors {
                let answer = try await TransitClient.withEnvironment(requiringToken: false) { try await $0.call(.GET, "sys/seal-status") }
                printSealStatus(answer.json ?? [:])
            }
        }
    }
}

/// Prints Vault's seal status fields as `bulwark operator` shows them.
private func printSealStatus(_ status: [String: Any]) {
    let sealed = status["sealed"] as? Bool ?? true
    print("Seal Type: \(status["type"] as? String ?? "?")")
    print("Sealed: \(sealed)")
    print("Total Shares: \(status["n"] as? Int ?? 0)")
    print("Threshold: \(status["t"] as? Int ?? 0)")
    if sealed {
        print("Unseal Progress: \(status["progress"] as? Int ?? 0)/\(status["t"] as? Int ?? 0)")
        if let nonce = status["nonce"] as? String, !nonce.isEmpty { print("Unseal Nonce: \(nonce)") }
    }
}
