#!/usr/bin/env bash
# Start (or reuse) Kubernetes test bed cluster NAME on loopback: embedded etcd, kube-apiserver
# (RBAC, client-certificate admin) and kube-controller-manager, plus OpenShift's Route API as a
# CRD — except for names starting with `plain`, which stay plain Kubernetes (no Route API), as
# the clusters amqdr must refuse a `route` listener on. State (pids, logs, PKI, kubeconfigs) in
# ${AMQDR_TESTBED_DIR:-<repo>/.testbed}/kube-NAME/.
#
# Prints only `export` lines on stdout, everything else goes to stderr:
#   export KUBECONFIG=<dir>/admin.kubeconfig                               (O=system:masters)
#   export AMQDR_TESTBED_KUBE_<NAME>_LIMITED_KUBECONFIG=<dir>/limited.kubeconfig  (user
#     `developer`, no RBAC bindings: every request but discovery/self-review is forbidden)
# so `eval "$(tests/testbed/up kube NAME)"` works. If NAME is already up and healthy, only the
# exports are printed again. Concurrent calls for one NAME are serialised by a lock file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

[ $# -eq 1 ] || die "usage: tests/testbed/up kube NAME"
name=$1
[[ "$name" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "cluster name must be lower-case letters, digits and '-'"
dir="$testbed_state/kube-$name"
upper=$(echo "$name" | tr 'a-z-' 'A-Z_')

exports() {
  echo "export KUBECONFIG=$dir/admin.kubeconfig"
  echo "export AMQDR_TESTBED_KUBE_${upper}_LIMITED_KUBECONFIG=$dir/limited.kubeconfig"
}

bin=$("$here/build.sh")
kubectl() { "$bin" kubectl --kubeconfig "$dir/admin.kubeconfig" "$@"; }
# For probes: a hung apiserver must not hang the probe.
probe() { kubectl --request-timeout 5s "$@"; }
kcm_healthy() { curl -sfk --max-time 5 "https://127.0.0.1:$kcm_port/healthz" >/dev/null; }

with_route_api=true
[[ "$name" == plain* ]] && with_route_api=false

route_api_established() {
  [ "$with_route_api" = false ] && return 0
  [ "$(probe get crd routes.route.openshift.io \
    -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ]
}

# Healthy = all three processes alive, apiserver ready, controller-manager healthy, and the last
# step of a start (the Route API) done.
healthy() {
  [ -f "$dir/ports" ] || return 1
  read -r etcd_port peer_port api_port kcm_port < "$dir/ports"
  alive "$dir/etcd.pid" && alive "$dir/apiserver.pid" && alive "$dir/kcm.pid" &&
    probe get --raw=/readyz >/dev/null 2>&1 && kcm_healthy && route_api_established
}

# One `up` (or `down`) of NAME at a time; the lock file stays outside the state folder so that
# `down` can remove the folder. Children get fd 9 closed so they do not hold the lock.
mkdir -p "$testbed_state"
exec 9>"$testbed_state/.kube-$name.lock"
flock -w 600 9 || die "timed out waiting for another 'up kube $name'"

if healthy; then
  exports
  exit 0
fi

# PKI: one CA signs the apiserver's serving certificate and the client certificates.
make_pki() {
  local pki=$dir/pki
  mkdir -p "$pki"
  ossl() { openssl "$@" 2>/dev/null; }
  ossl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 \
    -subj "/CN=testbed-$name-ca"
  issue() { # name subject [san]
    local n=$1 subj=$2 san=${3:-}
    ossl req -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -out "$pki/$n.csr" -subj "$subj"
    if [ -n "$san" ]; then
      printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$pki/$n.ext"
    else
      printf 'extendedKeyUsage=clientAuth\n' > "$pki/$n.ext"
    fi
    ossl x509 -req -in "$pki/$n.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
      -out "$pki/$n.crt" -days 30 -extfile "$pki/$n.ext"
  }
  issue apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1"
  issue admin "/O=system:masters/CN=testbed-admin"
  # No group, no binding: authenticated as `developer`, authorised for nothing but discovery.
  issue developer "/CN=developer"
  issue kcm "/CN=system:kube-controller-manager"
  # Service-account token signing key: the apiserver signs and verifies with it; the
  # controller-manager signs legacy token Secrets with it.
  ossl genrsa -out "$pki/sa.key" 2048
  ossl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
}

kubeconfig() { # file user context
  cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: testbed-$name
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $dir/pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $dir/pki/$2.crt
    client-key: $dir/pki/$2.key
contexts:
- name: $3
  context:
    cluster: testbed-$name
    user: $2
current-context: $3
YAML
}

# Like wait_for, but gives up at once if the process of PIDFILE has exited.
wait_proc() { # seconds what pidfile command...
  local seconds=$1 what=$2 pidfile=$3; shift 3
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    alive "$pidfile" || { log "$what exited"; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  log "$what ready"
}

port_clash() { grep -qs 'address already in use' "$dir"/*.log; }

# One attempt on fresh free ports. Returns non-zero (leaving logs) if a part does not come up.
start_cluster() {
  mapfile -t ports < <(free_ports 4)
  etcd_port=${ports[0]} peer_port=${ports[1]} api_port=${ports[2]} kcm_port=${ports[3]}
  echo "${ports[*]}" > "$dir/ports"
  kubeconfig "$dir/admin.kubeconfig" admin "testbed-$name"
  kubeconfig "$dir/limited.kubeconfig" developer "testbed-$name-developer"
  kubeconfig "$dir/kcm.kubeconfig" kcm "testbed-$name-kcm"

  start_bg "$dir/etcd.pid" "$dir/etcd.log" "$bin" etcd --data-dir "$dir/etcd" \
    --listen-client-url "http://127.0.0.1:$etcd_port" --listen-peer-url "http://127.0.0.1:$peer_port" 9>&-
  wait_proc 60 "etcd $name" "$dir/etcd.pid" grep -q "etcd ready" "$dir/etcd.log" || { log "etcd did not start; see $dir/etcd.log"; return 1; }

  start_bg "$dir/apiserver.pid" "$dir/apiserver.log" "$bin" kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$dir/pki/apiserver.crt" --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC \
    --profiling=false --v=1 9>&-
  wait_proc 120 "kube-apiserver $name" "$dir/apiserver.pid" probe get --raw=/readyz || { log "kube-apiserver did not become ready; see $dir/apiserver.log"; return 1; }
  wait_proc 60 "default namespace of $name" "$dir/apiserver.pid" probe get namespace default || { log "no default namespace; see $dir/apiserver.log"; return 1; }

  # Controllers that need no nodes, cloud or volumes: namespace, garbage collector, deployment,
  # replicaset, serviceaccount(-token), root-ca-cert-publisher, job, statefulset, ...
  start_bg "$dir/kcm.pid" "$dir/kcm.log" "$bin" kube-controller-manager \
    --kubeconfig "$dir/kcm.kubeconfig" \
    --authentication-kubeconfig "$dir/kcm.kubeconfig" --authorization-kubeconfig "$dir/kcm.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --service-account-private-key-file "$dir/pki/sa.key" --root-ca-file "$dir/pki/ca.crt" \
    --use-service-account-credentials=true --leader-elect=false \
    --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander' \
    --profiling=false --v=1 9>&-
  wait_proc 60 "kube-controller-manager $name" "$dir/kcm.pid" kcm_healthy || { log "kube-controller-manager did not start; see $dir/kcm.log"; return 1; }
}

started=$(date +%s)
for attempt in 1 2 3; do
  # Leftovers of a stopped, broken or half-started instance.
  stop_pids "$dir"/*.pid 2>/dev/null || true
  rm -rf "$dir"
  mkdir -p "$dir/etcd"
  make_pki
  start_cluster && break
  if ! port_clash || [ "$attempt" = 3 ]; then
    stop_pids "$dir"/*.pid
    die "cluster $name did not come up (logs in $dir)"
  fi
  log "a port was taken meanwhile; retrying cluster $name on other ports"
done

if [ "$with_route_api" = true ]; then
  kubectl apply --server-side --field-manager testbed -f "$here/route-crd.yaml" >&2
  kubectl wait --for condition=Established --timeout 60s crd/routes.route.openshift.io >&2
fi
log "cluster $name up in $(( $(date +%s) - started ))s"
exports
