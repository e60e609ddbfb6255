#!/usr/bin/env python3
"""Drives `bulwark server`'s Transform API with hvac, HashiCorp's Python Vault client: roles,
transformations (FPE, masking, tokenization), templates, alphabets, encode/decode, validate,
tokenized, metadata; plus the access rules (decode is its own capability) and token expiry.

Usage: transform_hvac.py URL TOKEN CA_FILE PAN_FILE. Exits non-zero on the first failed check.
"""
import re
import sys
import time

import hvac

url, token, ca, pan_file = sys.argv[1:5]
client = hvac.Client(url=url, token=token, verify=ca)
transform = client.secrets.transform


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def refused(call, status, what):
    try:
        call()
    except hvac.exceptions.VaultError as error:
        check(getattr(error, "status_code", None) in (status, None) or str(status) in str(error), f"{what} ({error})")
        return str(error)
    check(False, what + " (the call succeeded)")


def luhn_ok(digits):
    total = 0
    for position, ch in enumerate(reversed(digits)):
        d = int(ch)
        if position % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


pans = [line.split("\t")[0] for line in open(pan_file) if line.strip() and not line.startswith("#")]

# --- configuration through hvac ---
transform.create_or_update_alphabet(name="digits", alphabet="0123456789")
check(transform.read_alphabet(name="digits")["data"]["alphabet"] == "0123456789", "alphabet read")
check("digits" in transform.list_alphabets()["data"]["keys"], "alphabets listed")
transform.create_or_update_template(
    name="ccn", template_type="regex", pattern=r"(\d{4})-(\d{4})-(\d{4})-(\d{4})", alphabet="digits")
check(transform.read_template(name="ccn")["data"]["pattern"] == r"(\d{4})-(\d{4})-(\d{4})-(\d{4})", "template read")
check("ccn" in transform.list_templates()["data"]["keys"], "templates listed")

transform.create_or_update_role(name="payments", transformations=["ccn-fpe", "ccn-mask", "ccn-token", "card-token", "ssn-fpe"])
check(transform.read_role(name="payments")["data"]["transformations"][0] == "ccn-fpe", "role read")
check("payments" in transform.list_roles()["data"]["keys"], "roles listed")

transform.create_or_update_transformation(
    name="ccn-fpe", transform_type="fpe", template="ccn", tweak_source="internal", allowed_roles=["payments"])
client.adapter.post("/v1/transform/template/ccn-last4", json={
    "type": "regex", "pattern": r"(\d{4})-(\d{4})-(\d{4})-\d{4}", "alphabet": "builtin/numeric"})
transform.create_or_update_masking_transformation(
    name="ccn-mask", template="ccn-last4", masking_character="#", allowed_roles=["payments"])
transform.create_or_update_tokenization_transformation(name="ccn-token", max_ttl=0, allowed_roles=["payments"])
transform.create_or_update_fpe_transformation(
    name="ssn-fpe", template="builtin/socialsecuritynumber", tweak_source="supplied", allowed_roles=["payments"])
# Format-preserving, Luhn-invalid card tokens keeping the first six and last four digits.
client.adapter.post("/v1/transform/transformations/tokenization/card-token", json={
    "template": "builtin/creditcardnumber", "preserve_prefix": 6, "preserve_suffix": 4, "luhn": "invalid",
    "allowed_roles": ["payments"]})
fpe_info = transform.read_transformation(name="ccn-fpe")["data"]
check(fpe_info["type"] == "fpe" and fpe_info["templates"] == ["ccn"] and fpe_info["tweak_source"] == "internal", "transformation read")
check("key" not in fpe_info, "no key material in a read")
names = transform.list_transformations()["data"]["keys"]
check(set(["ccn-fpe", "ccn-mask", "ccn-token", "card-token", "ssn-fpe"]) <= set(names), "transformations listed")

# --- FPE ---
value = "4111-1111-1111-1111"
encoded = transform.encode(role_name="payments", value=value, transformation="ccn-fpe")["data"]["encoded_value"]
check(re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{4}", encoded) and encoded != value, "FPE keeps the format: " + encoded)
decoded = transform.decode(role_name="payments", value=encoded, transformation="ccn-fpe")["data"]["decoded_value"]
check(decoded == value, "FPE decodes")
check(transform.encode(role_name="payments", value=value, transformation="ccn-fpe")["data"]["encoded_value"] == encoded,
      "FPE is deterministic for an internal tweak")
ssn = transform.encode(role_name="payments", value="123-45-6789", transformation="ssn-fpe", tweak="c2FsdA==")["data"]["encoded_value"]
check(re.fullmatch(r"\d{3}-\d{2}-\d{4}", ssn), "SSN FPE with a supplied tweak: " + ssn)
check(transform.decode(role_name="payments", value=ssn, transformation="ssn-fpe", tweak="c2FsdA==")["data"]["decoded_value"] == "123-45-6789",
      "SSN decodes with its tweak")
refused(lambda: transform.encode(role_name="payments", value="123-45-6789", transformation="ssn-fpe"), 400, "a supplied-tweak transformation needs a tweak")
refused(lambda: transform.encode(role_name="payments", value="41111111", transformation="ccn-fpe"), 400, "a value outside the template is refused")

# encode_format and decode_formats: spaces or dashes in, dashes out; a named decode layout.
# (this hvac's create_or_update_template has no encode_format: the generic request path sends it)
client.adapter.post("/v1/transform/template/ccn-any", json={
    "type": "regex", "pattern": r"(\d{4})[- ]?(\d{4})[- ]?(\d{4})[- ]?(\d{4})", "alphabet": "builtin/numeric",
    "encode_format": "$1-$2-$3-$4", "decode_formats": {"last-four": "$4", "spaced": "$1 $2 $3 $4"}})
check(transform.read_template(name="ccn-any")["data"]["decode_formats"]["last-four"] == "$4", "decode formats read back")
transform.create_or_update_fpe_transformation(name="ccn-fmt", template="ccn-any", tweak_source="internal", allowed_roles=["fmt"])
transform.create_or_update_role(name="fmt", transformations=["ccn-fmt"])
laid_out = transform.encode(role_name="fmt", value="4111 1111 1111 1111")["data"]["encoded_value"]
check(re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{4}", laid_out), "encode_format lays the output out: " + laid_out)
check(transform.decode(role_name="fmt", value=laid_out)["data"]["decoded_value"] == "4111-1111-1111-1111", "decoded in the encode layout")
check(client.adapter.post("/v1/transform/decode/fmt/last-four", json={"value": laid_out})["data"]["decoded_value"] == "1111",
      "decode format from the path")
check(client.adapter.post("/v1/transform/decode/fmt", json={"value": laid_out, "decode_format": "spaced"})["data"]["decoded_value"]
      == "4111 1111 1111 1111", "decode format from the body")
client.adapter.post("/v1/transform/transformations/fpe/gen", json={"template": "builtin/socialsecuritynumber", "tweak_source": "generated", "allowed_roles": ["fmt"]})
transform.create_or_update_role(name="fmt", transformations=["ccn-fmt", "gen"])
answer = transform.encode(role_name="fmt", value="078-05-1120", transformation="gen")["data"]
check(answer.get("tweak"), "a generated tweak is returned")
check(transform.decode(role_name="fmt", value=answer["encoded_value"], transformation="gen", tweak=answer["tweak"])["data"]["decoded_value"] == "078-05-1120",
      "decodes with the generated tweak")

# --- masking ---
masked = transform.encode(role_name="payments", value=value, transformation="ccn-mask")["data"]["encoded_value"]
check(masked == "####-####-####-1111", "masking keeps only the last four: " + masked)
refused(lambda: transform.decode(role_name="payments", value=masked, transformation="ccn-mask"), 400, "masked values cannot be decoded")

# --- tokenization ---
batch = [{"value": pan, "transformation": "ccn-token", "reference": str(i)} for i, pan in enumerate(pans)]
results = transform.encode(role_name="payments", batch_input=batch)["data"]["batch_results"]
tokens = [r["encoded_value"] for r in results]
check(all(t.startswith("tok_") and len(t) == 26 for t in tokens), "opaque tokens are tok_ + 22 base62")
check(len(set(tokens)) == len(tokens), "no two test PANs share a token (non-convergent)")
check([r["reference"] for r in results] == [str(i) for i in range(len(pans))], "batch references are echoed")
back = transform.decode(role_name="payments", batch_input=[{"value": t, "transformation": "ccn-token"} for t in tokens])["data"]["batch_results"]
check([r["decoded_value"] for r in back] == pans, "every test PAN detokenises")
again = transform.encode(role_name="payments", value=pans[0], transformation="ccn-token")["data"]["encoded_value"]
check(again != tokens[0], "non-convergent: the same value gets a fresh token")
valid = transform.validate_token(role_name="payments", value=tokens[0], transformation="ccn-token")["data"]["valid"]
invalid = transform.validate_token(role_name="payments", value="tok_notatokenatall0000000", transformation="ccn-token")["data"]["valid"]
check(valid is True and invalid is False, "validate tells stored tokens from others")
refused(lambda: transform.check_tokenization(role_name="payments", value=pans[0], transformation="ccn-token"), 400,
        "tokenized needs a convergent transformation")

# Format-preserving card tokens.
luhn_pans = [p for p in pans if luhn_ok(p) and len(p) == 16]
card_results = transform.encode(role_name="payments", batch_input=[{"value": p, "transformation": "card-token"} for p in luhn_pans])["data"]["batch_results"]
for pan, result in zip(luhn_pans, card_results):
    tok = result["encoded_value"]
    check(len(tok) == len(pan) and tok.isdigit() and tok[:6] == pan[:6] and tok[-4:] == pan[-4:] and not luhn_ok(tok),
          f"card token keeps BIN and last four and fails Luhn: {pan[:6]}…{pan[-4:]} -> {tok[:6]}…{tok[-4:]}")
dashed = transform.encode(role_name="payments", value="4111-1111-1111-1111", transformation="card-token")["data"]["encoded_value"]
check(re.fullmatch(r"4111-11\d\d-\d{4}-1111", dashed), "card token keeps the dashes: " + dashed)
check(transform.decode(role_name="payments", value=dashed, transformation="card-token")["data"]["decoded_value"] == "4111-1111-1111-1111",
      "card token detokenises")

# Convergent tokenization, TTL, metadata.
transform.create_or_update_tokenization_transformation(name="email-token", allowed_roles=["mail"], max_ttl="1h")
client.adapter.post("/v1/transform/transformations/tokenization/email-conv", json={"convergent": True, "allowed_roles": ["mail"]})
transform.create_or_update_role(name="mail", transformations=["email-token", "email-conv"])
first = transform.encode(role_name="mail", value="ada@example.org", transformation="email-conv")["data"]["encoded_value"]
second = transform.encode(role_name="mail", value="ada@example.org", transformation="email-conv")["data"]["encoded_value"]
check(first == second, "convergent: the same value gets the same token")
check(transform.check_tokenization(role_name="mail", value="ada@example.org", transformation="email-conv")["data"]["tokenized"] is True,
      "tokenized finds a convergent value")
check(transform.check_tokenization(role_name="mail", value="bob@example.org", transformation="email-conv")["data"]["tokenized"] is False,
      "tokenized: an unseen value is not tokenized")
short = client.adapter.post("/v1/transform/encode/mail", json={
    "value": "eve@example.org", "transformation": "email-token", "ttl": "2s", "metadata": {"owner": "crm"}})["data"]["encoded_value"]
meta = transform.retrieve_token_metadata(role_name="mail", value=short, transformation="email-token")["data"]
check(meta["metadata"] == {"owner": "crm"} and meta["expiration_time"], "metadata and expiry are returned")
check(transform.decode(role_name="mail", value=short, transformation="email-token")["data"]["decoded_value"] == "eve@example.org",
      "a fresh token with a TTL decodes")
time.sleep(3.1)
message = refused(lambda: transform.decode(role_name="mail", value=short, transformation="email-token"), 400, "an expired token is refused")
check("expired" in message, "the error says the token expired")
# Retention removes expired vault tokens (they can never decode again).
removed = client.adapter.post("/v1/sys/retention", json={"dry_run": False})["data"]
check(removed["transform_tokens"] >= 1, "retention purges expired vault tokens")
message = refused(lambda: transform.decode(role_name="mail", value=short, transformation="email-token"), 400, "a purged token is gone")
check("not found" in message, "the purged token is not found")
# Revocation (Bulwark's addition).
revoked = client.adapter.post("/v1/transform/revoke/mail", json={"value": first, "transformation": "email-conv"})["data"]
check(revoked["revoked"] is True, "a token can be revoked")
refused(lambda: transform.decode(role_name="mail", value=first, transformation="email-conv"), 400, "a revoked token no longer decodes")

# --- access: encode without decode ---
client.sys.create_or_update_policy(name="tokenize-only", policy='path "transform/encode/payments" { capabilities = ["update"] }')
limited = hvac.Client(url=url, token=client.auth.token.create(policies=["tokenize-only"])["auth"]["client_token"], verify=ca)
own = limited.secrets.transform.encode(role_name="payments", value=pans[1], transformation="ccn-token")["data"]["encoded_value"]
check(own.startswith("tok_"), "a tokenize-only service can tokenise")
refused(lambda: limited.secrets.transform.decode(role_name="payments", value=own, transformation="ccn-token"), 403,
        "a tokenize-only service cannot detokenise")
refused(lambda: limited.secrets.transform.read_role(name="payments"), 403, "nor read the configuration")

# --- refusals and deletion ---
refused(lambda: transform.encode(role_name="mail", value=value, transformation="ccn-fpe"), 400, "a transformation outside the role is refused")
refused(lambda: client.adapter.post("/v1/transform/transformations/fpe/bad", json={"template": "nope"}), 400, "an unknown template is refused")
client.adapter.post("/v1/transform/template/pin", json={"type": "regex", "pattern": r"(\d{4})", "alphabet": "builtin/numeric"})
client.adapter.post("/v1/transform/transformations/fpe/pin-fpe", json={"template": "pin", "tweak_source": "internal", "allowed_roles": ["payments"]})
transform.create_or_update_role(name="payments", transformations=["ccn-fpe", "ccn-mask", "ccn-token", "card-token", "ssn-fpe", "pin-fpe"])
message = refused(lambda: transform.encode(role_name="payments", value="1234", transformation="pin-fpe"), 400, "FPE over a domain under one million values is refused")
check("one million" in message, "the error names the domain rule")
refused(lambda: client.adapter.post("/v1/transform/alphabet/dup", json={"alphabet": "aab"}), 400, "an alphabet with repeats is refused")
refused(lambda: client.adapter.post("/v1/transform/template/bad", json={"pattern": "(", "alphabet": "digits"}), 400, "a bad regex is refused")
refused(lambda: transform.delete_transformation(name="ccn-token"), 400, "a tokenization transformation is not deleted unless allowed")
transform.delete_role(name="mail")
check("mail" not in transform.list_roles()["data"]["keys"], "role deleted")
transform.delete_template(name="ccn-last4")
transform.delete_alphabet(name="digits")
transform.delete_transformation(name="ssn-fpe")
check("ssn-fpe" not in transform.list_transformations()["data"]["keys"], "transformation deleted")
print("all hvac transform checks passed")
