import BulwarkTestSupport
import Foundation
import Testing

/// Runs `Tests/Interop/NAME` with the `bulwark` binary as its argument (the script starts its own
/// servers) and expects its last line.
private func runScript(_ name: String, passes marker: String) async throws -> String {
    let cli = try CLIRunner()
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/\(name)").path
    let run = try await cli.shellDetached("python3 '\(script)' \"$BULWARK\"")
    #expect(run.status == 0, "\(run.text.suffix(3000))\n\(run.stderr.suffix(3000))")
    #expect(run.text.contains(marker))
    return run.text
}

/// The server behind a Shamir seal, against real peers (pyshamir, hvac, OpenBao, age): see
/// `Tests/Interop/seal_interop.py`.
@Suite("Shamir seal: operator init, a sealed server, unseal and seal (pyshamir, hvac, OpenBao, age)")
struct SealTests {
    @Test("pyshamir combines Bulwark's shares and Bulwark combines pyshamir's; sealed answers as OpenBao's; wrong shares refused; seal, unseal, restart; age-encrypted shares; no share in any log")
    func shamirSeal() async throws {
        let text = try await runScript("seal_interop.py", passes: "all seal checks passed")
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("unseal to first served encrypt") }) { print(line) }
    }
}

/// `operator backup` and `restore` against real peers (hvac, age): see `Tests/Interop/backup_interop.py`.
@Suite("Store backup and restore (age, hvac)")
struct BackupTests {
    @Test("a backup taken under encrypt traffic opens with age, restores into an empty store that decrypts every earlier ciphertext and detokenises every token; flipped bytes, cut files, wrong identities and non-empty targets refused with nothing restored")
    func backupAndRestore() async throws {
        _ = try await runScript("backup_interop.py", passes: "all backup checks passed")
    }
}

/// The awskms auto-unseal seal against moto's KMS server and boto3: see `Tests/Interop/awskms_interop.py`.
@Suite("AWS KMS auto-unseal (moto, boto3, hvac)")
struct AWSKMSSealTests {
    @Test("boto3 decrypts the unseal key Bulwark wrapped with the seal's context only; the server unseals itself; sys/seal holds until restart; a disabled key, KMS unreachable, a changed context, another key or seal id keep it sealed with a clear error and it recovers with no restart")
    func awsKMSSeal() async throws {
        let text = try await runScript("awskms_interop.py", passes: "all awskms seal checks passed")
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("start to first served encrypt") }) { print(line) }
    }
}

/// A root token from a quorum of unseal key shares, against OpenBao: see `Tests/Interop/generate_root_interop.py`.
@Suite("Root token generation (OpenBao's sys/generate-root-token, bao's decoder)")
struct GenerateRootTests {
    @Test("answers as OpenBao's (deliberate differences named); bao decodes the new root token; the former root stops working, its children keep working, across a restart; wrong shares reset; other tokens cannot go on; the CLI; nothing secret in the audit log")
    func generateRoot() async throws {
        _ = try await runScript("generate_root_interop.py", passes: "all generate-root checks passed")
    }
}
