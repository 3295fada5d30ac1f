#!/usr/bin/env bash
# The main job on the bundled example: scaffold a project and check it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cli="node $root/dist/cli/main.js"
[ -f "$root/dist/cli/main.js" ] || (cd "$root" && npm run build --silent)
$cli --version
$cli config
