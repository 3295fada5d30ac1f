#!/usr/bin/env bash
# The main job on the bundled example: scaffold a project into ./demo (git-ignored), validate it, show its stats.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="node $root/dist/cli/main.js"
[ -f "$root/dist/cli/main.js" ] || (cd "$root" && npm run build --silent)
cd "$root"
$cli --version
$cli init demo --force
cd demo
$cli data validate
$cli data stats
# ── serve ──
# Train the example bot, serve it in the background, ask it something with curl, then stop it (SIGTERM).
$cli train --out models/model.iom
serve_log="$(mktemp)"
$cli serve --model models/model.iom --port 0 2>"$serve_log" >/dev/null &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -f "$serve_log"' EXIT
url=""
for _ in $(seq 1 200); do
  url="$(grep -o 'http://[^ ,]*' "$serve_log" | head -n 1 || true)"
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$serve_log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the server did not start" >&2; cat "$serve_log" >&2; exit 1; }
cat "$serve_log" >&2
curl -sS --fail-with-body "$url/model/parse" -H 'content-type: application/json' \
  -d '{"text": "I want to book a flight to Paris"}'
echo
kill -TERM "$serve_pid"
wait "$serve_pid"
trap - EXIT
rm -f "$serve_log"
