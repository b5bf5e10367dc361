//! Producer performance test with the seed's knobs, like Kafka's ProducerPerformance: records/s,
//! MB/s, latency percentiles (send to acknowledgement, from delivery reports handled as they
//! arrive, so the pacing does not count; hdrhistogram); and the seed's table.

use super::checks::lag_since;
use super::clients::{self, consumer, end_offsets, payload, producer, run_id, send};
use super::connection::{ConnectionSettings, probe};
use super::{CheckResult, Percentiles};
use anyhow::Result;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct PerfOptions {
    pub num_records: u64,
    pub record_size: usize,
    /// Records per second; negative = unthrottled.
    pub throughput: f64,
    pub acks: String,
    pub batch_size: u64,
    pub compression: String,
    pub buffer_memory: u64,
    pub linger_ms: u64,
}

impl Default for PerfOptions {
    /// The seed's producer command.
    fn default() -> Self {
        PerfOptions {
            num_records: 10_000,
            record_size: 4096,
            throughput: 100_000.0,
            acks: "1".into(),
            batch_size: 8196,
            compression: "none".into(),
            buffer_memory: 67_108_864,
            linger_ms: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PerfResult {
    pub records: u64,
    pub record_size: usize,
    pub seconds: f64,
    pub records_per_second: f64,
    pub mb_per_second: f64,
    pub latency_avg_ms: f64,
    pub latency_ms: Percentiles,
    pub p95_ms: f64,
    /// Largest mirror lag (records) seen during the run, when a target was given.
    pub max_mirror_lag_records: Option<i64>,
}

/// Paces sends at a target rate, as Kafka's ThroughputThrottler does.
struct Throttle {
    per_second: f64,
    started: Instant,
}

impl Throttle {
    fn wait(&self, sent: u64) {
        if self.per_second <= 0.0 {
            return;
        }
        let due = Duration::from_secs_f64(sent as f64 / self.per_second);
        let elapsed = self.started.elapsed();
        if due > elapsed {
            std::thread::sleep(due - elapsed);
        }
    }
}

pub fn run(site: &ConnectionSettings, topic: &str, o: &PerfOptions, mirror_target: Option<&ConnectionSettings>) -> Result<PerfResult> {
    probe(site, Some(topic))?;
    let run = run_id();
    let extra = [
        ("acks", o.acks.clone()),
        ("batch.size", o.batch_size.to_string()),
        ("compression.type", o.compression.clone()),
        ("queue.buffering.max.kbytes", (o.buffer_memory / 1024).max(1).to_string()),
        ("queue.buffering.max.messages", "1000000".to_string()),
        ("linger.ms", o.linger_ms.to_string()),
        // ProducerPerformance runs a plain producer; idempotence needs acks=all.
        ("enable.idempotence", (o.acks == "all" || o.acks == "-1").to_string()),
    ];
    let extra: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, v.clone())).collect();
    let (p, ctx) = producer(site, &extra)?;
    // One payload reused: the producer copies it, the test measures Kafka, not allocation.
    let value = payload(&run, 0, o.record_size);

    let lag_probe = match mirror_target {
        Some(t) => {
            let (sc, _) = consumer(site, &format!("amqdr-perf-{run}-s"))?;
            let (tc, _) = consumer(t, &format!("amqdr-perf-{run}-t"))?;
            let start = (end_offsets(&sc, site, topic)?, end_offsets(&tc, t, topic)?);
            Some((sc, tc, t.clone(), start))
        }
        None => None,
    };
    let mut max_lag: Option<i64> = lag_probe.as_ref().map(|_| 0);
    let mut last_lag_sample = Instant::now();

    let started = Instant::now();
    let throttle = Throttle { per_second: o.throughput, started };
    for seq in 0..o.num_records {
        throttle.wait(seq);
        send(&p, &ctx, topic, None, &[], &value, seq)?;
        if let Some((sc, tc, t, start)) = &lag_probe
            && last_lag_sample.elapsed() >= Duration::from_millis(500)
        {
            last_lag_sample = Instant::now();
            let lag = lag_since((sc, site), (tc, t), topic, start)?;
            max_lag = max_lag.map(|m| m.max(lag));
        }
    }
    let deliveries = clients::finish(&p, &ctx, site, o.num_records as usize, site.timeout.max(Duration::from_secs(60)))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some((sc, tc, t, start)) = &lag_probe {
        let lag = lag_since((sc, site), (tc, t), topic, start)?;
        max_lag = max_lag.map(|m| m.max(lag));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
    let mut sum = 0u128;
    for d in &deliveries {
        let us = d.latency.as_micros() as u64;
        sum += us as u128;
        hist.record(us.max(1)).ok();
    }
    let n = deliveries.len().max(1) as f64;
    Ok(PerfResult {
        records: deliveries.len() as u64,
        record_size: o.record_size,
        seconds,
        records_per_second: deliveries.len() as f64 / seconds,
        mb_per_second: deliveries.len() as f64 * o.record_size as f64 / seconds / (1024.0 * 1024.0),
        latency_avg_ms: sum as f64 / n / 1000.0,
        latency_ms: Percentiles::from_micros(&hist),
        p95_ms: hist.value_at_quantile(0.95) as f64 / 1000.0,
        max_mirror_lag_records: max_lag,
    })
}

pub fn check(site: &ConnectionSettings, topic: &str, o: &PerfOptions, target: Option<&ConnectionSettings>) -> Result<CheckResult> {
    let started = Instant::now();
    let r = run(site, topic, o, target)?;
    let summary = format!(
        "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, {:.0} ms 50th, {:.0} ms 95th, {:.0} ms 99th, {:.0} ms 99.9th",
        r.records,
        r.records_per_second,
        r.mb_per_second,
        r.latency_avg_ms,
        r.latency_ms.max_ms,
        r.latency_ms.p50_ms,
        r.p95_ms,
        r.latency_ms.p99_ms,
        r.latency_ms.p999_ms
    );
    let summary = match r.max_mirror_lag_records {
        Some(lag) => format!("{summary}; max mirror lag {}", records(lag)),
        None => summary,
    };
    Ok(CheckResult::new(format!("perf site {}", site.label), true, summary, started).with(json!({"options": o, "result": r})))
}

pub fn records(n: i64) -> String {
    if n == 1 { "1 record".into() } else { format!("{n} records") }
}

/// The seed's table: (record size, rate) rows, each run for `seconds`.
pub const SEED_MATRIX: [(usize, f64); 3] = [(10_240, 100.0), (102_400, 10.0), (1_048_000, 1.0)];

#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub record_size: usize,
    pub rate: f64,
    pub result: PerfResult,
}

pub fn matrix(
    site: &ConnectionSettings,
    topic: &str,
    base: &PerfOptions,
    seconds: u64,
    target: Option<&ConnectionSettings>,
) -> Result<Vec<MatrixRow>> {
    let mut rows = Vec::new();
    for (size, rate) in SEED_MATRIX {
        let o = PerfOptions {
            record_size: size,
            throughput: rate,
            num_records: ((rate * seconds as f64).ceil() as u64).max(1),
            ..base.clone()
        };
        let result = run(site, topic, &o, target)?;
        rows.push(MatrixRow { record_size: size, rate, result });
    }
    Ok(rows)
}

pub fn matrix_markdown(rows: &[MatrixRow]) -> String {
    let mut out =
        String::from("| Message Size | Message Rate | Throughput | Avg Latency | Max MirrorMaker Lag |\n| --- | --- | --- | --- | --- |\n");
    for r in rows {
        out.push_str(&format!(
            "| {} B | {} msg/s | {:.2} MB/s | {:.1} ms | {} |\n",
            r.record_size,
            r.rate,
            r.result.mb_per_second,
            r.result.latency_avg_ms,
            r.result.max_mirror_lag_records.map(records).unwrap_or_else(|| "n/a".into())
        ));
    }
    out
}
