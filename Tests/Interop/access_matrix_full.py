#!/usr/bin/env python3
"""The access matrix, generated from the API's own table (the OpenAPI document the server serves):
every authenticated operation x every kind of caller x every spelling of its path.

  access_matrix_full.py URL ROOT_TOKEN CA_FILE SPEC

For each operation in SPEC (public ones, `security: []`, are skipped) it makes, with the root token:
  yes      a token whose policy grants every capability on the operation's path
  no       a token whose policy grants every capability on a sibling path only
  denied   a token whose policy grants everything on the path and denies it on the same path
  expired  a yes-policy token with ttl 1s (all made first, then one wait)
  revoked  a yes-policy token, revoked
  used-up  a yes-policy token with num_uses 1, used once
  orphaned a yes-policy child of a parent that was revoked
and checks: no token, a bad token and every kind above but `yes` are refused (403, or 429 once
the per-address limit on unauthenticated refusals is reached); `yes` is not refused
(401/403); and five other spellings of the path (trailing slash unless it is a list, doubled
slash, dot segment, upper-cased segment, percent-encoded letter), sent with the `yes` token, never succeed.
Self-service operations (`*-self`) need no policy: only the token's validity is checked for them.
Prints one line per operation and a summary; exits 1 on any mismatch.
"""
import http.client
import json
import os
import ssl
import sys
import time
import urllib.parse

url, root, ca, spec_path = sys.argv[1:5]
spec = json.load(open(spec_path))
address = urllib.parse.urlsplit(url)
context = ssl.create_default_context(cafile=ca)


class Answer:
    def __init__(self, status, text):
        self.status_code = status
        self.text = text

    def json(self):
        return json.loads(self.text)


connection = None


def call(method, path, token, body=None, query=""):
    """One request on a kept-alive connection, the path sent exactly as given (http.client does
    not normalise dot segments or percent-encoding, as requests/urllib3 would)."""
    global connection
    headers = {"X-Vault-Token": token} if token else {}
    data = None if method in ("GET", "DELETE", "LIST") else json.dumps(body if body is not None else {})
    if data is not None:
        headers["Content-Type"] = "application/json"
    for attempt in range(2):
        if connection is None:
            connection = http.client.HTTPSConnection(address.hostname, address.port, context=context, timeout=30)
        try:
            connection.request(method, path + query, body=data, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.read().decode("utf-8", "replace"))
        except (http.client.HTTPException, OSError):
            connection.close()
            connection = None
            if attempt:
                raise


def admin(method, path, body=None):
    response = call(method, path, root, body)
    if response.status_code >= 300:
        raise SystemExit(f"setup {method} {path}: {response.status_code} {response.text[:300]}")
    return response.json() if response.text else {}


def make_token(policies, **extra):
    return admin("POST", "/v1/auth/token/create", {"policies": policies, "ttl": "1h", **extra})["auth"]["client_token"]


# Fixtures the operations name (their success does not matter here, only whether they get past
# authorisation).
admin("POST", "/v1/transit/keys/k", {})
VALUES = {"algorithm": "sha2-256", "urlbytes": "8", "format": "x"}


def concrete(template, index):
    """The path with its parameters filled in: existing key `k` under transit (a new name where the
    operation would create or delete one), a per-operation name elsewhere."""
    parts = []
    for segment in template.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            if name in VALUES:
                parts.append(VALUES[name])
            elif template.startswith("/v1/transit/keys/{name}") and template == "/v1/transit/keys/{name}":
                parts.append(f"m{index}")
            elif template.startswith("/v1/transit/"):
                parts.append("k")
            else:
                parts.append(f"n{index}")
        else:
            parts.append(segment)
    return "/".join(parts)


LISTABLE = {"/v1/transit/keys", "/v1/sys/policy", "/v1/sys/policies/acl", "/v1/auth/token/accessors"}


def operations():
    for index, (template, item) in enumerate(sorted(spec["paths"].items())):
        for method in ("get", "post", "put", "delete"):
            operation = item.get(method)
            if operation is None or operation.get("security") == []:
                continue
            path = concrete(template, index)
            query = ""
            if method == "get" and (template in LISTABLE or template.startswith("/v1/transform/")) and "{" not in template.split("/")[-1]:
                query = "?list=true"
            yield template, method.upper(), path, query


def spellings(path, listing):
    """Other spellings of `path` that must not reach the operation. A list request's trailing
    slash is its canonical form in Vault (`LIST transit/keys/`), so it is not among them."""
    head, _, last = path.rpartition("/")
    segments = path.split("/")
    upper = "/".join(segments[:2] + [segments[2].upper()] + segments[3:])
    encoded = path[:-1] + "%{:02X}".format(ord(path[-1]))
    return ([] if listing else [path + "/"]) + [head + "//" + last, head + "/./" + last, upper, encoded]


ops = list(operations())
# The served document has them all; a test may pass a document of a few (MINIMUM_OPERATIONS).
minimum = int(os.environ.get("MINIMUM_OPERATIONS", "80"))
assert len(ops) >= minimum, f"only {len(ops)} operations in the spec"
# Policies and tokens for every operation, made first; then one wait expires the short ones.
callers = []
for number, (template, method, path, query) in enumerate(ops):
    acl = path[len("/v1/"):]
    sibling = acl + "-other"
    everything = '["create", "read", "update", "delete", "list", "sudo"]'
    admin("PUT", f"/v1/sys/policy/yes{number}", {"policy": f'path "{acl}" {{ capabilities = {everything} }}'})
    admin("PUT", f"/v1/sys/policy/no{number}", {"policy": f'path "{sibling}" {{ capabilities = {everything} }}'})
    admin("PUT", f"/v1/sys/policy/deny{number}", {
        "policy": f'path "{acl}" {{ capabilities = {everything} }}\npath "{acl}" {{ capabilities = ["deny"] }}'})
    # A parent that may make children (auth/token/create) and holds the yes policy.
    admin("PUT", f"/v1/sys/policy/parent{number}", {"policy": 'path "auth/token/create" { capabilities = ["update"] }'})
    tokens = {
        "yes": make_token([f"yes{number}"]),
        "no": make_token([f"no{number}"]),
        "denied": make_token([f"deny{number}"]),
        "expired": admin("POST", "/v1/auth/token/create", {"policies": [f"yes{number}"], "ttl": "1s"})["auth"]["client_token"],
        "revoked": make_token([f"yes{number}"]),
        "used-up": make_token([f"yes{number}"], num_uses=1),
    }
    parent = make_token([f"yes{number}", f"parent{number}"])
    child = call("POST", "/v1/auth/token/create", parent, {"policies": [f"yes{number}"], "ttl": "1h"})
    if child.status_code != 200:
        raise SystemExit(f"setup: a child token: {child.status_code} {child.text[:200]}")
    tokens["orphaned"] = child.json()["auth"]["client_token"]
    admin("POST", "/v1/auth/token/revoke", {"token": parent})
    admin("POST", "/v1/auth/token/revoke", {"token": tokens["revoked"]})
    used = call("GET", "/v1/auth/token/lookup-self", tokens["used-up"])
    if used.status_code != 200:
        raise SystemExit(f"setup: using the one-use token: {used.status_code}")
    callers.append(tokens)
time.sleep(2.5)

mismatches = 0
checked = 0
for (template, method, path, query), tokens in zip(ops, callers):
    self_service = template.endswith("-self")
    refused_kinds = ["expired", "revoked", "used-up", "orphaned"] + ([] if self_service else ["no", "denied"])
    outcome = {}
    for label, token in [("no token", None), ("bad token", "bwt.not-a-token")] + [(kind, tokens[kind]) for kind in refused_kinds]:
        status = call(method, path, token, query=query).status_code
        outcome[label] = status
        checked += 1
        if status not in (403, 429):
            mismatches += 1
            print(f"MISMATCH {method} {path}{query} {label}: {status}, expected 403", file=sys.stderr)
    for spelling in spellings(path, bool(query)):
        status = call(method, spelling, tokens["yes"], query=query).status_code
        checked += 1
        if 200 <= status < 300:
            mismatches += 1
            print(f"MISMATCH {method} {spelling}{query} (another spelling) answered {status}", file=sys.stderr)
    status = call(method, path, tokens["yes"], query=query).status_code
    checked += 1
    if status in (401, 403):
        mismatches += 1
        print(f"MISMATCH {method} {path}{query} with the capability: {status}", file=sys.stderr)
    print(f"ok: {method} {template}{query} (granted: {status})" if status not in (401, 403) else f"-- {method} {template}")

print(f"access matrix: {len(ops)} operations, {checked} checks, {mismatches} mismatches")
sys.exit(1 if mismatches else 0)
