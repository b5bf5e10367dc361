#!/usr/bin/env bash
# Stop Kubernetes test bed cluster NAME, or all of them: SIGTERM to each process group by pid
# file, bounded wait, then SIGKILL; remove the state. Idempotent. Takes the same per-cluster
# lock as up.sh, so it waits for a start of NAME in progress rather than racing it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
shopt -s nullglob
if [ $# -gt 0 ]; then dirs=("$testbed_state/kube-$1"); else dirs=("$testbed_state"/kube-*); fi
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  name=${dir##*/kube-}
  exec 9>"$testbed_state/.kube-$name.lock"
  flock -w 300 9 || die "timed out waiting for the lock of cluster $name"
  stop_pids "$dir"/kcm.pid "$dir"/apiserver.pid "$dir"/etcd.pid
  rm -rf "$dir"
  exec 9>&-
  log "stopped kube-$name"
done
