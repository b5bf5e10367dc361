# Shared helpers of the test bed scripts (sourced).
testbed_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
testbed_state=${AMQDR_TESTBED_DIR:-$testbed_repo/.testbed}

log() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

# N free TCP ports on 127.0.0.1, one per line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
}

# Start a command in its own session, logging to FILE, recording its pid in PIDFILE. Fd 9 (the
# scripts' lock) is closed in the child so a long-lived process does not keep the lock.
start_bg() {
  local pidfile=$1 logfile=$2; shift 2
  setsid "$@" >"$logfile" 2>&1 < /dev/null 9>&- &
  echo $! > "$pidfile"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stop the process groups of the pid files given; bounded wait, then SIGKILL.
stop_pids() {
  local f pid
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 100); do
    local any=0
    for f in "$@"; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  for f in "$@"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

# Wait until a command succeeds, at most SECONDS; no fixed sleeps beyond a short poll interval.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  log "$what ready"
}

# cargo as the developer's shell runs it. A script started by a test inherits what cargo sets for
# the test process (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...); ring's build script tracks
# CARGO_MANIFEST_DIR, so a nested build with it set recompiles the TLS stack and the next plain
# `cargo test` recompiles it back (about two minutes each way on two cores).
host_cargo() {
  local unset=() v
  for v in $(compgen -e); do
    case "$v" in
      CARGO_HOME | CARGO_TARGET_DIR | CARGO_BUILD_* | CARGO_NET_* | CARGO_REGISTRIES_* | CARGO_TERM_* | CARGO_PROFILE_* | CARGO_INCREMENTAL) ;;
      CARGO | CARGO_* | RUST_RECURSION_COUNT) unset+=(-u "$v") ;;
    esac
  done
  env "${unset[@]}" cargo "$@"
}
