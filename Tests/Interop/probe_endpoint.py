#!/usr/bin/env python3
"""Checks a throw-away endpoint that a test added to the server's endpoint table through one
descriptor (EndpointTableTests): `transit/probe/:name`, a write taking `label` (non-sensitive)
and `secret` through a typed request, answering the label back in a typed answer.

  probe_endpoint.py URL ROOT_TOKEN CA_FILE AUDIT_LOG

Routing: the root token reaches it (POST and PUT); fields: an unknown one is refused by name;
policy: a token granted `update` on the path reaches it, one granted `read` only and one with no
token do not; spelling: a trailing slash is refused; 405 with `Allow: PUT, POST` for a GET;
audit: the label is in the log in clear, the secret nowhere. Exits 1 on any mismatch.
"""
import http.client
import json
import ssl
import sys
import urllib.parse

url, root, ca, audit_path = sys.argv[1:5]
address = urllib.parse.urlsplit(url)
context = ssl.create_default_context(cafile=ca)
failures = []


def call(method, path, token, body=None):
    connection = http.client.HTTPSConnection(address.hostname, address.port, context=context, timeout=30)
    headers = {"X-Vault-Token": token} if token else {}
    data = None if body is None else json.dumps(body)
    if data is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, response.getheader("Allow"), (json.loads(text) if text else {})


def expect(what, condition):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)


def token(name, capability):
    status, _, _ = call("PUT", f"/v1/sys/policy/{name}", root, {"policy": f'path "transit/probe/p1" {{ capabilities = ["{capability}"] }}'})
    assert status == 204, status
    status, _, answer = call("POST", "/v1/auth/token/create", root, {"policies": [name], "ttl": "1h"})
    assert status == 200, status
    return answer["auth"]["client_token"]


body = {"label": "probe-label-7", "secret": "probe-secret-value-9"}
for method in ("POST", "PUT"):
    status, _, answer = call(method, "/v1/transit/probe/p1", root, body)
    expect(f"{method} with the root token answers 200 with the label", status == 200 and answer.get("data", {}).get("label") == "probe-label-7")
status, _, answer = call("POST", "/v1/transit/probe/p1", root, {"label": "x", "other": "y"})
expect("an unknown field is refused by name (400)", status == 400 and "other" in json.dumps(answer))
# The request type decodes the body: a required field missing or of the wrong type is refused
# by name, and the refusal never quotes a value the caller sent.
status, _, answer = call("POST", "/v1/transit/probe/p1", root, {"secret": "probe-secret-value-9"})
expect("a missing required field is refused by name (400)", status == 400 and "label" in json.dumps(answer))
status, _, answer = call("POST", "/v1/transit/probe/p1", root, {"label": "x", "secret": ["probe-secret-value-9"]})
expect("a field of the wrong type is refused by name (400), its value not echoed",
       status == 400 and "secret" in json.dumps(answer) and "probe-secret-value-9" not in json.dumps(answer))
status, _, answer = call("POST", "/v1/transit/probe/p1", root, body)
expect("the typed answer is encoded (secret_length)", answer.get("data", {}).get("secret_length") == len("probe-secret-value-9"))
granted, reader = token("probe-update", "update"), token("probe-read", "read")
expect("a token granted update on the path is served", call("POST", "/v1/transit/probe/p1", granted, body)[0] == 200)
expect("a token granted read only is refused (403)", call("POST", "/v1/transit/probe/p1", reader, body)[0] == 403)
expect("no token is refused (403)", call("POST", "/v1/transit/probe/p1", None, body)[0] == 403)
expect("a trailing slash is refused (400)", call("POST", "/v1/transit/probe/p1/", granted, body)[0] == 400)
status, allow, _ = call("GET", "/v1/transit/probe/p1", root)
expect(f"a GET answers 405 with Allow: PUT, POST (got {status}, {allow})", status == 405 and allow == "PUT, POST")
with open(audit_path) as file:
    log = file.read()
expect("the audit log holds the label in clear", '"label":"probe-label-7"' in log)
expect("the audit log never holds the secret", "probe-secret-value-9" not in log)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
