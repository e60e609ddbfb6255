#!/usr/bin/env python3
"""API fuzzing of a running Bulwark server against its OpenAPI document.

    python3 Tests/Interop/api_fuzz.py URL TOKEN CAFILE SPEC [--long] [--seed N]

1. Validates SPEC (docs/openapi.json) with openapi-spec-validator.
2. Runs schemathesis 4 against URL with the token: every check (no 5xx, documented statuses,
   content types, response schemas and headers, negative data refused, positive data accepted,
   missing auth refused, undocumented methods refused, …) over the examples, coverage, fuzzing
   and stateful phases; the stateful phase follows the document's links (create key → encrypt →
   decrypt/rewrap → rotate, token create → lookup → renew → revoke, policy write → read → delete,
   Transform writes → read → delete, encode → decode).
3. Checks the two self-service token calls the fuzzer must not make with the root token
   (revoke-self would revoke it, renew-self refuses it) with a child token instead.

Bounded by default (a few minutes on 2 cores); `--long` runs many more examples. Prints a summary
and exits 1 on any failure. Needs the packages in requirements-api-fuzz.txt (schemathesis 4.x,
openapi-spec-validator); the server is started by the caller (a dev server is fine).
"""

import argparse
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# Operations whose 400 can depend on state the request cannot know (a key of another type, a
# ciphertext that does not authenticate, a token that has gone, a Transform object missing):
# valid data may be refused there. Everywhere else valid data must be accepted (2xx, or
# 403/404/409/429 as schemathesis' default allows).
STATE_DEPENDENT = [
    "transit-create-key", "transit-read-key", "transit-delete-key", "transit-config", "transit-rotate",
    "transit-trim", "transit-soft-delete-key", "transit-soft-delete-restore-key", "transit-encrypt", "transit-decrypt", "transit-rewrap", "transit-datakey-plaintext",
    "transit-datakey-wrapped", "transit-hmac", "transit-hmac-algorithm", "transit-sign", "transit-sign-algorithm",
    "transit-verify", "transit-verify-algorithm",
    # A key that is not exportable, or has no key of the type asked, or no such version: 400.
    "transit-export", "transit-export-version",
    # The body's count or algorithm must agree with the path's (a schema cannot say "equal to the
    # path parameter"): a body that names another is refused.
    "transit-random-bytes", "transit-hash-algorithm",
    "write-policy", "write-acl-policy",
    "token-lookup", "token-lookup-accessor", "token-renew", "token-revoke-accessor",
    "token-create", "token-create-orphan",
    # A dev server's master key comes from its configuration (a static seal): sys/seal answers 400.
    "sys-seal", "sys-rotate-root-init", "sys-rotate-root-update", "sys-rotate-root-verify",
    "sys-generate-root-init", "sys-generate-root-update",
    "transform-role-write", "transform-transformation-write", "transform-template-write", "transform-alphabet-write",
    "transform-transformations-fpe-write", "transform-transformations-masking-write",
    "transform-transformations-tokenization-write", "transform-transformation-delete",
    "transform-transformations-fpe-delete", "transform-transformations-masking-delete",
    "transform-transformations-tokenization-delete",
    "transform-encode", "transform-decode", "transform-decode-format", "transform-validate", "transform-tokenized",
    "transform-metadata", "transform-revoke",
]
# Not fuzzed with the root token (see 3. above).
SELF_SERVICE = ["token-revoke-self", "token-revoke-self-put", "token-renew-self", "token-renew-self-put"]


def validate_spec(path):
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, _ = read_from_filename(str(path))
    validate(document)
    operations = sum(len([m for m in item if m in ("get", "put", "post", "delete")]) for item in document["paths"].values())
    print(f"spec: valid OpenAPI {document['openapi']}, {len(document['paths'])} paths, {operations} operations")
    return document


def operation_ids(document):
    return {op["operationId"] for item in document["paths"].values() for op in item.values() if isinstance(op, dict)}


def config_text(document):
    """schemathesis.toml: where a 400 is acceptable for valid data."""
    known = operation_ids(document)
    lines = [
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "403", "404", "409", "429"]',
        "",
        "[checks.negative_data_rejection]",
        'expected-statuses = ["400", "403", "404", "405", "413", "422"]',
        "",
    ]
    for operation_id in STATE_DEPENDENT:
        for suffix in ("", "-put"):
            if operation_id + suffix not in known:
                continue
            lines += [
                "[[operations]]",
                f'include-operation-id = "{operation_id}{suffix}"',
                "[operations.checks.positive_data_acceptance]",
                'expected-statuses = ["2xx", "400", "403", "404", "409", "429"]',
                "",
            ]
    return "\n".join(lines) + "\n"


def request(url, cafile, method, path, token=None, body=None):
    context = ssl.create_default_context(cafile=cafile)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if token:
        req.add_header("X-Vault-Token", token)
    try:
        with urllib.request.urlopen(req, context=context, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def self_service_checks(url, token, cafile, document):
    """renew-self and revoke-self with a child token, answers checked against the document."""
    import jsonschema

    failures = []

    def check(label, status, answer, expected, schema_ref=None):
        if status != expected:
            failures.append(f"{label}: status {status}, expected {expected}: {answer}")
            return
        if schema_ref:
            resolver = {"components": document["components"], **schema_ref}
            try:
                jsonschema.validate(answer, resolver, cls=jsonschema.Draft202012Validator)
            except jsonschema.ValidationError as error:
                failures.append(f"{label}: answer outside the schema: {error.message}")

    operation = document["paths"]["/v1/auth/token/renew-self"]["post"]["responses"]["200"]
    renew_schema = operation["content"]["application/json"]["schema"]
    status, created = request(url, cafile, "POST", "/v1/auth/token/create", token, {"ttl": "1h"})
    if status != 200:
        return [f"token create for self-service checks: {status} {created}"]
    child = created["auth"]["client_token"]
    for method in ("POST", "PUT"):
        status, answer = request(url, cafile, method, "/v1/auth/token/renew-self", child, {"increment": "30m"})
        check(f"{method} renew-self", status, answer, 200, renew_schema)
        status, answer = request(url, cafile, method, "/v1/auth/token/renew-self", child, {"bogus": 1})
        check(f"{method} renew-self with an unknown field", status, answer, 400, {"$ref": "#/components/schemas/Error"})
    status, answer = request(url, cafile, "POST", "/v1/auth/token/renew-self", token, {})
    check("renew-self with the root token", status, answer, 400, {"$ref": "#/components/schemas/Error"})
    for method in ("POST", "PUT"):
        status, created = request(url, cafile, "POST", "/v1/auth/token/create", token, {"ttl": "1h"})
        child = created["auth"]["client_token"]
        status, answer = request(url, cafile, method, "/v1/auth/token/revoke-self", child)
        check(f"{method} revoke-self", status, answer, 204)
        status, answer = request(url, cafile, "GET", "/v1/auth/token/lookup-self", child)
        check(f"lookup-self after {method} revoke-self", status, answer, 403, {"$ref": "#/components/schemas/Error"})
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("cafile")
    parser.add_argument("spec")
    parser.add_argument("--long", action="store_true", help="many more examples (tens of minutes)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    started = time.monotonic()
    spec = pathlib.Path(args.spec)
    document = validate_spec(spec)

    schemathesis = shutil.which("schemathesis") or str(pathlib.Path(sys.executable).parent / "schemathesis")
    failures = []
    with tempfile.TemporaryDirectory(prefix="bulwark-api-fuzz-") as work:
        work = pathlib.Path(work)
        (work / "schemathesis.toml").write_text(config_text(document))
        examples = 60 if args.long else 6
        command = [
            schemathesis, "--config-file", str(work / "schemathesis.toml"), "--no-color", "run", str(spec.resolve()),
            "--url", args.url.rstrip("/"),
            "-H", f"X-Vault-Token: {args.token}",
            "--tls-verify", args.cafile,
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(examples),
            "--workers", str(args.workers),
            "--request-timeout", "20",
            "--suppress-health-check", "all",
            "--generation-database", "none",
            "--output-truncate", "false",
            "--continue-on-failure",
            "--report", "junit,ndjson", "--report-dir", str(work / "report"),
        ]
        for operation_id in SELF_SERVICE:
            command += ["--exclude-operation-id", operation_id]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        env = dict(os.environ, SCHEMATHESIS_HOOKS="", NO_COLOR="1")
        print("running:", " ".join(part if "X-Vault-Token" not in part else "-H X-Vault-Token: ***" for part in command))
        sys.stdout.flush()
        result = subprocess.run(command, env=env, cwd=work)
        if result.returncode != 0:
            failures.append(f"schemathesis exited with {result.returncode} (its failures are listed above)")
        keep = os.environ.get("API_FUZZ_REPORT_DIR")
        if keep:
            shutil.copytree(work / "report", keep, dirs_exist_ok=True)

    for problem in self_service_checks(args.url, args.token, args.cafile, document):
        failures.append("self-service: " + problem)

    elapsed = time.monotonic() - started
    print()
    print(f"api fuzz: {'FAILED' if failures else 'ok'} in {elapsed:.0f} s")
    for failure in failures:
        print("  -", failure)
    passed = 0 if failures else 1
    print(f"api-fuzz: {passed} passed, {1 - passed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
