#!/usr/bin/env bash
# Field encryption through the Codable API (one 32-byte protected property, data-key caching)
# against Google Tink's Python KmsEnvelopeAead with a local key-encryption key (the anchor in
# ../shared/bench/anchors/02_field_aead.py), in one run, interleaved, as a ratio.
#   Benchmarks/fields.sh            # ~1 minute
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
python3 -c 'import tink' 2>/dev/null || python3 -m pip install -q tink
swift build -c release --product bulwark >&2
B="$(swift build -c release --product bulwark --show-bin-path)/bulwark"
anchor="${ANCHOR:-../shared/bench/anchors/02_field_aead.py}"
[ -f "$anchor" ] || anchor=/work/shared/bench/anchors/02_field_aead.py
for ((i = 1; i <= ROUNDS; i++)); do
  ours=$("$B" benchmark --fields --json --seconds 2 | python3 -c "import json,sys; print(int(next(json.loads(l)['value'] for l in sys.stdin if 'roundtrip-1-field' in l)))")
  tink=$(python3 "$anchor" 2>/dev/null | awk '$1 == "field.tink.kms-envelope-aes256gcm-localkek.roundtrip:" {print $2}')
  echo "round $i: bulwark Codable record round trip $ours/s; Tink KmsEnvelopeAead $tink/s; x$(echo "$ours / $tink" | bc -l | xargs printf '%.2f')"
done
