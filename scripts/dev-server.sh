#!/usr/bin/env bash
# The main job on a fresh machine: installs the Debian headers the build links against (when
# missing), builds `bulwark` and runs the key service in dev mode with its embedded defaults:
# https://127.0.0.1:8200, SQLite and a local CA under $BULWARK_HOME (default ./.bulwark).
# Extra arguments go to `bulwark server --dev` (e.g. --listen 127.0.0.1:8300).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for pkg in libssl-dev libsqlite3-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
swift build --product bulwark >&2
exec "$(swift build --show-bin-path)/bulwark" server --dev "$@"
