#!/usr/bin/env bash
# Benchmark of `amqdr serve` on the Kafka test bed: /health requests at the highest rate one
# client core reaches (wrk, one thread, bounded to SECONDS), with /livez (no state read) as the
# HTTP stack's reference; and the CPU the probing costs at the default interval with no HTTP
# traffic, from /proc/<pid>/stat. Prints the figures as ratios of their budgets: a request well
# below 1 ms, probing below 2% of one core.
#   benches/serve-health.sh [legacy|current] [SECONDS] [PROBE_WINDOW_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-current}
seconds=${2:-10}
window=${3:-60}
if ! command -v wrk >/dev/null; then
  echo "bench: installing wrk (Debian)" >&2
  (apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }) \
    || { echo "bench: wrk is missing and could not be installed" >&2; exit 1; }
fi
cargo build --release --quiet --bin amqdr
amqdr=$PWD/target/release/amqdr
eval "$(tests/testbed/up kafka "$profile")"
export KUBECONFIG=/nonexistent
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
# Default interval and probe timeout (health.intervalSeconds / probeTimeoutSeconds).
"$amqdr" serve --site a --listen "127.0.0.1:$port" 2>"$log" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
  sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] || { cat "$log" >&2; echo "bench: site a never answered 200" >&2; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

# Probing alone, at the default interval.
sleep 5
t0=$(ticks); s0=$(date +%s.%N)
sleep "$window"
t1=$(ticks); s1=$(date +%s.%N)
probe_pct=$(python3 -c "import sys; t, a, b, hz = map(float, sys.argv[1:]); print(f'{100 * t / hz / (b - a):.2f}')" "$((t1 - t0))" "$s0" "$s1" "$hz")

load() { # path -> "requests/s p99_ms cpu_us_per_request"
  local c0 c1 out
  c0=$(ticks)
  out=$(wrk -t1 -c16 -d"${seconds}s" --latency "http://127.0.0.1:$port$1")
  c1=$(ticks)
  python3 - "$out" "$((c1 - c0))" "$hz" <<'PY'
import re, sys
out, ticks, hz = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
total = int(re.search(r"(\d+) requests in", out).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
p99_ms = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if non2xx:
    sys.exit(f"bench: {non2xx.group(1)} answers were not 200")
print(f"{rps:.0f} {p99_ms:.3f} {1e6 * ticks / hz / max(total, 1):.1f}")
PY
}
read -r live_rps live_p99 live_cpu < <(load /livez)
read -r health_rps health_p99 health_cpu < <(load /health)
read -r metrics_rps metrics_p99 metrics_cpu < <(load /metrics)

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}x')" "$1" "$2"; }
echo "amqdr serve, site a of the $profile Kafka test bed, $(nproc) cores; wrk 1 thread, 16 connections, ${seconds}s per endpoint"
printf '/livez   (reference) %8.0f req/s  p99 %7.3f ms  server CPU %6.1f us/req\n' "$live_rps" "$live_p99" "$live_cpu"
printf '/health              %8.0f req/s  p99 %7.3f ms  server CPU %6.1f us/req  (p99 %s of the 1 ms budget, %s of /livez req/s)\n' \
  "$health_rps" "$health_p99" "$health_cpu" "$(ratio "$health_p99" 1)" "$(ratio "$health_rps" "$live_rps")"
printf '/metrics             %8.0f req/s  p99 %7.3f ms  server CPU %6.1f us/req\n' "$metrics_rps" "$metrics_p99" "$metrics_cpu"
printf 'probing at the default interval, no HTTP load: %s%% of one core over %ss (%s of the 2%% budget)\n' \
  "$probe_pct" "$window" "$(ratio "$probe_pct" 2)"
