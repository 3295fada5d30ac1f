#!/usr/bin/env bash
# System packages the test suite needs, from Debian: Chromium for the browser tests.
# Idempotent; does nothing when everything is present. Browsers are never downloaded by npm packages.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  echo "setup: installing ${need[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "setup: system packages present (chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing))"
