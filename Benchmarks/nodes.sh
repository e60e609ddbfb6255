#!/usr/bin/env bash
# Several nodes on PostgreSQL: single-item encrypt req/s on PostgreSQL beside the same node on
# SQLite (wrk -t1 -c32, runs interleaved), and how fast a key change made on node A is seen by
# node B (100 rotations; p50/p99/max in ms). Starts (and stops) the test PostgreSQL cluster.
#   Benchmarks/nodes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-6s}"
. Benchmarks/lib/two-stores.sh
start_node() { # PORT STORAGE
  "$B" server --storage "$2" --listen "127.0.0.1:$1" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" --audit-file "$work/audit-$1.log" \
    > "$work/node-$1.log" 2>&1 &
  pids+=($!)
  until curl -s -o /dev/null --cacert "$work/cert.pem" "https://127.0.0.1:$1/v1/sys/health"; do sleep 0.05; done
}
start_node 18501 "$pg"; start_node 18502 "$pg"; start_node 18503 "$sqlite"
cat > "$work/encrypt.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"plaintext":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}'
wrk.headers["X-Vault-Token"] = "$root"
LUA
for port in 18501 18503; do
  curl -s -o /dev/null --cacert "$work/cert.pem" -H "X-Vault-Token: $root" -d '{"plaintext":"aGk="}' "https://127.0.0.1:$port/v1/transit/encrypt/bench"
done
rate() { wrk -t1 -c32 -d"$DURATION" -s "$work/encrypt.lua" "https://127.0.0.1:$1/v1/transit/encrypt/bench" | awk '/Requests\/sec/ {printf "%.0f", $2}'; }
pg_rates=(); sqlite_rates=()
for round in 1 2; do pg_rates+=("$(rate 18501)"); sqlite_rates+=("$(rate 18503)"); done
echo "nodes.encrypt.postgres.rps ${pg_rates[*]}"
echo "nodes.encrypt.sqlite.rps ${sqlite_rates[*]}"
python3 - "$work/cert.pem" "$root" <<'PY'
import json, ssl, statistics, sys, time, urllib.request
ca, token = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=ca)
def call(port, method, path, body=None):
    request = urllib.request.Request(f"https://127.0.0.1:{port}/v1/{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"X-Vault-Token": token})
    with urllib.request.urlopen(request, context=context) as response:
        text = response.read()
        return json.loads(text) if text else None
call(18501, "POST", "transit/keys/propagation")
latencies = []
for _ in range(100):
    call(18501, "POST", "transit/keys/propagation/rotate")
    wanted = call(18501, "GET", "transit/keys/propagation")["data"]["latest_version"]
    start = time.monotonic()
    while call(18502, "GET", "transit/keys/propagation")["data"]["latest_version"] != wanted:
        time.sleep(0.002)
    latencies.append((time.monotonic() - start) * 1000)
latencies.sort()
print(f"nodes.propagation_ms p50 {statistics.median(latencies):.1f} p99 {latencies[98]:.1f} max {latencies[-1]:.1f}")
PY
