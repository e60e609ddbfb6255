import ArgumentParser
import Bulwark
import BulwarkKeystore

/// `bulwark subject …`: per-subject keys and erasure by key destruction.
struct SubjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subject", abstract: "Per-subject keys: erase a subject's data everywhere by destroying their key.",
        subcommands: [Erase.self])

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy a subject's key: every copy of their encrypted fields, backups included, becomes unreadable. Cannot be undone.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The subject id (A-Z a-z 0-9 . _ -).") var id: String

        func run() throws {
            try reportingErrors {
                let destroyed = try SubjectKeys(keystore: try self.store.keystore()).erase(self.id)
                print("erased subject '\(self.id)': \(destroyed) key version(s) destroyed")
            }
        }
    }
}
