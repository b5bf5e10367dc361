#!/usr/bin/env bash
# Start (or reuse) the Kafka test bed of a profile: legacy = Kafka 3.9 with ZooKeeper and
# MirrorMaker 1, current = Kafka 4.3 KRaft with MirrorMaker 2. Prints only `export` lines.
# Concurrent calls for one profile are serialised by a lock file (tests start it from several
# threads): the first starts it, the others wait and reuse it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
profile_setup "${1:?usage: up.sh legacy|current}"
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
export AMQDR_USER=my-user
export AMQDR_PASSWORD_FILE=$dir/password
export AMQDR_MIRROR_GROUP=$(cat "$dir/mirror-group")
export AMQDR_TOPIC=my-topic
export AMQDR_CLIENT_CONFIG=$dir/client-sasl-scram.properties
export AMQDR_KAFKA_LIB=$lib
export AMQDR_TESTBED_KAFKA_DIR=$dir
EOT
}

healthy() {
  [ -f "$dir/ready" ] || return 1
  local p
  for p in broker-a broker-b mirror; do alive "$dir/$p.pid" || return 1; done
  if [ "$profile" = legacy ]; then alive "$dir/zookeeper.pid" || return 1; fi
}

lock_profile

if healthy; then
  exports
  exit 0
fi
stop_pids "$dir"/*.pid 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir/logs" "$dir/certs" "$dir/data-a" "$dir/data-b" "$dir/zk"
started=$(date +%s)

# amqdr itself: its CA code makes the certificates, its settings drive the mirror.
(cd "$testbed_repo" && cargo build --quiet --bin amqdr --example testbed-certs) >&2
amqdr="$testbed_repo/target/debug/amqdr"
"$testbed_repo/target/debug/examples/testbed-certs" --out "$dir/certs" --dns localhost --ip 127.0.0.1
umask 077
openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24 > "$dir/password"
umask 022
password=$(cat "$dir/password")

mapfile -t p < <(free_ports 7)
echo "${p[*]}" > "$dir/ports"
read_ports

# Settings shared with the mirror amqdr deploys; short sync interval so tests are fast.
amqdr_settings=(--profile "$profile" --set mirror.syncIntervalSeconds="${AMQDR_TESTBED_SYNC_SECONDS:-2}")
"$amqdr" render --print-config "${amqdr_settings[@]}" > "$dir/amqdr-settings.yaml"
"$amqdr" mirror properties --kind mm1-consumer "${amqdr_settings[@]}" | sed -n 's/^group.id=//p' > "$dir/mirror-group"
sed -n 's/^  include: //p' "$dir/amqdr-settings.yaml" | head -1 | tr -d "'\"" > "$dir/mirror-include"

jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"my-user\" password=\"$password\";"
client_security() { # prefix
  cat <<EOT
${1}security.protocol=SASL_SSL
${1}sasl.mechanism=SCRAM-SHA-512
${1}sasl.jaas.config=$jaas
${1}ssl.truststore.type=PEM
${1}ssl.truststore.location=$dir/certs/ca.crt
${1}ssl.endpoint.identification.algorithm=HTTPS
EOT
}
client_security "" > "$dir/client-sasl-scram.properties"
chmod 600 "$dir/client-sasl-scram.properties"

write_broker() { # site plain sasl ctrl
  local site=$1 plain=$2 sasl=$3 ctrl=$4 f="$dir/broker-$1.properties"
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
  cat >> "$f" <<EOT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data-$site
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$dir/certs/server.pem
num.network.threads=2
num.io.threads=2
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=$(sed -n 's/^  messageMaxBytes: //p' "$dir/amqdr-settings.yaml")
replica.fetch.max.bytes=2097152
log.retention.bytes=536870912
log.segment.bytes=67108864
EOT
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
  zk_ok() { [ "$(exec 3<>/dev/tcp/127.0.0.1/"$zk_port" && printf ruok >&3 && cat <&3)" = imok ]; }
  wait_for 60 "ZooKeeper" zk_ok || die "ZooKeeper did not start; see $dir/logs"
else
  cluster_id=$(run_java storage 128m kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  for site in a b; do
    run_java storage 128m kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/broker-$site.properties" \
      --add-scram "SCRAM-SHA-512=[name=my-user,password=$password]" >&2
  done
fi

start_broker a & pa=$!
start_broker b & pb=$!
wait "$pa" && wait "$pb" || die "a broker did not start"

admin() { # site tool-args...
  local site=$1; shift
  run_java admin 128m "$@" --bootstrap-server "$(site_plain "$site")"
}
if [ "$profile" = legacy ]; then
  for site in a b; do
    admin "$site" "$(tool_class config)" --alter --add-config "SCRAM-SHA-512=[password=$password]" \
      --entity-type users --entity-name my-user >&2
  done
fi
max_bytes=$(sed -n 's/^  messageMaxBytes: //p' "$dir/amqdr-settings.yaml")
canary=$(sed -n 's/^  canaryTopic: //p' "$dir/amqdr-settings.yaml" | head -1 | tr -d "'\"")
for site in a b; do
  admin "$site" "$(tool_class topics)" --create --if-not-exists --topic my-topic --partitions 3 \
    --replication-factor 1 --config "max.message.bytes=$max_bytes" >&2
  # amqdr serve's canary topic, as install's KafkaTopic has it (one partition per broker).
  admin "$site" "$(tool_class topics)" --create --if-not-exists --topic "$canary" --partitions 1 \
    --replication-factor 1 --config message.timestamp.type=LogAppendTime --config retention.ms=86400000 >&2
done

# The mirror, configured from amqdr's settings.
if [ "$profile" = legacy ]; then
  { echo "bootstrap.servers=$(site_sasl a)"; client_security ""
    "$amqdr" mirror properties --kind mm1-consumer "${amqdr_settings[@]}" | grep -v '^#'
    echo "client.id=testbed-mm1"; } > "$dir/mm1-consumer.properties"
  { echo "bootstrap.servers=$(site_sasl b)"; client_security ""
    "$amqdr" mirror properties --kind mm1-producer "${amqdr_settings[@]}" | grep -v '^#'; } > "$dir/mm1-producer.properties"
else
  { "$amqdr" mirror properties --kind mm2 "${amqdr_settings[@]}"
    echo "source.bootstrap.servers=$(site_sasl a)"
    echo "target.bootstrap.servers=$(site_sasl b)"
    client_security "source."
    client_security "target."
    # Single-broker sites: the MM2 worker's own topics need replication factor 1.
    echo "replication.factor=1"
    echo "checkpoints.topic.replication.factor=1"
    echo "heartbeats.topic.replication.factor=1"
    echo "offset-syncs.topic.replication.factor=1"
    echo "offset.storage.replication.factor=1"
    echo "status.storage.replication.factor=1"
    echo "config.storage.replication.factor=1"
    echo "refresh.topics.interval.seconds=5"
    echo "refresh.groups.interval.seconds=5"
  } > "$dir/mm2.properties"
fi
chmod 600 "$dir"/mm*.properties
start_mirror

# Ready when a probe record produced on site a arrives on site b.
probe_on_b() {
  local total
  total=$(run_java admin 128m "$(tool_class offsets)" --bootstrap-server "$(site_plain b)" --topic my-topic 2>/dev/null |
    awk -F: '{s += $3} END {print s + 0}')
  [ "$total" -gt 0 ]
}
echo "testbed-probe" | run_java admin 128m "$(tool_class producer)" --bootstrap-server "$(site_plain a)" --topic my-topic >&2
wait_for 180 "mirror a -> b ($profile)" probe_on_b || die "the mirror did not copy the probe record; see $dir/logs/mirror.log"
touch "$dir/ready"
log "Kafka test bed $profile up in $(( $(date +%s) - started ))s"
exports
