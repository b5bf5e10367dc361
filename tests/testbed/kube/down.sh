#!/usr/bin/env bash
# Stop Kubernetes test bed cluster NAME, or all of them; remove their state. Idempotent.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
shopt -s nullglob
if [ $# -gt 0 ]; then dirs=("$testbed_state/kube-$1"); else dirs=("$testbed_state"/kube-*); fi
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  stop_pids "$dir"/kcm.pid "$dir"/apiserver.pid "$dir"/etcd.pid
  rm -rf "$dir"
  log "stopped $(basename "$dir")"
done
