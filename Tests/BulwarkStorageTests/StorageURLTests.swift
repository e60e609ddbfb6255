import Bulwark
import BulwarkStorage
import Testing

/// `StorageURL`: what `--storage` accepts, and that its description never carries a password.
@Suite("Storage URLs")
struct StorageURLTests {
    @Test("sqlite:PATH, sqlite://PATH, postgres:// and postgresql:// parse; anything else is refused by name")
    func parsing() throws {
        #expect(try StorageURL("sqlite:/var/lib/bulwark/state.db").kind == .sqlite(path: "/var/lib/bulwark/state.db"))
        #expect(try StorageURL("sqlite://relative.db").kind == .sqlite(path: "relative.db"))
        #expect(try StorageURL("postgres://u@db:5432/keys").kind == .postgres(url: "postgres://u@db:5432/keys"))
        #expect(try StorageURL("postgresql://u@db/keys").kind == .postgres(url: "postgresql://u@db/keys"))
        for bad in ["", "sqlite:", "sqlite://", "mysql://u@db/keys", "/var/lib/state.db", "file:state.db", "SQLITE:x.db"] {
            #expect(throws: BulwarkError(.invalidArgument, ""), "\(bad)") { _ = try StorageURL(bad) }
        }
    }

    @Test("The description (logs, errors, health) keeps the user and host and drops the password, whatever it holds")
    func descriptionHasNoPassword() throws {
        let cases: [(url: String, password: String, shown: String)] = [
            ("postgres://keys:s3cret@db:5432/bulwark", "s3cret", "postgres://keys@db:5432/bulwark"),
            ("postgresql://keys:pa:ss@db/bulwark?sslmode=verify-full", "pa:ss", "postgresql://keys@db/bulwark?sslmode=verify-full"),
            // An unencoded `@` in the password: the host starts after the last `@` of the authority.
            ("postgres://keys:p@ss@db:5432/bulwark", "p@ss", "postgres://keys@db:5432/bulwark"),
            ("postgres://keys:%40pct%2F@db/bulwark", "%40pct%2F", "postgres://keys@db/bulwark"),
            // Unencoded `/` and `?`-free slashes in the password (found by review).
            ("postgres://keys:1234/Secr3t@db/x", "Secr3t", "postgres://keys@db/x"),
            ("postgres://keys:a/b@c@db:5432/x?sslmode=require", "a/b@c", "postgres://keys@db:5432/x?sslmode=require"),
        ]
        for (url, password, shown) in cases {
            let described = try StorageURL(url).description
            #expect(described == shown)
            #expect(!described.contains(password))
        }
        // No credentials, nothing to drop; an `@` after the authority is not a credential.
        #expect(try StorageURL("postgres://db:5432/bulwark").description == "postgres://db:5432/bulwark")
        #expect(try StorageURL("postgres://db/bulwark?application_name=a@b").description == "postgres://db/bulwark?application_name=a@b")
        #expect(try StorageURL("sqlite:/tmp/x.db").description == "sqlite:/tmp/x.db")
    }

    @Test("A master key file may not sit in the SQLite database's directory: the directory named is the file's")
    func dataDirectory() throws {
        #expect(try StorageURL("sqlite:/var/lib/bulwark/state.db").dataDirectory == "/var/lib/bulwark")
        #expect(try StorageURL("sqlite:/state.db").dataDirectory == "/")
        #expect(try StorageURL("sqlite:state.db").dataDirectory == ".")
    }
}
