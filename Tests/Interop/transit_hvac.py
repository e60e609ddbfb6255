#!/usr/bin/env python3
"""Drives `bulwark server` with hvac, HashiCorp's Python Vault client, through the Transit flow.

Usage: transit_hvac.py URL TOKEN CA_FILE. Exits non-zero on the first failed check.
"""
import base64
import sys

import hvac

url, token, ca = sys.argv[1:4]
client = hvac.Client(url=url, token=token, verify=ca)
transit = client.secrets.transit


def b64(s):
    return base64.b64encode(s).decode()


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


transit.create_key(name="orders")
transit.create_key(name="signer", key_type="ed25519")
# This hvac version's create_key only knows encryption and signing types; Vault's "hmac" key type
# goes through the client's generic request path.
client.adapter.post("/v1/transit/keys/macs", json={"type": "hmac"})
# hvac's list_keys sends Vault's LIST verb; GET ?list=true is the other spelling.
def list_keys():
    return transit.list_keys()["data"]["keys"]


check("orders" in list_keys(), "list keys (LIST)")
check("orders" in client.adapter.get("/v1/transit/keys", params={"list": "true"})["data"]["keys"], "list keys (GET ?list=true)")
client.adapter.post("/v1/transit/keys/small", json={"type": "aes128-gcm96"})  # hvac validates types client-side
small = transit.encrypt_data(name="small", plaintext=b64(b"short"))["data"]["ciphertext"]
check(base64.b64decode(transit.decrypt_data(name="small", ciphertext=small)["data"]["plaintext"]) == b"short", "aes128-gcm96")
info = transit.read_key(name="orders")["data"]
check(info["type"] == "aes256-gcm96" and info["latest_version"] == 1, "read key")

ct = transit.encrypt_data(name="orders", plaintext=b64(b"card 4111"))["data"]["ciphertext"]
check(ct.startswith("vault:v1:"), "encrypt gives vault:v1:")
pt = transit.decrypt_data(name="orders", ciphertext=ct)["data"]["plaintext"]
check(base64.b64decode(pt) == b"card 4111", "decrypt")

ad = b64(b"orders.row=7")
ct_ad = transit.encrypt_data(name="orders", plaintext=b64(b"bound"), associated_data=ad)["data"]["ciphertext"]
check(base64.b64decode(transit.decrypt_data(name="orders", ciphertext=ct_ad, associated_data=ad)["data"]["plaintext"]) == b"bound", "associated data")
try:
    transit.decrypt_data(name="orders", ciphertext=ct_ad, associated_data=b64(b"orders.row=8"))
    check(False, "wrong associated data refused")
except hvac.exceptions.InvalidRequest:
    check(True, "wrong associated data refused")

transit.rotate_key(name="orders")
check(transit.read_key(name="orders")["data"]["latest_version"] == 2, "rotate")
rewrapped = transit.rewrap_data(name="orders", ciphertext=ct)["data"]["ciphertext"]
check(rewrapped.startswith("vault:v2:"), "rewrap to v2")
check(base64.b64decode(transit.decrypt_data(name="orders", ciphertext=rewrapped)["data"]["plaintext"]) == b"card 4111", "decrypt rewrapped")
check(base64.b64decode(transit.decrypt_data(name="orders", ciphertext=ct)["data"]["plaintext"]) == b"card 4111", "old version still decrypts")

dk = transit.generate_data_key(name="orders", key_type="plaintext", bits=256)["data"]
check(len(base64.b64decode(dk["plaintext"])) == 32, "datakey plaintext")
check(base64.b64decode(transit.decrypt_data(name="orders", ciphertext=dk["ciphertext"])["data"]["plaintext"]) == base64.b64decode(dk["plaintext"]), "datakey unwraps")
wrapped = transit.generate_data_key(name="orders", key_type="wrapped")["data"]
check("plaintext" not in wrapped and wrapped["ciphertext"].startswith("vault:v2:"), "datakey wrapped")

mac = transit.generate_hmac(name="macs", hash_input=b64(b"message"))["data"]["hmac"]
check(transit.verify_signed_data(name="macs", hash_input=b64(b"message"), hmac=mac)["data"]["valid"], "hmac verifies")
check(not transit.verify_signed_data(name="macs", hash_input=b64(b"messagE"), hmac=mac)["data"]["valid"], "hmac mismatch")
sig = transit.sign_data(name="signer", hash_input=b64(b"contract"))["data"]["signature"]
check(transit.verify_signed_data(name="signer", hash_input=b64(b"contract"), signature=sig)["data"]["valid"], "signature verifies")
check(not transit.verify_signed_data(name="signer", hash_input=b64(b"contracT"), signature=sig)["data"]["valid"], "signature mismatch")

batch = transit.encrypt_data(name="orders", batch_input=[{"plaintext": b64(b"a")}, {"plaintext": "%%%"}])["data"]["batch_results"]
check(batch[0]["ciphertext"].startswith("vault:v2:") and "error" in batch[1], "batch with per-item errors")

try:
    transit.delete_key(name="orders")
    check(False, "delete refused without deletion_allowed")
except hvac.exceptions.InvalidRequest:
    check(True, "delete refused without deletion_allowed")
transit.update_key_configuration(name="orders", deletion_allowed=True, min_decryption_version=2)
try:
    transit.decrypt_data(name="orders", ciphertext=ct)
    check(False, "min_decryption_version retires v1")
except hvac.exceptions.InvalidRequest:
    check(True, "min_decryption_version retires v1")
transit.rotate_key(name="orders")
transit.update_key_configuration(name="orders", min_decryption_version=3)
transit.trim_key(name="orders", min_version=2)
check(sorted(transit.read_key(name="orders")["data"]["keys"].keys()) == ["2", "3"], "trim")
try:
    client.adapter.post("/v1/transit/encrypt/orders", json={"plaintext": b64(b"x"), "plaintxt": "typo"})
    check(False, "unknown field refused")
except hvac.exceptions.InvalidRequest as error:
    check("plaintxt" in str(error), "unknown field refused")
try:
    transit.encrypt_data(name="orders", plaintext=b64(b"x"), nonce=b64(b"123456789012"))
    check(False, "caller nonce refused")
except hvac.exceptions.InvalidRequest:
    check(True, "caller nonce refused")
transit.delete_key(name="orders")
check("orders" not in list_keys(), "deleted")

bad = hvac.Client(url=url, token="wrong-token", verify=ca)
try:
    bad.secrets.transit.encrypt_data(name="x", plaintext=b64(b"x"))
    check(False, "bad token refused")
except hvac.exceptions.Forbidden:
    check(True, "bad token refused")
print("all hvac checks passed")
