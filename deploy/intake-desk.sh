#!/usr/bin/env bash
# Desk launcher for the caseworkers' laptop: starts `intake desk` on 127.0.0.1 (never another
# address) and opens it in the browser; closing this launcher (Ctrl-C, logging out) stops the desk.
# If the desk already runs, it only opens the browser. deploy/intake-desk.desktop puts it in the
# applications menu (deploy/README.md, section 4).
#
# Environment (the defaults match deploy/README.md):
#   INTAKE_HOME       the node folder              (default: ~/intake-node)
#   INTAKE_BIN        the intake program           (default: ~/grievance-intake/.venv/bin/intake)
#   INTAKE_DESK_PORT  the desk's port on 127.0.0.1 (default: 8001)
#   BROWSER           the browser to open          (default: xdg-open)
set -euo pipefail

export INTAKE_HOME="${INTAKE_HOME:-$HOME/intake-node}"
bin="${INTAKE_BIN:-$HOME/grievance-intake/.venv/bin/intake}"
port="${INTAKE_DESK_PORT:-8001}"
url="http://127.0.0.1:${port}/"
browser="${BROWSER:-xdg-open}"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; }

if answers; then
  exec "$browser" "$url"
fi
if [ ! -x "$bin" ]; then
  echo "intake-desk: $bin is not installed (set INTAKE_BIN)" >&2
  exit 1
fi
if [ ! -f "$INTAKE_HOME/keyring.json" ]; then
  echo "intake-desk: $INTAKE_HOME holds no node (restore a backup there, deploy/README.md section 4)" >&2
  exit 1
fi

"$bin" desk --host 127.0.0.1 --port "$port" &
desk=$!
stop() { kill "$desk" 2>/dev/null || true; wait "$desk" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 0' INT TERM HUP

for _ in $(seq 1 120); do
  answers && break
  if ! kill -0 "$desk" 2>/dev/null; then
    echo "intake-desk: the desk did not start (see the messages above)" >&2
    exit 1
  fi
  sleep 0.5
done
answers || { echo "intake-desk: the desk does not answer on $url" >&2; exit 1; }

"$browser" "$url" || echo "intake-desk: open $url in a browser" >&2
echo "intake-desk: the desk runs at $url; close this window or press Ctrl-C to stop it."
wait "$desk"
