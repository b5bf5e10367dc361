#!/usr/bin/env bash
# Stop the Kafka test bed of a profile, or of both; remove its state. Idempotent.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
profiles=("$@"); [ ${#profiles[@]} -gt 0 ] || profiles=(legacy current)
for p in "${profiles[@]}"; do
  profile_setup "$p"
  [ -d "$dir" ] || continue
  lock_profile
  stop_pids "$dir"/mirror.pid "$dir"/broker-a.pid "$dir"/broker-b.pid "$dir"/zookeeper.pid
  rm -rf "$dir"
  exec 9>&-
  log "stopped kafka-$p"
done
