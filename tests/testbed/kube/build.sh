#!/usr/bin/env bash
# Build kube-testbed (etcd, kube-apiserver, kube-controller-manager and kubectl of one Kubernetes
# release, from Go modules) once per change of its sources; print the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amqdr}
hash=$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go | sha256sum | cut -c1-16)
bin="$cache/kube-testbed/$hash/kube-testbed"
if [ ! -x "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  echo "testbed: building kube-testbed (Kubernetes $(grep -m1 'k8s.io/kubernetes v' "$here/go.mod" | awk '{print $2}')); this takes a while the first time" >&2
  start=$(date +%s)
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$bin.tmp" .) >&2
  mv "$bin.tmp" "$bin"
  echo "testbed: built kube-testbed in $(( $(date +%s) - start ))s" >&2
fi
echo "$bin"
