#!/usr/bin/env bash
# Self-check of the Kubernetes test bed: brings up two clusters at once (default names
# `selfcheck-a` and `selfcheck-b`, or the two names given), proves each control-plane part does
# its job with the built kubectl, stops both and checks nothing is left behind. Exit status 0
# only if every check passed. Touches only its own clusters, so it may run beside others.
#
#   tests/testbed/kube/selfcheck.sh [NAME_A NAME_B]
#
# Checks: parallel start on free ports; idempotent `up`; Route CRD served with a status
# subresource; server-side apply of a paused Deployment gets no ReplicaSet until unpaused, then
# one from kube-controller-manager (deployment controller) with Pods (replicaset and
# serviceaccount controllers); garbage collection of the ReplicaSet after the Deployment goes;
# namespace deletion completes (namespace controller); a Strimzi CRD applied server-side becomes
# Established; the unprivileged identity is forbidden to create a CRD; `down` leaves no process
# and no state; a second `down` is a no-op.
# The single-quoted `bash -c` scripts below expand their own arguments:
# shellcheck disable=SC2016
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"

name_a=${1:-selfcheck-a}
name_b=${2:-selfcheck-b}
bin=$("$here/build.sh")
work=$(mktemp -d)
passed=0
failed=0

cleanup() {
  "$here/down.sh" "$name_a" >/dev/null 2>&1 || true
  "$here/down.sh" "$name_b" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "selfcheck: ok   $*" >&2; }
fail() { failed=$((failed + 1)); echo "selfcheck: FAIL $*" >&2; }
check() { # description command...
  local what=$1; shift
  if "$@" >"$work/out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' "$work/out" >&2; fi
}
# Poll a command until it succeeds, at most SECONDS (short poll interval, no fixed sleep).
eventually() {
  local seconds=$1; shift
  local deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# --- start two clusters at once -------------------------------------------------------------
log "starting clusters $name_a and $name_b in parallel"
started=$(date +%s)
"$here/../up" kube "$name_a" >"$work/a.env" 2>"$work/a.err" </dev/null & pid_a=$!
"$here/../up" kube "$name_b" >"$work/b.env" 2>"$work/b.err" </dev/null & pid_b=$!
rc_a=0; wait "$pid_a" || rc_a=$?
rc_b=0; wait "$pid_b" || rc_b=$?
for n in a b; do
  rc_var=rc_$n
  if [ "${!rc_var}" != 0 ]; then fail "up kube $n"; sed 's/^/    /' "$work/$n.err" >&2; fi
done
if [ "$rc_a" != 0 ] || [ "$rc_b" != 0 ]; then echo "selfcheck: $passed passed, $failed failed" >&2; exit 1; fi
ok "two clusters up in $(( $(date +%s) - started ))s"

upper_a=$(echo "$name_a" | tr 'a-z-' 'A-Z_')
only_exports() { ! grep -qv '^export [A-Z_][A-Z0-9_]*=/' "$1" && [ "$(wc -l < "$1")" = 2 ]; }
check "stdout of up is only export lines" only_exports "$work/a.env"
kubeconfig_a=$(sed -n 's/^export KUBECONFIG=//p' "$work/a.env")
limited_a=$(sed -n "s/^export AMQDR_TESTBED_KUBE_${upper_a}_LIMITED_KUBECONFIG=//p" "$work/a.env")
kubeconfig_b=$(sed -n 's/^export KUBECONFIG=//p' "$work/b.env")
check "limited kubeconfig exported" test -f "$limited_a"
check "clusters are distinct" test "$(grep server: "$kubeconfig_a")" != "$(grep server: "$kubeconfig_b")"

# A second `up` of a healthy cluster reuses it and prints the same exports.
check "up is idempotent" bash -c '"$1" kube "$2" </dev/null 2>/dev/null | cmp -s - "$3"' _ "$here/../up" "$name_a" "$work/a.env"

ka() { "$bin" kubectl --kubeconfig "$kubeconfig_a" "$@"; }
kb() { "$bin" kubectl --kubeconfig "$kubeconfig_b" "$@"; }
kl() { "$bin" kubectl --kubeconfig "$limited_a" "$@"; }

check "cluster $name_b answers" kb get namespace default

# --- Route API ------------------------------------------------------------------------------
check "Route CRD established" ka wait --for condition=Established --timeout 30s crd/routes.route.openshift.io
route_roundtrip() {
  cat <<'YAML' | ka apply --server-side --field-manager selfcheck -f - &&
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: bootstrap, namespace: default}
spec:
  host: bootstrap.apps.example
  to: {kind: Service, name: my-cluster-kafka-bootstrap, weight: 100}
  port: {targetPort: 9094}
  tls: {termination: passthrough}
YAML
  ka patch route bootstrap -n default --subresource status --type merge \
    -p '{"status":{"ingress":[{"host":"bootstrap.apps.example","routerName":"default","conditions":[{"type":"Admitted","status":"True"}]}]}}' &&
  [ "$(ka get route bootstrap -n default -o jsonpath='{.status.ingress[0].host}')" = bootstrap.apps.example ] &&
  ka delete route bootstrap -n default
}
check "Route spec applies and status subresource is writable" route_roundtrip

# --- Deployments, ReplicaSets, garbage collection, namespaces ---------------------------------
ns=selfcheck
deployment() { # paused
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $ns}
spec:
  paused: $1
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example.invalid/web:1}]
YAML
}
rs_count() { ka get replicasets -n "$ns" -l app=web -o name | wc -l; }
paused_observed() {
  [ "$(ka get deployment web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')" = DeploymentPaused ]
}
rs_owned_by_deployment() {
  [ "$(ka get replicasets -n "$ns" -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}')" = Deployment ]
}
pods_created() { [ "$(ka get pods -n "$ns" -l app=web -o name | wc -l)" -ge 1 ]; }
no_rs() { [ "$(rs_count)" = 0 ]; }
ns_gone() { ! ka get namespace "$ns" >/dev/null 2>&1; }

check "create namespace" ka create namespace "$ns"
apply_deployment() { deployment "$1" | ka apply --server-side --field-manager selfcheck -f -; }
check "server-side apply paused Deployment" apply_deployment true
check "deployment controller observed the paused Deployment" eventually 60 paused_observed
check "no ReplicaSet while paused" no_rs
check "server-side apply unpaused Deployment" apply_deployment false
check "ReplicaSet created after unpause" eventually 60 rs_owned_by_deployment
check "Pods created by the ReplicaSet (serviceaccount admission satisfied)" eventually 60 pods_created
check "default ServiceAccount created by the serviceaccount controller" ka get serviceaccount default -n "$ns"
check "delete Deployment" ka delete deployment web -n "$ns" --wait=false
check "garbage collector removes the ReplicaSet" eventually 60 no_rs
check "delete namespace" ka delete namespace "$ns" --wait=false
check "namespace controller finishes deleting the namespace" eventually 90 ns_gone

# --- Strimzi CRD and RBAC -----------------------------------------------------------------------
strimzi_crd=$testbed_repo/crd/1.2.0/040-Crd-kafka.yaml
[ -f "$strimzi_crd" ] || strimzi_crd=$testbed_repo/../shared/strimzi/1.2.0/install/cluster-operator/040-Crd-kafka.yaml
check "Strimzi Kafka CRD applies server-side" ka apply --server-side --field-manager selfcheck -f "$strimzi_crd"
check "Strimzi Kafka CRD established" ka wait --for condition=Established --timeout 60s crd/kafkas.kafka.strimzi.io
limited_forbidden() {
  local out
  [ "$(kl auth can-i create customresourcedefinitions 2>/dev/null)" = no ] || return 1
  out=$(kl apply --server-side --field-manager selfcheck -f "$strimzi_crd" 2>&1) && return 1
  grep -q 'Forbidden\|forbidden' <<<"$out" && grep -q 'User "developer"' <<<"$out"
}
check "limited identity is forbidden to create a CRD" limited_forbidden
check "limited identity is authenticated (not anonymous)" bash -c '[ "$("$1" kubectl --kubeconfig "$2" auth whoami -o jsonpath="{.status.userInfo.username}")" = developer ]' _ "$bin" "$limited_a"

# Memory use, for the record (the machine has 24 GiB; tests run several clusters at once).
for n in "$name_a" "$name_b"; do
  line=""
  for part in etcd apiserver kcm; do
    line+=" $part $(( $(ps -o rss= -p "$(cat "$testbed_state/kube-$n/$part.pid")") / 1024 )) MiB"
  done
  log "RSS of cluster $n:$line"
done

# --- down ---------------------------------------------------------------------------------------
state_a=$testbed_state/kube-$name_a
state_b=$testbed_state/kube-$name_b
"$here/../down" kube "$name_a" 2>/dev/null
"$here/../down" kube "$name_b" 2>/dev/null
no_process_left() { ! pgrep -f -- "$state_a/|$state_b/" >/dev/null; }
check "down leaves no process" no_process_left
check "down removes the state" bash -c '! [ -e "$1" ] && ! [ -e "$2" ]' _ "$state_a" "$state_b"
check "down again is a no-op" "$here/../down" kube "$name_a"

echo "selfcheck: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
