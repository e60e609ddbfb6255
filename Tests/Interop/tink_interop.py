#!/usr/bin/env python3
"""Python Tink (the `tink` package) as the peer of Bulwark's TinkKeyset.

  tink_interop.py make FILE    writes, per key template, a cleartext JSON keyset of two keys (the
                               second the primary) and what Tink made with each key: ciphertexts,
                               deterministic ciphertexts, tags, signatures, hybrid ciphertexts;
                               plus an encrypted keyset under a key-encryption keyset.
  tink_interop.py check FILE   reads what Bulwark wrote (keysets, written back or generated, and
                               what Bulwark made with them) and verifies it all with Tink; prints
                               "ok <case>" per case and exits non-zero on the first failure.
"""
import base64
import json
import sys

import tink
from tink import aead, daead, hybrid, mac, secret_key_access, signature
from tink.proto import tink_pb2

aead.register()
daead.register()
mac.register()
signature.register()
hybrid.register()

b64 = lambda data: base64.b64encode(data).decode()
unb64 = lambda text: base64.b64decode(text)
PLAINTEXT = b"card 4111 1111 1111 1111"
AD = b"table=cards;row=7"

TEMPLATES = {
    "AES256_GCM": ("aead", aead.aead_key_templates.AES256_GCM),
    "AES128_GCM_RAW": ("aead", aead.aead_key_templates.AES128_GCM_RAW),
    "AES256_SIV": ("daead", daead.deterministic_aead_key_templates.AES256_SIV),
    "HMAC_SHA256_256BITTAG": ("mac", mac.mac_key_templates.HMAC_SHA256_256BITTAG),
    "HMAC_SHA512_256BITTAG": ("mac", mac.mac_key_templates.HMAC_SHA512_256BITTAG),
    "ED25519": ("signature", signature.signature_key_templates.ED25519),
    "ECDSA_P256": ("signature", signature.signature_key_templates.ECDSA_P256),
    "ECDSA_P256_IEEE_P1363": ("signature", signature.signature_key_templates.ECDSA_P256_IEEE_P1363),
    "HPKE_X25519_AES256": ("hybrid", hybrid.hybrid_key_templates.DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_AES_256_GCM),
    "HPKE_X25519_CHACHA_RAW": ("hybrid", hybrid.hybrid_key_templates.DHKEM_X25519_HKDF_SHA256_HKDF_SHA256_CHACHA20_POLY1305_RAW),
    "HPKE_XWING": ("hybrid", hybrid.hybrid_key_templates.X_WING_HKDF_SHA256_HKDF_SHA256_AES_256_GCM),
}


def legacy(template):
    """The same template with LEGACY output prefixes (MACs and signatures then cover data || 0x00)."""
    copy = tink_pb2.KeyTemplate()
    copy.CopyFrom(template)
    copy.output_prefix_type = tink_pb2.LEGACY
    return copy


def produce(kind, handle):
    """What Tink makes with the keyset's primary key."""
    if kind == "aead":
        return b64(handle.primitive(aead.Aead).encrypt(PLAINTEXT, AD))
    if kind == "daead":
        return b64(handle.primitive(daead.DeterministicAead).encrypt_deterministically(PLAINTEXT, AD))
    if kind == "mac":
        return b64(handle.primitive(mac.Mac).compute_mac(PLAINTEXT))
    if kind == "signature":
        return b64(handle.primitive(signature.PublicKeySign).sign(PLAINTEXT))
    return b64(handle.public_keyset_handle().primitive(hybrid.HybridEncrypt).encrypt(PLAINTEXT, AD))


def consume(kind, handle, output):
    """Verifies (or decrypts and compares) what the other side made."""
    data = unb64(output)
    if kind == "aead":
        assert handle.primitive(aead.Aead).decrypt(data, AD) == PLAINTEXT
    elif kind == "daead":
        assert handle.primitive(daead.DeterministicAead).decrypt_deterministically(data, AD) == PLAINTEXT
    elif kind == "mac":
        handle.primitive(mac.Mac).verify_mac(data, PLAINTEXT)
    elif kind == "signature":
        verifier = handle.public_keyset_handle() if handle.keyset_info().key_info[0].type_url.endswith("PrivateKey") else handle
        verifier.primitive(signature.PublicKeyVerify).verify(data, PLAINTEXT)
    else:
        assert handle.primitive(hybrid.HybridDecrypt).decrypt(data, AD) == PLAINTEXT


def make(path):
    cases = []
    for name, (kind, template) in list(TEMPLATES.items()) + [
        ("HMAC_SHA256_LEGACY", ("mac", legacy(mac.mac_key_templates.HMAC_SHA256_256BITTAG))),
        ("ED25519_LEGACY", ("signature", legacy(signature.signature_key_templates.ED25519))),
    ]:
        older = tink.new_keyset_handle(template)
        first = produce(kind, older)
        # Rotation: a second key joins and becomes the primary; the first one's output must still
        # open. (Python Tink has no keyset manager: the two keysets' JSON is merged.)
        newer = tink.new_keyset_handle(template)
        merged = json.loads(tink.json_proto_keyset_format.serialize(older, secret_key_access.TOKEN))
        second_keyset = json.loads(tink.json_proto_keyset_format.serialize(newer, secret_key_access.TOKEN))
        merged["key"] += second_keyset["key"]
        merged["primaryKeyId"] = second_keyset["primaryKeyId"]
        rotated = tink.json_proto_keyset_format.parse(json.dumps(merged), secret_key_access.TOKEN)
        second = produce(kind, rotated)
        cases.append({
            "name": name, "kind": kind,
            "keyset": json.loads(tink.json_proto_keyset_format.serialize(rotated, secret_key_access.TOKEN)),
            "outputs": [first, second],
        })
    kek = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
    inner = tink.new_keyset_handle(mac.mac_key_templates.HMAC_SHA256_256BITTAG)
    encrypted = {
        "kek": json.loads(tink.json_proto_keyset_format.serialize(kek, secret_key_access.TOKEN)),
        "encrypted": json.loads(tink.json_proto_keyset_format.serialize_encrypted(inner, kek.primitive(aead.Aead), b"keyset ad")),
        "tag": b64(inner.primitive(mac.Mac).compute_mac(PLAINTEXT)),
    }
    with open(path, "w") as f:
        json.dump({"plaintext": b64(PLAINTEXT), "ad": b64(AD), "cases": cases, "encrypted": encrypted}, f)


def check(path):
    with open(path) as f:
        document = json.load(f)
    for case in document["cases"]:
        handle = tink.json_proto_keyset_format.parse(json.dumps(case["keyset"]), secret_key_access.TOKEN)
        for output in case["outputs"]:
            consume(case["kind"], handle, output)
        # And the other way within the same run: Tink's output opens under Bulwark's keyset too
        # (checked on the Swift side); here Tink's own round trip with Bulwark's keys.
        if not handle.keyset_info().key_info[0].type_url.endswith("PublicKey"):
            consume(case["kind"], handle, produce(case["kind"], handle))
        print("ok", case["name"])
    encrypted = document.get("encrypted")
    if encrypted:
        kek = tink.json_proto_keyset_format.parse(json.dumps(encrypted["kek"]), secret_key_access.TOKEN)
        inner = tink.json_proto_keyset_format.parse_encrypted(json.dumps(encrypted["encrypted"]), kek.primitive(aead.Aead), b"keyset ad")
        inner.primitive(mac.Mac).verify_mac(unb64(encrypted["tag"]), PLAINTEXT)
        print("ok encrypted keyset")
    print("all tink checks passed")


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
