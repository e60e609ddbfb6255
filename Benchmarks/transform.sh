#!/usr/bin/env bash
# The Transform API: tokenise and detokenise with batch_input (1,000 card numbers per request),
# on SQLite and on PostgreSQL (the test cluster, started and stopped here), wrk -t1 -c4 over TLS 1.3.
# Reports values/s for each. FF1 in-process: `bulwark benchmark` (ff1-aes256 rows).
#   Benchmarks/transform.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"
CONNECTIONS="${CONNECTIONS:-4}"
PG_URL_EXTRA="&pool_size=8"
. Benchmarks/lib/two-stores.sh
field() { awk -v k="$1" '$1 == k {print $2}'; }
for kind in sqlite postgres; do
  port=$([ "$kind" = sqlite ] && echo 18601 || echo 18602)
  storage=$([ "$kind" = sqlite ] && echo "$sqlite" || echo "$pg")
  "$B" server --storage "$storage" --listen "127.0.0.1:$port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    --audit-file "$work/audit-$port.log" > "$work/node-$port.log" 2>&1 &
  pids+=($!)
  until curl -s -o /dev/null --cacert "$work/cert.pem" "https://127.0.0.1:$port/v1/sys/health"; do sleep 0.05; done
  api() { curl -sf --cacert "$work/cert.pem" -H "X-Vault-Token: $root" "$@"; }
  api -d '{"allowed_roles":["bench"]}' "https://127.0.0.1:$port/v1/transform/transformations/tokenization/cards" >/dev/null
  api -d '{"transformations":["cards"]}' "https://127.0.0.1:$port/v1/transform/role/bench" >/dev/null
  python3 - "$work" "$root" "https://127.0.0.1:$port" "$work/cert.pem" <<'PY'
import json, random, ssl, sys, urllib.request
work, token, url, ca = sys.argv[1:5]
def luhn_complete(d):
    s = 0
    for i, x in enumerate(reversed(d)):
        x = x * 2 if i % 2 == 0 else x
        s += x - 9 if x > 9 else x
    return d + [(10 - s % 10) % 10]
values = ["".join(map(str, luhn_complete([4] + [random.randrange(10) for _ in range(14)]))) for _ in range(1000)]
items = [{"value": v, "transformation": "cards"} for v in values]
ctx = ssl.create_default_context(cafile=ca)
req = urllib.request.Request(url + "/v1/transform/encode/bench", data=json.dumps({"batch_input": items}).encode(),
                             headers={"X-Vault-Token": token})
tokens = [r["encoded_value"] for r in json.load(urllib.request.urlopen(req, context=ctx))["data"]["batch_results"]]
for name, body in (("encode", {"batch_input": items}), ("decode", {"batch_input": [{"value": t, "transformation": "cards"} for t in tokens]})):
    open(f"{work}/{name}.lua", "w").write('wrk.method = "POST"\nwrk.body = [[' + json.dumps(body) + ']]\nwrk.headers["X-Vault-Token"] = "' + token + '"\n')
PY
  for op in encode decode; do
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$work/$op.lua" "https://127.0.0.1:$port/v1/transform/$op/bench" 2>&1)
    rps=$(echo "$out" | field Requests/sec:)
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    echo "transform.$kind.$op.values_per_s $(echo "$rps * 1000" | bc -l | xargs printf '%.0f')${non2xx:+ (non-2xx: $non2xx)}"
  done
done
