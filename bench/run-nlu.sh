#!/usr/bin/env bash
# Compile the benchmark and the sources it runs to plain JavaScript, then start it: the systems are measured
# without a TypeScript loader in their processes (one would add tens of MB to intentops' and NLP.js's peak RSS).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/node_modules/.cache/intentops-bench"
rm -rf "$out"
"$root/node_modules/.bin/tsc" -p "$root/bench/tsconfig.json"
# The compiled tree needs its own package.json: it makes the files ES modules and gives src/version.ts its version.
cp "$root/package.json" "$out/package.json"
exec node "$out/bench/nlu.js" "$@"
