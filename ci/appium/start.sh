#!/usr/bin/env bash
# Starts the Appium 3 server of this folder (appium + @appium/fake-driver, installed with
# `npm ci --prefix ci/appium`) on a loopback port, waits until `GET /status` answers ready
# and prints the server URL (`http://127.0.0.1:PORT`) on stdout. The server keeps running in
# the background; stop it with `kill "$(cat PID_FILE)"`.
#
# Usage: ci/appium/start.sh [--port N] [--log FILE] [--pid-file FILE]
#   --port      port to listen on (default: a free one, chosen here)
#   --log       server log (default: a temporary file, printed if the start fails)
#   --pid-file  where the server's pid is written (default: ci/appium/appium.pid)
#
# APPIUM_HOME is this folder, so Appium finds the fake driver in ./node_modules without
# `appium driver install`. `session_discovery` is enabled so that tests can list the open
# sessions (`GET /appium/sessions`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=""
log=""
pid_file="$here/appium.pid"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --pid-file) pid_file=$2; shift 2 ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
appium_js="$here/node_modules/appium/index.js"
if [ ! -f "$appium_js" ] || [ ! -d "$here/node_modules/@appium/fake-driver" ]; then
  echo "start.sh: Appium is not installed; run: npm ci --prefix ci/appium" >&2
  exit 1
fi
[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/appium-XXXXXX.log")

free_port() {
  node -e 'const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# A free port can be taken between choosing and binding it: try a few.
for attempt in 1 2 3; do
  p=${port:-$(free_port)}
  APPIUM_HOME="$here" node "$appium_js" server \
    --address 127.0.0.1 --port "$p" \
    --allow-insecure '*:session_discovery' \
    --log-no-colors --log-timestamp --local-timezone \
    >"$log" 2>&1 </dev/null &
  pid=$!
  url="http://127.0.0.1:$p"
  # Ready within a few seconds; 60 s for a slow, cold machine.
  for _ in $(seq 1 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    # Our server's log must say it listens (another process may hold the port and answer).
    if grep -q "listener started on $url" "$log" &&
      curl -fsS --max-time 2 "$url/status" 2>/dev/null | grep -q '"ready":true'; then
      echo "$pid" >"$pid_file"
      echo "$url"
      exit 0
    fi
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "$port" ] || ! grep -q EADDRINUSE "$log"; then
    break
  fi
  echo "start.sh: port $p was taken, trying another (attempt $attempt)" >&2
done
echo "start.sh: Appium did not become ready; its log ($log):" >&2
cat "$log" >&2
exit 1
