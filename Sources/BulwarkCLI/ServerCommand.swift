import ArgumentParser
import Bulwark
import BulwarkKeystore
import BulwarkServer
import Foundation
import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `bulwark server`: the key service (Vault Transit-compatible) over TLS.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the key service: Vault Transit-compatible encryption as a service over TLS 1.3.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Development mode: local CA and certificate, master key beside the data (not for production).")
    var dev = false
    @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8200"
    @Option(name: .customLong("dev-root-token"), help: "Dev mode: use this root token instead of a random one.")
    var devRootToken: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (server first).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key.") var tlsKey: String?
    @Flag(name: .customLong("allow-tls12"), help: "Also accept TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305 only).")
    var allowTLS12 = false
    @Option(name: .customLong("audit-file"), help: "The audit log (default: $BULWARK_HOME/audit.log).") var auditFile: String?

    func run() async throws {
        do {
            try await self.serve()
        } catch let error as BulwarkError {
            note("bulwark: \(error.code): \(error.message)")
            throw ExitCode(1)
        }
    }

    func serve() async throws {
        guard let colon = self.listen.lastIndex(of: ":"), let port = Int(self.listen[self.listen.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw BulwarkError(.invalidArgument, "--listen takes HOST:PORT")
        }
        let host = String(self.listen[..<colon])
        let home = self.store.home ?? FileKeystore.defaultDirectory()
        let keystore: FileKeystore
        var certificate = self.tlsCert
        var privateKey = self.tlsKey
        let rootToken: String
        if self.dev {
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let keyPath = home + "/dev-master.key"
            if !FileManager.default.fileExists(atPath: keyPath) {
                try POSIXFile.writeAtomically(Data(MasterKey.generate().base64EncodedString(access: .token).utf8), to: keyPath)
            }
            let masterKey = String(decoding: try POSIXFile.readAll(path: keyPath), as: UTF8.self)
            keystore = FileKeystore(directory: home, masterKey: .base64(masterKey))
            if certificate == nil || privateKey == nil {
                let files = try DevCertificateAuthority.ensure(in: home)
                certificate = files.serverChain
                privateKey = files.serverKey
            }
            rootToken = self.devRootToken ?? ("bwk." + MasterKey.generate().base64EncodedString(access: .token)
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "=", with: ""))
        } else {
            keystore = try self.store.keystore()
            guard let token = ProcessInfo.processInfo.environment["BULWARK_ROOT_TOKEN"], token.count >= 16 else {
                throw BulwarkError(.invalidArgument, "outside dev mode, set BULWARK_ROOT_TOKEN (16+ characters)")
            }
            rootToken = token
        }
        guard let certificate, let privateKey else {
            throw BulwarkError(.invalidArgument, "give --tls-cert and --tls-key (or use --dev)")
        }
        let backend = try TransitBackend(keystore: keystore)
        let options = TransitServer.Options(
            host: host, port: port, certificateChain: certificate, privateKey: privateKey, allowTLS12: self.allowTLS12,
            rootToken: rootToken, auditPath: self.auditFile ?? home + "/audit.log")
        var logger = Logger(label: "bulwark.server")
        logger.logLevel = .warning
        let dev = self.dev
        let app = try TransitServer.application(backend: backend, options: options, logger: logger) {
            var lines = ["Bulwark key service listening on https://\(host):\(port) (TLS \(options.allowTLS12 ? "1.2+1.3" : "1.3 only"))"]
            if dev {
                lines += [
                    "WARNING: dev mode. The master key sits beside the data in \(home)/dev-master.key: not for production.",
                    "CA certificate: \(home)/ca.pem",
                    "Root token: \(rootToken)",
                    "Try: curl --cacert \(home)/ca.pem -H 'X-Vault-Token: \(rootToken)' -d '{\"plaintext\":\"aGVsbG8=\"}' https://\(host):\(port)/v1/transit/encrypt/demo",
                ]
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        try await app.runService()
    }
}

/// `bulwark audit verify FILE`: checks the audit log's hash chain.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit log tools.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that no line of an audit log was edited, inserted or deleted.")
        @Argument(help: "The audit log.") var file: String

        func run() throws {
            try reportingErrors {
                let lines = try AuditLog.verify(path: self.file)
                print("audit log intact: \(lines) lines")
            }
        }
    }
}
