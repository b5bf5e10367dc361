#!/usr/bin/env bash
# Benchmark: `amqdr install` against the same Plan applied the seed's way (kubectl apply
# --server-side per step, kubectl rollout resume, kubectl wait; kubectl from the same Kubernetes
# release), on one test bed API server, with the operator stand-in answering at once. Each run
# starts from nothing (uninstall --purge in between). Prints the times and the ratio.
#   benches/install-vs-kubectl.sh [ROUNDS] [PROFILE]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
profile=${2:-current}
api=kafka.strimzi.io/v1; [ "$profile" = legacy ] && api=kafka.strimzi.io/v1beta2

cargo build --release --quiet --workspace --bin amqdr --bin operator-standin
amqdr=target/release/amqdr
eval "$(tests/testbed/up kube bench)"
kubectl_bin=$(tests/testbed/kube/build.sh)
kubectl=("$kubectl_bin" kubectl --kubeconfig "$KUBECONFIG")
ns_args=(--set sites.a.operatorNamespace=bench-op-a --set sites.a.kafkaNamespace=bench-dc-a
         --set sites.b.operatorNamespace=bench-op-b --set sites.b.kafkaNamespace=bench-dc-b --profile "$profile")

# A fresh stand-in per run: after a purge its watches would otherwise be in back-off.
standin=
start_standin() {
  target/release/operator-standin "$KUBECONFIG" "$api" bench-op-a bench-dc-a bench-op-b bench-dc-b 2>/dev/null &
  standin=$!
  sleep 0.5
}
stop_standin() { [ -n "$standin" ] && kill "$standin" 2>/dev/null; wait "$standin" 2>/dev/null || true; standin=; }
trap stop_standin EXIT

plan=$(mktemp)
"$amqdr" render -o json --show-secrets "${ns_args[@]}" > "$plan"
reset() { "$amqdr" uninstall --purge --timeout 120s "${ns_args[@]}" >/dev/null 2>&1 || true; }
now() { date +%s.%N; }

amqdr_times=() kubectl_times=()
reset
for r in $(seq 1 "$rounds"); do
  start_standin
  t0=$(now); CI=true "$amqdr" install "${ns_args[@]}" -o json > /dev/null 2>&1; t1=$(now)
  stop_standin
  amqdr_times+=("$(echo "$t1 - $t0" | bc)")
  reset
  start_standin
  t0=$(now); python3 benches/kubectl_plan.py "$plan" "${kubectl[@]}" 2>/dev/null; t1=$(now)
  stop_standin
  kubectl_times+=("$(echo "$t1 - $t0" | bc)")
  reset
  echo "round $r: amqdr ${amqdr_times[-1]}s, kubectl ${kubectl_times[-1]}s" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(median "${amqdr_times[@]}"); k=$(median "${kubectl_times[@]}")
printf 'profile %s, %d rounds (median): amqdr install %.2fs, kubectl sequence %.2fs, ratio %.2fx (target <= 0.5x)\n' "$profile" "$rounds" "$a" "$k" "$(echo "$a / $k" | bc -l)"
