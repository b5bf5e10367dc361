//! `amqdr verify perf` latency at the seed's throttled rates, on the Kafka test beds (both
//! profiles): a record's latency is the time from its send to its acknowledgement, as Kafka's
//! ProducerPerformance measures it, whatever the sender does between sends.

mod common;

use common::kafka_testbed::kafka;
use serde_json::Value;

/// The seed's slowest row: 1 MiB records at 1 record/s, so the sender waits a whole second
/// between sends. An acknowledgement does not depend on when the next record is sent; if the
/// measurement did (delivery reports only handled at the next send), every record but the last
/// would be reported at about the send interval, and the average of n records would be at least
/// (n-1)/n of it — 0.8 of it for 5 records. Half the interval separates the two: no wall-clock
/// bound is asserted, only that latency is a property of the broker, not of the pacing.
fn latency_is_not_the_send_interval(profile: &str) {
    let bed = kafka(profile);
    let (records, rate, size) = (5, 1.0, 1_048_000);
    let interval_ms = 1000.0 / rate;
    let out = bed
        .amqdr()
        .args(["verify", "perf", "-o", "json", "--timeout", "60s"])
        .args(["--num-records", &records.to_string(), "--throughput", &rate.to_string(), "--record-size", &size.to_string()])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    assert!(out.status.success(), "{doc:#}\n{}", String::from_utf8_lossy(&out.stderr));
    let result = &doc["checks"][0]["details"]["result"];
    assert_eq!(result["records"], records, "{doc:#}");
    // The run really was paced at the interval (otherwise the comparison proves nothing).
    let seconds = result["seconds"].as_f64().unwrap();
    assert!(seconds >= (records - 1) as f64 * interval_ms / 1000.0, "the run took {seconds}s: not throttled");
    let avg = result["latency_avg_ms"].as_f64().unwrap();
    let p50 = result["latency_ms"]["p50_ms"].as_f64().unwrap();
    assert!(
        avg < interval_ms / 2.0 && p50 < interval_ms / 2.0,
        "average latency {avg} ms (p50 {p50} ms) at one record every {interval_ms} ms: the sender's pacing is being measured\n{doc:#}"
    );
}

#[test]
fn legacy_latency_at_one_record_per_second_is_not_the_send_interval() {
    latency_is_not_the_send_interval("legacy");
}

#[test]
fn current_latency_at_one_record_per_second_is_not_the_send_interval() {
    latency_is_not_the_send_interval("current");
}
