//! Kafka clients for the checks, all made from [`ConnectionSettings::client_config`]: an
//! idempotent producer that records deliveries (with their latency, send to acknowledgement),
//! and a consumer that reads given partitions from given offsets and picks out the records of
//! one verification run.

use super::connection::{ConnectionSettings, RecordingContext, classify};
use anyhow::{Context, Result, anyhow};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A random id that marks the records of one run.
pub fn run_id() -> String {
    use rand::Rng;
    format!("{:08x}", rand::rng().random::<u32>())
}

/// `amqdr|<run>|<seq>|` padded to `size` bytes: content checkable without storing it.
pub fn payload(run: &str, seq: u64, size: usize) -> Vec<u8> {
    let mut v = format!("amqdr|{run}|{seq}|").into_bytes();
    if v.len() < size {
        v.resize(size, b'x');
    }
    v
}

/// The sequence number of a record of run `run`, if it is one.
pub fn parse_payload(run: &str, bytes: &[u8]) -> Option<u64> {
    let prefix = format!("amqdr|{run}|");
    let rest = bytes.strip_prefix(prefix.as_bytes())?;
    let end = rest.iter().position(|b| *b == b'|')?;
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub seq: u64,
    pub partition: i32,
    pub offset: i64,
    pub latency: Duration,
    pub error: Option<String>,
}

/// Producer context: librdkafka messages for error classification, and every delivery report.
#[derive(Clone, Default)]
pub struct DeliveryContext {
    pub log: RecordingContext,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    pub started: Arc<Mutex<Option<Instant>>>,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        self.log.log(level, fac, message)
    }
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.log.error(error, reason)
    }
}

/// The opaque of a record: its sequence number and when it was sent (ns since `started`).
pub struct SendMark {
    pub seq: u64,
    pub sent_ns: u64,
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<SendMark>;

    fn delivery(&self, result: &DeliveryResult<'_>, mark: Self::DeliveryOpaque) {
        let base = self.started.lock().expect("lock").unwrap_or_else(Instant::now);
        let latency = base.elapsed().saturating_sub(Duration::from_nanos(mark.sent_ns));
        let d = match result {
            Ok(m) => Delivery { seq: mark.seq, partition: m.partition(), offset: m.offset(), latency, error: None },
            Err((e, m)) => {
                Delivery { seq: mark.seq, partition: m.partition(), offset: -1, latency, error: Some(describe_produce_error(e)) }
            }
        };
        self.deliveries.lock().expect("lock").push(d);
    }
}

/// Produce errors that have a setting to change say which.
pub fn describe_produce_error(e: &rdkafka::error::KafkaError) -> String {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::MessageSizeTooLarge) | Some(RDKafkaErrorCode::InvalidMessageSize) => format!(
            "{e}: the record is larger than a limit allows; raise the broker's message.max.bytes (kafka.messageMaxBytes), the topic's max.message.bytes and the mirror's max.request.size together"
        ),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition) => format!("{e}: the topic does not exist"),
        Some(RDKafkaErrorCode::NotEnoughReplicas) | Some(RDKafkaErrorCode::NotEnoughReplicasAfterAppend) => {
            format!("{e}: fewer in-sync replicas than min.insync.replicas")
        }
        _ => e.to_string(),
    }
}

/// A producer whose delivery reports are handled by its own polling thread as soon as librdkafka
/// has them, the way the Java producer's I/O thread runs ProducerPerformance's callback: a
/// record's latency ends at its acknowledgement, not whenever the sending thread next polls
/// (after a throttle's sleep, a lag probe, the next send).
pub type RunProducer = ThreadedProducer<DeliveryContext>;

pub fn producer(site: &ConnectionSettings, extra: &[(&str, String)]) -> Result<(RunProducer, DeliveryContext)> {
    let ctx = DeliveryContext::default();
    let mut cfg = site.client_config();
    cfg.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("message.timeout.ms", (site.timeout.as_millis().max(5000)).to_string());
    for (k, v) in extra {
        cfg.set(*k, v);
    }
    let p: RunProducer = cfg.create_with_context(ctx.clone()).map_err(|e| anyhow!("creating a producer for site {}: {e}", site.label))?;
    *ctx.started.lock().expect("lock") = Some(Instant::now());
    Ok((p, ctx))
}

/// Send one record; waits while the local queue is full.
pub fn send(p: &RunProducer, ctx: &DeliveryContext, topic: &str, partition: Option<i32>, key: &[u8], value: &[u8], seq: u64) -> Result<()> {
    let base = ctx.started.lock().expect("lock").unwrap_or_else(Instant::now);
    let mut record = BaseRecord::with_opaque_to(topic, Box::new(SendMark { seq, sent_ns: base.elapsed().as_nanos() as u64 }))
        .key(key)
        .payload(value)
        .timestamp(now_ms());
    if let Some(part) = partition {
        record = record.partition(part);
    }
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((e, r)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                record = r;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((e, _)) => return Err(anyhow!(describe_produce_error(&e))),
        }
    }
}

/// Wait for every delivery report, bounded by `timeout`; errors classified.
pub fn finish(
    p: &RunProducer,
    ctx: &DeliveryContext,
    site: &ConnectionSettings,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<Delivery>> {
    let deadline = Instant::now() + timeout;
    while ctx.deliveries.lock().expect("lock").len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = p.flush(Duration::from_millis(100));
    let deliveries = ctx.deliveries.lock().expect("lock").clone();
    if deliveries.len() < expected {
        return Err(classify(
            site,
            &ctx.log.text(),
            &format!("{} of {expected} records not acknowledged within {}s", expected - deliveries.len(), timeout.as_secs()),
        )
        .into());
    }
    if let Some(failed) = deliveries.iter().find(|d| d.error.is_some()) {
        let text = failed.error.clone().unwrap_or_default();
        if text.contains("Message timed out") || text.contains("timed out") {
            return Err(classify(site, &ctx.log.text(), &text).into());
        }
        return Err(anyhow!("producing to site {} ({}) failed: {text}", site.label, site.bootstrap));
    }
    Ok(deliveries)
}

pub type RunConsumer = BaseConsumer<RecordingContext>;

pub fn consumer(site: &ConnectionSettings, group: &str) -> Result<(RunConsumer, RecordingContext)> {
    let ctx = RecordingContext::default();
    let c: RunConsumer = site
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "50")
        .set("fetch.message.max.bytes", "2097152")
        .create_with_context(ctx.clone())
        .map_err(|e| anyhow!("creating a consumer for site {}: {e}", site.label))?;
    Ok((c, ctx))
}

pub fn partitions(c: &RunConsumer, site: &ConnectionSettings, topic: &str) -> Result<Vec<i32>> {
    let md = c.fetch_metadata(Some(topic), site.timeout).with_context(|| format!("reading metadata of {topic} on site {}", site.label))?;
    let t = md.topics().iter().find(|t| t.name() == topic).ok_or_else(|| anyhow!("topic {topic} not found on site {}", site.label))?;
    Ok(t.partitions().iter().map(|p| p.id()).collect())
}

/// High watermark per partition.
pub fn end_offsets(c: &RunConsumer, site: &ConnectionSettings, topic: &str) -> Result<HashMap<i32, i64>> {
    let mut out = HashMap::new();
    for p in partitions(c, site, topic)? {
        let (_, high) =
            c.fetch_watermarks(topic, p, site.timeout).with_context(|| format!("reading offsets of {topic}/{p} on site {}", site.label))?;
        out.insert(p, high);
    }
    Ok(out)
}

pub fn assign_from(c: &RunConsumer, topic: &str, offsets: &HashMap<i32, i64>) -> Result<()> {
    let mut tpl = TopicPartitionList::new();
    for (p, o) in offsets {
        tpl.add_partition_offset(topic, *p, Offset::Offset(*o))?;
    }
    c.assign(&tpl)?;
    Ok(())
}

/// A record of a run as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub seq: u64,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: Option<i64>,
    pub received_ms: i64,
    pub intact: bool,
}

/// Read until `want` distinct records of `run` arrived or `timeout` passed; other records are
/// skipped. `size` is the expected payload size (content check).
pub fn collect(c: &RunConsumer, run: &str, want: usize, size: usize, timeout: Duration) -> Vec<Received> {
    collect_until(c, run, size, timeout, |seen| seen.len() >= want)
}

/// Read records of `run` until `done(distinct sequence numbers seen)` or `timeout`.
pub fn collect_until(
    c: &RunConsumer,
    run: &str,
    size: usize,
    timeout: Duration,
    done: impl Fn(&std::collections::HashSet<u64>) -> bool,
) -> Vec<Received> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while !done(&seen) && Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            let Some(bytes) = m.payload() else { continue };
            let Some(seq) = parse_payload(run, bytes) else { continue };
            let intact = bytes == payload(run, seq, size).as_slice();
            let timestamp_ms = match m.timestamp() {
                Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
                Timestamp::NotAvailable => None,
            };
            seen.insert(seq);
            out.push(Received { seq, partition: m.partition(), offset: m.offset(), timestamp_ms, received_ms: now_ms(), intact });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        let p = payload("abc", 42, 100);
        assert_eq!(p.len(), 100);
        assert_eq!(parse_payload("abc", &p), Some(42));
        assert_eq!(parse_payload("other", &p), None);
        assert_eq!(parse_payload("abc", b"testbed-probe"), None);
        // Records shorter than the marker keep the marker.
        assert_eq!(parse_payload("abc", &payload("abc", 7, 1)), Some(7));
    }
}
