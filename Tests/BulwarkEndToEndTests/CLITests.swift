import Bulwark
import BulwarkTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("bulwark command line")
struct CLITests {
    @Test("Walk-through: create, encrypt, rotate, decrypt; retire old versions")
    func walkThrough() throws {
        let cli = try CLIRunner()
        try "078-05-1120 Jane Roe".write(toFile: cli.path("plain.txt"), atomically: true, encoding: .utf8)
        #expect(try cli.bulwark(["keys", "create", "pii", "--rotation-period", "90d"]).status == 0)
        #expect(try cli.bulwark(["keys", "create", "pii"]).stderr.contains("already exists"))
        #expect(try cli.bulwark(["encrypt", "--key", "pii", "--context", "users", cli.path("plain.txt"), cli.path("v1.bin")]).status == 0)
        #expect(try cli.bulwark(["keys", "rotate", "pii"]).text.contains("primary version is now 2"))
        #expect(try cli.bulwark(["encrypt", "--key", "pii", "--context", "users", cli.path("plain.txt"), cli.path("v2.bin")]).status == 0)
        let v1 = try cli.bulwark(["decrypt", "--context", "users", cli.path("v1.bin")])
        #expect(v1.status == 0 && v1.text == "078-05-1120 Jane Roe")
        let list = try cli.bulwark(["keys", "list"])
        #expect(list.text.contains("pii") && list.text.contains("aes256-gcm") && list.text.contains("90d"))
        let json = try cli.bulwark(["keys", "list", "--json"]).text
        #expect(json.contains("\"latest_version\":2") && json.contains("\"rotation_due\":false"))
        let show = try cli.bulwark(["keys", "show", "pii"]).text
        #expect(show.contains("v1  enabled") && show.contains("(primary)"))
        // Keys never print: the keystore's key bytes appear nowhere in any output.
        #expect(!show.contains("material") && !json.contains("material"))

        #expect(try cli.bulwark(["keys", "config", "pii", "--min-decryption-version", "2"]).status == 0)
        let below = try cli.bulwark(["decrypt", "--context", "users", cli.path("v1.bin")])
        #expect(below.status == 1 && below.stdout.isEmpty && below.stderr.contains("minimum decryption version"))
        #expect(try cli.bulwark(["keys", "config", "pii", "--min-decryption-version", "1"]).status == 0)
        #expect(try cli.bulwark(["keys", "disable", "pii", "--version", "1"]).status == 0)
        #expect(try cli.bulwark(["decrypt", "--context", "users", cli.path("v1.bin")]).stderr.contains("disabled"))
        #expect(try cli.bulwark(["keys", "enable", "pii", "--version", "1"]).status == 0)
        #expect(try cli.bulwark(["keys", "destroy", "pii", "--version", "2"]).stderr.contains("primary"))
        #expect(try cli.bulwark(["keys", "destroy", "pii", "--version", "1"]).status == 0)
        let destroyed = try cli.bulwark(["decrypt", "--context", "users", cli.path("v1.bin")])
        #expect(destroyed.status == 1 && destroyed.stderr.contains("destroyed"))
        #expect(try cli.bulwark(["decrypt", "--context", "users", cli.path("v2.bin")]).text == "078-05-1120 Jane Roe")
        #expect(try cli.bulwark(["keys", "show", "pii"]).text.contains("v1  destroyed"))
    }

    @Test("age files: 'encrypt --recipient' (armored or not) opens with the age command, age's files open with 'decrypt --identity' and an age-x25519 key of the keystore; nothing is written unless it all verifies")
    func ageFiles() throws {
        let holder = try CLIRunner()
        let sender = try CLIRunner()
        let plaintext = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try plaintext.write(to: URL(fileURLWithPath: sender.path("backup.tar")))
        // An identity made by age-keygen, and an age-x25519 key in the holder's keystore.
        #expect(try holder.shell("age-keygen -o '\(holder.path("me.txt"))' 2>/dev/null").status == 0)
        let mine = try holder.shell("age-keygen -y '\(holder.path("me.txt"))'").text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try holder.bulwark(["keys", "create", "backups", "--type", "age-x25519"]).text.contains("age-encryption"))
        let keyRecipient = try holder.bulwark(["keys", "public-key", "backups"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(keyRecipient.hasPrefix("age1"))
        // The sender needs no keystore: two recipients, armored and binary.
        for (name, extra) in [("backup.age", [String]()), ("backup.asc", ["--armor"])] {
            let made = try sender.bulwark(["encrypt", "--recipient", mine, "--recipient", keyRecipient] + extra + [sender.path("backup.tar"), sender.path(name)])
            #expect(made.status == 0, "\(made.stderr)")
            let viaAge = try holder.shell("age -d -i '\(holder.path("me.txt"))' '\(sender.path(name))'")
            #expect(viaAge.status == 0 && viaAge.stdout == plaintext, "\(viaAge.stderr)")
            #expect(try holder.bulwark(["decrypt", "--identity", holder.path("me.txt"), sender.path(name)]).stdout == plaintext)
            #expect(try holder.bulwark(["decrypt", "--identity-key", "backups", sender.path(name)]).stdout == plaintext)
        }
        #expect(try String(contentsOfFile: sender.path("backup.asc"), encoding: .utf8).hasPrefix("-----BEGIN AGE ENCRYPTED FILE-----"))
        // age's own files, through a pipe.
        #expect(try holder.shell("age -r \(keyRecipient) -a -o '\(holder.path("theirs.asc"))' '\(sender.path("backup.tar"))'").status == 0)
        let piped = try holder.shell("cat '\(holder.path("theirs.asc"))' | \"$BULWARK\" decrypt --identity-key backups")
        #expect(piped.status == 0 && piped.stdout == plaintext)
        // Tampered, cut short, or for someone else: exit 1 and nothing written, to a file or stdout.
        var sealed = try Data(contentsOf: URL(fileURLWithPath: sender.path("backup.age")))
        sealed[sealed.count - 70_000] ^= 1
        try sealed.write(to: URL(fileURLWithPath: holder.path("tampered.age")))
        let refused = try holder.bulwark(["decrypt", "--identity", holder.path("me.txt"), holder.path("tampered.age"), holder.path("out")])
        #expect(refused.status == 1 && refused.stderr.contains("altered") && !FileManager.default.fileExists(atPath: holder.path("out")))
        let toStdout = try holder.bulwark(["decrypt", "--identity", holder.path("me.txt"), holder.path("tampered.age")])
        #expect(toStdout.status == 1 && toStdout.stdout.isEmpty)
        try Data(try Data(contentsOf: URL(fileURLWithPath: sender.path("backup.age"))).dropLast(20)).write(to: URL(fileURLWithPath: holder.path("cut.age")))
        #expect(try holder.bulwark(["decrypt", "--identity", holder.path("me.txt"), holder.path("cut.age")]).stdout.isEmpty)
        #expect(try sender.shell("age-keygen -o '\(sender.path("other.txt"))' 2>/dev/null").status == 0)
        let stranger = try sender.bulwark(["decrypt", "--identity", sender.path("other.txt"), sender.path("backup.age")])
        #expect(stranger.status == 1 && stranger.stderr.contains("no identity given opens this age file"))
        // A rotated key still opens files to its old recipient; a bad recipient is refused by name.
        #expect(try holder.bulwark(["keys", "rotate", "backups"]).status == 0)
        #expect(try holder.bulwark(["decrypt", "--identity-key", "backups", sender.path("backup.age")]).stdout == plaintext)
        #expect(try sender.bulwark(["encrypt", "--recipient", "age1notarecipient", sender.path("backup.tar")]).stderr.contains("not an age X25519 recipient"))
        #expect(try sender.bulwark(["encrypt", "--armor", "--public-key", "x", sender.path("backup.tar")]).status != 0)
        // An identity file is read up to 64 KiB, and never quoted in errors.
        #expect(try holder.bulwark(["decrypt", "--identity", "/dev/zero", sender.path("backup.age")]).stderr.contains("too large"))
        try Data("AGE-SECRET-KEY-1SECRETLOOKINGBUTWRONG\n".utf8).write(to: URL(fileURLWithPath: holder.path("bad.txt")))
        let bad = try holder.bulwark(["decrypt", "--identity", holder.path("bad.txt"), sender.path("backup.age")])
        #expect(bad.status == 1 && bad.stderr.contains("line 1") && !bad.stderr.contains("SECRETLOOKING"))
    }

    @Test("Files to a public key: 'keys public-key', 'encrypt --public-key' without the keystore, 'decrypt' by the holder")
    func publicKeyFiles() throws {
        let holder = try CLIRunner()
        let sender = try CLIRunner()
        let plaintext = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 31) })
        try plaintext.write(to: URL(fileURLWithPath: sender.path("upload")))
        #expect(try holder.bulwark(["keys", "create", "inbound", "--type", "hpke-xwing"]).text.contains("hybrid-encryption"))
        let published = try holder.bulwark(["keys", "public-key", "inbound"])
        #expect(published.status == 0 && published.text.hasPrefix("bwpk1:"))
        try published.stdout.write(to: URL(fileURLWithPath: sender.path("inbound.pub")))
        // The sender has only the public key (its own, empty keystore).
        #expect(try sender.bulwark(["encrypt", "--public-key", sender.path("inbound.pub"), "--context", "u1", sender.path("upload"), sender.path("upload.bwk")]).status == 0)
        let sealed = try Data(contentsOf: URL(fileURLWithPath: sender.path("upload.bwk")))
        #expect(sealed.count == 55 + 1120 + 300_000 + 5 * 16)
        #expect(try sender.bulwark(["decrypt", "--context", "u1", sender.path("upload.bwk")]).stderr.contains("unknown key"))
        let opened = try holder.bulwark(["decrypt", "--context", "u1", sender.path("upload.bwk")])
        #expect(opened.status == 0 && opened.stdout == plaintext)
        let piped = try holder.shell("cat '\(sender.path("upload.bwk"))' | \"$BULWARK\" decrypt --context u1")
        #expect(piped.status == 0 && piped.stdout == plaintext)
        #expect(try holder.bulwark(["decrypt", "--context", "u2", sender.path("upload.bwk")]).stderr.contains("wrong context"))
        var tampered = sealed
        tampered[55 + 600] ^= 1  // inside the encapsulated key
        try tampered.write(to: URL(fileURLWithPath: holder.path("tampered")))
        let refused = try holder.bulwark(["decrypt", "--context", "u1", holder.path("tampered"), holder.path("out")])
        #expect(refused.status == 1 && refused.stderr.contains("altered") && !FileManager.default.fileExists(atPath: holder.path("out")))
        // After a rotation the holder still opens the file; new senders get version 2's key.
        #expect(try holder.bulwark(["keys", "rotate", "inbound"]).status == 0)
        #expect(try holder.bulwark(["decrypt", "--context", "u1", sender.path("upload.bwk")]).stdout == plaintext)
        #expect(try holder.bulwark(["keys", "public-key", "inbound"]).text != published.text)
        #expect(try holder.bulwark(["keys", "public-key", "inbound", "--version", "1"]).text == published.text)
        // The holder may also encrypt with the key's name (to its primary public key).
        #expect(try holder.bulwark(["encrypt", "--key", "inbound", "--context", "own", "-", holder.path("own.bwk")], stdin: sender.path("upload")).status == 0)
        let own = try Data(contentsOf: URL(fileURLWithPath: holder.path("own.bwk")))
        #expect(try StreamHeader(parsing: own).keyVersion == 2)
        #expect(try holder.bulwark(["decrypt", "--context", "own", holder.path("own.bwk")]).stdout == plaintext)
        #expect(try sender.bulwark(["encrypt", "--context", "u1", sender.path("upload")]).stderr.contains("give one of --key, --public-key or --recipient"))
        try Data("bwpk1:nonsense".utf8).write(to: URL(fileURLWithPath: sender.path("bad.pub")))
        #expect(try sender.bulwark(["encrypt", "--public-key", sender.path("bad.pub"), sender.path("upload")]).stderr.contains("not a Bulwark public key"))
        try holder.bulwark(["keys", "create", "files"])
        #expect(try holder.bulwark(["keys", "public-key", "files"]).stderr.contains("wrong key purpose"))
        // A public-key file is read up to 8 KiB, never whole: /dev/zero is refused, not read for ever.
        #expect(try sender.bulwark(["encrypt", "--public-key", "/dev/zero", sender.path("upload")]).stderr.contains("too large"))
        // A late segment altered: nothing reaches standard output, through a pipe either.
        var late = sealed
        late[late.count - 10] ^= 1
        try late.write(to: URL(fileURLWithPath: holder.path("late")))
        let lateOut = try holder.shell("cat '\(holder.path("late"))' | \"$BULWARK\" decrypt --context u1")
        #expect(lateOut.status == 1 && lateOut.stdout.isEmpty && lateOut.stderr.contains("altered"))
    }

    @Test("Failures exit non-zero, name the cause and write nothing")
    func failures() throws {
        let cli = try CLIRunner()
        let plaintext = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
        try plaintext.write(to: URL(fileURLWithPath: cli.path("plain")))
        try cli.bulwark(["keys", "create", "files"])
        try cli.bulwark(["keys", "create", "mac", "--type", "hmac-sha256"])
        #expect(try cli.bulwark(["encrypt", "--key", "files", "--context", "c"], stdin: cli.path("plain")).status == 0)
        try cli.bulwark(["encrypt", "--key", "files", "--context", "c", cli.path("plain"), cli.path("sealed")])
        let sealed = try Data(contentsOf: URL(fileURLWithPath: cli.path("sealed")))
        #expect(sealed.count == 55 + 200_000 + 4 * 16)

        let wrongContext = try cli.bulwark(["decrypt", "--context", "d", cli.path("sealed"), cli.path("out")])
        #expect(wrongContext.status == 1 && wrongContext.stderr.contains("wrong context"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("out")))

        var tampered = sealed
        tampered[tampered.count - 100] ^= 1
        try tampered.write(to: URL(fileURLWithPath: cli.path("tampered")))
        let toStdout = try cli.bulwark(["decrypt", "--context", "c", cli.path("tampered")])
        #expect(toStdout.status == 1 && toStdout.stdout.isEmpty && toStdout.stderr.contains("altered"))
        let viaPipe = try cli.shell("cat '\(cli.path("tampered"))' | \"$BULWARK\" decrypt --context c")
        #expect(viaPipe.status == 1 && viaPipe.stdout.isEmpty)
        try sealed.prefix(55 + 2 * 65536).write(to: URL(fileURLWithPath: cli.path("truncated")))
        let truncated = try cli.bulwark(["decrypt", "--context", "c", cli.path("truncated"), cli.path("out")])
        #expect(truncated.status == 1 && truncated.stderr.contains("cut short"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("out")))
        // An existing output survives a failed decryption untouched.
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: cli.path("existing")))
        #expect(try cli.bulwark(["decrypt", "--context", "c", cli.path("tampered"), cli.path("existing")]).status == 1)
        #expect(try String(contentsOfFile: cli.path("existing"), encoding: .utf8) == "keep me")
        // Through a pipe (non-seekable), the happy path still works.
        let piped = try cli.shell("cat '\(cli.path("sealed"))' | \"$BULWARK\" decrypt --context c")
        #expect(piped.status == 0 && piped.stdout == plaintext)

        let other = try CLIRunner()
        let unknown = try other.bulwark(["decrypt", "--context", "c", cli.path("sealed")])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown key"))
        #expect(try cli.bulwark(["encrypt", "--key", "mac", cli.path("plain")]).stderr.contains("wrong key purpose"))
        #expect(try cli.bulwark(["decrypt", cli.path("plain")]).stderr.contains("not a Bulwark stream"))
        let wrongMaster = try cli.bulwark(["keys", "list"], env: ["BULWARK_MASTER_KEY": Data(count: 32).base64EncodedString()])
        #expect(wrongMaster.status == 1 && wrongMaster.stderr.contains("wrong master key"))
        let none = try cli.bulwark(["keys", "list"], env: ["BULWARK_MASTER_KEY": ""])
        #expect(none.status == 1 && none.stderr.contains("no master key"))
    }

    @Test("Master key files must be private and live away from the keystore")
    func masterKeyFile() throws {
        let cli = try CLIRunner()
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try key.write(toFile: cli.path("master.key"), atomically: true, encoding: .utf8)
        chmod(cli.path("master.key"), 0o644)
        let open = try cli.bulwark(["keys", "create", "k", "--master-key-file", cli.path("master.key")], env: ["BULWARK_MASTER_KEY": ""])
        #expect(open.status == 1 && open.stderr.contains("insecure permissions"))
        chmod(cli.path("master.key"), 0o600)
        #expect(try cli.bulwark(["keys", "create", "k", "--master-key-file", cli.path("master.key")], env: ["BULWARK_MASTER_KEY": ""]).status == 0)
        #expect(try cli.bulwark(["keys", "list"], env: ["BULWARK_MASTER_KEY": key]).text.contains("k "))
    }

    @Test("Two processes rotating one key 100 times each end with 201 versions")
    func concurrentRotation() throws {
        let cli = try CLIRunner()
        try cli.bulwark(["keys", "create", "hot"])
        let loop = "i=0; while [ $i -lt 100 ]; do \"$BULWARK\" keys rotate hot >/dev/null || exit 1; i=$((i+1)); done"
        let result = try cli.shell("(\(loop)) & a=$!; (\(loop)) & b=$!; wait $a || exit 1; wait $b || exit 1")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try cli.bulwark(["keys", "list", "--json"]).text
        #expect(json.contains("\"latest_version\":201"), "\(json)")
    }

    @Test("A process killed mid-save leaves a readable keystore", arguments: ["mid-write", "before-rename"])
    func killedMidSave(point: String) throws {
        let cli = try CLIRunner()
        try cli.bulwark(["keys", "create", "k"])
        try cli.bulwark(["keys", "rotate", "k"])
        let killed = try cli.bulwark(["keys", "rotate", "k"], env: ["BULWARK_TEST_CRASH_POINT": point])
        #expect(killed.status == 128 + SIGKILL)
        let json = try cli.bulwark(["keys", "list", "--json"])
        #expect(json.status == 0 && json.text.contains("\"latest_version\":2"))
        // The next save clears the dead writer's temporary file and goes on.
        #expect(try cli.bulwark(["keys", "rotate", "k"]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cli.home).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        // Random kills of a rotating loop never leave an unreadable keystore either.
        for delay in [0.05, 0.15, 0.3] {
            _ = try cli.shell("(while true; do \"$BULWARK\" keys rotate k >/dev/null 2>&1; done) & p=$!; sleep \(delay); kill -STOP $p; pkill -9 -P $p; kill -9 $p; wait $p 2>/dev/null; true")
            #expect(try cli.bulwark(["keys", "list", "--json"]).status == 0)
        }
    }

    @Test("1 GiB through encrypt and decrypt with flat memory")
    func oneGiB() throws {
        let cli = try CLIRunner()
        try cli.bulwark(["keys", "create", "big"])
        let input = cli.path("big.in")
        let fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // A sparse 1 GiB file with a few non-zero marks, so offsets matter.
        #expect(ftruncate(fd, 1 << 30) == 0)
        for offset in [0, 65_519, 65_520, (1 << 29) + 3, (1 << 30) - 1] {
            var mark = UInt8(truncatingIfNeeded: offset | 1)
            _ = pwrite(fd, &mark, 1, off_t(offset))
        }
        close(fd)
        // GNU time forks (not vfork), so %M is bulwark's own peak RSS in KiB.
        let encrypt = try cli.shell("/usr/bin/time -f %M -o '\(cli.path("rss.encrypt"))' \"$BULWARK\" encrypt --key big '\(input)' '\(cli.path("big.sealed"))'")
        #expect(encrypt.status == 0, "\(encrypt.stderr)")
        let decrypt = try cli.shell("/usr/bin/time -f %M -o '\(cli.path("rss.decrypt"))' \"$BULWARK\" decrypt '\(cli.path("big.sealed"))' '\(cli.path("big.out"))'")
        #expect(decrypt.status == 0, "\(decrypt.stderr)")
        let sizes = try ["rss.encrypt", "rss.decrypt"].map { name in
            try #require(Int(try String(contentsOfFile: cli.path(name), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        #expect(sizes.allSatisfy { $0 > 0 && $0 < 64 * 1024 }, "peak RSS KiB: \(sizes)")
        let sealedSize = try FileManager.default.attributesOfItem(atPath: cli.path("big.sealed"))[.size] as? Int
        #expect(sealedSize == 55 + (1 << 30) + 16 * ((1 << 30) / 65_520 + 1))
        let same = try cli.shell("cmp '\(input)' '\(cli.path("big.out"))'")
        #expect(same.status == 0, "\(same.text)")
        for file in ["big.in", "big.sealed", "big.out"] { unlink(cli.path(file)) }
    }

    @Test("Fernet tokens cross with Python cryptography through the CLI")
    func fernet() throws {
        let cli = try CLIRunner()
        let keys = try cli.shell("python3 -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode()); print(Fernet.generate_key().decode())\"")
        #expect(keys.status == 0, "\(keys.stderr)")
        let lines = keys.text.split(separator: "\n").map(String.init)
        try lines.joined(separator: "\n").write(toFile: cli.path("fernet.keys"), atomically: true, encoding: .utf8)
        chmod(cli.path("fernet.keys"), 0o600)
        // Python encrypts with the second key; Bulwark's MultiFernet-style key file reads it.
        let token = try cli.shell("python3 -c \"from cryptography.fernet import Fernet; print(Fernet(b'\(lines[1])').encrypt(b'from python').decode())\"")
        try token.text.write(toFile: cli.path("token"), atomically: true, encoding: .utf8)
        let opened = try cli.bulwark(["fernet", "decrypt", "--key-file", cli.path("fernet.keys"), "--ttl", "60"], stdin: cli.path("token"))
        #expect(opened.status == 0 && opened.text == "from python", "\(opened.stderr)")
        try "from bulwark".write(toFile: cli.path("msg"), atomically: true, encoding: .utf8)
        let made = try cli.bulwark(["fernet", "encrypt", "--key-file", cli.path("fernet.keys")], stdin: cli.path("msg"))
        let back = try cli.shell("python3 -c \"from cryptography.fernet import Fernet; print(Fernet(b'\(lines[0])').decrypt(b'\(made.text.trimmingCharacters(in: .whitespacesAndNewlines))', ttl=60).decode())\"")
        #expect(back.text == "from bulwark\n", "\(back.stderr)")
        chmod(cli.path("fernet.keys"), 0o644)
        #expect(try cli.bulwark(["fernet", "decrypt", "--key-file", cli.path("fernet.keys")], stdin: cli.path("token")).stderr.contains("insecure permissions"))
    }

    @Test("password hash and verify: exit 0 on match, 1 on mismatch, 2 on a malformed hash; 'rehash' when weaker")
    func passwords() throws {
        let cli = try CLIRunner()
        try "correct horse\n".write(toFile: cli.path("pw"), atomically: true, encoding: .utf8)
        try "wrong horse\n".write(toFile: cli.path("bad"), atomically: true, encoding: .utf8)
        let hashed = try cli.bulwark(["password", "hash", "--memory", "256", "--iterations", "1"], stdin: cli.path("pw"))
        let stored = hashed.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(hashed.status == 0 && stored.hasPrefix("$argon2id$v=19$m=256,t=1,p=1$"))
        let weaker = try cli.bulwark(["password", "verify", stored], stdin: cli.path("pw"))
        #expect(weaker.status == 0 && weaker.text == "rehash\n")
        let same = try cli.bulwark(["password", "verify", "--memory", "256", "--iterations", "1", stored], stdin: cli.path("pw"))
        #expect(same.status == 0 && same.text.isEmpty)
        #expect(try cli.bulwark(["password", "verify", stored], stdin: cli.path("bad")).status == 1)
        #expect(try cli.bulwark(["password", "verify", String(stored.dropLast(10))], stdin: cli.path("pw")).status == 2)
        #expect(try cli.bulwark(["password", "verify", "$2b$99$abc"], stdin: cli.path("pw")).status == 2)
        let bcrypt = try cli.bulwark(["password", "hash", "--algorithm", "bcrypt", "--cost", "4"], stdin: cli.path("pw"))
        #expect(bcrypt.text.hasPrefix("$2b$04$"))
        try String(repeating: "x", count: 100).write(toFile: cli.path("long"), atomically: true, encoding: .utf8)
        let refused = try cli.bulwark(["password", "hash", "--algorithm", "bcrypt", "--cost", "4"], stdin: cli.path("long"))
        #expect(refused.status == 1 && refused.stderr.contains("72 bytes"))
        let django = try cli.bulwark(["password", "hash", "--algorithm", "pbkdf2-sha256"], stdin: cli.path("pw"))
        #expect(django.text.hasPrefix("pbkdf2_sha256$600000$"))
        // A pepper from the keystore.
        try cli.bulwark(["keys", "create", "pepper", "--type", "hmac-sha256"])
        let peppered = try cli.bulwark(["password", "hash", "--memory", "256", "--iterations", "1", "--pepper", "pepper"], stdin: cli.path("pw"))
        let pepperedHash = peppered.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pepperedHash.hasPrefix("$pepper$"))
        #expect(try cli.bulwark(["password", "verify", "--memory", "256", "--iterations", "1", "--pepper", "pepper", pepperedHash], stdin: cli.path("pw")).status == 0)
    }

    @Test("redact: a streaming filter with the log handler's detectors; --config and --pseudonym-key")
    func redact() throws {
        let cli = try CLIRunner()
        var log = ""
        for index in 0..<40_000 {
            log += "2026-11-26T14:28:\(index % 60)Z order=\(100_000 + index) card=4111 1111 1111 1111 user=jane\(index)@example.com password=pw\(index)\n"
        }
        log += "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\ntail line"
        try log.write(toFile: cli.path("app.log"), atomically: true, encoding: .utf8)
        let result = try cli.bulwark(["redact"], stdin: cli.path("app.log"))
        #expect(result.status == 0)
        let text = result.text
        #expect(!text.contains("card=4111") && !text.contains("@example.com") && !text.contains("pw1") && !text.contains("MIIBOg"))
        #expect(text.components(separatedBy: "[PAN …1111]").count == 40_001)
        #expect(text.contains("order=100000 ") && text.contains("order=139999 ") && text.hasSuffix("[PRIVATE KEY]\ntail line"))
        #expect(text.split(separator: "\n").count == log.split(separator: "\n").count - 2)
        try #"{"kinds": ["email"], "email": "mask-local-part"}"#.write(toFile: cli.path("redact.json"), atomically: true, encoding: .utf8)
        let configured = try cli.bulwark(["redact", "--config", cli.path("redact.json"), cli.path("app.log"), cli.path("out.log")])
        #expect(configured.status == 0)
        let out = try String(contentsOfFile: cli.path("out.log"), encoding: .utf8)
        #expect(out.contains("4111 1111 1111 1111") && out.contains("j***@example.com") && !out.contains("jane1@"))
        try cli.bulwark(["keys", "create", "pseudo", "--type", "hmac-sha256"])
        try "pay 4111111111111111\npay 4111-1111-1111-1111\n".write(toFile: cli.path("two"), atomically: true, encoding: .utf8)
        let pseudonymous = try cli.bulwark(["redact", "--pseudonym-key", "pseudo"], stdin: cli.path("two")).text.split(separator: "\n")
        #expect(pseudonymous.count == 2 && pseudonymous[0] == pseudonymous[1] && pseudonymous[0].contains("psd1_"))
        try "not json".write(toFile: cli.path("bad.json"), atomically: true, encoding: .utf8)
        #expect(try cli.bulwark(["redact", "--config", cli.path("bad.json")], stdin: cli.path("two")).status == 1)
    }

    @Test("subject erase destroys the subject's key and says so")
    func subjectErase() throws {
        let cli = try CLIRunner()
        let first = try cli.bulwark(["subject", "erase", "customer-17"])
        #expect(first.status == 0 && first.text.contains("erased subject 'customer-17'"))
        #expect(try cli.bulwark(["keys", "show", "subject.customer-17"]).text.contains("v1  destroyed"))
        #expect(try cli.bulwark(["subject", "erase", "bad/id"]).status == 1)
        // Every erasure (and the refused one) is in a hash-chained log, the subject id as a keyed hash.
        let log = try String(contentsOfFile: cli.home + "/erasure-audit.log", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 4 && log.contains("subject-erase") && log.contains("\"versions_destroyed\":1"))
        #expect(!log.contains("customer-17") && !log.contains("bad/id"))
        #expect(try cli.bulwark(["audit", "verify", cli.home + "/erasure-audit.log"]).text.contains("intact: 4 lines"))
        // It cannot be undone: the subject stays erased, and a second erasure destroys nothing more.
        #expect(try cli.bulwark(["subject", "erase", "customer-17"]).text.contains("0 key version(s) destroyed"))
    }

    @Test("benchmark --json prints one object a line with the documented cases")
    func benchmark() throws {
        let cli = try CLIRunner()
        let result = try cli.bulwark(["benchmark", "--json", "--seconds", "0.05", "--stream-mib", "4"])
        #expect(result.status == 0)
        let objects = try result.text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let cases = Set(objects.map { "\($0["algorithm"] ?? "")/\($0["case"] ?? "")" })
        for expected in ["aes256-gcm/field-roundtrip-32B", "aes256-gcm/stream-encrypt", "aes256-gcm/stream-decrypt",
                         "chacha20-poly1305/field-roundtrip-32B", "chacha20-poly1305/stream-decrypt"] {
            #expect(cases.contains(expected))
        }
        #expect(objects.allSatisfy { (($0["value"] as? Double) ?? 0) > 0 })
    }
}
