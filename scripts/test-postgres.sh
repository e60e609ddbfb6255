#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: TLS only (a fresh self-signed CA; the server
# certificate names localhost), SCRAM passwords, a non-default port, run by the `postgres` user,
# every statement logged (log_statement = all) so tests can check what never reaches the log.
#   scripts/test-postgres.sh start   # prints the environment the tests read (also in $DIR/env)
#   scripts/test-postgres.sh stop
#   scripts/test-postgres.sh halt|resume   # stop and restart the server, keeping the cluster
# Env: BULWARK_PG_DIR (/tmp/bulwark-test-pg), BULWARK_PG_PORT (55432).
set -euo pipefail
DIR="${BULWARK_PG_DIR:-/tmp/bulwark-test-pg}"
PORT="${BULWARK_PG_PORT:-55432}"
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
BIN="$(find_bin)"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
  if [ -z "$BIN" ] || ! command -v psql >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
    BIN="$(find_bin)"
  fi
  if [ -f "$DIR/env" ] && as_postgres "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    cat "$DIR/env"; exit 0
  fi
  rm -rf "$DIR"
  install -d -m 755 "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
  cd "$DIR"
  # CA, the server's certificate (DNS:localhost only), and a client certificate for the tests.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem -days 2 \
    -subj "/CN=Bulwark test PostgreSQL CA" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server-key.pem -out server.csr \
    -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
  # A client certificate for the role that logs in by certificate (PostgreSQL's "cert" method).
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client-key.pem -out client.csr \
    -subj "/CN=bulwark_cert" 2>/dev/null
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client.pem -days 2 2>/dev/null
  chmod 644 ca.pem server.pem client.pem
  chmod 600 client-key.pem
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres server-key.pem; fi
  chmod 600 server-key.pem ca-key.pem
  password="$(openssl rand -hex 16)"
  install -d -m 700 "$DIR/data"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR/data"; fi
  printf '%s\n' "$password" > "$DIR/pw"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/pw"; fi
  as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$DIR/pw" >/dev/null
  rm -f "$DIR/pw"
  cat >> "$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
ssl = on
ssl_cert_file = '$DIR/server.pem'
ssl_key_file = '$DIR/server-key.pem'
ssl_ca_file = '$DIR/ca.pem'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
max_connections = 300
log_statement = 'all'
fsync = off
CONF
  cat > "$DIR/data/pg_hba.conf" <<HBA
local all postgres trust
hostssl all bulwark_cert 127.0.0.1/32 cert
hostssl all all 127.0.0.1/32 scram-sha-256
hostnossl all all 0.0.0.0/0 reject
HBA
  as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
  as_postgres psql -h "$DIR" -p "$PORT" -U postgres -q -c "CREATE ROLE bulwark LOGIN CREATEDB PASSWORD '$password'"
  as_postgres psql -h "$DIR" -p "$PORT" -U postgres -q -c "CREATE ROLE bulwark_cert LOGIN" -c "GRANT bulwark_cert TO bulwark" \
    -c "CREATE DATABASE bulwark OWNER bulwark"
  cat > "$DIR/env" <<ENV
BULWARK_TEST_PG_HOST=localhost
BULWARK_TEST_PG_PORT=$PORT
BULWARK_TEST_PG_USER=bulwark
BULWARK_TEST_PG_PASSWORD=$password
BULWARK_TEST_PG_CA=$DIR/ca.pem
BULWARK_TEST_PG_CLIENT_CERT=$DIR/client.pem
BULWARK_TEST_PG_CLIENT_KEY=$DIR/client-key.pem
BULWARK_TEST_PG_LOG=$DIR/server.log
ENV
  cat "$DIR/env"
  echo "BULWARK_TEST_PG_STARTED=1"
  ;;
halt)    # stop the server but keep the cluster (the tests' "database gone" case)
  as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
  ;;
resume)
  as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
  ;;
stop)
  if [ -n "$BIN" ] && [ -d "$DIR/data" ]; then
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  ;;
*)
  echo "usage: $0 start|stop|halt|resume" >&2; exit 2 ;;
esac
