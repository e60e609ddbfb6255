#!/usr/bin/env python3
"""`bulwark operator backup` and `restore`, against real peers.

Usage: backup_interop.py BULWARK_BINARY

- A Shamir-sealed store serves keys, a policy, a token and a tokenisation vault; a backup is
  taken while encrypt traffic runs (hvac, a thread).
- The `age` command opens the backup with either recipient's identity (binary and armored): the
  header is Bulwark's, and no plaintext, key or token appears in it (entries stay sealed).
- The backup restores into an empty store; a server there, unsealed with the first store's
  shares (and pinned to its seal id), decrypts every ciphertext made before the backup and
  detokenises every token; the policy and the token still work.
- One flipped byte anywhere sampled (header, stanza, payload, last chunk), a cut-off file, a
  wrong identity and a non-empty target are refused, and the target is left empty.
Prints the backup and restore times.
"""
import base64
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import hvac

from bulwark_nodes import ROOT, Bulwark, Node, wait_until
from policy_oracle import Server, check

BIN = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="bulwark-backup-")
B = Bulwark(BIN, WORK)
os.makedirs(os.path.join(WORK, "db"))
source = os.path.join(WORK, "db", "source.db")
_, shares, seal_id = B.init(source, ["--key-shares", "3", "--key-threshold", "2"])
log = os.path.join(WORK, "server.log")


def unseal(node):
    client = hvac.Client(url=node.url, verify=B.ca)
    client.sys.submit_unseal_keys([base64.b64encode(s).decode() for s in shares[:2]])
    raw = Server("bulwark", node.url, ROOT, ca=B.ca)
    wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed")
    return hvac.Client(url=node.url, token=ROOT, verify=B.ca), raw


def entries(database):
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT count(*) FROM bulwark_entries").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()


# --- a store with keys, a policy, a token and tokens of the vault ---------------------------------
node = Node(B, source, seal_id, log).start()
client, raw = unseal(node)
secrets = {}
for key in ("orders", "patients"):
    client.secrets.transit.create_key(key)
    for index in range(20):
        plaintext = f"backup-secret-{key}-{index}".encode()
        ciphertext = client.secrets.transit.encrypt_data(key, base64.b64encode(plaintext).decode())["data"]["ciphertext"]
        secrets[(key, ciphertext)] = plaintext
client.secrets.transit.rotate_key("orders")
secrets[("orders", client.secrets.transit.encrypt_data("orders", base64.b64encode(b"after rotation").decode())["data"]["ciphertext"])] = b"after rotation"
client.sys.create_or_update_policy("decrypt-orders", 'path "transit/decrypt/orders" { capabilities = ["update"] }')
limited = client.auth.token.create(policies=["decrypt-orders"], ttl="24h")["auth"]["client_token"]
client.secrets.transform.create_or_update_tokenization_transformation(name="card-token", max_ttl=0, allowed_roles=["payments"])
client.secrets.transform.create_or_update_role(name="payments", transformations=["card-token"])
tokens = {}
for index in range(30):
    value = f"4111-1111-1111-{1000 + index}"
    tokens[client.secrets.transform.encode(role_name="payments", value=value, transformation="card-token")["data"]["encoded_value"]] = value

# Encrypt traffic while the backup is taken.
stop = threading.Event()
during = []


def traffic():
    background = hvac.Client(url=node.url, token=ROOT, verify=B.ca)
    while not stop.is_set():
        try:
            during.append(background.secrets.transit.encrypt_data("orders", base64.b64encode(b"under load").decode())["data"]["ciphertext"])
        except Exception:  # noqa: BLE001 - counted below
            during.append(None)


thread = threading.Thread(target=traffic)
thread.start()
time.sleep(0.3)
identities = []
for index in range(2):
    path = os.path.join(WORK, f"operator{index}.key")
    subprocess.run(["age-keygen", "-o", path], check=True, capture_output=True)
    identities.append((path, [line.split(": ", 1)[1].strip() for line in open(path) if line.startswith("# public key: ")][0]))
backup = os.path.join(WORK, "store.age")
started = time.monotonic()
result = B.run(["operator", "backup", "--storage", "sqlite:" + source, "--to", backup,
                "--recipient", identities[0][1], "--recipient", identities[1][1]])
backup_seconds = time.monotonic() - started
stop.set()
thread.join()
check(result.returncode == 0, f"operator backup: {result.stderr}")
check(len(during) > 5 and None not in during, f"encrypt traffic ran during the backup: {len(during)} calls, {during.count(None)} failed")
check(oct(os.stat(backup).st_mode & 0o777) == "0o600", "the backup file is mode 600")
armored = os.path.join(WORK, "store.age.asc")
check(B.run(["operator", "backup", "--storage", "sqlite:" + source, "--to", armored, "--recipient", identities[1][1], "--armor"]).returncode == 0,
      "armored backup")
check(node.stop() == 0, "stopped")
print(f"backup of {entries(source)} entries and {len(tokens)} tokens under load: {backup_seconds * 1000:.0f} ms")

# --- the age command opens it; nothing in it is readable ----------------------------------------
for file, (identity, _) in ((backup, identities[0]), (backup, identities[1]), (armored, identities[1])):
    opened = subprocess.run(["age", "-d", "-i", identity, file], capture_output=True)
    check(opened.returncode == 0, f"age -d {os.path.basename(file)}: {opened.stderr}")
    lines = opened.stdout.splitlines()
    check(lines[0].startswith(b'{"created":') and b'"format":"bulwark-store-backup"' in lines[0], f"header: {lines[0][:120]}")
    check(b'"end":true' in lines[-1], "trailer")
    body = opened.stdout
    for plaintext in list(secrets.values()) + [v.encode() for v in tokens.values()] + [limited.encode(), ROOT.encode()]:
        check(plaintext not in body and base64.b64encode(plaintext) not in body, "a plaintext, card number or token appears in the backup")
check(subprocess.run(["age", "-d", "-i", identities[0][0], armored], capture_output=True).returncode != 0,
      "the armored backup is for the second operator only")
print("age opens the backup with each recipient's identity; entries and tokens inside are sealed")

# --- refused: altered, cut off, wrong identity, non-empty target ---------------------------------
data = open(backup, "rb").read()
target = os.path.join(WORK, "db", "refused.db")
positions = [10, len(data) // 3, len(data) // 2, len(data) - 20, len(data) - 1]
header_end = data.index(b"\n---") + 5
positions += [header_end + 1, header_end + 40]
for position in positions:
    altered = bytearray(data)
    altered[position] ^= 0x01
    path = os.path.join(WORK, "altered.age")
    open(path, "wb").write(altered)
    result = B.run(["operator", "restore", "--storage", "sqlite:" + target, "--from", path, "--identity", identities[0][0]])
    check(result.returncode != 0 and "identity file" not in result.stderr, f"a byte flipped at {position} of {len(data)} is refused: {result.stderr}")
    check(entries(target) == 0, "nothing was restored from an altered backup")
for cut in (len(data) - 1, len(data) - 17, len(data) // 2, 200):
    path = os.path.join(WORK, "cut.age")
    open(path, "wb").write(data[:cut])
    result = B.run(["operator", "restore", "--storage", "sqlite:" + target, "--from", path, "--identity", identities[0][0]])
    check(result.returncode != 0 and "identity file" not in result.stderr and entries(target) == 0,
          f"a backup cut to {cut} bytes is refused, nothing restored: {result.stderr}")
stranger = os.path.join(WORK, "stranger.key")
subprocess.run(["age-keygen", "-o", stranger], check=True, capture_output=True)
result = B.run(["operator", "restore", "--storage", "sqlite:" + target, "--from", backup, "--identity", stranger])
check(result.returncode != 0 and entries(target) == 0, f"a wrong identity is refused: {result.stderr}")
result = B.run(["operator", "restore", "--storage", "sqlite:" + source, "--from", backup, "--identity", identities[0][0]])
check(result.returncode != 0 and "not empty" in result.stderr, f"a non-empty target is refused: {result.stderr}")
print(f"refused: {len(positions)} flipped bytes, 4 cut-off files, a wrong identity, a non-empty target; nothing half-restored")

# --- restore and serve -------------------------------------------------------------------------
restored = os.path.join(WORK, "db", "restored.db")
started = time.monotonic()
result = B.run(["operator", "restore", "--storage", "sqlite:" + restored, "--from", backup, "--identity", identities[1][0]])
restore_seconds = time.monotonic() - started
check(result.returncode == 0 and "all verified" in result.stdout, f"operator restore: {result.stdout} {result.stderr}")
print(f"restore: {restore_seconds * 1000:.0f} ms")
armored_target = os.path.join(WORK, "db", "restored-armored.db")
check(B.run(["operator", "restore", "--storage", "sqlite:" + armored_target, "--from", armored, "--identity", identities[1][0]]).returncode == 0,
      "the armored backup restores")
node = Node(B, restored, seal_id, log).start()
client, raw = unseal(node)
for (key, ciphertext), plaintext in secrets.items():
    check(base64.b64decode(client.secrets.transit.decrypt_data(key, ciphertext)["data"]["plaintext"]) == plaintext,
          f"{key}: a ciphertext made before the backup decrypts on the restored store")
for token, value in tokens.items():
    check(client.secrets.transform.decode(role_name="payments", value=token, transformation="card-token")["data"]["decoded_value"] == value,
          "a token made before the backup detokenises on the restored store")
status, _ = raw.call("POST", "transit/decrypt/orders", limited, {"ciphertext": next(c for (k, c) in secrets if k == "orders")})
check(status == 200, f"the token and its policy came back: {status}")
status, _ = raw.call("POST", "transit/decrypt/patients", limited, {"ciphertext": next(c for (k, c) in secrets if k == "patients")})
check(status == 403, f"and the policy still limits it: {status}")
check(node.stop() == 0, "stopped")
print(f"restored store: {len(secrets)} ciphertexts decrypt, {len(tokens)} tokens detokenise, the policy and token work")
print("all backup checks passed")
