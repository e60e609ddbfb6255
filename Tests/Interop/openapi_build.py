#!/usr/bin/env python3
"""Builds docs/openapi.json, the OpenAPI 3.1 document of the server's API.

Which paths and methods the document has comes from the server's endpoint table, and only from
it: docs/endpoints.json, written from Sources/BulwarkServer/API/Endpoints.swift (see
EndpointTableTests). The operations below add what the table does not say (summaries, answer
schemas, value constraints, links); an endpoint of the table without one gets an operation built
from the table alone (its fields and their JSON kinds), and an operation below that the table
does not have is an error.

    python3 Tests/Interop/openapi_build.py           # rewrite the document
    python3 Tests/Interop/openapi_build.py --check   # exit 1 if the committed document is stale
    python3 Tests/Interop/openapi_build.py --endpoints TABLE.json --output OUT.json   # another table
"""

import argparse
import copy
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs/openapi.json"
ENDPOINTS = ROOT / "docs/endpoints.json"

REF = "#/components/schemas/"


def ref(name):
    return {"$ref": REF + name}


# ---------------------------------------------------------------------------------------------
# Path parameters: RequestTarget.parse accepts segments of letters, digits and -_.~:@+,= (no "."
# or ".." segment, at most 1,024 bytes of path). Names below start with a character other than
# "." so that neither dot segment can be generated.

# Only unreserved characters are written here: a client percent-encodes the others (`:@+,=`),
# and the server refuses percent-encoding.
SEGMENT = "^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$"
MAX_PATH = 1024
# TransitBackend.validName: letters, digits, -, _, . ; 1-128 bytes; not "bulwark." (reserved).
KEY_NAME = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"
# AuthStore.writePolicy: letters, digits, -, _, . (and never "root").
POLICY_NAME = "^[A-Za-z0-9_-][A-Za-z0-9._-]*$"


def path_param(name, pattern=SEGMENT, description="", max_length=128, schema=None):
    """A path parameter (`max_length` None: as long as the 1,024-byte path allows, set by `op`)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or dict({"type": "string", "pattern": pattern, "minLength": 1},
                                 **({"maxLength": max_length} if max_length else {})),
    }


KEY_PARAM = path_param("name", KEY_NAME, "The key's name: letters, digits, '-', '_', '.'; 1-128 bytes; "
                       "names starting with 'bulwark.' are reserved.")
POLICY_PARAM = path_param("name", POLICY_NAME, "The policy's name: letters, digits, '-', '_', '.'; 'root' cannot be written.",
                          max_length=None)
TRANSFORM_PARAM = path_param("name", SEGMENT, "The object's name (a path segment).", max_length=None)
ROLE_PARAM = path_param("name", SEGMENT, "The Transform role.", max_length=None)

LIST_PARAM = {
    "name": "list",
    "in": "query",
    "required": True,
    "description": "Vault's list request: `GET ?list=true` (the `LIST` method is the same request; OpenAPI "
                   "3.1 cannot name it). Read as Go's ParseBool; `false`, or a GET without it, is refused "
                   "with 405.",
    "schema": {"type": "string", "enum": ["true", "1", "t", "T", "TRUE", "True"]},
}
LIST_PARAM_OPTIONAL = dict(LIST_PARAM, required=False,
                           schema={"type": "string", "enum": ["true", "1", "t", "T", "TRUE", "True", "false", "0", "f", "F", "FALSE", "False"]},
                           description="Optional for sys/policy: with or without it, the answer is the list of policies.")

# ---------------------------------------------------------------------------------------------
# Shared schemas.

B64 = {"type": "string", "description": "Standard base64.", "contentEncoding": "base64",
       "pattern": "^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"}
DURATION = {
    "description": "A duration from 0 to 100 years: seconds as a number or a digit string, or units s, m, h, d "
                   "(`90s`, `24h`, `7d`, `1h30m`); null is the same as absent.",
    "anyOf": [
        {"type": "null"},
        {"type": "integer", "minimum": 0, "maximum": 3153600000},
        {"type": "string", "pattern": "^[0-9]+[smhd]?([0-9]+[smhd])*$", "maxLength": 64},
    ],
}
VERSION = {"type": ["integer", "null"], "minimum": 0, "maximum": 4294967295, "description": "null is the same as absent."}
CIPHERTEXT = {"type": "string", "pattern": "^vault:v[0-9]+:", "description": "`vault:v<version>:<base64>`."}
KEY_TYPES = ["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305", "hmac", "ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521",
             "ml-dsa-65", "ml-dsa-87", "rsa-2048", "rsa-3072", "rsa-4096",
             "hpke-x25519", "hpke-p256", "hpke-xwing", "hpke-x25519-chacha20-poly1305",
             "hpke-p256-chacha20-poly1305", "hpke-xwing-chacha20-poly1305"]
HASHES = ["sha2-256", "sha2-384", "sha2-512", "sha3-256", "sha3-384", "sha3-512"]
EMPTY_STRING = {"type": "string", "maxLength": 0}
# Refused when set: caller nonces may only be empty (Fields.check); so may a derivation context
# for signing and HMAC keys (never derived here).
NO_CONTEXT = {"type": "string", "maxLength": 0, "description": "Signing and HMAC keys are never derived: absent or empty."}
CONTEXT = dict(B64, description="Derived keys: the derivation context (standard base64, required for them; "
               "all batch items or none). Refused by a key that is not derived.")
NO_NONCE = {"type": "string", "maxLength": 0, "description": "Caller nonces are refused: absent or empty."}
NULLABLE_FLAG = {"type": ["boolean", "null"], "description": "null is the same as absent."}

SCHEMAS = {
    "Envelope": {
        "type": "object",
        "description": "Vault's response envelope.",
        "required": ["request_id", "lease_id", "renewable", "lease_duration", "wrap_info", "warnings", "data", "auth"],
        "additionalProperties": False,
        "properties": {
            "request_id": {"type": "string", "format": "uuid"},
            "lease_id": {"type": "string"},
            "renewable": {"type": "boolean"},
            "lease_duration": {"type": "integer"},
            "wrap_info": {"type": "null"},
            "warnings": {"type": ["array", "null"], "items": {"type": "string"}},
            "data": {},
            "auth": {},
        },
    },
    "Error": {
        "type": "object",
        "description": "Vault's error shape.",
        "required": ["errors"],
        "additionalProperties": False,
        "properties": {"errors": {"type": "array", "items": {"type": "string"}}},
    },
    "Keys": {
        "type": "object",
        "required": ["keys"],
        "additionalProperties": False,
        "properties": {"keys": {"type": "array", "items": {"type": "string"}}},
    },
    "BatchError": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {"error": {"type": "string"}, "reference": {"type": "string"}},
    },
    "Ciphertext": {
        "type": "object",
        "required": ["ciphertext", "key_version"],
        "additionalProperties": False,
        "properties": {"ciphertext": CIPHERTEXT, "key_version": {"type": "integer"}},
    },
    "Plaintext": {
        "type": "object",
        "required": ["plaintext"],
        "additionalProperties": False,
        "properties": {"plaintext": B64},
    },
    "KeyInfo": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "type", "keys", "latest_version", "min_decryption_version", "min_encryption_version",
                     "deletion_allowed", "exportable", "supports_encryption", "supports_decryption",
                     "supports_derivation", "supports_signing", "derived", "auto_rotate_period"],
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string", "enum": KEY_TYPES + ["aes256-siv"]},
            "keys": {"type": "object", "additionalProperties": {"anyOf": [
                         {"type": "integer", "description": "Creation time (Unix seconds): symmetric keys."},
                         {"type": "object", "additionalProperties": False,
                          "required": ["creation_time", "name", "public_key", "certificate_chain"],
                          "description": "Signing and hybrid keys (Vault's shape): the version's public key "
                                         "(a version whose key may not be handed out is left out).",
                          "properties": {
                              "creation_time": {"type": "string", "format": "date-time"},
                              "name": {"type": "string", "enum": ["ed25519", "P-256", "DHKEM(X25519, HKDF-SHA256)",
                                                                    "DHKEM(P-256, HKDF-SHA256)", "X-Wing"]},
                              "public_key": {"type": "string", "description": "Base64 of the raw key (Ed25519, HPKE "
                                             "KEM public keys), or PEM SubjectPublicKeyInfo (ECDSA P-256)."},
                              "certificate_chain": {"type": "string"},
                              "bulwark_public_key": {"type": "string", "pattern": "^bwpk1:",
                                                     "description": "hpke-* keys: the key with its id and version."},
                          }}]},
                     "description": "Version → its creation time, or its public key."},
            "latest_version": {"type": "integer"},
            "min_decryption_version": {"type": "integer"},
            "min_encryption_version": {"type": "integer"},
            "min_available_version": {"type": "integer"},
            "deletion_allowed": {"type": "boolean"},
            "exportable": {"type": "boolean"},
            "allow_plaintext_backup": {"type": "boolean"},
            "supports_encryption": {"type": "boolean"},
            "supports_decryption": {"type": "boolean"},
            "supports_derivation": {"type": "boolean"},
            "supports_signing": {"type": "boolean"},
            "derived": {"type": "boolean"},
            "kdf": {"type": "string", "enum": ["hkdf_sha256"], "description": "Derived keys only."},
            "convergent_encryption": {"type": "boolean", "description": "Derived keys only."},
            "convergent_encryption_version": {"type": "integer", "enum": [-1], "description": "Convergent keys only (OpenBao's -1)."},
            "key_size": {"type": "integer", "minimum": 32, "maximum": 512, "description": "hmac keys only: the key's size in bytes."},
            "soft_deleted": {"type": "boolean", "description": "Refused for every operation until restored (OpenBao's soft-delete)."},
            "auto_rotate_period": {"type": "integer"},
            "public_key": {"type": "string"},
        },
    },
    "TokenAuth": {
        "type": "object",
        "description": "The `auth` block of a token creation or renewal.",
        "required": ["client_token", "accessor", "policies", "token_policies", "lease_duration", "renewable", "metadata"],
        "additionalProperties": False,
        "properties": {
            "client_token": {"type": ["string", "null"], "description": "Null on a renewal."},
            "accessor": {"type": "string"},
            "policies": {"type": "array", "items": {"type": "string"}},
            "token_policies": {"type": "array", "items": {"type": "string"}},
            "lease_duration": {"type": "integer"},
            "renewable": {"type": "boolean"},
            "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
            "orphan": {"type": "boolean"},
            "num_uses": {"type": "integer"},
            "entity_id": {"type": "string"},
            "token_type": {"type": "string"},
        },
    },
    "TokenInfo": {
        "type": "object",
        "description": "A token as `lookup` describes it.",
        "required": ["accessor", "policies", "ttl", "num_uses", "renewable", "type", "path", "orphan", "display_name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": ["string", "null"]},
            "accessor": {"type": "string"},
            "policies": {"type": "array", "items": {"type": "string"}},
            "ttl": {"type": "integer"},
            "creation_ttl": {"type": "integer"},
            "creation_time": {"type": "integer"},
            "explicit_max_ttl": {"type": "integer"},
            "expire_time": {"type": ["string", "null"]},
            "issue_time": {"type": "string"},
            "num_uses": {"type": "integer"},
            "renewable": {"type": "boolean"},
            "type": {"type": "string", "enum": ["service"]},
            "path": {"type": "string"},
            "orphan": {"type": "boolean"},
            "display_name": {"type": "string"},
            "meta": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
            "entity_id": {"type": "string"},
            "period": {"type": ["integer", "null"]},
        },
    },
    "Policy": {
        "type": "object",
        "required": ["name", "rules", "policy"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "rules": {"type": "string"}, "policy": {"type": "string"}},
    },
    "PolicyList": {
        "type": "object",
        "required": ["keys", "policies"],
        "additionalProperties": False,
        "properties": {"keys": {"type": "array", "items": {"type": "string"}},
                       "policies": {"type": "array", "items": {"type": "string"}}},
    },
}


def envelope(data=None, auth=None):
    """Vault's envelope with `data` (and `auth`) narrowed."""
    props = {}
    props["data"] = data if data is not None else {"type": "null"}
    props["auth"] = auth if auth is not None else {"type": "null"}
    return {"allOf": [ref("Envelope"), {"type": "object", "properties": props}]}


def obj(props, required=(), strict=True, description=None):
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    if strict:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def batch_of(item):
    return obj({"batch_results": {"type": "array", "items": {"anyOf": [item, ref("BatchError")]}}}, ["batch_results"])


# ---------------------------------------------------------------------------------------------
# Request bodies. Each lists exactly the fields Fields.swift allows (plus `name`, which
# Fields.check lets through everywhere): anything else is refused with 400, hence
# `additionalProperties: false`.

IGNORED_NAME = {"description": "Ignored, whatever its value (the path names the object)."}
REFUSED_EVERYWHERE = {"nonce"}


def string_list(item=None, text=None):
    """A list field as Vault's comma-string slices take it: a list of strings, or one string of
    comma-separated values."""
    return {"anyOf": [{"type": "array", "items": item or {"type": "string"}},
                      text or {"type": "string", "description": "Comma-separated."}]}


def nullable(schema):
    """`schema` or JSON null: the server reads null in an optional field as the field absent, as
    Vault does (its field decoding takes a null for no value)."""
    if "type" not in schema and "anyOf" not in schema and "$ref" not in schema:
        return schema  # any value already
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    if "anyOf" in out:
        if not any(option.get("type") == "null" for option in out["anyOf"]):
            out["anyOf"] = out["anyOf"] + [{"type": "null"}]
        return out
    kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
    if "null" not in kinds:
        out["type"] = kinds + ["null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = out["enum"] + [None]
    return out


PER_ITEM = ("In a batch, checked per item: a value of the right type that is refused is that item's error in "
            "`batch_results`, as Vault answers.")
CONSTRAINTS = ("pattern", "enum", "minLength", "maxLength", "minimum", "maximum", "contentEncoding", "default")


def per_item(schema):
    """A batch item's field: its JSON type is checked for the whole request (a wrong type is a
    400 from Fields.check), its content per item (an error in that item's result)."""
    if "anyOf" in schema:
        return dict(schema, anyOf=[per_item(option) for option in schema["anyOf"]])
    if not any(key in schema for key in CONSTRAINTS):
        return schema
    out = {key: value for key, value in schema.items() if key not in CONSTRAINTS}
    if "type" in out:
        out["description"] = PER_ITEM
    return out


def optional_nullable(props, required):
    return {name: (value if name in required else nullable(value)) for name, value in props.items()}


def body(props, required=(), batch_item=None, description=None):
    props = dict(props)
    props.setdefault("name", IGNORED_NAME)
    schema = obj(optional_nullable(props, required), required, description=description)
    if batch_item is None:
        return schema
    # A batch: the items carry the call's fields; the top level's own values are then not read
    # (as in Vault), except the refusals Fields.check applies everywhere.
    item_props = {name: (value if name in REFUSED_EVERYWHERE else per_item(value)) for name, value in batch_item.items()}
    item = obj(optional_nullable(dict(item_props, name=IGNORED_NAME), ()))
    # The top level of a batch: its types are checked (Fields.check), its values are read only
    # where Vault reads them (sign's options apply to every item), checked per item.
    top = {name: nullable(value if name in REFUSED_EVERYWHERE else per_item(value)) for name, value in props.items()}
    top["batch_input"] = {"type": "array", "items": item, "minItems": 1, "maxItems": 1000,
                          "description": "Items, each with the single-call fields; answered in `batch_results`."}
    batch = obj(top, ["batch_input"], description="A batch call.")
    single = dict(schema, description="A single call.")
    return {"anyOf": [single, batch], "description": description or "A single call, or a batch (`batch_input`)."}


ENCRYPT_ITEM = {
    "plaintext": B64, "associated_data": B64, "key_version": VERSION, "type": {"type": "string", "enum": KEY_TYPES},
    "context": CONTEXT, "nonce": NO_NONCE, "reference": {"type": "string"},
    "convergent_encryption": {"type": "boolean", "description": "A key this call creates (with a context): convergent."},
    "partial_failure_response_code": {"type": "integer"},
}
DECRYPT_ITEM = {
    "ciphertext": CIPHERTEXT, "associated_data": B64, "context": CONTEXT, "nonce": NO_NONCE,
    "reference": {"type": "string"}, "partial_failure_response_code": {"type": "integer"},
}
REWRAP_ITEM = {"ciphertext": CIPHERTEXT, "associated_data": B64, "key_version": VERSION, "context": CONTEXT,
               "nonce": NO_NONCE, "reference": {"type": "string"}}
HMAC_ITEM = {"input": B64, "key_version": VERSION, "algorithm": {"type": "string", "enum": HASHES},
             "reference": {"type": "string"}}
SIGN_ITEM = {
    "input": B64, "key_version": VERSION, "hash_algorithm": {"type": "string", "enum": HASHES},
    "algorithm": {"type": "string", "enum": HASHES},
    "prehashed": {"type": "boolean", "description": "ECDSA only: `input` is the digest under the hash (its length)."},
    "signature_algorithm": {"type": "string", "enum": ["pss", "pkcs1v15"], "description": "RSA keys only."},
    "salt_length": {"type": "string", "pattern": "^(auto|hash|32|48|64)$", "description": "RSA-PSS only: the salt is as long as the digest."},
    "marshaling_algorithm": {"type": "string", "enum": ["asn1", "jws"]},
    "context": NO_CONTEXT, "reference": {"type": "string"},
}
VERIFY_ITEM = dict(SIGN_ITEM, hmac={"type": "string", "pattern": "^vault:v[0-9]+:"},
                   signature={"type": "string", "pattern": "^vault:v[0-9]+:"})

TRANSFORM_ITEM = {
    "value": {"type": "string", "minLength": 1}, "transformation": {"type": "string"}, "tweak": B64,
    "ttl": DURATION, "metadata": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    "reference": {"type": "string"},
}
DECODE_ITEM = {"value": {"type": "string", "minLength": 1}, "transformation": {"type": "string"}, "tweak": B64,
               "decode_format": {"type": "string"}, "reference": {"type": "string"}}
LOOKUP_ITEM = {"value": {"type": "string", "minLength": 1}, "transformation": {"type": "string"},
               "reference": {"type": "string"}}

REQUESTS = {
    "CreateKeyRequest": body({
        "type": {"type": "string", "enum": KEY_TYPES, "default": "aes256-gcm96"},
        "exportable": {"type": "boolean"}, "auto_rotate_period": DURATION, "allow_plaintext_backup": {"type": "boolean"},
        "derived": {"type": "boolean", "description": "Each operation's key derived from a context (HKDF-SHA256, as Vault): "
                    "aes256-gcm96, aes128-gcm96, chacha20-poly1305."},
        "convergent_encryption": {"type": "boolean", "description": "Derived keys: equal plaintexts under one context encrypt alike."},
        "key_size": {"type": "integer", "description": "hmac keys: 32 to 512 bytes (0 or absent: 32); refused for other types."},
    }),
    "KeyConfigRequest": body({
        "min_decryption_version": VERSION, "min_encryption_version": VERSION, "deletion_allowed": {"type": "boolean"},
        "exportable": {"type": "boolean"}, "allow_plaintext_backup": {"type": "boolean"}, "auto_rotate_period": DURATION,
    }),
    "KeysConfigRequest": body({"disable_upsert": {"type": "boolean", "description": "encrypt to a missing key answers 400 instead of creating it."}}),
    "CacheConfigRequest": body({"size": {"type": "integer", "enum": [0], "description": "0: unbounded, every key held in memory "
                                          "(Vault's bounded sizes of 10 and more are refused by name)."}}),
    "EmptyRequest": body({}, description="No fields."),
    "RotationStartRequest": body({
        "secret_shares": {"type": "integer", "minimum": 2, "maximum": 255},
        "secret_threshold": {"type": "integer", "minimum": 2, "maximum": 255},
    }, ["secret_shares", "secret_threshold"]),
    "RotationUpdateRequest": body({
        "key": {"type": "string", "description": "One current unseal key share: hex or standard base64."},
        "nonce": {"type": "string", "description": "The rotation's nonce."},
    }, ["key", "nonce"]),
    "RootGenerationStartRequest": body({
        "otp": {"type": "string", "maxLength": 0, "description": "Refused unless empty: the server makes the one-time pad."},
        "pgp_key": {"type": "string", "maxLength": 0, "description": "Refused unless empty: no PGP encoding."},
    }),
    "UnsealRequest": body({
        "key": {"type": "string", "description": "One unseal key share: hex or standard base64 (33 bytes)."},
        "reset": {"type": "boolean", "description": "Forget the shares entered so far."},
        "migrate": {"type": "boolean", "enum": [False, None], "description": "Vault's seal migration: refused when true."},
    }),
    "TrimRequest": body({"min_available_version": {"type": "integer", "minimum": 1, "maximum": 4294967295}},
                        ["min_available_version"]),
    "EncryptRequest": body(ENCRYPT_ITEM, batch_item=ENCRYPT_ITEM),
    "DecryptRequest": body(DECRYPT_ITEM, batch_item=DECRYPT_ITEM),
    "RewrapRequest": body(REWRAP_ITEM, batch_item=REWRAP_ITEM),
    "DataKeyRequest": body({"bits": {"type": "integer", "enum": [128, 256, 512]}, "associated_data": B64,
                            "context": CONTEXT, "nonce": NO_NONCE, "key_version": VERSION}),
    "HmacRequest": body(HMAC_ITEM, batch_item=HMAC_ITEM),
    "SignRequest": body(SIGN_ITEM, batch_item=SIGN_ITEM),
    "VerifyRequest": body(VERIFY_ITEM, batch_item=VERIFY_ITEM),
    "RandomRequest": body({"bytes": {"type": ["integer", "null"], "minimum": 1, "maximum": 65536},
                           "format": {"type": "string", "enum": ["base64", "hex"]},
                           "source": {"type": "string", "enum": ["platform"],
                                      "description": "Only the platform's generator (no seal supplies entropy); "
                                                     "`seal` and `all` are refused by name."}}),
    "HashRequest": body({"input": B64, "algorithm": {"type": "string", "enum": HASHES},
                         "format": {"type": "string", "enum": ["hex", "base64"]}}, ["input"]),
    "PolicyRequest": body({"policy": {"type": "string", "minLength": 1, "description": "HCL."},
                           "rules": {"type": "string", "description": "HCL (the older name of `policy`)."}},
                          description="`policy` or `rules`, in Vault's HCL."),
    "RetentionRequest": body({"dry_run": {"type": "boolean"}}),
    "TokenCreateRequest": body({
        "policies": {"type": "array", "items": {"type": "string"}}, "ttl": DURATION, "lease": DURATION,
        "display_name": {"type": ["string", "null"]}, "meta": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
        "no_parent": NULLABLE_FLAG, "renewable": NULLABLE_FLAG, "explicit_max_ttl": DURATION,
        "num_uses": {"type": ["integer", "null"], "minimum": 0, "maximum": 2147483647}, "period": DURATION,
        "no_default_policy": NULLABLE_FLAG, "type": {"type": "string", "enum": ["service"]},
    }),
    "TokenRequest": body({"token": {"type": "string", "minLength": 1}}, ["token"]),
    "AccessorRequest": body({"accessor": {"type": "string", "minLength": 1}}, ["accessor"]),
    "RenewSelfRequest": body({"increment": DURATION}),
    "RenewRequest": body({"token": {"type": "string", "minLength": 1}, "increment": DURATION}, ["token"]),
    "TransformRoleRequest": body({"transformations": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string", "description": "Comma-separated."}]}},
        ["transformations"]),
    "TransformationRequest": body({
        "type": {"type": "string", "enum": ["fpe", "masking", "tokenization"]},
        "template": string_list(text={"type": "string", "description": "Vault's older one-name field, read as templates: "
                                      "a list, or a comma-separated string."}),
        "templates": string_list(),
        "tweak_source": {"type": "string", "enum": ["supplied", "generated", "internal"]},
        "masking_character": {"type": "string", "minLength": 1},
        "allowed_roles": string_list(), "convergent": {"type": "boolean"},
        "max_ttl": DURATION, "mapping_mode": {"type": "string", "enum": ["default"]},
        "stores": string_list({"type": "string", "enum": ["builtin/internal"]},
                              {"type": "string", "pattern": "^ *builtin/internal *(, *builtin/internal *)*$"}),
        "deletion_allowed": {"type": "boolean"}, "preserve_prefix": {"type": "integer", "minimum": 0},
        "preserve_suffix": {"type": "integer", "minimum": 0},
        "luhn": {"type": "string", "enum": ["any", "valid", "invalid"]},
    }),
    "TransformTemplateRequest": body({
        "type": {"type": "string", "enum": ["regex"]}, "pattern": {"type": "string", "minLength": 1},
        "alphabet": {"type": "string"}, "encode_format": {"type": "string"},
        "decode_formats": {"type": "object", "additionalProperties": {"type": "string"}},
    }, ["pattern", "alphabet"]),
    "TransformAlphabetRequest": body({"alphabet": {"type": "string", "minLength": 2}}, ["alphabet"]),
    "TransformEncodeRequest": body(TRANSFORM_ITEM, batch_item=TRANSFORM_ITEM),
    "TransformDecodeRequest": body(DECODE_ITEM, batch_item=DECODE_ITEM),
    "TransformLookupRequest": body(LOOKUP_ITEM, batch_item=LOOKUP_ITEM),
}
SCHEMAS.update(REQUESTS)

# ---------------------------------------------------------------------------------------------
# Responses.

ERROR_TEXT = {
    "400": "Malformed target or body, unknown field, or refused value.",
    "403": "Missing or invalid token, or the policy does not grant the capability.",
    "404": "Not found.",
    "405": "A list request on a path that only reads, or a read on a path that only lists.",
    "413": "Body over the limit (single calls and batches have separate limits).",
    "429": "Over the token's rate, or over the address's rate of unauthenticated requests.",
    "500": "The audit log cannot be written: the request is refused (fail closed).",
    "503": "Storage unavailable, or encryptions for this key are being reserved: retry.",
}
SECURITY_HEADERS = {
    "Strict-Transport-Security": {"schema": {"type": "string"}, "required": True},
    "X-Content-Type-Options": {"schema": {"type": "string", "enum": ["nosniff"]}, "required": True},
    "Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}, "required": True},
}
RESPONSES = {
    code: {"description": text, "headers": copy.deepcopy(SECURITY_HEADERS),
           "content": {"application/json": {"schema": ref("Error")}}}
    for code, text in ERROR_TEXT.items()
}
RESPONSES["NoContent"] = {"description": "Done (no body).", "headers": copy.deepcopy(SECURITY_HEADERS)}

COMMON_ERRORS = ["400", "403", "405", "413", "429", "500", "503"]


def answers(success, errors=(), data=None, auth=None, links=None, text=None, raw=None):
    out = {}
    if raw is not None:
        # Vault's sys/ status paths answer the object itself, with no envelope.
        out[str(success)] = {"description": "OK.", "headers": copy.deepcopy(SECURITY_HEADERS),
                              "content": {"application/json": {"schema": raw}}}
    elif success == 204:
        out["204"] = {"$ref": "#/components/responses/NoContent"}
        if links:
            out["204"] = dict(RESPONSES["NoContent"], links=links)
    elif text:
        out["200"] = {"description": "OK.", "headers": copy.deepcopy(SECURITY_HEADERS),
                      "content": {text: {"schema": {"type": "string"}}}}
    else:
        out["200"] = {"description": "OK.", "headers": copy.deepcopy(SECURITY_HEADERS),
                      "content": {"application/json": {"schema": envelope(data, auth)}}}
        if links:
            out["200"]["links"] = links
    for code in sorted(set(COMMON_ERRORS) | set(errors)):
        out[code] = {"$ref": "#/components/responses/" + code}
    return out


# ---------------------------------------------------------------------------------------------
# Operations.

PATHS = {}


def op(path, method, op_id, summary, responses, params=(), request=None, tags=(), security=True, put_twin=True,
       description=None):
    """Adds an operation; a POST also gets its PUT twin (the server registers both)."""
    methods = [method, "put"] if method == "post" and put_twin else [method]
    for m in methods:
        entry = {"operationId": op_id if m == method else op_id + "-put", "summary": summary, "tags": list(tags),
                 "responses": copy.deepcopy(responses)}
        if description:
            entry["description"] = description
        if m == "put":
            entry["description"] = "The same as `POST` (Vault takes both)."
            for resp in entry["responses"].values():
                resp.pop("links", None)
        if params:
            entry["parameters"] = copy.deepcopy(list(params))
        if request:
            entry["requestBody"] = {"required": bool(SCHEMAS[request].get("required")),
                                    "content": {"application/json": {"schema": ref(request)}}}
        if "{" in path and "404" not in entry["responses"]:
            # A path naming an object answers 404 when the object is not there.
            entry["responses"]["404"] = {"$ref": "#/components/responses/404"}
        for param in entry.get("parameters", []):
            schema = param["schema"]
            if param["in"] == "path" and "pattern" in schema and "maxLength" not in schema:
                # The longest name that keeps the whole path within the 1,024 bytes the server takes.
                others = len(path) - len("{" + param["name"] + "}")
                schema["maxLength"] = MAX_PATH - others
        if not security:
            entry["security"] = []
        PATHS.setdefault(path, {})[m] = entry


def link(operation_id, parameters=None, request_body=None, description=None):
    out = {"operationId": operation_id}
    if parameters:
        out["parameters"] = parameters
    if request_body is not None:
        out["requestBody"] = request_body
    if description:
        out["description"] = description
    return out


# --- sys ---
op("/v1/sys/health", "get", "sys-health", "Health (no token needed; 503 while sealed)", answers(200, ["503"], raw=obj({
    "initialized": {"type": "boolean"}, "sealed": {"type": "boolean"}, "standby": {"type": "boolean"},
    "version": {"type": "string"}, "server_time_utc": {"type": "integer"}, "degraded": {"type": "boolean"},
    "unreadable_entries": {"type": "integer"}, "manifest_mismatches": {"type": "integer"},
}, ["initialized", "sealed", "standby", "version", "server_time_utc", "degraded"])), tags=["sys"], security=False)
PATHS["/v1/sys/health"]["get"]["responses"] = {k: v for k, v in PATHS["/v1/sys/health"]["get"]["responses"].items()
                                               if k in ("200", "429", "503")}
SEAL_STATUS = obj({
    "type": {"type": "string", "enum": ["shamir", "awskms", "static"], "description": "static: the master key comes from the configuration; awskms: auto-unseal (t and n are the recovery shares')."},
    "initialized": {"type": "boolean"}, "sealed": {"type": "boolean"},
    "t": {"type": "integer", "description": "Shares needed."}, "n": {"type": "integer", "description": "Shares made."},
    "progress": {"type": "integer", "description": "Shares entered so far."},
    "nonce": {"type": "string", "description": "The unseal attempt's id while shares are being entered, else empty."},
    "recovery_seal": {"type": "boolean"}, "migration": {"type": "boolean"}, "version": {"type": "string"},
}, ["type", "initialized", "sealed", "t", "n", "progress", "nonce"])
op("/v1/sys/seal-status", "get", "sys-seal-status", "Seal status (no token needed; answered while sealed)",
   answers(200, [], raw=SEAL_STATUS), tags=["sys"], security=False)
PATHS["/v1/sys/seal-status"]["get"]["responses"] = {k: v for k, v in PATHS["/v1/sys/seal-status"]["get"]["responses"].items()
                                                    if k in ("200", "429")}
op("/v1/sys/unseal", "post", "sys-unseal",
   "Enter one unseal key share, or reset the progress (no token needed; on an unsealed server it answers the status)",
   answers(200, ["400"], raw=SEAL_STATUS), request="UnsealRequest", tags=["sys"], security=False,
   description="While sealed: `key` is one share in hex or base64; at the threshold the shares are combined and must open "
               "the store's master key, or the progress resets (400). Never logged, never audited.")
for method in ("post", "put"):
    PATHS["/v1/sys/unseal"][method]["responses"] = {k: v for k, v in PATHS["/v1/sys/unseal"][method]["responses"].items()
                                                    if k in ("200", "400", "413", "429")}
ROTATION_STATUS = obj({
    "started": {"type": "boolean"}, "t": {"type": "integer", "description": "The new threshold (0: none started)."},
    "n": {"type": "integer", "description": "The new number of shares (0: none started)."},
    "required": {"type": "integer", "description": "Current shares needed."},
    "progress": {"type": "integer"}, "nonce": {"type": "string"},
    "verification_required": {"type": "boolean"}, "verification_nonce": {"type": "string"},
}, ["started", "t", "n", "required"])
op("/v1/sys/rotate/root/init", "get", "sys-rotate-root-status", "The unseal key rotation in progress (sudo)",
   answers(200, [], ROTATION_STATUS), tags=["sys"])
op("/v1/sys/rotate/root/init", "post", "sys-rotate-root-init",
   "Start rotating the unseal key: new shares for the same master key (sudo; OpenBao's authenticated rekey)",
   answers(200, ["400"], ROTATION_STATUS), request="RotationStartRequest", tags=["sys"])
op("/v1/sys/rotate/root/init", "delete", "sys-rotate-root-cancel", "Cancel the rotation in progress (sudo)", answers(204, []), tags=["sys"])
op("/v1/sys/rotate/root/update", "post", "sys-rotate-root-update",
   "Enter one current share; at the threshold the new shares are answered once (sudo)",
   answers(200, ["400"], {"anyOf": [ROTATION_STATUS, obj({
       "complete": {"type": "boolean"}, "keys": {"type": "array", "items": {"type": "string"}},
       "keys_base64": {"type": "array", "items": {"type": "string"}}, "nonce": {"type": "string"},
       "backup": {"type": "boolean"}, "verification_required": {"type": "boolean"}, "verification_nonce": {"type": "string"},
   }, ["complete", "keys", "keys_base64", "nonce"])]}), request="RotationUpdateRequest", tags=["sys"])
op("/v1/sys/rotate/root/verify", "post", "sys-rotate-root-verify",
   "Enter one new share; at the new threshold the new shares replace the old (sudo; always required)",
   answers(200, ["400"], obj({
       "nonce": {"type": "string"}, "started": {"type": "boolean"}, "progress": {"type": "integer"},
       "required": {"type": "integer"}, "complete": {"type": "boolean"},
   }, ["nonce", "started", "progress", "required"])), request="RotationUpdateRequest", tags=["sys"])
ROOT_GENERATION = obj({
    "started": {"type": "boolean"}, "required": {"type": "integer", "description": "Unseal key shares needed."},
    "progress": {"type": "integer"}, "complete": {"type": "boolean"}, "nonce": {"type": "string"},
    "otp": {"type": "string", "description": "The one-time pad: in the answer that starts a generation only, else empty."},
    "otp_length": {"type": "integer"}, "pgp_fingerprint": {"type": "string"},
    "encoded_token": {"type": "string", "description": "The new root token XOR the pad, base64 without padding (when complete)."},
}, ["started", "required", "progress", "complete"])
op("/v1/sys/generate-root-token/attempt", "get", "sys-generate-root-status", "The root token generation in progress (sudo)",
   answers(200, [], ROOT_GENERATION), tags=["sys"])
op("/v1/sys/generate-root-token/attempt", "post", "sys-generate-root-init",
   "Start generating a root token from a quorum of unseal key shares; answers the one-time pad once (sudo; OpenBao's authenticated generate-root)",
   answers(200, ["400"], ROOT_GENERATION), request="RootGenerationStartRequest", tags=["sys"])
op("/v1/sys/generate-root-token/attempt", "delete", "sys-generate-root-cancel", "Cancel the root token generation in progress (sudo)",
   answers(204, []), tags=["sys"])
op("/v1/sys/generate-root-token/update", "post", "sys-generate-root-update",
   "Enter one unseal key share; at the threshold the new root token is answered encoded with the pad (sudo); the former root token stops working",
   answers(200, ["400"], ROOT_GENERATION), request="RotationUpdateRequest", tags=["sys"])
op("/v1/sys/seal", "post", "sys-seal", "Seal the server: it forgets its master key until unsealed (sudo; 204 while sealed)",
   answers(204, ["400"]), request="EmptyRequest", tags=["sys"])
op("/v1/sys/metrics", "get", "sys-metrics", "Prometheus metrics (text)",
   answers(200, [], text="text/plain"), tags=["sys"])
op("/v1/sys/internal/specs/openapi", "get", "sys-openapi", "This document (OpenAPI 3.1), as Vault serves its own",
   answers(200, []), tags=["sys"])
# Served as the document itself, not inside Vault's envelope (as Vault serves its own).
PATHS["/v1/sys/internal/specs/openapi"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = obj(
    {"openapi": {"type": "string"}, "paths": {"type": "object"}}, ["openapi", "paths"], strict=False)
op("/v1/sys/retention", "post", "sys-retention", "Run the retention job now (sudo)", answers(200, [], obj({
    "dry_run": {"type": "boolean"}, "audit_segments": {"type": "array", "items": {"type": "string"}},
    "tokens": {"type": "array", "items": {"type": "string"}}, "transform_tokens": {"type": "integer"},
}, ["dry_run"], strict=False)), request="RetentionRequest", tags=["sys"])
op("/v1/sys/audit/rotate", "post", "sys-audit-rotate", "Close the active audit file as a segment (sudo)",
   answers(200, [], obj({"segment": {"type": "string"}}, ["segment"])), request="EmptyRequest", tags=["sys"])

for prefix, tag_id in (("/v1/sys/policy", "policy"), ("/v1/sys/policies/acl", "acl-policy")):
    read_link = {
        "read": link(f"read-{tag_id}", {"name": "$request.path.name"}),
        "delete": link(f"delete-{tag_id}", {"name": "$request.path.name"}),
    }
    op(prefix + "/{name}", "post", f"write-{tag_id}", "Write an ACL policy (HCL)", answers(204, [], links=read_link),
       [POLICY_PARAM], "PolicyRequest", tags=["sys"])
    op(prefix + "/{name}", "get", f"read-{tag_id}", "Read an ACL policy", answers(200, ["404"], ref("Policy")),
       [POLICY_PARAM], tags=["sys"])
    op(prefix + "/{name}", "delete", f"delete-{tag_id}", "Delete an ACL policy", answers(204, []),
       [POLICY_PARAM], tags=["sys"])
op("/v1/sys/policy", "get", "list-policy", "List ACL policies (a read lists too)", answers(200, [], ref("PolicyList")),
   [LIST_PARAM_OPTIONAL], tags=["sys"])
op("/v1/sys/policies/acl", "get", "list-acl-policy", "List ACL policies", answers(200, [], ref("PolicyList")),
   [LIST_PARAM], tags=["sys"])

# --- transit ---
T = "/v1/transit"
key_links = {
    "read": link("transit-read-key", {"name": "$request.path.name"}),
    "encrypt": link("transit-encrypt", {"name": "$request.path.name"}, {"plaintext": "aGVsbG8gYnVsd2Fyaw=="}),
    "rotate": link("transit-rotate", {"name": "$request.path.name"}),
    "config": link("transit-config", {"name": "$request.path.name"}, {"deletion_allowed": True}),
    "datakey": link("transit-datakey-wrapped", {"name": "$request.path.name"}),
    "hmac": link("transit-hmac", {"name": "$request.path.name"}, {"input": "aGVsbG8="}),
    "sign": link("transit-sign", {"name": "$request.path.name"}, {"input": "aGVsbG8="}),
}
op(T + "/keys/{name}", "post", "transit-create-key", "Create a key (idempotent for the same type)",
   answers(204, [], links=key_links), [KEY_PARAM], "CreateKeyRequest", tags=["transit"])
op(T + "/keys/{name}", "get", "transit-read-key", "Read a key's metadata (never its material)",
   answers(200, [], ref("KeyInfo")), [KEY_PARAM], tags=["transit"])
op(T + "/keys/{name}", "delete", "transit-delete-key", "Delete a key (only with deletion_allowed)",
   answers(204, []), [KEY_PARAM], tags=["transit"])
op(T + "/keys", "get", "transit-list-keys", "List keys", answers(200, [], ref("Keys")), [LIST_PARAM], tags=["transit"])
op(T + "/keys/{name}/config", "post", "transit-config", "Configure a key",
   answers(204, [], links={"delete": link("transit-delete-key", {"name": "$request.path.name"})}),
   [KEY_PARAM], "KeyConfigRequest", tags=["transit"])
op(T + "/keys/{name}/rotate", "post", "transit-rotate", "Rotate a key",
   answers(204, [], links={"read": link("transit-read-key", {"name": "$request.path.name"}),
                           "encrypt": link("transit-encrypt", {"name": "$request.path.name"},
                                           {"plaintext": "cm90YXRlZA=="})}),
   [KEY_PARAM], "EmptyRequest", tags=["transit"])
op(T + "/keys/{name}/soft-delete", "delete", "transit-soft-delete-key",
   "Soft-delete a key (OpenBao): kept, listed and readable, refused for every operation until restored",
   answers(200, [], ref("KeyInfo")), [KEY_PARAM], tags=["transit"])
op(T + "/keys/{name}/soft-delete-restore", "post", "transit-soft-delete-restore-key", "Restore a soft-deleted key (OpenBao)",
   answers(200, [], ref("KeyInfo")), [KEY_PARAM], "EmptyRequest", tags=["transit"])
op(T + "/keys/{name}/trim", "post", "transit-trim", "Destroy versions below min_available_version",
   answers(204, []), [KEY_PARAM], "TrimRequest", tags=["transit"])
op(T + "/config/keys", "get", "transit-read-keys-config", "Read the engine's key settings",
   answers(200, [], obj({"disable_upsert": {"type": "boolean"}}, ["disable_upsert"])), tags=["transit"])
op(T + "/config/keys", "post", "transit-keys-config", "Set whether encrypt may create keys (disable_upsert; absent: false)",
   answers(200, [], obj({"disable_upsert": {"type": "boolean"}}, ["disable_upsert"])), request="KeysConfigRequest", tags=["transit"])
op(T + "/cache-config", "get", "transit-read-cache-config", "Read the key cache size (0: every key is held in memory)",
   answers(200, [], obj({"size": {"type": "integer", "enum": [0]}}, ["size"])), tags=["transit"])
op(T + "/cache-config", "post", "transit-cache-config", "Set the key cache size: 0 only (a bounded cache is refused by name)",
   answers(200, [], obj({"size": {"type": "integer", "enum": [0]}}, ["size"])), request="CacheConfigRequest", tags=["transit"])
EXPORT_TYPE = path_param("type", schema={"type": "string", "enum": ["encryption-key", "signing-key", "hmac-key"]},
                         description="What to export; the key must have one (signing-key: a signing key).")
EXPORT_VERSION = path_param("version", schema={"type": "string", "pattern": "^([1-9][0-9]{0,8}|latest)$"},
                            description="A version number, or `latest`.")
export_data = {"type": "object", "additionalProperties": False, "required": ["name", "type", "keys"], "properties": {
    "name": {"type": "string"}, "type": {"type": "string"},
    "keys": {"type": "object", "description": "Each version's secret, by number: base64, or a PEM for ECDSA signing keys.",
             "additionalProperties": {"type": "string"}}}}
op(T + "/export/{type}/{name}", "get", "transit-export", "Export an exportable key's secrets (every version that decrypts)",
   answers(200, [], export_data), [EXPORT_TYPE, KEY_PARAM], tags=["transit"],
   description="Only keys created with `exportable: true`; the answer's secrets are hashed in the audit log.")
op(T + "/export/{type}/{name}/{version}", "get", "transit-export-version", "Export one version of an exportable key",
   answers(200, [], export_data), [EXPORT_TYPE, KEY_PARAM, EXPORT_VERSION], tags=["transit"],
   description="Only keys created with `exportable: true`; the answer's secrets are hashed in the audit log.")

encrypt_data = {"anyOf": [ref("Ciphertext"), batch_of(ref("Ciphertext"))]}
op(T + "/encrypt/{name}", "post", "transit-encrypt", "Encrypt (creates an aes256-gcm96 key that does not exist yet)",
   answers(200, [], encrypt_data, links={
       "decrypt": link("transit-decrypt", {"name": "$request.path.name"},
                       {"ciphertext": "$response.body#/data/ciphertext"}),
       "rewrap": link("transit-rewrap", {"name": "$request.path.name"},
                      {"ciphertext": "$response.body#/data/ciphertext"}),
       "rotate": link("transit-rotate", {"name": "$request.path.name"}),
   }), [KEY_PARAM], "EncryptRequest", tags=["transit"])
op(T + "/decrypt/{name}", "post", "transit-decrypt", "Decrypt",
   answers(200, [], {"anyOf": [ref("Plaintext"), batch_of(ref("Plaintext"))]}), [KEY_PARAM], "DecryptRequest",
   tags=["transit"])
op(T + "/rewrap/{name}", "post", "transit-rewrap", "Re-encrypt under the latest version",
   answers(200, [], encrypt_data, links={
       "decrypt": link("transit-decrypt", {"name": "$request.path.name"},
                       {"ciphertext": "$response.body#/data/ciphertext"}),
   }), [KEY_PARAM], "RewrapRequest", tags=["transit"])
datakey_plain = obj({"ciphertext": CIPHERTEXT, "key_version": {"type": "integer"}, "plaintext": B64},
                    ["ciphertext", "key_version", "plaintext"])
datakey_wrapped = obj({"ciphertext": CIPHERTEXT, "key_version": {"type": "integer"}}, ["ciphertext", "key_version"])
op(T + "/datakey/plaintext/{name}", "post", "transit-datakey-plaintext", "Data key, returned wrapped and in the clear",
   answers(200, [], datakey_plain), [KEY_PARAM], "DataKeyRequest", tags=["transit"])
op(T + "/datakey/wrapped/{name}", "post", "transit-datakey-wrapped", "Data key, returned wrapped only",
   answers(200, [], datakey_wrapped, links={
       "decrypt": link("transit-decrypt", {"name": "$request.path.name"},
                       {"ciphertext": "$response.body#/data/ciphertext"}),
   }), [KEY_PARAM], "DataKeyRequest", tags=["transit"])

ALGORITHM_PARAM = path_param("algorithm", schema={"type": "string", "enum": HASHES},
                             description="Must agree with the key (and with the body's algorithm, if given).")
hmac_data = obj({"hmac": {"type": "string"}}, ["hmac"])
sign_data = obj({"signature": {"type": "string"}, "key_version": {"type": "integer"}}, ["signature"])
verify_data = obj({"valid": {"type": "boolean"}}, ["valid"])
for name, data, links in (
    ("hmac", hmac_data, {"verify": link("transit-verify", {"name": "$request.path.name"},
                                        {"input": "$request.body#/input", "hmac": "$response.body#/data/hmac"})}),
    ("sign", sign_data, {"verify": link("transit-verify", {"name": "$request.path.name"},
                                        {"input": "$request.body#/input",
                                         "signature": "$response.body#/data/signature"})}),
    ("verify", verify_data, None),
):
    request = {"hmac": "HmacRequest", "sign": "SignRequest", "verify": "VerifyRequest"}[name]
    op(f"{T}/{name}/{{name}}", "post", f"transit-{name}", f"{name.capitalize()} with a key",
       answers(200, [], {"anyOf": [data, batch_of(data)]}, links=links), [KEY_PARAM], request, tags=["transit"])
    op(f"{T}/{name}/{{name}}/{{algorithm}}", "post", f"transit-{name}-algorithm",
       f"{name.capitalize()} with a key, naming the hash in the path",
       answers(200, [], {"anyOf": [data, batch_of(data)]}), [KEY_PARAM, ALGORITHM_PARAM], request, tags=["transit"])

random_data = obj({"random_bytes": {"type": "string"}}, ["random_bytes"])
op(T + "/random", "post", "transit-random", "Random bytes", answers(200, [], random_data),
   request="RandomRequest", tags=["transit"])
op(T + "/random/{urlbytes}", "post", "transit-random-bytes", "Random bytes, the count in the path",
   answers(200, [], random_data),
   [path_param("urlbytes", schema={"type": "string", "pattern": "^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-6])$"}, description="1-65536.")],
   "RandomRequest", tags=["transit"])
hash_data = obj({"sum": {"type": "string"}}, ["sum"])
op(T + "/hash", "post", "transit-hash", "Hash (SHA-2, SHA-3)", answers(200, [], hash_data), request="HashRequest",
   tags=["transit"])
op(T + "/hash/{algorithm}", "post", "transit-hash-algorithm", "Hash, the algorithm in the path",
   answers(200, [], hash_data), [path_param("algorithm", schema={"type": "string", "enum": HASHES})],
   "HashRequest", tags=["transit"])

# --- auth/token ---
A = "/v1/auth/token"
created_links = {
    "lookup": link("token-lookup", request_body={"token": "$response.body#/auth/client_token"}),
    "lookup-accessor": link("token-lookup-accessor", request_body={"accessor": "$response.body#/auth/accessor"}),
    "renew": link("token-renew", request_body={"token": "$response.body#/auth/client_token"}),
    "revoke": link("token-revoke", request_body={"token": "$response.body#/auth/client_token"}),
    "revoke-accessor": link("token-revoke-accessor", request_body={"accessor": "$response.body#/auth/accessor"}),
}
for suffix, op_id, summary in (("create", "token-create", "Create a child token"),
                               ("create-orphan", "token-create-orphan", "Create an orphan token (root or sudo)")):
    op(f"{A}/{suffix}", "post", op_id, summary,
       answers(200, [], {"type": "null"}, ref("TokenAuth"), links=created_links), request="TokenCreateRequest",
       tags=["auth"])
op(A + "/lookup", "post", "token-lookup", "Look a token up", answers(200, [], ref("TokenInfo")),
   request="TokenRequest", tags=["auth"])
op(A + "/lookup-accessor", "post", "token-lookup-accessor", "Look a token up by accessor",
   answers(200, [], ref("TokenInfo")), request="AccessorRequest", tags=["auth"])
op(A + "/lookup-self", "get", "token-lookup-self", "Look up the calling token", answers(200, [], ref("TokenInfo")),
   tags=["auth"])
op(A + "/lookup-self", "post", "token-lookup-self-post", "Look up the calling token", answers(200, [], ref("TokenInfo")),
   request="EmptyRequest", tags=["auth"], put_twin=False)
op(A + "/renew", "post", "token-renew", "Renew a token", answers(200, [], {"type": "null"}, ref("TokenAuth")),
   request="RenewRequest", tags=["auth"])
op(A + "/renew-self", "post", "token-renew-self", "Renew the calling token",
   answers(200, [], {"type": "null"}, ref("TokenAuth")), request="RenewSelfRequest", tags=["auth"],
   description="Not run by the fuzz suite against the root token it is given (the root token is not renewable).")
op(A + "/revoke", "post", "token-revoke", "Revoke a token and its children", answers(204, []),
   request="TokenRequest", tags=["auth"])
op(A + "/revoke-orphan", "post", "token-revoke-orphan", "Revoke a token, orphaning its children (sudo)",
   answers(204, []), request="TokenRequest", tags=["auth"])
op(A + "/revoke-accessor", "post", "token-revoke-accessor", "Revoke a token by accessor", answers(204, []),
   request="AccessorRequest", tags=["auth"])
op(A + "/revoke-self", "post", "token-revoke-self", "Revoke the calling token", answers(204, []),
   request="EmptyRequest", tags=["auth"])
op(A + "/accessors", "get", "token-accessors", "List token accessors (sudo)", answers(200, [], ref("Keys")),
   [LIST_PARAM], tags=["auth"])

# --- transform ---
X = "/v1/transform"
kinds = [
    ("role", "TransformRoleRequest", obj({"transformations": {"type": "array", "items": {"type": "string"}}},
                                         ["transformations"])),
    ("transformation", "TransformationRequest", None),
    ("template", "TransformTemplateRequest", None),
    ("alphabet", "TransformAlphabetRequest", obj({"alphabet": {"type": "string"}}, ["alphabet"])),
    ("transformations/fpe", "TransformationRequest", None),
    ("transformations/masking", "TransformationRequest", None),
    ("transformations/tokenization", "TransformationRequest", None),
]
TRANSFORMATION_INFO = obj({
    "type": {"type": "string", "enum": ["fpe", "masking", "tokenization"]},
    "templates": {"type": "array", "items": {"type": "string"}}, "template": {"type": "string"},
    "tweak_source": {"type": "string"}, "masking_character": {"type": "string"},
    "token_format": {"type": "string", "enum": ["opaque", "format-preserving"]},
    "allowed_roles": {"type": "array", "items": {"type": "string"}}, "convergent": {"type": "boolean"},
    "max_ttl": {"type": "integer"}, "mapping_mode": {"type": "string"},
    "stores": {"type": "array", "items": {"type": "string"}}, "deletion_allowed": {"type": "boolean"},
    "preserve_prefix": {"type": "integer"}, "preserve_suffix": {"type": "integer"}, "luhn": {"type": "string"},
}, ["type"])
TEMPLATE_INFO = obj({"type": {"type": "string"}, "pattern": {"type": "string"}, "alphabet": {"type": "string"},
                     "encode_format": {"type": "string"},
                     "decode_formats": {"type": "object", "additionalProperties": {"type": "string"}}},
                    ["type", "pattern", "alphabet"])
for kind, request, info in kinds:
    ident = "transform-" + kind.replace("/", "-")
    info = info or (TEMPLATE_INFO if kind == "template" else TRANSFORMATION_INFO)
    param = ROLE_PARAM if kind == "role" else TRANSFORM_PARAM
    op(f"{X}/{kind}/{{name}}", "post", f"{ident}-write", f"Write a {kind}",
       answers(204, [], links={"read": link(f"{ident}-read", {"name": "$request.path.name"}),
                               "delete": link(f"{ident}-delete", {"name": "$request.path.name"})}),
       [param], request, tags=["transform"])
    op(f"{X}/{kind}/{{name}}", "get", f"{ident}-read", f"Read a {kind}", answers(200, ["404"], info), [param],
       tags=["transform"])
    op(f"{X}/{kind}/{{name}}", "delete", f"{ident}-delete", f"Delete a {kind}", answers(204, ["404"]), [param],
       tags=["transform"])
    op(f"{X}/{kind}", "get", f"{ident}-list", f"List {kind} names", answers(200, [], ref("Keys")), [LIST_PARAM],
       tags=["transform"])

encoded = obj({"encoded_value": {"type": "string"}, "reference": {"type": "string"}}, ["encoded_value"])
decoded = obj({"decoded_value": {"type": "string"}, "reference": {"type": "string"}}, ["decoded_value"])
valid = obj({"valid": {"type": "boolean"}, "reference": {"type": "string"}}, ["valid"])
tokenized = obj({"tokenized": {"type": "boolean"}, "token": {"type": "string"}, "reference": {"type": "string"}},
                ["tokenized"])
metadata = obj({"metadata": {}, "expiration_time": {"type": ["string", "null"]}, "reference": {"type": "string"}},
               [], strict=False)
revoked = obj({"revoked": {"type": "boolean"}, "reference": {"type": "string"}}, [], strict=False)
op(X + "/encode/{name}", "post", "transform-encode", "Encode a value with a role's transformation",
   answers(200, [], {"anyOf": [encoded, batch_of(encoded)]}, links={
       "decode": link("transform-decode", {"name": "$request.path.name"},
                      {"value": "$response.body#/data/encoded_value",
                       "transformation": "$request.body#/transformation"}),
   }), [ROLE_PARAM], "TransformEncodeRequest", tags=["transform"])
op(X + "/decode/{name}", "post", "transform-decode", "Decode a value",
   answers(200, [], {"anyOf": [decoded, batch_of(decoded)]}), [ROLE_PARAM], "TransformDecodeRequest",
   tags=["transform"])
op(X + "/decode/{name}/{format}", "post", "transform-decode-format", "Decode a value with a template's decode format",
   answers(200, [], {"anyOf": [decoded, batch_of(decoded)]}),
   [ROLE_PARAM, path_param("format", SEGMENT, "A decode format of the template.")], "TransformDecodeRequest",
   tags=["transform"])
for name, data in (("validate", valid), ("tokenized", tokenized), ("metadata", metadata), ("revoke", revoked)):
    op(f"{X}/{name}/{{name}}", "post", f"transform-{name}", f"Tokenization: {name}",
       answers(200, [], {"anyOf": [data, batch_of(data)]}), [ROLE_PARAM], "TransformLookupRequest",
       tags=["transform"])


# ---------------------------------------------------------------------------------------------
# The endpoint table decides which operations exist.

KIND_SCHEMAS = {
    "string": {"type": ["string", "null"]},
    "integer": {"type": ["integer", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "duration": DURATION,
    "string-or-object": {"type": ["string", "object", "null"]},
    "any": {},
}


def from_table(entry, method):
    """An operation for an endpoint of the table that has no hand-written one above."""
    path = entry["path"]
    slug = re.sub(r"[^a-z0-9]+", "-", path[len("/v1/"):].lower()).strip("-")
    params = [path_param(name) for name in re.findall(r"\{(\w+)\}", path)]
    if entry["list"] == "only":
        params.append(LIST_PARAM)
    elif entry["list"] == "either":
        params.append(LIST_PARAM_OPTIONAL)
    request = None
    if method in ("post", "put"):
        request = "Table" + "".join(part.capitalize() for part in slug.split("-")) + "Request"
        SCHEMAS[request] = obj({name: copy.deepcopy(KIND_SCHEMAS[kind]) for name, kind in sorted(entry["fields"].items())},
                               description=f"The fields `{entry['label']}` accepts (from the endpoint table).")
    op_id = f"{entry['operation']}-{slug}" + ("" if method in ("get", "post", "delete") else "-" + method)
    data = None if entry["status"] == 204 else obj({}, strict=False)
    op(path, method, op_id, f"{entry['label']} ({entry['operation']}; from the endpoint table)",
       answers(entry["status"], [], data), params, request, tags=[path.split("/")[2]], security=entry["access"] != "anyone",
       put_twin=False)


def reconcile(table):
    """Makes PATHS hold exactly the table's operations: those written above, then the others."""
    wanted = {(entry["path"], method): entry for entry in table["endpoints"] for method in entry["methods"]}
    extra = sorted((path, method) for path, item in PATHS.items() for method in item if (path, method) not in wanted)
    if extra:
        raise SystemExit(f"openapi_build: operations the endpoint table does not have: {extra}")
    for (path, method), entry in sorted(wanted.items()):
        if method not in PATHS.get(path, {}):
            from_table(entry, method)


def document():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bulwark key service",
            "version": "0.1",
            "description": "The HTTP API of `bulwark server`: HashiCorp Vault's Transit engine, tokens, ACL policies, "
                           "the Transform engine and sys endpoints, with Vault's envelope and error shape. Vault's "
                           "`LIST` method is written here as `GET ?list=true` (the server takes both). Every path "
                           "segment is letters, digits and `-_.~:@+,=`, with no percent-encoding, no empty, `.` or "
                           "`..` segment and no trailing slash (except on a list request); other spellings are "
                           "refused with 400 before authentication.",
        },
        "servers": [{"url": "https://127.0.0.1:8200"}],
        "security": [{"vaultToken": []}, {"bearer": []}],
        "tags": [{"name": "sys"}, {"name": "transit"}, {"name": "auth"}, {"name": "transform"}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "vaultToken": {"type": "apiKey", "in": "header", "name": "X-Vault-Token"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <token>`."},
            },
            "schemas": SCHEMAS,
            "responses": RESPONSES,
        },
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed document is stale")
    parser.add_argument("--endpoints", default=str(ENDPOINTS), help="the endpoint table (default docs/endpoints.json)")
    parser.add_argument("--output", default=str(OUTPUT), help="where to write the document")
    args = parser.parse_args()
    with open(args.endpoints) as file:
        reconcile(json.load(file))
    output = pathlib.Path(args.output)
    text = json.dumps(document(), indent=1, sort_keys=False) + "\n"
    if args.check:
        if not output.exists() or output.read_text() != text:
            extra = "" if args.endpoints == str(ENDPOINTS) else f" --endpoints {args.endpoints} --output {output}"
            print(f"{output} is stale: run python3 {pathlib.Path(__file__).relative_to(ROOT)}{extra}")
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    count = sum(len(item) for item in PATHS.values())
    print(f"wrote {output}: {len(PATHS)} paths, {count} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
