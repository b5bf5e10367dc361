#!/usr/bin/env bash
# The test bed's User Operator (UserOperator.java, what Strimzi's User Operator does on the
# brokers for SCRAM-SHA-512 KafkaUsers with simple authorization), compiled with the JDK's javac
# against one Kafka version's jars (fetch.sh) once per change of its source or of the jars.
#   user-operator.sh 3.9|4.3|legacy|current            print the classes folder
#   user-operator.sh 3.9|4.3|legacy|current run ARGS...  run it: apply SPEC.json [--prune] |
#       delete --bootstrap HOST:PORT NAME... | describe --bootstrap HOST:PORT [NAME...]
# Its client logs go to $AMQDR_TESTBED_KAFKA_DIR/logs/user-operator.log when that is set.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  3.9 | legacy) version=3.9 ;;
  4.3 | current) version=4.3 ;;
  *) die "usage: user-operator.sh 3.9|4.3|legacy|current [run ARGS...]" ;;
esac
shift
lib=$("$here/fetch.sh" "$version")
src="$here/UserOperator.java"
cache=${AMQDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/amqdr}
key=$(cat "$src" "$cache/kafka/$version/pom.sha256" | sha256sum | cut -c1-16)
classes="$cache/kafka/$version/user-operator/$key"
if [ ! -f "$classes/UserOperator.class" ]; then
  log "compiling UserOperator.java against Kafka $version"
  mkdir -p "$cache/kafka/$version/user-operator"
  tmp=$(mktemp -d "$cache/kafka/$version/user-operator/.build.XXXXXX")
  javac -nowarn -encoding UTF-8 -cp "$lib/*" -d "$tmp" "$src" >&2 || { rm -rf "$tmp"; die "UserOperator.java did not compile against Kafka $version"; }
  # Concurrent callers: the first rename wins, the others drop their copy.
  mv -T "$tmp" "$classes" 2>/dev/null || rm -rf "$tmp"
fi
if [ "${1:-}" != run ]; then
  echo "$classes"
  exit 0
fi
shift
logs=${AMQDR_TESTBED_KAFKA_DIR:+$AMQDR_TESTBED_KAFKA_DIR/logs}
logs=${logs:-$cache/kafka/$version/user-operator}
mkdir -p "$logs"
if [ "$version" = 3.9 ]; then
  logcfg=(-Dlog4j.configuration="file:$here/log4j.properties")
else
  logcfg=(-Dlog4j2.configurationFile="$here/log4j2.properties")
fi
exec "${AMQDR_TESTBED_JAVA:-java}" -Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  "-Dkafka.logs.dir=$logs" -Dtestbed.process=user-operator "${logcfg[@]}" -cp "$classes:$lib/*" UserOperator "$@"
