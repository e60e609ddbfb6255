#!/usr/bin/env bash
# The key service against nginx (static 200 over TLS 1.3, the anchor from
# ../shared/bench/anchors/06_tls_nginx.sh) in one run on this machine, with wrk -t1 -c32 on the
# same cores. Reports: single-item encrypt req/s and p50/p99, the ratio to nginx, batch encrypt
# items/s (1,000 items of 32 bytes per request; again with a `reference` per item, which the
# router's general path answers: typed decoding's cost), idle RSS and start-up to first served request.
#   Benchmarks/server.sh                 # ~1 minute
#   DURATION=20s Benchmarks/server.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product bulwark >&2
B="$(swift build -c release --product bulwark --show-bin-path)/bulwark"
work="$(mktemp -d)"
port=18399
token="bench-root-token-$RANDOM$RANDOM"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export BULWARK_HOME="$work/home"
# A server that exits (say, the port is taken) ends the run instead of a wait for ever.
gone() { kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }; }

# Start-up: exec to the first answered health check.
start=$(date +%s.%N)
"$B" server --dev --listen 127.0.0.1:$port --dev-root-token "$token" > "$work/server.log" 2>&1 &
pid=$!
until curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" https://127.0.0.1:$port/v1/sys/health 2>/dev/null; do gone; sleep 0.01; done
ready=$(date +%s.%N)
# (A first start also makes the dev CA and certificate; measure a restart as well.)
kill "$pid"; wait "$pid" 2>/dev/null || true
start2=$(date +%s.%N)
"$B" server --dev --listen 127.0.0.1:$port --dev-root-token "$token" > "$work/server.log" 2>&1 &
pid=$!
until curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" https://127.0.0.1:$port/v1/sys/health 2>/dev/null; do gone; sleep 0.01; done
ready2=$(date +%s.%N)
sleep 1
echo "server.startup.first_ms $(echo "($ready - $start) * 1000" | bc -l | xargs printf '%.0f')"
echo "server.startup.restart_ms $(echo "($ready2 - $start2) * 1000" | bc -l | xargs printf '%.0f')"
echo "server.idle_rss_mb $(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$pid/status)"

cat > "$work/encrypt.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"plaintext":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}'
wrk.headers["X-Vault-Token"] = "$token"
LUA
python3 - "$work/batch.lua" "$token" <<'PY'
import base64, json, os, sys
items = [{"plaintext": base64.b64encode(os.urandom(32)).decode()} for _ in range(1000)]
open(sys.argv[1], "w").write('wrk.method = "POST"\nwrk.body = [[' + json.dumps({"batch_input": items})
                             + ']]\nwrk.headers["X-Vault-Token"] = "' + sys.argv[2] + '"\n')
PY
# The same batch with a `reference` per item: not the fast path's common shape, so the router's
# general path answers it (JSONSerialization, Fields.check, RequestDecoder, AnswerEncoder).
python3 - "$work/batch_general.lua" "$token" <<'PY'
import base64, json, os, sys
items = [{"plaintext": base64.b64encode(os.urandom(32)).decode(), "reference": "r%d" % i} for i in range(1000)]
open(sys.argv[1], "w").write('wrk.method = "POST"\nwrk.body = [[' + json.dumps({"batch_input": items})
                             + ']]\nwrk.headers["X-Vault-Token"] = "' + sys.argv[2] + '"\n')
PY
url="https://127.0.0.1:$port/v1/transit/encrypt/bench"
curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" -H "X-Vault-Token: $token" -d '{"plaintext":"aGk="}' "$url"
run_wrk() { wrk -t1 "$@" --latency 2>&1; }
field() { awk -v k="$1" '$1 == k {print $2}'; }
to_ms() { awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.2f", n }'; }

single=$(run_wrk -c32 -d"$DURATION" -s "$work/encrypt.lua" "$url")
rps=$(echo "$single" | field Requests/sec:)
echo "server.encrypt.rps $rps"
echo "server.encrypt.p50_ms $(to_ms "$(echo "$single" | field 50%)")"
echo "server.encrypt.p99_ms $(to_ms "$(echo "$single" | field 99%)")"
batch=$(run_wrk -c8 -d"$DURATION" -s "$work/batch.lua" "$url")
echo "server.batch.items_per_s $(echo "$(echo "$batch" | field Requests/sec:) * 1000" | bc -l | xargs printf '%.0f')"
general=$(run_wrk -c8 -d"$DURATION" -s "$work/batch_general.lua" "$url")
echo "server.batch_general_path.items_per_s $(echo "$(echo "$general" | field Requests/sec:) * 1000" | bc -l | xargs printf '%.0f')"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# The anchor: nginx, 2 workers, keep-alive, same wrk settings, right after.
anchor=$(ANCHORS_TLS_CASES="ecdsa-p256:keepalive" ANCHORS_TLS_WORKERS=2 ANCHORS_TLS_DURATION="$DURATION" ANCHORS_TLS_REPEATS=1 \
  bash ../shared/bench/anchors/06_tls_nginx.sh 2>&1 | grep -E '^tls.nginx.*keepalive.rps' | awk '{print $2}' || true)
if [ -n "$anchor" ]; then
  echo "anchor.nginx.tls13.keepalive.rps $anchor"
  echo "ratio.encrypt_vs_nginx $(echo "$rps / $anchor" | bc -l | xargs printf '%.2f')"
fi
