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
                    guard let share = readHiddenLine("Unseal key share (hidden): ") else {
                        throw BulwarkError(.invalidArgument, "no share given (type it at the prompt, or pipe it on standard input)")
                    }
                    body = ["key": share]
                }
                let answer = try await TransitClient.withEnvironment(requiringToken: false) { try await $0.call(.PUT, "sys/unseal", body: body) }
                body = [:]
                printSealStatus(answer.json ?? [:])
            }
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

extension OperatorCommand {
    /// `bulwark operator rekey --key-shares N --key-threshold T`: new unseal key shares for the
    /// same master key (OpenBao's `sys/rotate/root`), authorised by a sudo token and a quorum of
    /// the current shares.
    struct Rekey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rekey",
            abstract: "Replace the unseal key shares (new counts allowed) with a quorum of the current ones (BULWARK_ADDR, BULWARK_TOKEN with sudo, BULWARK_CACERT).",
            discussion: """
                Shares are read from the terminal without echo, or one per line from standard input. The new shares are \
                printed once and take effect only after `bulwark operator rekey --verify` is given a quorum of them (with \
                the same token): until then the old shares keep working. Any failure cancels the rotation.
                """)
        @Option(name: .customLong("key-shares"), help: "How many new shares.") var keyShares: Int = 5
        @Option(name: .customLong("key-threshold"), help: "How many of them unseal.") var keyThreshold: Int = 3
        @Flag(help: "Enter a quorum of the new shares: the rotation takes effect.") var verify = false
        @Flag(help: "Cancel the rotation in progress.") var cancel = false

        func run() async throws {
            try await reportingClientErrors {
                try await TransitClient.withEnvironment { client in
                    if self.cancel {
                        _ = try await client.call(.DELETE, "sys/rotate/root/init")
                        print("Rotation cancelled.")
                    } else if self.verify {
                        try await self.verifyShares(client)
                    } else {
                        try await self.start(client)
                    }
                }
            }
        }

        /// Starts a rotation and enters current shares until the new ones come back; cancels it on any failure.
        private func start(_ client: TransitClient) async throws {
            let started = try await client.call(.POST, "sys/rotate/root/init", body: ["secret_shares": self.keyShares, "secret_threshold": self.keyThreshold]).data
            guard let nonce = started["nonce"] as? String, let required = started["required"] as? Int else {
                throw BulwarkError(.invalidArgument, "the server did not start a rotation")
            }
            print("Rotation started (nonce \(nonce)): enter \(required) current shares.")
            let answer = try await enterShares(
                client, kind: "Current", path: "sys/rotate/root/update", nonce: nonce, cancelPath: "sys/rotate/root/init", cancelled: "the rotation was cancelled")
            for (number, key) in (answer["keys_base64"] as? [String] ?? []).enumerated() { print("Unseal Key \(number + 1): \(key)") }
            print("Verification Nonce: \(answer["verification_nonce"] as? String ?? "")")
            print("These \(self.keyShares) shares (\(self.keyThreshold) unseal) are shown once. They take effect after `bulwark operator rekey --verify` with \(self.keyThreshold) of them; until then the old shares keep working. Old backups and database copies still open with the old shares.")
        }

        /// Enters new shares until the rotation takes effect; cancels it on any failure.
        private func verifyShares(_ client: TransitClient) async throws {
            let status = try await client.call(.GET, "sys/rotate/root/init").data
            guard let nonce = status["verification_nonce"] as? String, !nonce.isEmpty else {
                throw BulwarkError(.invalidArgument, "no rotation waits for verification")
            }
            _ = try await enterShares(
                client, kind: "New", path: "sys/rotate/root/verify", nonce: nonce, cancelPath: "sys/rotate/root/init",
                cancelled: "the rotation was cancelled; the old shares still unseal")
            print("Rotation complete: the new shares unseal; the old ones no longer do.")
        }

    }

    struct GenerateRoot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-root",
            abstract: "Make a new root token from a quorum of unseal key shares (BULWARK_ADDR, BULWARK_TOKEN with sudo, BULWARK_CACERT).",
            discussion: """
                The server answers a one-time pad; shares are read from the terminal without echo, or one per line from \
                standard input; the new token comes back encoded with the pad and is decoded here (`--decode` with \
                `--otp` decodes one later, as `bao operator generate-root -decode` does). The new root token replaces \
                the old one, which stops working; tokens the old one created keep working. Any failure cancels.
                """)
        @Flag(help: "Cancel the generation in progress.") var cancel = false
        @Option(help: "Decode an encoded token (with --otp) and print it; nothing is sent.") var decode: String?
        @Option(help: "The one-time pad that encoded --decode's token (or BULWARK_OTP, kept out of the process list).") var otp: String?

        func run() async throws {
            try await reportingClientErrors {
                if let encoded = self.decode {
                    guard let otp = self.otp ?? ProcessInfo.processInfo.environment["BULWARK_OTP"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                        throw BulwarkError(.invalidArgument, "--decode needs the pad it was encoded with (--otp or BULWARK_OTP)")
                    }
                    print(try Self.decoded(encoded, otp: otp))
                    return
                }
                try await TransitClient.withEnvironment { client in
                    if self.cancel {
                        _ = try await client.call(.DELETE, "sys/generate-root-token/attempt")
                        print("Root generation cancelled.")
                        return
                    }
                    let started = try await client.call(.POST, "sys/generate-root-token/attempt").data
                    guard let nonce = started["nonce"] as? String, let otp = started["otp"] as? String, !otp.isEmpty,
                        let required = started["required"] as? Int
                    else {
                        throw BulwarkError(.invalidArgument, "the server did not start a root generation")
                    }
                    print("Root generation started (nonce \(nonce)): enter \(required) unseal key shares.")
                    let answer = try await enterShares(
                        client, kind: "Current", path: "sys/generate-root-token/update", nonce: nonce, cancelPath: "sys/generate-root-token/attempt",
                        cancelled: "the root generation was cancelled")
                    guard let encoded = answer["encoded_token"] as? String else {
                        throw BulwarkError(.invalidArgument, "the server answered no encoded token")
                    }
                    print("Root token: \(try Self.decoded(encoded, otp: otp))")
                    print("It replaces the former root token, which no longer works. Keep it safe: it is shown once.")
                }
            }
        }

        /// The token `encoded` holds: base64 (padding optional) XOR the pad.
        static func decoded(_ encoded: String, otp: String) throws -> String {
            var text = encoded.trimmingCharacters(in: .whitespacesAndNewlines)
            text += String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
            guard let bytes = Data(base64Encoded: text), bytes.count == otp.utf8.count else {
                throw BulwarkError(.invalidArgument, "the encoded token is not base64 of the pad's length (\(otp.utf8.count))")
            }
            return String(decoding: zip(bytes, Array(otp.utf8)).map { $0 ^ $1 }, as: UTF8.self)
        }
    }
}

/// Reads shares one by one and posts each to `path` until an answer is `complete`; on any failure
/// (too few shares, a refusal, a lost connection) cancels the operation at `cancelPath`.
private func enterShares(
    _ client: TransitClient, kind: String, path: String, nonce: String, cancelPath: String, cancelled: String
) async throws -> [String: Any] {
    do {
        var entered = 0
        while true {
            entered += 1
            guard let share = readHiddenLine("\(kind) unseal key share \(entered) (hidden): ") else {
                throw BulwarkError(.invalidArgument, "too few shares given")
            }
            let answer = try await client.call(.POST, path, body: ["key": share, "nonce": nonce]).data
            if answer["complete"] as? Bool == true { return answer }
        }
    } catch {
        _ = try? await client.call(.DELETE, cancelPath)
        note("bulwark: \(cancelled)")
        throw error
    }
}

/// A secret line: from the terminal without echo, or the next line of standard input.
private func readHiddenLine(_ prompt: String) -> String? {
    if isatty(STDIN_FILENO) == 1 {
        guard let raw = getpass(prompt) else { return nil }
        let value = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }
    guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else { return nil }
    return line
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
