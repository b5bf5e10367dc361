#!/usr/bin/env bash
# Disturb a running Kafka test bed: `ctl.sh PROFILE restart-broker a|b`, `stop-mirror`,
# `start-mirror`, `stop-broker a|b`, `start-broker a|b`.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
profile_setup "${1:?usage: ctl.sh PROFILE ACTION [SITE]}"
lock_profile
[ -f "$dir/ready" ] || die "the $profile test bed is not up"
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
