#!/usr/bin/env bash
# The project's test command (README "Tests"): installs what the tests need and runs them all.
# CI runs exactly this (.ci/run). Safe to run on a fresh clone; caches stay in ignored folders
# (.cache/ for pip and the Python venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TERM_COLOR=never
export PIP_CACHE_DIR="$root/.cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== shipped flows and profiles"
cargo run --quiet --locked -- check

echo "== virtual farm driven by a third-party Appium client (Appium-Python-Client)"
if [ ! -x .cache/venv/bin/python ]; then
  python3 -m venv .cache/venv
fi
.cache/venv/bin/pip install --quiet -r ci/requirements.txt
cargo build --quiet --locked
sim_log=$(mktemp)
./target/debug/harness sim serve --port 0 --seed 11 >"$sim_log" 2>&1 &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true; rm -f "$sim_log"' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[0-9.:]*' "$sim_log" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the virtual farm did not start:"; cat "$sim_log"; exit 1; }
HARNESS_SIM_URL="$url" .cache/venv/bin/python ci/appium_client_test.py
remaining=$(curl -s "$url/appium/sessions")
[ "$remaining" = '{"value":[]}' ] || { echo "sessions left open on the farm: $remaining"; exit 1; }

echo "== benchmark smoke run (numbers are printed, never asserted)"
BENCH_QUICK=1 cargo bench --locked --bench check -- --quick
