import ArgumentParser

/// The `bulwark` command line.

struct BulwarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulwark",
        abstract: "Encryption at rest and in transit, done right by default.",
        discussion: """
            The keystore lives in $BULWARK_HOME (default ./.bulwark), sealed under a master key from \
            BULWARK_MASTER_KEY (base64), --master-key-file, BULWARK_MASTER_KEY_FILE, or a passphrase \
            (BULWARK_PASSPHRASE or a prompt).
            """,
        subcommands: [
            KeysCommand.self, EncryptCommand.self, DecryptCommand.self, FernetCommand.self, BenchmarkCommand.self,
            MasterKeyCommand.self, PasswordCommand.self, RedactCommand.self, SubjectCommand.self, ServerCommand.self, OperatorCommand.self, TokenCommand.self, PolicyCommand.self,
            RetentionCommand.self, DatabaseCommand.self,
            AuditCommand.self, TokenizeCommand.self, DetokenizeCommand.self, TLSCommand.self,
        ]
    )
}
