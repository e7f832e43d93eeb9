#!/usr/bin/env bash
# End-to-end check of a run's index.html in a real browser (Debian's Chromium, headless):
# the page renders, has the verdict element, and logs no JavaScript or console errors.
# Saves a screenshot of the page as RUN_DIR/artifacts/html-check.png.
#
#   ci/html_check.sh RUN_DIR
set -euo pipefail
run_dir=${1:?usage: ci/html_check.sh RUN_DIR}
run_dir=$(cd "$run_dir" && pwd -P)
page="$run_dir/index.html"
[ -f "$page" ] || { echo "html_check: no $page"; exit 1; }
command -v chromium >/dev/null || { echo "html_check: chromium is not installed"; exit 1; }

profile=$(mktemp -d)
log=$(mktemp)
dom=$(mktemp)
trap 'rm -rf "$profile" "$log" "$dom"' EXIT
mkdir -p "$run_dir/artifacts"
shot="$run_dir/artifacts/html-check.png"

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
  --disable-sync --no-first-run --disable-default-apps --user-data-dir="$profile"
  --window-size=1280,2000 --enable-logging=stderr --v=0)

# The DOM after scripts ran, with console messages in the log.
timeout 120 chromium "${flags[@]}" --dump-dom "file://$page" >"$dom" 2>"$log" \
  || { echo "html_check: chromium --dump-dom failed:"; cat "$log"; exit 1; }
# A screenshot (a fresh profile each time: two instances must not share one).
rm -rf "$profile" && mkdir -p "$profile"
timeout 120 chromium "${flags[@]}" --screenshot="$shot" "file://$page" >>"$log" 2>&1 \
  || { echo "html_check: chromium --screenshot failed:"; cat "$log"; exit 1; }

fail=0
grep -q 'id="verdict"' "$dom" || { echo "html_check: the DOM has no element with id=\"verdict\""; fail=1; }
# The script un-hides the case tools: proves it ran.
grep -q '<p id="case-tools" class="tools">' "$dom" \
  || { echo "html_check: the page's script did not run (case tools still hidden)"; fail=1; }
if grep -E 'Uncaught|CONSOLE\(|:CONSOLE|Refused to|Content Security Policy|net::ERR_' "$log" >/dev/null; then
  echo "html_check: console errors:"
  grep -E 'Uncaught|CONSOLE\(|:CONSOLE|Refused to|Content Security Policy|net::ERR_' "$log"
  fail=1
fi
[ -s "$shot" ] || { echo "html_check: no screenshot at $shot"; fail=1; }
[ "$fail" = 0 ] || exit 1
echo "html_check: $page OK ($(wc -c <"$page") bytes; DOM $(wc -c <"$dom") bytes); screenshot $shot"
