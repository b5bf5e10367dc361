#!/usr/bin/env bash
# Stop Kafka test bed instances (`down.sh [INSTANCE...]`, default: all) and remove their state.
# Stops every process the instance started (brokers, ZooKeeper, mirror processes). Idempotent.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in "$testbed_state"/kafka-*/; do [ -d "$d" ] && names+=("$(basename "$d" | sed 's/^kafka-//')"); done
fi
for n in "${names[@]}"; do
  dir="$testbed_state/kafka-$n"
  [ -d "$dir" ] || continue
  instance=$n
  lock_profile
  stop_pids "$dir"/*.pid
  rm -rf "$dir"
  exec 9>&-
  log "stopped kafka-$n"
done
