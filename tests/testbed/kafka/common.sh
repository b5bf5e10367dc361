# Kafka test bed: shared definitions of up.sh, ctl.sh and down.sh (sourced after ../lib.sh).
# Site a = production, site b = DR; each a single-node Kafka cluster on loopback with a
# SASL_SSL/SCRAM-SHA-512 listener (localhost, certificate from amqdr's CA code) and a PLAINTEXT
# listener for inter-broker and admin use. MirrorMaker copies a -> b with amqdr's settings.

kafka_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# An instance is one pair of sites: `kafka-NAME` in the state folder (NAME defaults to the
# profile: the shared test beds `legacy` and `current`; DR tests start their own, e.g. `dr-current`).
profile_setup() { # profile [instance-name]
  profile=$1
  case "$profile" in
    legacy) kafka_version=3.9 ;;
    current) kafka_version=4.3 ;;
    *) die "profile must be legacy or current" ;;
  esac
  instance=${2:-$profile}
  case "$instance" in
    *[!a-z0-9-]* | "") die "instance names are lower-case letters, digits and dashes: $instance" ;;
  esac
  dir="$testbed_state/kafka-$instance"
  java_bin=${AMQDR_TESTBED_JAVA:-java}
}

# ctl.sh and down.sh name an instance; its profile is recorded in its state folder.
instance_setup() { # instance-name
  local name=${1:?instance name}
  [ -f "$testbed_state/kafka-$name/profile" ] || die "no Kafka test bed instance $name (tests/testbed/up kafka PROFILE --name $name)"
  profile_setup "$(cat "$testbed_state/kafka-$name/profile")" "$name"
}

# One up/down/ctl of an instance at a time. The lock file lives beside the state folder so that
# `down` can remove the folder; processes started while holding it get fd 9 closed (start_bg).
# Commands run by a script that holds the lock (up.sh runs the mirror translation, which calls
# ctl.sh) see AMQDR_TESTBED_KAFKA_LOCKED=<instance> and do not wait for it again.
lock_profile() {
  mkdir -p "$testbed_state"
  [ "${AMQDR_TESTBED_KAFKA_LOCKED:-}" = "$instance" ] && return 0
  exec 9>"$testbed_state/.kafka-$instance.lock"
  flock -w 900 9 || die "timed out waiting for another test bed command on the Kafka test bed $instance"
}

lib_dir() { "$kafka_here/fetch.sh" "$kafka_version"; }

java_cmd() { # process-name heap main-class args...
  local name=$1 heap=$2; shift 2
  local logcfg
  if [ "$kafka_version" = 3.9 ]; then
    logcfg=(-Dlog4j.configuration="file:$kafka_here/log4j.properties")
  else
    logcfg=(-Dlog4j2.configurationFile="$kafka_here/log4j2.properties")
  fi
  echo "$java_bin" -Xms64m "-Xmx$heap" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$dir/logs" "-Dtestbed.process=$name" "${logcfg[@]}" -cp "$lib/*" "$@"
}

run_java() { # process-name heap main-class args... (foreground)
  local cmd; read -r -a cmd <<< "$(java_cmd "$@")"
  "${cmd[@]}"
}

start_java() { # process-name heap main-class args... (background, pid in $dir/NAME.pid)
  local name=$1; local cmd; read -r -a cmd <<< "$(java_cmd "$@")"
  start_bg "$dir/$name.pid" "$dir/logs/$name.out" "${cmd[@]}"
}

# Class names that moved between 3.9 and 4.x.
tool_class() {
  case "$1:$kafka_version" in
    topics:*) echo org.apache.kafka.tools.TopicCommand ;;
    config:3.9) echo kafka.admin.ConfigCommand ;;
    config:*) echo kafka.admin.ConfigCommand ;;
    producer:3.9) echo kafka.tools.ConsoleProducer ;;
    producer:*) echo org.apache.kafka.tools.ConsoleProducer ;;
    consumer:*) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    offsets:*) echo org.apache.kafka.tools.GetOffsetShell ;;
    groups:3.9) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    groups:*) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  esac
}

read_ports() { read -r zk_port a_plain a_sasl a_ctrl b_plain b_sasl b_ctrl < "$dir/ports"; }

site_plain() { if [ "$1" = a ]; then echo "127.0.0.1:$a_plain"; else echo "127.0.0.1:$b_plain"; fi; }
site_sasl() { if [ "$1" = a ]; then echo "localhost:$a_sasl"; else echo "localhost:$b_sasl"; fi; }

broker_started() { grep -q "started (kafka.server.Kafka" "$dir/logs/broker-$1.log" 2>/dev/null; }

start_broker() { # site
  local site=$1
  : > "$dir/logs/broker-$site.log"
  start_java "broker-$site" 512m kafka.Kafka "$dir/broker-$site.properties"
  wait_for 120 "Kafka broker of site $site ($profile)" broker_started "$site" || die "broker $site did not start; see $dir/logs/broker-$site.log"
}

# A mirror resource's process as the mirror runtime configured it in mirrors/ID/: a Kafka
# Connect distributed worker (KafkaMirrorMaker2; working directory = its mounted Secrets, read by
# the `strimzisecrets` config provider) or MirrorMaker 1 (KafkaMirrorMaker).
start_mirror_process() { # id
  local id=$1 m="$dir/mirrors/$1"
  [ -f "$m/kind" ] || die "mirror $id is not configured"
  case "$(cat "$m/kind")" in
    connect) (cd "$m/secrets" && start_java "mirror-$id" 384m org.apache.kafka.connect.cli.ConnectDistributed "$m/worker.properties") ;;
    mm1) local args; mapfile -t args < "$m/args"; start_java "mirror-$id" 256m kafka.tools.MirrorMaker "${args[@]}" ;;
    *) die "unknown mirror kind in $m/kind" ;;
  esac
}
