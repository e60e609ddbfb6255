import BulwarkTestSupport
import Foundation
import Testing

/// The server behind a Shamir seal, against real peers (pyshamir, hvac, OpenBao, age): see
/// `Tests/Interop/seal_interop.py`.
@Suite("Shamir seal: operator init, a sealed server, unseal and seal (pyshamir, hvac, OpenBao, age)")
struct SealTests {
    @Test("pyshamir combines Bulwark's shares and Bulwark combines pyshamir's; sealed answers as OpenBao's; wrong shares refused; seal, unseal, restart; age-encrypted shares; no share in any log")
    func shamirSeal() throws {
        let cli = try CLIRunner()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/seal_interop.py").path
        let run = try cli.shell("python3 '\(script)' \"$BULWARK\"")
        #expect(run.status == 0, "\(run.text.suffix(3000))\n\(run.stderr.suffix(3000))")
        #expect(run.text.contains("all seal checks passed"))
        if let line = run.text.split(separator: "\n").first(where: { $0.hasPrefix("unseal to first served encrypt") }) { print(line) }
    }
}
