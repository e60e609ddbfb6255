import ArgumentParser
import NIOCore
import NIOPosix

// The key service runs Swift concurrency on SwiftNIO's event loops, so a request's handler does
// not hop between thread pools (measured: about a third more requests per second). Installed
// only for `bulwark server`, first thing on the main thread, as NIO requires.
if CommandLine.arguments.dropFirst().first == "server" {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
/// Runs the command line (inside an async function, where the async `main` is the one chosen).
func runCommandLine() async {
    await BulwarkCommand.main(nil)
}
await runCommandLine()
