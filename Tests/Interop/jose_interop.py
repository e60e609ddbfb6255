#!/usr/bin/env python3
"""jwcrypto and joserfc (two independent Python JOSE libraries) as the peers of Bulwark's JOSE.

  jose_interop.py make FILE    keys (private JWKs) and, per algorithm, JWS and JWE tokens made by
                               jwcrypto and by joserfc, for Bulwark to verify and decrypt.
  jose_interop.py check FILE   reads Bulwark's keys and tokens and verifies/decrypts every one
                               with both libraries; prints "ok <library> <case>" and exits
                               non-zero on the first failure.
"""
import json
import sys

from joserfc import jwe as rfc_jwe
from joserfc import jws as rfc_jws
from joserfc.jwk import KeySet as RfcKeySet
from joserfc.jwk import import_key as rfc_import
import jwcrypto.jwa
from jwcrypto import jwe as jc_jwe
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws

PAYLOAD = "card 4111 1111 1111 1111 ✓".encode()
AAD = b"order=42"
SIGNING = {"ES256": "p256", "EdDSA": "ed25519", "PS256": "rsa", "RS256": "rsa", "HS256": "oct"}
ENCRYPTION = {
    "dir": "dir", "A256KW": "oct", "A256GCMKW": "oct", "ECDH-ES": "p256", "ECDH-ES+A256KW": "x25519", "RSA-OAEP-256": "rsa",
    "PBES2-HS512+A256KW": "password",
}
ENCS = ["A256GCM", "A128CBC-HS256"]
ALL_JWE = list(ENCRYPTION) + ENCS


def make(path):
    keys = {
        "p256": jc_jwk.JWK.generate(kty="EC", crv="P-256", kid="p256"),
        "ed25519": jc_jwk.JWK.generate(kty="OKP", crv="Ed25519", kid="ed25519"),
        "x25519": jc_jwk.JWK.generate(kty="OKP", crv="X25519", kid="x25519"),
        "rsa": jc_jwk.JWK.generate(kty="RSA", size=2048, kid="rsa"),
        "oct": jc_jwk.JWK.generate(kty="oct", size=256, kid="oct"),
        "dir": jc_jwk.JWK.generate(kty="oct", size=256, kid="dir"),
        "password": jc_jwk.JWK(kty="oct", k="Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ", kid="password"),
    }
    tokens = []
    for alg, name in SIGNING.items():
        key = keys[name]
        signer = jc_jws.JWS(PAYLOAD)
        signer.add_signature(key, alg=alg, protected=json.dumps({"alg": alg, "kid": key.key_id}))
        tokens.append({"kind": "jws", "alg": alg, "by": "jwcrypto", "token": signer.serialize(compact=True)})
        rfc_key = rfc_import(json.loads(key.export()))
        tokens.append({"kind": "jws", "alg": alg, "by": "joserfc",
                       "token": rfc_jws.serialize_compact({"alg": alg, "kid": key.key_id}, PAYLOAD, rfc_key, algorithms=[alg])})
    for alg, name in ENCRYPTION.items():
        for enc in ENCS:
            key = keys[name]
            header = {"alg": alg, "enc": enc, "kid": key.key_id}
            token = jc_jwe.JWE(PAYLOAD, json.dumps(header))
            token.add_recipient(key if key["kty"] == "oct" else key.public())
            tokens.append({"kind": "jwe", "alg": alg, "enc": enc, "by": "jwcrypto", "token": token.serialize(compact=True)})
            rfc_key = rfc_import(json.loads(key.export_public() if key["kty"] != "oct" else key.export()))
            tokens.append({"kind": "jwe", "alg": alg, "enc": enc, "by": "joserfc",
                           "token": rfc_jwe.encrypt_compact(header, PAYLOAD, rfc_key, algorithms=ALL_JWE)})
    # General JSON serialization with two recipients and aad (jwcrypto).
    general = jc_jwe.JWE(PAYLOAD, json.dumps({"enc": "A256GCM"}), aad=AAD)
    general.add_recipient(keys["oct"], header=json.dumps({"alg": "A256KW", "kid": "oct"}))
    general.add_recipient(keys["rsa"].public(), header=json.dumps({"alg": "RSA-OAEP-256", "kid": "rsa"}))
    tokens.append({"kind": "jwe-json", "by": "jwcrypto", "token": general.serialize()})
    with open(path, "w") as f:
        json.dump({"keys": {name: json.loads(key.export(private_key=True)) for name, key in keys.items()}, "tokens": tokens}, f)


def check(path):
    # Bulwark writes PBES2 with 210,000 iterations (OWASP's figure for PBKDF2-HMAC-SHA-512);
    # jwcrypto reads at most 16,384 unless told otherwise (joserfc: 300,000).
    jwcrypto.jwa.default_max_pbkdf2_iterations = 300_000
    with open(path) as f:
        document = json.load(f)
    keyset = jc_jwk.JWKSet()
    rfc_keys = []
    for key in document["keys"]:
        keyset.add(jc_jwk.JWK(**key))
        rfc_keys.append(key)
    rfc_set = RfcKeySet.import_key_set({"keys": rfc_keys})
    for case in document["tokens"]:
        label = case["name"]
        if case["kind"] == "jws":
            verifier = jc_jws.JWS()
            verifier.deserialize(case["token"])
            verifier.verify(keyset.get_key(json.loads(verifier.objects["protected"])["kid"]), alg=case["alg"])
            assert verifier.payload == PAYLOAD
            print("ok jwcrypto", label)
            token = rfc_jws.deserialize_compact(case["token"], rfc_set, algorithms=[case["alg"]])
            assert token.payload == PAYLOAD
            print("ok joserfc", label)
        elif case["kind"] == "jwe":
            decrypter = jc_jwe.JWE()
            decrypter.allowed_algs = ALL_JWE
            decrypter.deserialize(case["token"], key=keyset)
            assert decrypter.payload == PAYLOAD
            print("ok jwcrypto", label)
            token = rfc_jwe.decrypt_compact(case["token"], rfc_set, algorithms=ALL_JWE)
            assert token.plaintext == PAYLOAD
            print("ok joserfc", label)
        else:
            decrypter = jc_jwe.JWE()
            decrypter.allowed_algs = ALL_JWE
            decrypter.deserialize(case["token"], key=keyset)
            assert decrypter.payload == PAYLOAD
            print("ok jwcrypto", label)
    print("all jose checks passed")


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
