#!/usr/bin/env bash
# The CLI walk-through: create a key, encrypt, rotate, decrypt, retire the old version.
# Runs in a throw-away keystore with a fresh master key; prints each command as it runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product bulwark >&2
BULWARK="$(swift build --product bulwark --show-bin-path)/bulwark"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export BULWARK_HOME="$work/keystore"
BULWARK_MASTER_KEY="$("$BULWARK" master-key generate)"
export BULWARK_MASTER_KEY

step() { printf '\n$ bulwark %s\n' "${*:2}"; "$@" 2>&1; }
printf 'Keystore in %s, sealed under a fresh master key held only in this shell.\n' "$BULWARK_HOME"
printf 'Jane Roe, SSN 078-05-1120, diagnosis: confidential\n' > "$work/record.txt"

step "$BULWARK" keys create patients --rotation-period 90d
step "$BULWARK" encrypt --key patients --context "table=records" "$work/record.txt" "$work/record.v1.bwk"
printf '\n(ciphertext: %s bytes, starts with %s)\n' "$(wc -c < "$work/record.v1.bwk")" "$(head -c 12 "$work/record.v1.bwk" | od -An -tx1 | tr -s ' ')"
step "$BULWARK" keys rotate patients
step "$BULWARK" encrypt --key patients --context "table=records" "$work/record.txt" "$work/record.v2.bwk"
step "$BULWARK" decrypt --context "table=records" "$work/record.v1.bwk"
printf '\n# the wrong context is refused:\n'
step "$BULWARK" decrypt --context "table=other" "$work/record.v1.bwk" || true
step "$BULWARK" keys config patients --min-decryption-version 2
step "$BULWARK" decrypt --context "table=records" "$work/record.v1.bwk" || true
step "$BULWARK" keys destroy patients --version 1
step "$BULWARK" keys list
step "$BULWARK" keys show patients
step "$BULWARK" decrypt --context "table=records" "$work/record.v2.bwk"
