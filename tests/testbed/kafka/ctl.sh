#!/usr/bin/env bash
# Disturb a running Kafka test bed instance: `ctl.sh INSTANCE restart-broker a|b`,
# `stop-broker a|b`, `start-broker a|b`, `stop-mirror` / `start-mirror` (every mirror process of
# the instance, like deleting and recreating its pods). INSTANCE is the profile for the shared
# test beds, or the --name given to up.sh.
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
  stop-mirror) stop_pids "$dir/mirror.pid" ;;
  start-mirror) alive "$dir/mirror.pid" || start_mirror ;;
  *) die "unknown action ${2:-}" ;;
esac
