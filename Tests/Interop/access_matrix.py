#!/usr/bin/env python3
"""Access matrix for `bulwark server`: every endpoint with no token, a bad token, a token whose
policy lacks the capability, and a token whose policy grants it. Only the last may succeed.

Usage: access_matrix.py URL ROOT_TOKEN CA_FILE
"""
import base64
import sys

import hvac
import requests

url, root, ca = sys.argv[1:4]
admin = hvac.Client(url=url, token=root, verify=ca)
b64 = lambda b: base64.b64encode(b).decode()

# Fixtures made with the root token.
admin.adapter.post("/v1/transit/keys/k", json={})
admin.adapter.post("/v1/transit/keys/m", json={"type": "hmac"})
admin.adapter.post("/v1/transit/keys/s", json={"type": "ed25519"})
admin.adapter.post("/v1/transit/keys/gone", json={})
admin.adapter.post("/v1/transit/keys/open", json={"exportable": True})
admin.adapter.post("/v1/transit/keys/soft", json={})
admin.adapter.post("/v1/transit/keys/gone/config", json={"deletion_allowed": True})
ct = admin.secrets.transit.encrypt_data(name="k", plaintext=b64(b"x"))["data"]["ciphertext"]
mac = admin.secrets.transit.generate_hmac(name="m", hash_input=b64(b"x"))["data"]["hmac"]

# (method, path, json body, policy path, capability that grants it, capability that does not)
cases = [
    # As OpenBao decides (Tests/Interop/policy_oracle.py): writing a new key needs update, not
    # create; only an encrypt that creates its key needs create (last case below).
    ("POST", "transit/keys/new1", {}, "transit/keys/new1", "update", "create"),
    ("GET", "transit/keys/k", None, "transit/keys/k", "read", "update"),
    ("GET", "transit/keys?list=true", None, "transit/keys", "list", "read"),
    ("POST", "transit/keys/k/config", {"auto_rotate_period": "24h"}, "transit/keys/k/config", "update", "read"),
    ("POST", "transit/keys/k/rotate", {}, "transit/keys/+/rotate", "update", "create"),
    ("POST", "transit/encrypt/k", {"plaintext": b64(b"x")}, "transit/encrypt/k", "update", "read"),
    ("POST", "transit/decrypt/k", {"ciphertext": ct}, "transit/decrypt/*", "update", "read"),
    ("POST", "transit/rewrap/k", {"ciphertext": ct}, "transit/rewrap/k", "update", "list"),
    ("POST", "transit/datakey/plaintext/k", {}, "transit/datakey/plaintext/k", "update", "read"),
    ("POST", "transit/hmac/m", {"input": b64(b"x")}, "transit/hmac/m", "update", "read"),
    ("POST", "transit/verify/m", {"input": b64(b"x"), "hmac": mac}, "transit/verify/m", "update", "read"),
    ("POST", "transit/sign/s", {"input": b64(b"x")}, "transit/sign/s", "update", "read"),
    ("POST", "transit/random", {"bytes": 8}, "transit/random", "update", "read"),
    ("POST", "transit/hash", {"input": b64(b"x")}, "transit/hash", "update", "read"),
    ("DELETE", "transit/keys/gone", None, "transit/keys/gone", "delete", "update"),
    # OpenBao's soft-delete is a delete of its own path; restoring it an update.
    ("DELETE", "transit/keys/soft/soft-delete", None, "transit/keys/soft/soft-delete", "delete", "update"),
    ("POST", "transit/keys/soft/soft-delete-restore", {}, "transit/keys/soft/soft-delete-restore", "update", "delete"),
    # Export is a read of its own path: a read of the key's metadata does not grant it.
    ("GET", "transit/export/hmac-key/open", None, "transit/export/hmac-key/open", "read", "update"),
    ("GET", "transit/export/encryption-key/open/1", None, "transit/export/+/open/*", "read", "list"),
    ("PUT", "sys/policy/p1", {"policy": 'path "x" { capabilities = ["read"] }'}, "sys/policy/p1", "update", "read"),
    ("GET", "sys/policy/p1", None, "sys/policy/p1", "read", "update"),
    ("POST", "auth/token/create", {"policies": []}, "auth/token/create", "update", "read"),
    ("POST", "transit/encrypt/new2", {"plaintext": b64(b"x")}, "transit/encrypt/new2", "create", "update"),
]

failures = 0
for index, (method, path, body, policy_path, grant, other) in enumerate(cases):
    admin.sys.create_or_update_policy(name=f"yes{index}", policy=f'path "{policy_path}" {{ capabilities = ["{grant}"] }}')
    admin.sys.create_or_update_policy(
        name=f"no{index}",
        policy=f'path "{policy_path}" {{ capabilities = ["{other}"] }}\npath "transit/encrypt/elsewhere" {{ capabilities = ["update"] }}')
    yes = admin.auth.token.create(policies=[f"yes{index}"], ttl="1h")["auth"]["client_token"]
    no = admin.auth.token.create(policies=[f"no{index}"], ttl="1h")["auth"]["client_token"]
    for label, token, want in [("no token", None, False), ("bad token", "bwt.nope", False), ("without capability", no, False), ("with capability", yes, True)]:
        headers = {"X-Vault-Token": token} if token else {}
        response = requests.request(method, f"{url}/v1/{path}", json=body, headers=headers, verify=ca)
        ok = 200 <= response.status_code < 300
        if ok != want:
            failures += 1
            print(f"FAILED {method} {path} {label}: {response.status_code} {response.text[:200]}", file=sys.stderr)
    print(f"ok: {method} {path}")

# Tokens: lookup-self, TTL, revocation.
token = admin.auth.token.create(policies=["yes5"], ttl="1h")["auth"]["client_token"]
user = hvac.Client(url=url, token=token, verify=ca)
info = user.auth.token.lookup_self()["data"]
assert info["policies"] == ["yes5"] and 3500 < info["ttl"] <= 3600, info
user.secrets.transit.encrypt_data(name="k", plaintext=b64(b"y"))
admin.auth.token.revoke(token=token)
try:
    user.secrets.transit.encrypt_data(name="k", plaintext=b64(b"y"))
    failures += 1
    print("FAILED: revoked token still works", file=sys.stderr)
except hvac.exceptions.Forbidden:
    print("ok: revoked token refused")
# An expired token is refused.
import time
short = hvac.Client(url=url, token=admin.auth.token.create(policies=["yes5"], ttl="1s")["auth"]["client_token"], verify=ca)
time.sleep(1.5)
try:
    short.secrets.transit.encrypt_data(name="k", plaintext=b64(b"y"))
    failures += 1
    print("FAILED: expired token still works", file=sys.stderr)
except hvac.exceptions.Forbidden:
    print("ok: expired token refused")
# A token cannot mint tokens with policies it does not hold.
minter = hvac.Client(url=url, token=admin.auth.token.create(policies=["yes17"], ttl="1h")["auth"]["client_token"], verify=ca)
try:
    minter.auth.token.create(policies=["yes5"])
    failures += 1
    print("FAILED: escalation through token create", file=sys.stderr)
except hvac.exceptions.Forbidden:
    print("ok: no escalation through token create")
if failures:
    sys.exit(1)
print("access matrix passed")
