#!/usr/bin/env bash
# The whole loop on the bundled example bot, non-interactively, in ./demo (git-ignored, recreated on every run):
# init, validate, train, test; the pipeline compares, gates, publishes (signed) and promotes; the server serves the
# production alias and answers curl; a reviewer relabels a logged message; retrain exports it into the data, the
# pipeline promotes again and the running server picks the new model up; a last run with nothing changed trains
# nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="node $root/dist/cli/main.js"
# Build when dist is missing or older than any source, so a demo after a pull never runs yesterday's build.
if [ ! -f "$root/dist/cli/main.js" ] || [ -n "$(find "$root/src" -newer "$root/dist/cli/main.js" -print -quit)" ]; then
  (cd "$root" && npm run build --silent)
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }

demo="${INTENTOPS_DEMO_DIR:-$root/demo}" # tests point it at a temporary directory
$cli --version
rm -rf "$demo"

step "init: scaffold the example bot into $demo, in its own git repository"
$cli init "$demo"
cd "$demo"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.com GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.com
export INTENTOPS_AUTHOR="demo <demo@example.com>"
git init -q -b main

step "validate"
$cli data validate
$cli data stats

step "signing key: every published version is signed and verified before it is served"
$cli keys generate
cat >>intentops.yml <<'YAML'

registry:
  signingKey: .intentops/keys/intentops-signing.key
  trustedKeys:
    - .intentops/keys/intentops-signing.pub
YAML
git add -A && git commit -q -m "the example bot"

step "train and test"
$cli train --out models/bot.iom
$cli test --cross-validation --folds 3 --out results

step "pipeline: validate → train → test → compare → gate → publish → promote → report"
$cli pipeline run
$cli models show production

# ── serve ──
step "serve the production alias in the background, and ask it with curl"
serve_log="$(mktemp)"
$cli serve --port 0 2>"$serve_log" >/dev/null &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -f "$serve_log"' EXIT
url=""
for _ in $(seq 1 300); do
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
message="could you get me on a plane over to Lisbon"
curl -sS --fail-with-body "$url/model/parse" -H 'content-type: application/json' -d "{\"text\": \"$message\"}"
echo

step "review: a reviewer labels the logged message through the review API"
annotator="$($cli tokens create --name demo-annotator --role annotator)"
$cli review list
id="$($cli review list --json | json "v.groups.find(g => g.text === '$message').id")"
curl -sS --fail-with-body "$url/v1/review/decisions" -H 'content-type: application/json' \
  -H "authorization: Bearer $annotator" \
  -d "{\"predictionIds\": [\"$id\"], \"action\": \"relabel\", \"intent\": \"book_flight\"}"
echo

step "retrain: export the review into the data, run the pipeline, promote again"
$cli retrain --git-branch reviews-1
git log --oneline -1
# the server watches the alias: it picks up the new production model by itself
swapped=""
for _ in $(seq 1 200); do
  curl -sS "$url/status" | grep -q '"model_id":"travel-assistant@2"' && swapped=yes && break
  sleep 0.1
done
curl -sS --fail-with-body "$url/status"
echo
[ -n "$swapped" ] || { echo "the server did not pick up v2" >&2; exit 1; }
kill -TERM "$serve_pid"
wait "$serve_pid"
trap - EXIT
rm -f "$serve_log"
# ── end serve ──

step "pipeline again, nothing changed: trains nothing"
$cli pipeline status
$cli pipeline run

step "run records and metrics across runs"
$cli runs list
$cli metrics history
