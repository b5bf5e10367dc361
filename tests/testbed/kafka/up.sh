#!/usr/bin/env bash
# Start (or reuse) a Kafka test bed instance: two single-node sites, legacy = Kafka 3.9 with
# ZooKeeper and MirrorMaker 1, current = Kafka 4.3 KRaft with MirrorMaker 2. Prints only `export`
# lines. `up.sh PROFILE [--name NAME] [--no-mirror] [--fresh]`: NAME (default: the profile) keeps
# instances apart; --no-mirror starts the sites without the default a -> b mirror (DR tests make
# their own through the operator stand-in); --fresh stops and wipes an instance first.
# Brokers, users and topics take their settings from `amqdr render` (the Kafka, KafkaUsers and
# KafkaTopics amqdr applies), keeping only what Strimzi itself manages (listeners, security, log
# dirs, node ids); the brokers run the authorizer the Kafka asks for.
# Concurrent calls for one instance are serialised by a lock file (tests start it from several
# threads): the first starts it, the others wait and reuse it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
profile_arg=${1:?usage: up.sh legacy|current [--name NAME] [--no-mirror] [--fresh]}
shift
name_arg="" with_mirror=1 fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name_arg=${2:?--name needs a value}; shift 2 ;;
    --no-mirror) with_mirror=0; shift ;;
    --fresh) fresh=1; shift ;;
    *) die "unknown argument $1" ;;
  esac
done
profile_setup "$profile_arg" "$name_arg"
lib=$(lib_dir)

exports() {
  read_ports
  cat <<EOT
export AMQDR_PROFILE=$profile
export AMQDR_SITE_A_BOOTSTRAP=$(site_sasl a)
export AMQDR_SITE_B_BOOTSTRAP=$(site_sasl b)
export AMQDR_SITE_A_PLAIN_BOOTSTRAP=$(site_plain a)
export AMQDR_SITE_B_PLAIN_BOOTSTRAP=$(site_plain b)
export AMQDR_CA_FILE=$dir/certs/ca.crt
export AMQDR_USER=$(cat "$dir/user")
export AMQDR_PASSWORD_FILE=$dir/password
export AMQDR_MIRROR_USER=$(cat "$dir/mirror-user")
export AMQDR_MIRROR_PASSWORD_FILE=$dir/mirror-password
export AMQDR_DR_USER=$(cat "$dir/dr-user")
export AMQDR_DR_PASSWORD_FILE=$dir/dr-password
export AMQDR_MIRROR_GROUP=$(cat "$dir/mirror-group")
export AMQDR_TOPIC=my-topic
export AMQDR_CLIENT_CONFIG=$dir/client-sasl-scram.properties
export AMQDR_KAFKA_LIB=$lib
export AMQDR_TESTBED_KAFKA_DIR=$dir
export AMQDR_TESTBED_KAFKA_INSTANCE=$instance
EOT
}

healthy() {
  [ -f "$dir/ready" ] || return 1
  [ -f "$dir/dr-user" ] || return 1 # made before the test bed applied amqdr's KafkaUsers
  [ "$(cat "$dir/mirror-mode")" = "$with_mirror" ] || return 1
  local p
  for p in broker-a broker-b; do alive "$dir/$p.pid" || return 1; done
  if [ "$with_mirror" = 1 ]; then
    local m
    for m in "$dir"/mirrors/*/; do
      [ -f "$m/enabled" ] || continue
      alive "$dir/mirror-$(basename "$m").pid" || return 1
    done
  fi
  if [ "$profile" = legacy ]; then alive "$dir/zookeeper.pid" || return 1; fi
}

lock_profile
export AMQDR_TESTBED_KAFKA_LOCKED=$instance

if [ "$fresh" = 0 ] && healthy; then
  exports
  exit 0
fi
stop_pids "$dir"/*.pid 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir/logs" "$dir/certs" "$dir/data-a" "$dir/data-b" "$dir/zk"
echo "$profile" > "$dir/profile"
echo "$with_mirror" > "$dir/mirror-mode"
started=$(date +%s)

# amqdr itself: its CA code makes the certificates, its rendering drives brokers, topic and mirror.
# One build over the workspace, so the shared dependencies keep the features the tests built them with.
(cd "$testbed_repo" && host_cargo build --quiet --workspace --bin amqdr --bin testbed-kafka --example testbed-certs) >&2
amqdr="$testbed_repo/target/debug/amqdr"
testbed_kafka="$testbed_repo/target/debug/testbed-kafka"
"$testbed_repo/target/debug/examples/testbed-certs" --out "$dir/certs" --dns localhost --ip 127.0.0.1
umask 077
openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24 > "$dir/password"
umask 022
password=$(cat "$dir/password")

mapfile -t p < <(free_ports 7)
echo "${p[*]}" > "$dir/ports"
read_ports

# What amqdr applies to a one-broker site, sized by amqdr's own logic (replication factors,
# min ISR); a short sync interval so tests are fast. The same settings drive the mirror. The
# tests' own topics and groups (dr-*, app-*) are granted to the identities like the defaults, and
# Kafka's EndToEndLatency tool's (test-group-<time>) for benches/verify-vs-kafka-tools.sh.
amqdr_settings=(--profile "$profile" --brokers 1 --set topic.replicas=1 --set topic.minInsyncReplicas=1
  --set mirror.syncIntervalSeconds="${AMQDR_TESTBED_SYNC_SECONDS:-2}"
  --set 'user.groups=[amqdr-*,console-consumer-*,dr-*,app-*,test-group-*]' --set 'user.topics=[dr-*]')
if [ "$profile" = legacy ]; then amqdr_settings+=(--set kafka.zookeeper=1); else amqdr_settings+=(--set kafka.controllers=1); fi
"$amqdr" render --print-config "${amqdr_settings[@]}" > "$dir/amqdr-settings.yaml"
(umask 077; "$amqdr" render -o json --show-secrets "${amqdr_settings[@]}" --set mirror.sourceBootstrap="$(site_sasl a)" \
  --ca-cert "$dir/certs/ca.crt" --ca-key "$dir/certs/ca.key" --password-file "$dir/password" > "$dir/rendered.json")
"$amqdr" mirror properties --kind mm1-consumer "${amqdr_settings[@]}" | sed -n 's/^group.id=//p' > "$dir/mirror-group"
# The identities amqdr renders (KafkaUsers labelled amqdr.io/identity) and their passwords.
identity() { # purpose name-file password-file
  "$testbed_kafka" identity --rendered "$dir/rendered.json" --site a --purpose "$1" --password-file "$dir/$3" > "$dir/$2"
}
identity application user application-password
[ "$(cat "$dir/password")" = "$(cat "$dir/application-password")" ] || die "the rendered application user's password is not the test bed's --password-file"
rm -f "$dir/application-password"
identity mirror mirror-user mirror-password
identity dr-operations dr-user dr-password

# The seed's client properties (tests of `verify --client-config`).
cat > "$dir/client-sasl-scram.properties" <<EOT
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$(cat "$dir/user")" password="$password";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/certs/ca.crt
ssl.endpoint.identification.algorithm=HTTPS
EOT
chmod 600 "$dir/client-sasl-scram.properties"

# The keys Strimzi manages itself, as the test bed needs them; everything else comes from the
# Kafka amqdr renders (testbed-kafka broker-config refuses a rendered key Strimzi manages).
write_broker() { # site plain sasl ctrl
  local site=$1 plain=$2 sasl=$3 ctrl=$4 f="$dir/broker-$1.base.properties"
  if [ "$profile" = legacy ]; then
    cat > "$f" <<EOT
broker.id=0
zookeeper.connect=127.0.0.1:$zk_port/site-$site
zookeeper.connection.timeout.ms=30000
listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://localhost:$sasl
advertised.listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://localhost:$sasl
EOT
  else
    cat > "$f" <<EOT
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctrl
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://localhost:$sasl,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$plain,SASL_SSL://localhost:$sasl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
EOT
  fi
  # Below: small machine (threads, offsets partitions, no rebalance delay, bounded disk use).
  cat >> "$f" <<EOT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data-$site
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$dir/certs/server.pem
num.network.threads=2
num.io.threads=2
offsets.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
log.retention.bytes=536870912
log.segment.bytes=67108864
EOT
  "$testbed_kafka" broker-config --rendered "$dir/rendered.json" --site "$site" --base "$f" > "$dir/broker-$site.properties"
}
write_broker a "$a_plain" "$a_sasl" "$a_ctrl"
write_broker b "$b_plain" "$b_sasl" "$b_ctrl"

if [ "$profile" = legacy ]; then
  cat > "$dir/zookeeper.properties" <<EOT
dataDir=$dir/zk
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
maxClientCnxns=0
4lw.commands.whitelist=ruok
EOT
  start_java zookeeper 128m org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zookeeper.properties"
  # ZooKeeper's "ruok". A server that accepted the connection but is not serving yet may keep it
  # open without answering: every read is bounded (an unbounded `cat` hung a test run for 20 min).
  zk_ok() {
    local reply=""
    { exec 3<>/dev/tcp/127.0.0.1/"$zk_port"; } 2>/dev/null || return 1
    printf ruok >&3 2>/dev/null && read -r -t 5 -n 4 reply <&3
    exec 3>&- 3<&-
    [ "$reply" = imok ]
  }
  wait_for 60 "ZooKeeper" zk_ok || die "ZooKeeper did not start; see $dir/logs"
else
  cluster_id=$(run_java storage 128m kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  for site in a b; do
    run_java storage 128m kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/broker-$site.properties" >&2
  done
fi

start_broker a & pa=$!
start_broker b & pb=$!
wait "$pa" && wait "$pb" || die "a broker did not start"

# The KafkaUsers of each site (application, mirror, DR operations), applied as Strimzi's User
# Operator does: SCRAM-SHA-512 credentials and exactly their ACLs (UserOperator.java).
for site in a b; do
  "$testbed_kafka" users --rendered "$dir/rendered.json" --site "$site" --bootstrap "$(site_plain "$site")" --profile "$profile" >&2
done
# The KafkaTopics of each site (my-topic, the canary topic), created as the Topic Operator would.
for site in a b; do
  "$testbed_kafka" topic --rendered "$dir/rendered.json" --site "$site" --bootstrap "$(site_plain "$site")" >&2
done

if [ "$with_mirror" = 1 ]; then
  # The default a -> b mirror: the KafkaMirrorMaker2 / KafkaMirrorMaker amqdr renders, run the way
  # Strimzi runs it (a Connect worker driven through its REST API / a MirrorMaker 1 process).
  "$testbed_kafka" mirror --rendered "$dir/rendered.json" --instance-dir "$dir" > "$dir/mirror-status.json" ||
    die "the mirror did not start; see $dir/mirror-status.json and $dir/logs/mirror-*.log"

  # Ready when a probe record produced on site a arrives on site b.
  probe_on_b() {
    local total
    total=$(run_java admin 128m "$(tool_class offsets)" --bootstrap-server "$(site_plain b)" --topic my-topic 2>/dev/null |
      awk -F: '{s += $3} END {print s + 0}')
    [ "$total" -gt 0 ]
  }
  echo "testbed-probe" | run_java admin 128m "$(tool_class producer)" --bootstrap-server "$(site_plain a)" --topic my-topic >&2
  wait_for 180 "mirror a -> b ($profile)" probe_on_b || die "the mirror did not copy the probe record; see $dir/logs/mirror-*.log"
fi
touch "$dir/ready"
log "Kafka test bed $instance ($profile) up in $(( $(date +%s) - started ))s"
exports
