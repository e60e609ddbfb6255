#!/usr/bin/env python3
"""The awskms seal of `bulwark server` (auto-unseal), against moto's KMS server and boto3.

Usage: awskms_interop.py BULWARK_BINARY

- `moto` (ThreadedMotoServer on 127.0.0.1) plays AWS KMS; boto3 makes the keys.
- `bulwark operator init --seal awskms` wraps the store's unseal key with KMS `Encrypt` and an
  encryption context binding the seal id: boto3 decrypts it with that context (and not with
  another), the unseal key opens the store's master key (Python `cryptography`), and the master
  key's HKDF is the printed seal id.
- The server unseals itself at start (time to the first served encrypt is printed); hvac
  encrypts and decrypts; seal-status says awskms; unseal shares and rekey are refused.
- `sys/seal` keeps it sealed until a restart, which unseals it again with earlier ciphertext
  readable.
- A disabled key, KMS unreachable, a record whose context was changed, and another KMS key keep
  the server sealed with a clear error in its output, retried: enabling the key or bringing KMS
  back unseals it with no restart.
- Init refuses a missing key, a non-empty store, and an unknown KMS key, writing nothing.
"""
import atexit
import base64
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import boto3
import hvac
import pyshamir
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from moto.server import ThreadedMotoServer

from bulwark_nodes import ROOT, Bulwark, Node, wait_until
from policy_oracle import Server, check

BIN = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="bulwark-awskms-")
B = Bulwark(BIN, WORK)

moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
moto.start()
_, MOTO_PORT = moto.get_host_and_port()
ENDPOINT = f"http://127.0.0.1:{MOTO_PORT}"
AWS = {"AWS_ACCESS_KEY_ID": "AKIDBULWARKTEST", "AWS_SECRET_ACCESS_KEY": "bulwark-test-secret", "AWS_REGION": "eu-west-1",
       "AWS_KMS_ENDPOINT": ENDPOINT}
kms = boto3.client("kms", endpoint_url=ENDPOINT, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
KEY = kms.create_key(Description="bulwark seal")["KeyMetadata"]["KeyId"]
OTHER_KEY = kms.create_key(Description="another key")["KeyMetadata"]["KeyId"]
B.env.update(AWS)


def init(database, *extra):
    return B.run(["operator", "init", "--storage", "sqlite:" + database, "--root-token", ROOT, "--seal", "awskms"] + list(extra))


def seal_record(database):
    connection = sqlite3.connect(database)
    (value,) = connection.execute("SELECT value FROM bulwark_entries WHERE path = 'sys/seal-config'").fetchone()
    connection.close()
    return json.loads(bytes(value))


def write_record(database, record):
    connection = sqlite3.connect(database)
    connection.execute("UPDATE bulwark_entries SET value = ? WHERE path = 'sys/seal-config'",
                       (json.dumps(record, sort_keys=True, separators=(",", ":")).encode(),))
    connection.commit()
    connection.close()


# --- init ---------------------------------------------------------------------------------------
database = os.path.join(WORK, "store.db")
missing = B.run(["operator", "init", "--storage", "sqlite:" + database, "--seal", "awskms"])
check(missing.returncode != 0 and "--kms-key-id" in missing.stderr, f"init without a KMS key is refused: {missing.stderr.strip()}")
unknown = init(database, "--kms-key-id", "00000000-0000-0000-0000-000000000000")
check(unknown.returncode != 0 and "NotFoundException" in unknown.stderr, f"init with an unknown KMS key is refused: {unknown.stderr.strip()}")
check(not os.path.exists(database) or sqlite3.connect(database).execute(
    "SELECT count(*) FROM bulwark_entries").fetchone()[0] == 0, "a refused init writes nothing")
plain = B.run(["operator", "init", "--storage", "sqlite:" + database, "--seal", "awskms", "--kms-key-id", KEY],
              extra={"AWS_KMS_ENDPOINT": "http://kms.example.com"})
check(plain.returncode != 0 and "https" in plain.stderr, f"a plain-http KMS endpoint off this machine is refused: {plain.stderr.strip()}")
shares_given = init(database, "--kms-key-id", KEY, "--key-shares", "3")
check(shares_given.returncode != 0 and "no unseal key shares" in shares_given.stderr, "an awskms seal with --key-shares is refused")
done = init(database, "--kms-key-id", KEY)
check(done.returncode == 0, f"operator init --seal awskms: {done.stderr}")
check("Unseal Key" not in done.stdout, "an awskms init prints no unseal key shares")
RECOVERY = [base64.b64decode(line.split(": ", 1)[1]) for line in done.stdout.splitlines() if line.startswith("Recovery Key ")]
check(len(RECOVERY) == 5 and all(len(share) == 33 for share in RECOVERY), "it prints 5 recovery key shares (Vault's format)")
SEAL_ID = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("Seal ID: ")][0]
again = init(database, "--kms-key-id", KEY)
check(again.returncode != 0 and "not empty" in again.stderr, "init of an initialised store is refused")

# --- boto3 opens what Bulwark wrapped, with its context only -----------------------------------
record = seal_record(database)
check(record["type"] == "awskms" and record["n"] == 5 and record["t"] == 3, f"the seal record says awskms, 3 of 5 recovery shares: {sorted(record)}")
check(record["seal_id"] == SEAL_ID, "the record binds the printed seal id")
check(record["wrapping_key_id"] == kms.describe_key(KeyId=KEY)["KeyMetadata"]["Arn"], "the record names the KMS key by its ARN")
context = {"bulwark_seal": "v1", "seal_id": SEAL_ID}
blob = base64.b64decode(record["wrapped_unseal_key"])
answer = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context, KeyId=KEY)
unseal_key = answer["Plaintext"]
check(len(unseal_key) == 32 and answer["KeyId"].endswith(KEY), "boto3 decrypts the wrapped unseal key with the seal's context and key")
for wrong in ({"bulwark_seal": "v1", "seal_id": "0" * 32}, {"bulwark_seal": "v1"}, {}):
    try:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        check(False, f"KMS decrypts with the context {wrong}")
    except ClientError as error:
        check(error.response["Error"]["Code"] == "InvalidCiphertextException", f"KMS refuses the context {wrong}")
wrapped = base64.b64decode(record["wrapped_key"])
master = AESGCM(unseal_key).decrypt(wrapped[:12], wrapped[12:], b"bulwark seal v1 awskms n=1 t=1")
derived = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"bulwark seal id v1").derive(master)
check(derived.hex() == SEAL_ID, "the unwrapped master key's HKDF is the seal id (Python cryptography)")
# pyshamir (Vault's algorithm) combines any 3 recovery shares into the key that opens the record's
# recovery check; 2 do not. The recovery key opens nothing else.
check_box = base64.b64decode(record["recovery_check"])
check_context = f"bulwark recovery v1 awskms n=5 t=3 seal_id={SEAL_ID}".encode()
recovery_key = bytes(pyshamir.combine([bytearray(s) for s in RECOVERY[1:4]]))
check(AESGCM(recovery_key).decrypt(check_box[:12], check_box[12:], check_context) == b"bulwark recovery check",
      "pyshamir combines 3 recovery shares into the key that opens the recovery check")
try:
    AESGCM(bytes(pyshamir.combine([bytearray(s) for s in RECOVERY[:2]]))).decrypt(check_box[:12], check_box[12:], check_context)
    check(False, "2 recovery shares open the check")
except Exception:
    check(True, "2 recovery shares do not")
try:
    AESGCM(recovery_key).decrypt(wrapped[:12], wrapped[12:], b"bulwark seal v1 awskms n=1 t=1")
    check(False, "the recovery key opens the master key")
except Exception:
    check(True, "the recovery key does not open the master key (it cannot unseal)")

# --- the server unseals itself -----------------------------------------------------------------
LOG = os.path.join(WORK, "server.log")
node = Node(B, database, SEAL_ID, LOG)
# A failed check exits the script: never leave a server behind.
atexit.register(lambda: node.process is not None and node.process.poll() is None and node.process.kill())
# The key comes from the server's configuration, never from the store's record.
unconfigured = subprocess.run(
    [BIN, "server", "--storage", "sqlite:" + database, "--listen", f"127.0.0.1:{node.port}", "--tls-cert", B.certs + "/cert.pem",
     "--tls-key", B.certs + "/key.pem", "--seal-id", SEAL_ID], env=B.env, capture_output=True, text=True, timeout=60)
check(unconfigured.returncode != 0 and "needs its KMS key" in unconfigured.stderr and record["wrapping_key_id"] in unconfigured.stderr,
      f"a server with no KMS key configured is refused, naming the store's key: {unconfigured.stderr.strip()}")
node.extra_env = {"BULWARK_AWSKMS_KEY_ID": KEY}
started = time.time()
node.start()
client = hvac.Client(url=node.url, token=ROOT, verify=B.ca)


def encrypt_once():
    try:
        return client.secrets.transit.encrypt_data("orders", base64.b64encode(b"first").decode())["data"]["ciphertext"]
    except Exception:
        return None


ciphertext = None
while time.time() - started < 30 and ciphertext is None:
    ciphertext = encrypt_once()
    if ciphertext is None:
        time.sleep(0.05)
check(ciphertext is not None, "the server unsealed itself through KMS and serves")
print(f"start to first served encrypt (awskms auto-unseal, moto on loopback): {time.time() - started:.2f} s")
raw = Server("bulwark", node.url, ROOT, ca=B.ca)
status, text = raw.call("GET", "sys/seal-status")
body = json.loads(text)
check(status == 200 and body["type"] == "awskms" and body["sealed"] is False and body["recovery_seal"] is True
      and body["n"] == 5 and body["t"] == 3, f"seal-status (recovery counts, as Vault): {text}")
status, text = raw.call("PUT", "sys/unseal", body={"key": base64.b64encode(os.urandom(33)).decode()})
check(status == 200, "unseal on an unsealed server answers the status (as Vault)")
status, text = raw.call("POST", "sys/rotate/root/init", ROOT, {"secret_shares": 3, "secret_threshold": 2})
check(status == 400 and "no unseal key shares" in text, f"an unseal key rotation is refused on an awskms store: {status} {text}")

# --- sys/seal keeps it sealed until a restart -------------------------------------------------
client.sys.seal()
time.sleep(3)
status, text = raw.call("GET", "sys/seal-status")
check(json.loads(text)["sealed"] is True, "sys/seal: sealed, and it does not unseal itself again")
status, text = raw.call("PUT", "sys/unseal", body={"key": base64.b64encode(os.urandom(33)).decode()})
check(status == 400 and "takes no key shares" in text, f"shares are refused by an awskms store: {status} {text}")
rc = node.stop()
check(rc == 0, f"SIGTERM stops the sealed server ({rc}): " + open(LOG, errors="replace").read()[-1500:])
node.start()
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "a restart unseals through KMS (the full service answers)", 20)
plain = client.secrets.transit.decrypt_data("orders", ciphertext)["data"]["plaintext"]
check(base64.b64decode(plain) == b"first", "the ciphertext made before the seal decrypts")
check(node.stop() == 0, "SIGTERM stops the unsealed server")


def sealed_with(reason, what, recover=None, seconds=20):
    """Starts the server, expects it sealed with `reason` in its output, then runs `recover` and
    expects it to unseal with no restart (or stops it)."""
    open(LOG, "w").close()
    node.start()
    wait_until(lambda: reason in open(LOG, errors="replace").read(), f"{what}: the server says why ({reason})", seconds)
    status, text = raw.call("GET", "sys/seal-status")
    check(json.loads(text)["sealed"] is True, f"{what}: the server stays sealed")
    status, _ = raw.call("POST", "transit/encrypt/orders", ROOT, {"plaintext": "aGk="})
    check(status == 503, f"{what}: requests answer 503")
    if recover:
        recover()
        wait_until(lambda: json.loads(raw.call("GET", "sys/seal-status")[1])["sealed"] is False,
                   f"{what}: fixed, the server unseals itself on its next try (no restart)", 40)
        # The sealed listener hands over to the full service (a few hundred ms): 503 until then.
        wait_until(lambda: encrypt_once() is not None, f"{what}: and serves", 20)
    check(node.stop() == 0, f"{what}: SIGTERM stops it")


# A disabled key: sealed until it is enabled again.
kms.disable_key(KeyId=KEY)
sealed_with("disabled", "a disabled KMS key", recover=lambda: kms.enable_key(KeyId=KEY))

# KMS unreachable: sealed until it answers again (moto restarted on the same port, same keys).
moto.stop()
moto_again = ThreadedMotoServer(ip_address="127.0.0.1", port=MOTO_PORT, verbose=False)
holder = {}
sealed_with("cannot be reached", "KMS unreachable", recover=lambda: (moto_again.start(), holder.update(up=True)))

# The record's context changed (someone with the database): KMS refuses, the server stays sealed.
original = seal_record(database)
changed = dict(original, seal_id="0" * 32)
write_record(database, changed)
open(LOG, "w").close()
node.seal_id = "0" * 32
sealed_with("InvalidCiphertextException", "a record whose encryption context was changed")
write_record(database, original)
node.seal_id = SEAL_ID

# Another KMS key configured than the one that wrapped the store.
node.extra_env = {"BULWARK_AWSKMS_KEY_ID": OTHER_KEY}
sealed_with("but this store was sealed by", "another KMS key configured")
node.extra_env = {"BULWARK_AWSKMS_KEY_ID": KEY}

# Another seal id than the store's: refused before anything is served.
node.seal_id = "f" * 32
sealed_with("another seal id", "a server given another seal id")
node.seal_id = SEAL_ID

node.start()
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "back to normal: unsealed", 20)

# A new root token from a quorum of recovery shares (the unseal key stays in KMS's custody).
P = "sys/generate-root-token"
started = json.loads(raw.call("POST", P + "/attempt", ROOT, {})[1])["data"]
check(started["required"] == 3 and started["otp"], "root generation on an awskms store needs 3 recovery shares")
fake = [bytes(os.urandom(32)) + bytes([x]) for x in (7, 8, 9)]
for share in fake[:2]:
    raw.call("POST", P + "/update", ROOT, {"key": share.hex(), "nonce": started["nonce"]})
status, text = raw.call("POST", P + "/update", ROOT, {"key": fake[2].hex(), "nonce": started["nonce"]})
check(status == 400 and "recovery" in text, f"shares that are not the recovery key are refused: {status} {text}")
for share in RECOVERY[2:4]:
    raw.call("POST", P + "/update", ROOT, {"key": base64.b64encode(share).decode(), "nonce": started["nonce"]})
status, text = raw.call("POST", P + "/update", ROOT, {"key": RECOVERY[0].hex(), "nonce": started["nonce"]})
done_root = json.loads(text)["data"]
check(status == 200 and done_root["complete"], f"3 recovery shares complete it: {status}")
encoded = base64.b64decode(done_root["encoded_token"] + "=" * (-len(done_root["encoded_token"]) % 4))
new_root = bytes(a ^ b for a, b in zip(encoded, started["otp"].encode())).decode()
check(raw.call("GET", "auth/token/lookup-self", new_root)[0] == 200, "the decoded token is the new root token")
check(raw.call("GET", "auth/token/lookup-self", ROOT)[0] == 403, "the former root token no longer works")
check(node.stop() == 0, "stopped")

# No key material in the server's output.
output = open(LOG, "rb").read()
for secret in (unseal_key, master):
    for encoded in (secret.hex().encode(), base64.b64encode(secret)):
        check(encoded not in output, "no unseal or master key bytes in the server's output")
moto_again.stop()
print("all awskms seal checks passed")
