"""Drives encrypt/decrypt calls over raw TLS connections (Python's ssl module, HTTP/1.1 written by
hand) and prints what came back, normalised, as JSON, so the test can compare a server with its
pipeline fast path against one with --no-fast-path and check both against expectations.

Usage: fast_path.py URL CAFILE TOKEN MAX_BODY_BYTES
"""
import base64
import json
import socket
import ssl
import sys
from urllib.parse import urlparse

url, cafile, token, max_body = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
target = urlparse(url)
context = ssl.create_default_context(cafile=cafile)


def connect():
    raw = socket.create_connection((target.hostname, target.port), timeout=20)
    return context.wrap_socket(raw, server_hostname=target.hostname)


def request(method, path, body=None, headers=None, auth=True):
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    lines = [f"{method} {path} HTTP/1.1", f"Host: {target.hostname}", f"Content-Length: {len(data)}"]
    if auth:
        lines.append(f"X-Vault-Token: {token}")
    lines += headers or []
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class Reader:
    def __init__(self, sock):
        self.sock, self.buffer = sock, b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def response(self):
        while b"\r\n\r\n" not in self.buffer:
            self.fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, (json.loads(body) if body else None)

    def closed(self):
        try:
            self.fill()
            return False
        except (EOFError, ConnectionResetError, ssl.SSLError):
            return True


def normalise(status, headers, body):
    """Status, header names (without Date's value) and body with the random parts replaced."""
    if isinstance(body, dict):
        body = json.loads(json.dumps(body))
        if "request_id" in body:
            body["request_id"] = "<id>"
        data = body.get("data") or {}
        for item in [data] + list(data.get("batch_results") or []):
            if "ciphertext" in item:
                item["ciphertext"] = item["ciphertext"][:9] + "<sealed>"
    names = sorted(name for name in headers if name != "date")
    return {"status": status, "headers": names, "security": {n: headers[n] for n in names if n != "content-length"}, "body": body}


out = {}
sock = connect()
reader = Reader(sock)

# Set-up: the key exists (encrypt on a missing key creates it: the router's job).
sock.sendall(request("POST", "/v1/transit/keys/fast", {}))
assert reader.response()[0] == 204

# Equivalence cases, one at a time on a kept-alive connection.
secret = base64.b64encode(b"4111 1111 1111 1111").decode()
context_b64 = base64.b64encode(b"order-7").decode()
cases = [
    ("encrypt", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret}, True),
    ("encrypt PUT", "PUT", "/v1/transit/encrypt/fast", {"plaintext": secret}, True),
    ("encrypt AD", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "associated_data": context_b64}, True),
    ("encrypt batch", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret}, {"plaintext": "***"}]}, True),
    ("encrypt version", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "key_version": 1}, True),
    ("encrypt future version", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "key_version": 9}, True),
    ("bad base64", "POST", "/v1/transit/encrypt/fast", {"plaintext": "***"}, True),
    ("unknown field", "POST", "/v1/transit/encrypt/fast", {"plaintxt": secret}, True),
    ("caller nonce", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "nonce": "AAAAAAAAAAAAAAAA"}, True),
    ("malformed JSON", "POST", "/v1/transit/encrypt/fast", b"{not json", True),
    ("no token", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret}, False),
    ("decrypt bad prefix", "POST", "/v1/transit/decrypt/fast", {"ciphertext": "vault:v1:AAAA"}, True),
    ("decrypt missing", "POST", "/v1/transit/decrypt/fast", {}, True),
    ("decrypt unknown key", "POST", "/v1/transit/decrypt/nokey", {"ciphertext": "vault:v1:AAAA"}, True),
    ("encrypt empty body", "POST", "/v1/transit/encrypt/fast", None, True),
    # Shapes at the edge of the typed decoding (FlatJSONObject): each must answer as the router does.
    ("encrypt AD null", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "associated_data": None}, True),
    ("encrypt version 0", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "key_version": 0}, True),
    ("encrypt version text", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "key_version": "1"}, True),
    ("encrypt version negative", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "key_version": -1}, True),
    ("encrypt version fraction", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"' + secret.encode() + b'","key_version":1.0}', True),
    ("encrypt version huge", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"' + secret.encode() + b'","key_version":123456789012345678901}', True),
    ("encrypt spaced", "POST", "/v1/transit/encrypt/fast", b' {\r\n "plaintext" :\t"' + secret.encode() + b'" , "key_version" : 1 }\n', True),
    ("encrypt escaped", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"' + secret[:-1].encode() + b'\\u003d"}', True),
    ("encrypt repeated field", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"aGk=","plaintext":"' + secret.encode() + b'"}', True),
    ("encrypt number plaintext", "POST", "/v1/transit/encrypt/fast", {"plaintext": 4111111111111111}, True),
    ("encrypt boolean AD", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "associated_data": True}, True),
    ("encrypt bad AD", "POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "associated_data": "***"}, True),
    ("encrypt trailing junk", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"aGk="}x', True),
    ("encrypt unicode", "POST", "/v1/transit/encrypt/fast", '{"plaintext":"aGk=","reference":"caf\u00e9"}'.encode(), True),
    ("encrypt true glued", "POST", "/v1/transit/encrypt/fast", b'{"plaintext":"aGk=","convergent_encryption":truex}', True),
    ("decrypt AD null", "POST", "/v1/transit/decrypt/fast", {"ciphertext": "vault:v1:AAAA", "associated_data": None}, True),
    ("batch typed", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret}, {"plaintext": secret, "associated_data": context_b64, "key_version": 1}]}, True),
    ("batch one bad item", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret}, {"plaintext": "***"}, {"plaintext": secret, "key_version": 7}]}, True),
    ("batch future version", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret, "key_version": 9}]}, True),
    ("batch and top-level field", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret}], "key_version": 1}, True),
    ("batch empty", "POST", "/v1/transit/encrypt/fast", {"batch_input": []}, True),
    ("batch of non-objects", "POST", "/v1/transit/encrypt/fast", {"batch_input": [1, "x"]}, True),
    ("batch unknown item field", "POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret, "nonce": "AAAA"}]}, True),
    ("batch spaced", "POST", "/v1/transit/encrypt/fast", b' { "batch_input" : [ {"plaintext":"aGk="} ,{ } ] } ', True),
    ("batch trailing comma", "POST", "/v1/transit/encrypt/fast", b'{"batch_input":[{"plaintext":"aGk="},]}', True),
]
results = {}
for name, method, path, body, auth in cases:
    sock.sendall(request(method, path, body, auth=auth))
    results[name] = normalise(*reader.response())
# Round trips: decrypt what encrypt made, with and without the right associated data.
sock.sendall(request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret, "associated_data": context_b64}))
sealed = reader.response()[2]["data"]["ciphertext"]
for name, body in [
    ("decrypt", {"ciphertext": sealed, "associated_data": context_b64}),
    ("decrypt wrong AD", {"ciphertext": sealed, "associated_data": base64.b64encode(b"order-8").decode()}),
    ("decrypt AD missing", {"ciphertext": sealed}),
    ("decrypt extra field", {"ciphertext": sealed, "associated_data": context_b64, "reference": "r-1"}),
    ("decrypt batch typed", {"batch_input": [{"ciphertext": sealed, "associated_data": context_b64}, {"ciphertext": sealed, "associated_data": context_b64}]}),
    ("decrypt batch one wrong AD", {"batch_input": [{"ciphertext": sealed, "associated_data": context_b64}, {"ciphertext": sealed}]}),
    ("decrypt batch", {"batch_input": [{"ciphertext": sealed, "associated_data": context_b64}, {"ciphertext": "nope"}]}),
]:
    sock.sendall(request("POST", "/v1/transit/decrypt/fast", body))
    results[name] = normalise(*reader.response())
out["cases"] = results

# A large answer (over one TLS record: written through, not gathered) arrives whole.
sock.sendall(request("POST", "/v1/transit/encrypt/fast", {"batch_input": [{"plaintext": secret}] * 1000}))
status, _, body = reader.response()
out["large"] = [status, len(body["data"]["batch_results"])]

# Pipelining: several requests in one write, router and fast-path ones interleaved. The answers
# must come back in order, and an encrypt sent after a rotate must see the new version.
pipeline = (
    request("GET", "/v1/transit/keys/fast")
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
    + request("POST", "/v1/transit/keys/fast/rotate", {})
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
    + request("GET", "/v1/transit/keys/fast")
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
)
sock.sendall(pipeline)
answers = []
for _ in range(7):
    status, _, body = reader.response()
    data = (body or {}).get("data") or {}
    answers.append([status, data.get("key_version", data.get("latest_version"))])
out["pipelined"] = answers

# Pipelined calls the fast path answers (they wait for their audit lines), with a refusal and a
# router call among them: still in order.
pipeline = (
    request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
    + request("POST", "/v1/transit/decrypt/fast", {"ciphertext": sealed, "associated_data": context_b64})
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret}, auth=False)
    + request("GET", "/v1/transit/keys/fast")
    + request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret})
    + request("POST", "/v1/transit/decrypt/fast", {"ciphertext": "vault:v1:AAAA"})
)
sock.sendall(pipeline)
answers = []
for _ in range(6):
    status, _, body = reader.response()
    data = (body or {}).get("data") or {}
    answers.append([status, "key" if "keys" in data else ",".join(sorted(data))])
out["pipelined_fast"] = answers

# An oversize body (no Expect: 100-continue) is refused with 413.
sock.sendall(request("POST", "/v1/transit/encrypt/fast", b'{"plaintext":"' + b"A" * (max_body + 1000) + b'"}'))
out["oversize"] = reader.response()[0]
sock.close()

# Connection: close is honoured: answer, then the server closes.
sock = connect()
reader = Reader(sock)
sock.sendall(request("POST", "/v1/transit/encrypt/fast", {"plaintext": secret}, headers=["Connection: close"]))
out["close"] = [reader.response()[0], reader.closed()]
sock.close()

print(json.dumps(out, sort_keys=True))
