#!/usr/bin/env bash
# Field encryption with each key-encryption key provider, in one run: a keyset in memory (local),
# `bulwark server --dev` on loopback (transit, over TLS 1.3) and AWS KMS (moto's server on
# loopback: its latency is moto's, not AWS's). Codable record round trips (one 32-byte protected
# property) and field round trips with and without the data-key cache.
#   Benchmarks/fields-kek.sh            # ~1 minute
#   BIN=.build/debug/bulwark Benchmarks/fields-kek.sh   # no release build
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${SECONDS_EACH:-2}"
python3 -c 'import boto3, moto.server' 2>/dev/null || python3 -m pip install -q boto3 'moto[server]'
if [ -z "${BIN:-}" ]; then
  swift build -c release --product bulwark >&2
  BIN="$(swift build -c release --product bulwark --show-bin-path)/bulwark"
fi
work="$(mktemp -d)"
port=18499
token="bench-root-token-$RANDOM$RANDOM"
cleanup() { kill "${pid:-}" "${moto:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export BULWARK_HOME="$work/home"
"$BIN" server --dev --listen 127.0.0.1:$port --dev-root-token "$token" > "$work/server.log" 2>&1 &
pid=$!
until curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" https://127.0.0.1:$port/v1/sys/health 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.05
done
curl -s -o /dev/null --cacert "$BULWARK_HOME/ca.pem" -H "X-Vault-Token: $token" -X POST https://127.0.0.1:$port/v1/transit/keys/fields-kek
# moto's KMS server with one key; its port and key id on the first line, alive until stdin closes.
mkfifo "$work/moto-in"
python3 Tests/Interop/moto_kms.py < "$work/moto-in" > "$work/moto-out" 2>/dev/null &
moto=$!
exec 3> "$work/moto-in"
until [ -s "$work/moto-out" ]; do sleep 0.1; done
read -r _ moto_port moto_key < "$work/moto-out"
run() {
  "$BIN" benchmark --fields --json --seconds "$SECONDS_EACH" --kek "$1" |
    python3 -c "import json,sys
for line in sys.stdin:
    r = json.loads(line)
    if r['case'].startswith(('roundtrip-1-field', 'field-roundtrip')): print(f\"$1 {r['case']}: {r['value']:.0f} {r['unit']}\")"
}
run local
BULWARK_ADDR="https://127.0.0.1:$port" BULWARK_TOKEN="$token" BULWARK_CACERT="$BULWARK_HOME/ca.pem" BULWARK_KEK_NAME=fields-kek run transit
AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_KMS_ENDPOINT="http://127.0.0.1:$moto_port" \
  BULWARK_AWSKMS_KEY_ID="$moto_key" run awskms
exec 3>&-
