#!/usr/bin/env bash
# Benchmark: `amqdr verify perf` against Kafka's own ProducerPerformance, and `amqdr verify
# latency` against Kafka's EndToEndLatency — the Java tools from the same Maven jars as the test
# bed's brokers — on the same test bed broker, with equal settings, in one invocation. Prints the
# ratios. Targets: unthrottled throughput >= 1.0x; producer latency p50 <= 1.0x at each of the
# seed's throttled rates (10240 B x 100/s, 102400 B x 10/s, 1048000 B x 1/s, the rows of its
# table, AMQDR_BENCH_SECONDS each, default 5); end-to-end latency p50 <= 1.0x.
#   benches/verify-vs-kafka-tools.sh [legacy|current]
set -euo pipefail
cd "$(dirname "$0")/.."
# A benchmark never ends without saying why: name the step that failed.
trap 'echo "verify-vs-kafka-tools: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
profile=${1:-current}
cargo build --release --quiet --bin amqdr
amqdr=target/release/amqdr
eval "$(tests/testbed/up kafka "$profile")"
java_tool() { java -Xmx512m -cp "$AMQDR_KAFKA_LIB/*" -Dlog4j2.configurationFile=tests/testbed/kafka/log4j2.properties \
  -Dlog4j.configuration=file:tests/testbed/kafka/log4j.properties -Dkafka.logs.dir=/tmp -Dtestbed.process=bench-tool "$@"; }
# The seed's producer settings, for both tools.
props=(acks=1 buffer.memory=67108864 compression.type=none batch.size=8196 linger.ms=0)

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}x' if b else 'n/a')" "$1" "$2"; }
field() { python3 -c "import json,sys; d = json.load(sys.stdin)['checks'][0]['details']['result']; print(eval(sys.argv[1], {}, d))" "$1"; }
# ProducerPerformance's final line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P ms 50th, ..."
java_field() { sed -n "s/.*, \([0-9.]*\) $1.*/\1/p"; }

echo "profile $profile, broker $AMQDR_SITE_A_BOOTSTRAP (SASL_SSL, SCRAM-SHA-512)"
for spec in 4096:20000 102400:2000; do
  size=${spec%%:*} n=${spec##*:}
  java_line=$(java_tool org.apache.kafka.tools.ProducerPerformance --topic my-topic --num-records "$n" --record-size "$size" \
    --throughput -1 --producer.config "$AMQDR_CLIENT_CONFIG" --producer-props bootstrap.servers="$AMQDR_SITE_A_BOOTSTRAP" "${props[@]}" 2>/dev/null | tail -1)
  java_rps=$(echo "$java_line" | sed -n 's/.*records sent, \([0-9.]*\) records\/sec.*/\1/p')
  java_p50=$(echo "$java_line" | java_field "ms 50th")
  amqdr_json=$("$amqdr" verify perf -o json --num-records "$n" --record-size "$size" --throughput -1 --acks 1 \
    --batch-size 8196 --buffer-memory 67108864 --compression none --linger-ms 0 --timeout 120s)
  amqdr_rps=$(echo "$amqdr_json" | field records_per_second)
  amqdr_p50=$(echo "$amqdr_json" | field "latency_ms['p50_ms']")
  printf 'perf %7d B x %5d unthrottled: ProducerPerformance %9.1f rec/s (p50 %s ms), amqdr %9.1f rec/s (p50 %.1f ms): throughput %s\n' \
    "$size" "$n" "$java_rps" "$java_p50" "$amqdr_rps" "$amqdr_p50" "$(ratio "$amqdr_rps" "$java_rps")"
done

# The seed's table rows: producer latency at a fixed pace (what its "Avg Latency" column reports).
seconds=${AMQDR_BENCH_SECONDS:-5}
for spec in 10240:100 102400:10 1048000:1; do
  size=${spec%%:*} rate=${spec##*:} n=$(( ${spec##*:} * seconds ))
  java_line=$(java_tool org.apache.kafka.tools.ProducerPerformance --topic my-topic --num-records "$n" --record-size "$size" \
    --throughput "$rate" --producer.config "$AMQDR_CLIENT_CONFIG" --producer-props bootstrap.servers="$AMQDR_SITE_A_BOOTSTRAP" "${props[@]}" 2>/dev/null | tail -1)
  java_avg=$(echo "$java_line" | java_field "ms avg latency")
  java_p50=$(echo "$java_line" | java_field "ms 50th")
  amqdr_json=$("$amqdr" verify perf -o json --num-records "$n" --record-size "$size" --throughput "$rate" --acks 1 \
    --batch-size 8196 --buffer-memory 67108864 --compression none --linger-ms 0 --timeout 120s)
  amqdr_avg=$(echo "$amqdr_json" | field latency_avg_ms)
  amqdr_p50=$(echo "$amqdr_json" | field "latency_ms['p50_ms']")
  printf 'perf %7d B x %3d/s (%d records): ProducerPerformance avg %s ms p50 %s ms, amqdr avg %.1f ms p50 %.1f ms: latency p50 %s, avg %s\n' \
    "$size" "$rate" "$n" "$java_avg" "$java_p50" "$amqdr_avg" "$amqdr_p50" "$(ratio "$amqdr_p50" "$java_p50")" "$(ratio "$amqdr_avg" "$java_avg")"
done

n=1000
# Kafka 3.9's EndToEndLatency takes positional arguments; 4.x's takes named options.
if [ "$profile" = legacy ]; then
  e2e=("$AMQDR_SITE_A_BOOTSTRAP" my-topic "$n" all 4096 "$AMQDR_CLIENT_CONFIG")
else
  e2e=(--bootstrap-server "$AMQDR_SITE_A_BOOTSTRAP" --topic my-topic --num-records "$n" --producer-acks all
       --record-size 4096 --command-config "$AMQDR_CLIENT_CONFIG")
fi
e2e_err=$(mktemp)
java_out=$(java_tool org.apache.kafka.tools.EndToEndLatency "${e2e[@]}" 2>"$e2e_err") ||
  { echo "EndToEndLatency failed:" >&2; tail -20 "$e2e_err" >&2; exit 1; }
java_p50=$(echo "$java_out" | sed -n 's/^Percentiles: 50th = \([0-9.]*\).*/\1/p')
[ -n "$java_p50" ] || { echo "EndToEndLatency printed no percentiles:" >&2; echo "$java_out" | tail -5 >&2; exit 1; }
rm -f "$e2e_err"
amqdr_p50=$("$amqdr" verify latency -o json --iterations "$n" --record-size 4096 --acks all --timeout 60s |
  python3 -c "import json,sys; print(json.load(sys.stdin)['checks'][0]['details']['latency_ms']['p50_ms'])")
printf 'latency 4096 B x %d (acks=all): EndToEndLatency p50 %s ms, amqdr p50 %.2f ms: latency %s\n' "$n" "$java_p50" "$amqdr_p50" "$(ratio "$amqdr_p50" "$java_p50")"
