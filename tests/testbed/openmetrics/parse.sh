#!/usr/bin/env bash
# `parse.sh < metrics.txt`: check OpenMetrics text with prometheus_client's parser (PyPI
# prometheus-client, pinned) and print the metric families as JSON; `parse.sh --prepare` only
# sets up the virtualenv. The virtualenv lives in ${AMQDR_CACHE_DIR:-~/.cache/amqdr}, made once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=0.26.0
cache=${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amqdr}
venv="$cache/python-prometheus-client/$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  mkdir -p "$(dirname "$venv")"
  exec 9>"$(dirname "$venv")/.lock"
  flock -w 600 9 || { echo "testbed: timed out waiting for another prometheus-client install" >&2; exit 1; }
  if ! "$venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "prometheus-client==$version" >&2
  fi
  exec 9>&-
fi
[ "${1:-}" = --prepare ] && exit 0
exec "$venv/bin/python" "$here/parse.py"
