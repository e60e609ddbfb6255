#!/usr/bin/env python3
"""The key service keeps serving an authenticated client while it is attacked (bounded run).

Attacks, all at once, from this machine to the server on loopback:
  - slowloris: connections that complete TLS, then send a request head a byte at a time;
  - a connection flood: raw TCP connections that never start TLS;
  - unauthenticated 32 MiB bodies: POSTs with no valid token, each body sent in full.
Meanwhile one client encrypts over a keep-alive TLS connection. Reported: the client's latency
percentiles, how many attack connections the server closed, the server's RSS before/during/after.
Checks: every encrypt succeeds, p99 stays under P99_LIMIT_MS, RSS stays under RSS_LIMIT_MB, and
slowloris connections are closed by the head deadline.

Usage: under_attack.py URL TOKEN CA_FILE SERVER_PID [SECONDS] [P99_LIMIT_MS] [RSS_LIMIT_MB]
"""
import base64
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

url, token, ca, pid = sys.argv[1:5]
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 12
p99_limit = float(sys.argv[6]) if len(sys.argv) > 6 else 50
rss_limit = float(sys.argv[7]) if len(sys.argv) > 7 else 400
target = urllib.parse.urlparse(url)
host, port = target.hostname, target.port
assert host in ("127.0.0.1", "localhost", "::1"), "loopback only"
context = ssl.create_default_context(cafile=ca)
stop = threading.Event()
stats = {"slowloris_closed": 0, "slowloris_open": 0, "flood_closed": 0, "flood_open": 0, "big_refused": 0, "big_errors": 0}
lock = threading.Lock()


def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def count(name):
    with lock:
        stats[name] += 1


def slowloris(index):
    try:
        raw = socket.create_connection((host, port), timeout=30)
        conn = context.wrap_socket(raw, server_hostname=host)
    except OSError:
        count("slowloris_closed")
        return
    head = f"POST /v1/transit/encrypt/k HTTP/1.1\r\nHost: {host}\r\nX-Filler-{index}: ".encode()
    try:
        for byte in head + b"a" * 10_000:
            if stop.is_set():
                count("slowloris_open")
                return
            conn.send(bytes([byte]))
            time.sleep(0.5)
    except OSError:
        count("slowloris_closed")
    finally:
        conn.close()


def flood(index):
    sockets = []
    for _ in range(20):
        try:
            sockets.append(socket.create_connection((host, port), timeout=5))
        except OSError:
            count("flood_closed")
    while not stop.is_set():
        time.sleep(0.2)
    for sock in sockets:
        sock.settimeout(0.01)
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        except OSError:
            closed = True
        count("flood_closed" if closed else "flood_open")
        sock.close()


def big_bodies(index):
    body = b"x" * (32 << 20)
    while not stop.is_set():
        try:
            conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
            conn.request("POST", "/v1/transit/encrypt/k", body=body, headers={"X-Vault-Token": f"bad-{index}", "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status in (403, 429, 413):
                count("big_refused")
            else:
                count("big_errors")
            conn.close()
        except OSError:
            count("big_refused")  # the server may close the connection rather than read 32 MiB


latencies = []
failures = []


def client():
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
    body = json.dumps({"plaintext": base64.b64encode(b"4111 1111 1111 1111").decode()})
    while not stop.is_set():
        start = time.perf_counter()
        try:
            conn.request("POST", "/v1/transit/encrypt/k", body=body, headers={"X-Vault-Token": token})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        except OSError as error:
            failures.append(str(error))
            conn = http.client.HTTPSConnection(host, port, context=context, timeout=30)
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.005)


setup = http.client.HTTPSConnection(host, port, context=context, timeout=30)
setup.request("POST", "/v1/transit/keys/k", body="{}", headers={"X-Vault-Token": token})
setup.getresponse().read()
rss_before = rss_mb()
threads = [threading.Thread(target=client)]
threads += [threading.Thread(target=slowloris, args=(i,)) for i in range(40)]
threads += [threading.Thread(target=flood, args=(i,)) for i in range(5)]
threads += [threading.Thread(target=big_bodies, args=(i,)) for i in range(20)]
for thread in threads:
    thread.start()
peak = rss_before
deadline = time.time() + seconds
while time.time() < deadline:
    peak = max(peak, rss_mb())
    time.sleep(0.2)
stop.set()
for thread in threads:
    thread.join(timeout=60)
rss_after = rss_mb()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("inf")
print(f"encrypts: {len(latencies)}, failures: {len(failures)}, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1] if latencies else 0:.1f} ms")
print(f"rss MB: before {rss_before:.0f}, peak {peak:.0f}, after {rss_after:.0f}")
print("attack:", json.dumps(stats))
problems = []
if failures:
    problems.append(f"encrypt failures: {failures[:5]}")
if len(latencies) < 50:
    problems.append("too few encrypts")
if p(0.99) > p99_limit:
    problems.append(f"p99 {p(0.99):.1f} ms over {p99_limit} ms")
if peak > rss_limit:
    problems.append(f"peak RSS {peak:.0f} MB over {rss_limit} MB")
if stats["slowloris_open"] > 0:
    problems.append(f"{stats['slowloris_open']} slowloris connections still open at the end")
if stats["big_errors"]:
    problems.append(f"{stats['big_errors']} unauthenticated bodies not refused")
if problems:
    print("FAILED:", "; ".join(problems))
    sys.exit(1)
print("under attack: served")
