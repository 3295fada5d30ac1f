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
