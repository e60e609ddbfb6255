# Sourced by the benchmarks that run nodes on both stores (nodes.sh, transform.sh), from the
# repository root: builds bulwark (release), starts the test PostgreSQL cluster on its own port
# (stopped on exit, with every node in `pids`), empties its database, initialises a PostgreSQL and a
# SQLite store under one fresh master key and root token, and makes a localhost certificate.
# Sets: B, work, pids, root, pg, sqlite, and $work/cert.pem, $work/key.pem.
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product bulwark >&2
B="$(swift build -c release --product bulwark --show-bin-path)/bulwark"
work="$(mktemp -d)"
export BULWARK_PG_DIR="/tmp/bulwark-bench-pg" BULWARK_PG_PORT=55491
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; scripts/test-postgres.sh stop; rm -rf "$work"; }
trap cleanup EXIT
eval "$(scripts/test-postgres.sh start | sed 's/^/export /')"
export PGPASSWORD="$BULWARK_TEST_PG_PASSWORD"
export BULWARK_MASTER_KEY="$("$B" master-key generate)"
root="bench-root-token-$RANDOM$RANDOM"
pg="postgres://bulwark@localhost:$BULWARK_PG_PORT/bulwark?sslmode=verify-full&sslrootcert=$BULWARK_TEST_PG_CA${PG_URL_EXTRA:-}"
sqlite="sqlite:$work/state.db"
# A store left by an earlier run has another master key: start from an empty database.
psql "postgresql://bulwark@localhost:$BULWARK_PG_PORT/bulwark?sslmode=verify-full&sslrootcert=$BULWARK_TEST_PG_CA" -q \
  -c 'DROP TABLE IF EXISTS bulwark_entries, bulwark_changes, bulwark_migrations, bulwark_tokens' >/dev/null 2>&1
"$B" operator init --storage "$pg" --root-token "$root" >/dev/null
"$B" operator init --storage "$sqlite" --root-token "$root" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 1 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null
