#!/usr/bin/env bash
# The project's test command (README "Tests"): installs what the tests need and runs them all.
# CI runs exactly this (.ci/run). Safe to run on a fresh clone; caches stay in ignored folders.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR=never

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

echo "== tests"
cargo test --workspace --locked

echo "== shipped flows and profiles"
cargo run --quiet --locked -- check

echo "== benchmark smoke run (numbers are printed, never asserted)"
BENCH_QUICK=1 cargo bench --locked --bench check -- --quick
