#!/usr/bin/env bash
# Resolve the jars of one Kafka version (3.9 or 4.3) from Maven Central into the cache, once per
# change of its pom; print the lib folder.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
version=${1:?usage: fetch.sh 3.9|4.3}
pom="$(cd "$(dirname "$0")" && pwd)/$version/pom.xml"
[ -f "$pom" ] || die "no pom for Kafka $version"
cache=${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amqdr}
lib="$cache/kafka/$version/lib"
stamp="$cache/kafka/$version/pom.sha256"
hash=$(sha256sum "$pom" | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ] || [ ! -d "$lib" ]; then
  log "resolving Kafka $version jars with Maven"
  rm -rf "$lib"
  mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  echo "$hash" > "$stamp"
fi
echo "$lib"
