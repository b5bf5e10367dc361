#!/usr/bin/env bash
# Start (or reuse) Kubernetes test bed cluster NAME on loopback: embedded etcd, kube-apiserver
# (RBAC, client-certificate admin) and kube-controller-manager, plus OpenShift's Route API as a
# CRD. Prints only `export` lines on stdout.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

name=${1:?usage: up.sh NAME}
[[ "$name" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "cluster name must be lower-case letters, digits and '-'"
dir="$testbed_state/kube-$name"
upper=$(echo "$name" | tr 'a-z-' 'A-Z_')

exports() {
  echo "export KUBECONFIG=$dir/admin.kubeconfig"
  echo "export AMQDR_TESTBED_KUBE_${upper}_LIMITED_KUBECONFIG=$dir/limited.kubeconfig"
}

bin=$("$(dirname "$0")/build.sh")
kubectl() { "$bin" kubectl --kubeconfig "$dir/admin.kubeconfig" "$@"; }

healthy() {
  alive "$dir/etcd.pid" && alive "$dir/apiserver.pid" && alive "$dir/kcm.pid" &&
    kubectl get --raw=/readyz >/dev/null 2>&1
}

if [ -f "$dir/ports" ] && healthy; then
  exports
  exit 0
fi
# Leftovers of a stopped or broken instance.
stop_pids "$dir"/*.pid 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir/etcd" "$dir/pki"
started=$(date +%s)

mapfile -t ports < <(free_ports 4)
etcd_port=${ports[0]} peer_port=${ports[1]} api_port=${ports[2]} kcm_port=${ports[3]}
echo "${ports[*]}" > "$dir/ports"

# PKI: one CA signs the serving certificate and the client certificates.
pki=$dir/pki
openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 30 -subj "/CN=testbed-$name-ca"
issue() { # name subject [san]
  local n=$1 subj=$2 san=${3:-}
  openssl_quiet req -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -out "$pki/$n.csr" -subj "$subj"
  if [ -n "$san" ]; then
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" > "$pki/$n.ext"
  else
    printf 'extendedKeyUsage=clientAuth\n' > "$pki/$n.ext"
  fi
  openssl_quiet x509 -req -in "$pki/$n.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -out "$pki/$n.crt" -days 30 -extfile "$pki/$n.ext"
}
issue apiserver "/CN=kube-apiserver" "IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc,IP:10.96.0.1"
issue admin "/O=system:masters/CN=testbed-admin"
issue developer "/O=testbed-developers/CN=developer"
issue kcm "/CN=system:kube-controller-manager"
openssl_quiet genrsa -out "$pki/sa.key" 2048
openssl_quiet rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"

kubeconfig() { # file user context
  cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: testbed-$name
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: $3
  context:
    cluster: testbed-$name
    user: $2
current-context: $3
YAML
}
kubeconfig "$dir/admin.kubeconfig" admin "testbed-$name"
kubeconfig "$dir/limited.kubeconfig" developer "testbed-$name-developer"
kubeconfig "$dir/kcm.kubeconfig" kcm "testbed-$name-kcm"

start_bg "$dir/etcd.pid" "$dir/etcd.log" "$bin" etcd --data-dir "$dir/etcd" \
  --listen-client-url "http://127.0.0.1:$etcd_port" --listen-peer-url "http://127.0.0.1:$peer_port"
wait_for 60 "etcd $name" grep -q "etcd ready" "$dir/etcd.log" || die "etcd did not start; see $dir/etcd.log"

start_bg "$dir/apiserver.pid" "$dir/apiserver.log" "$bin" kube-apiserver \
  --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --authorization-mode Node,RBAC \
  --profiling=false --v=1
wait_for 120 "kube-apiserver $name" kubectl get --raw=/readyz || die "kube-apiserver did not become ready; see $dir/apiserver.log"
wait_for 60 "default namespace of $name" kubectl get namespace default || die "no default namespace; see $dir/apiserver.log"

start_bg "$dir/kcm.pid" "$dir/kcm.log" "$bin" kube-controller-manager \
  --kubeconfig "$dir/kcm.kubeconfig" \
  --authentication-kubeconfig "$dir/kcm.kubeconfig" --authorization-kubeconfig "$dir/kcm.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$kcm_port" \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=true --leader-elect=false \
  --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander' \
  --profiling=false --v=1
wait_for 60 "kube-controller-manager $name" curl -sfk "https://127.0.0.1:$kcm_port/healthz" || die "kube-controller-manager did not start; see $dir/kcm.log"

kubectl apply --server-side --field-manager testbed -f "$(dirname "$0")/route-crd.yaml" >&2
kubectl wait --for condition=Established --timeout 60s crd/routes.route.openshift.io >&2
log "cluster $name up in $(( $(date +%s) - started ))s"
exports
