#!/usr/bin/env bash
# Disturb a running Kafka test bed instance: `ctl.sh INSTANCE restart-broker a|b`,
# `stop-broker a|b`, `start-broker a|b`, `stop-mirror` / `start-mirror` (every mirror process of
# the instance, like deleting and recreating its pods). INSTANCE is the profile for the shared
# test beds, or the --name given to up.sh. The mirror runtime (tests/common/mirror_runtime.rs)
# runs a mirror resource's process with `start-process ID` / `stop-process ID` (ID = <ns>.<name>,
# configured in mirrors/ID/). `users` applies the rendered KafkaUsers of both sites again
# ($dir/rendered.json, as the User Operator's periodic reconciliation would).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
instance_setup "${1:?usage: ctl.sh INSTANCE ACTION [ARG]}"
lock_profile
[ -f "$dir/ready" ] || [ "${AMQDR_TESTBED_KAFKA_LOCKED:-}" = "$instance" ] || die "the Kafka test bed $instance is not up"
lib=$(lib_dir)
read_ports
case "${2:-}" in
  restart-broker) stop_pids "$dir/broker-${3:?site}.pid"; start_broker "$3" ;;
  stop-broker) stop_pids "$dir/broker-${3:?site}.pid" ;;
  start-broker) start_broker "${3:?site}" ;;
  stop-mirror) stop_pids "$dir"/mirror-*.pid ;;
  start-mirror) for m in "$dir"/mirrors/*/; do
      [ -f "$m/enabled" ] || continue
      id=$(basename "$m"); alive "$dir/mirror-$id.pid" || start_mirror_process "$id"
    done ;;
  start-process) id=${3:?id}; alive "$dir/mirror-$id.pid" || start_mirror_process "$id" ;;
  stop-process) stop_pids "$dir/mirror-${3:?id}.pid" ;;
  users) for site in a b; do
      "$testbed_repo/target/debug/testbed-kafka" users --rendered "$dir/rendered.json" --site "$site" \
        --bootstrap "$(site_plain "$site")" --profile "$profile"
    done ;;
  *) die "unknown action ${2:-}" ;;
esac
