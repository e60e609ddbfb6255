#!/usr/bin/env bash
# The key service under attack (release build): slowloris heads, a connection flood and
# unauthenticated 32 MiB bodies (Tests/Interop/under_attack.py) while one client encrypts.
# Reports the encrypt client's p50/p99, peak RSS and what the attack got; fails when p99 is over
# 50 ms (the hardening issue's bound) or RSS over 400 MB.
#   Benchmarks/under-attack.sh            # ~20 seconds
#   SECONDS_UNDER_ATTACK=60 Benchmarks/under-attack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product bulwark >&2
B="$(swift build -c release --product bulwark --show-bin-path)/bulwark"
work="$(mktemp -d)"
port=18398
token="attack-root-token-$RANDOM$RANDOM"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export BULWARK_HOME="$work/home"
"$B" server --dev --listen 127.0.0.1:$port --dev-root-token "$token" --head-timeout 3 --max-connections 256 > "$work/server.log" 2>&1 &
pid=$!
until curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" https://127.0.0.1:$port/v1/sys/health 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.05
done
python3 Tests/Interop/under_attack.py "https://127.0.0.1:$port" "$token" "$BULWARK_HOME/ca.pem" "$pid" "${SECONDS_UNDER_ATTACK:-12}" 50 400
