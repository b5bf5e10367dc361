#!/usr/bin/env bash
# Build kube-testbed (etcd, kube-apiserver, kube-controller-manager and kubectl of one Kubernetes
# release, from Go modules) once per change of its sources; print the binary's path.
#
# The binary lives in ${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/amqdr}/kube-testbed/<hash>/,
# where <hash> covers go.mod, go.sum, *.go and this script: the user's cache outlives the work
# tree, so a new checkout does not pay the build again; the three newest builds are kept. Go's own GOMODCACHE/GOCACHE are used as configured.
# A first build from an empty GOCACHE takes several minutes on 2 cores; concurrent callers wait
# on a lock instead of building twice.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amqdr}
hash=$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go "$here/build.sh" | sha256sum | cut -c1-16)
bin="$cache/kube-testbed/$hash/kube-testbed"
if [ ! -x "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  exec 9>"$(dirname "$bin")/.lock"
  flock -w 3600 9 || { echo "testbed: timed out waiting for another kube-testbed build" >&2; exit 1; }
  if [ ! -x "$bin" ]; then
    k8s=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ {print $2; exit}' "$here/go.mod")
    [[ "$k8s" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "testbed: no k8s.io/kubernetes v1.X.Y in go.mod" >&2; exit 1; }
    echo "testbed: building kube-testbed (Kubernetes $k8s); this takes a while the first time" >&2
    # Stamp the release like upstream's hack/lib/version.sh, so /version and `kubectl version`
    # report it (unstamped builds say v0.0.0-master).
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=${BASH_REMATCH[1]}"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    start=$(date +%s)
    (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$bin.tmp.$$" .) >&2
    mv "$bin.tmp.$$" "$bin"
    echo "testbed: built kube-testbed in $(( $(date +%s) - start ))s" >&2
    # Keep the three newest builds (running clusters keep their unlinked binaries anyway).
    # shellcheck disable=SC2012
    ls -1dt "$cache/kube-testbed"/*/ | tail -n +4 | while read -r old; do rm -rf "$old"; done
  fi
  exec 9>&-
fi
echo "$bin"
