#!/usr/bin/env bash
# System packages the benchmarks need, from Debian: scikit-learn and fastText (CLI and Python binding) for the NLU
# benchmark's peers, wrk, the serving benchmark's load generator, and valgrind, whose callgrind counts the serving
# path's instructions (bench/serve-instructions.ts).
# Idempotent; does nothing when everything is present. The peers run under Debian's own interpreter,
# /usr/bin/python3, because that is the one these packages install into (a pyenv or venv python on PATH would not
# see them). NLP.js comes from npm as the devDependency node-nlp and needs nothing here.
set -euo pipefail
py=/usr/bin/python3
need=()
[ -x "$py" ] || need+=(python3)
"$py" -c 'import sklearn' 2>/dev/null || need+=(python3-sklearn)
"$py" -c 'import fasttext' 2>/dev/null || need+=(python3-fasttext)
command -v fasttext >/dev/null 2>&1 || need+=(fasttext)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v callgrind_control >/dev/null 2>&1 || need+=(valgrind)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  echo "bench setup: installing ${need[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "bench setup: present: python $("$py" -c 'import platform; print(platform.python_version())')," \
  "scikit-learn $("$py" -c 'import sklearn; print(sklearn.__version__)')," \
  "numpy $("$py" -c 'import numpy; print(numpy.__version__)')," \
  "fasttext $(dpkg-query -W -f='${Version}' python3-fasttext 2>/dev/null || echo '?')," \
  "wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo '?')," \
  "valgrind $(dpkg-query -W -f='${Version}' valgrind 2>/dev/null || echo '?')"
