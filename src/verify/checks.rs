//! The checks: produce/consume round trip, mirror, end-to-end latency, mirror lag, and a
//! consumer-group failover drill, least privilege (acl). Each returns a [`CheckResult`]; connection problems are errors.

use super::clients::{self, collect, consumer, end_offsets, finish, payload, producer, run_id, send};
use super::connection::{ConnectError, ConnectionSettings, probe};
use super::{CheckResult, Percentiles};
use crate::settings::SiteId;
use anyhow::{Result, anyhow};
use hdrhistogram::Histogram;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("histogram bounds")
}

/// Produce `records` on one site and read them back: count, content, per-partition order.
pub fn produce_consume(site: &ConnectionSettings, topic: &str, records: usize, size: usize) -> Result<CheckResult> {
    let started = Instant::now();
    probe(site, Some(topic))?;
    let run = run_id();
    let (p, ctx) = producer(site, &[])?;
    for seq in 0..records as u64 {
        send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(&run, seq, size), seq)?;
    }
    let deliveries = finish(&p, &ctx, site, records, site.timeout)?;
    let mut start: HashMap<i32, i64> = HashMap::new();
    for d in &deliveries {
        let e = start.entry(d.partition).or_insert(d.offset);
        *e = (*e).min(d.offset);
    }
    let (c, _) = consumer(site, &format!("amqdr-verify-{run}"))?;
    clients::assign_from(&c, topic, &start)?;
    let got = collect(&c, &run, records, size, site.timeout);
    let mut seen = HashSet::new();
    let duplicates = got.iter().filter(|r| !seen.insert(r.seq)).count();
    let missing = records - seen.len();
    let corrupt = got.iter().filter(|r| !r.intact).count();
    let mut last: HashMap<i32, u64> = HashMap::new();
    let mut out_of_order = 0;
    for r in &got {
        if let Some(prev) = last.insert(r.partition, r.seq)
            && r.seq < prev
        {
            out_of_order += 1;
        }
    }
    let passed = missing == 0 && corrupt == 0 && out_of_order == 0;
    let summary = if passed {
        format!(
            "{records} records of {size} B produced and consumed on site {} ({} partitions), content and order intact",
            site.label,
            start.len()
        )
    } else {
        format!("{missing} missing, {corrupt} corrupt, {out_of_order} out of order, {duplicates} duplicated of {records}")
    };
    Ok(CheckResult::new(format!("produce-consume site {}", site.label), passed, summary, started)
        .with(json!({"site": site.label, "topic": topic, "records": records, "record_size": size, "missing": missing,
            "duplicates": duplicates, "corrupt": corrupt, "out_of_order": out_of_order, "partitions": start.len()})))
}

/// Produce on the source, consume on source and target: missing, duplicated, replication delay.
pub fn mirror(
    source: &ConnectionSettings,
    target: &ConnectionSettings,
    topic: &str,
    records: usize,
    size: usize,
    timeout: Duration,
) -> Result<CheckResult> {
    let started = Instant::now();
    probe(source, Some(topic))?;
    // The mirror creates a topic on the target itself (MirrorMaker 1 with its first record,
    // MirrorMaker 2 at its next topic refresh): one not there yet is waited for within `timeout`.
    let target_has_topic = match probe(target, Some(topic)) {
        Ok(()) => true,
        Err(e) if matches!(e.downcast_ref::<ConnectError>(), Some(ConnectError::UnknownTopic { .. })) => false,
        Err(e) => return Err(e),
    };
    let run = run_id();
    let (tc, _) = consumer(target, &format!("amqdr-verify-{run}-target"))?;
    if target_has_topic {
        let target_start = end_offsets(&tc, target, topic)?;
        clients::assign_from(&tc, topic, &target_start)?;
    }
    let (sc, _) = consumer(source, &format!("amqdr-verify-{run}-source"))?;
    let source_start = end_offsets(&sc, source, topic)?;
    clients::assign_from(&sc, topic, &source_start)?;

    // Read the target while producing, so delays are measured as records arrive.
    let (run_t, target_t, topic_t) = (run.clone(), target.clone(), topic.to_string());
    let reader = std::thread::spawn(move || {
        if !target_has_topic {
            let deadline = Instant::now() + timeout;
            let partitions = loop {
                match clients::partitions(&tc, &target_t, &topic_t) {
                    Ok(p) if !p.is_empty() => break p,
                    _ if Instant::now() >= deadline => return Vec::new(),
                    _ => std::thread::sleep(Duration::from_millis(500)),
                }
            };
            // A topic the mirror just created holds only mirrored records: read it from the start.
            let from_start: HashMap<i32, i64> = partitions.into_iter().map(|p| (p, 0)).collect();
            if clients::assign_from(&tc, &topic_t, &from_start).is_err() {
                return Vec::new();
            }
        }
        collect(&tc, &run_t, records, size, timeout)
    });
    let (p, ctx) = producer(
        source,
        &[("delivery.timeout.ms", timeout.as_millis().to_string()), ("message.timeout.ms", timeout.as_millis().to_string())],
    )?;
    for seq in 0..records as u64 {
        send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(&run, seq, size), seq)?;
    }
    let delivered = finish(&p, &ctx, source, records, timeout)?;
    let on_source = collect(&sc, &run, records, size, timeout);
    let on_target = reader.join().map_err(|_| anyhow!("target reader panicked"))?;

    let count = |v: &[clients::Received]| {
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        for r in v {
            *seen.entry(r.seq).or_default() += 1;
        }
        seen
    };
    let src = count(&on_source);
    let tgt = count(&on_target);
    let missing_source = records - src.len();
    let missing: Vec<u64> = (0..records as u64).filter(|s| !tgt.contains_key(s)).collect();
    let duplicates: usize = tgt.values().map(|n| n - 1).sum();
    let corrupt = on_target.iter().filter(|r| !r.intact).count();
    let mut delay = histogram();
    let mut firsts = HashSet::new();
    for r in &on_target {
        if firsts.insert(r.seq)
            && let Some(ts) = r.timestamp_ms
        {
            delay.record(((r.received_ms - ts).max(0) as u64) * 1000).ok();
        }
    }
    let delays = Percentiles::from_micros(&delay);
    let passed = missing.is_empty() && missing_source == 0 && corrupt == 0;
    let summary = if passed {
        format!(
            "{records} records mirrored {} -> {}: 0 missing, {duplicates} duplicated; delay p50 {} p99 {} max {}",
            source.label,
            target.label,
            ms(delays.p50_ms),
            ms(delays.p99_ms),
            ms(delays.max_ms)
        )
    } else {
        format!(
            "{} of {records} records missing on the target after {}s (first missing seq {:?}), {missing_source} missing on the source, {corrupt} corrupt",
            missing.len(),
            timeout.as_secs(),
            missing.first()
        )
    };
    Ok(CheckResult::new(format!("mirror {} -> {}", source.label, target.label), passed, summary, started).with(json!({
        "topic": topic, "records": records, "record_size": size, "delivered": delivered.len(),
        "missing": missing.len(), "missing_on_source": missing_source, "duplicates": duplicates, "corrupt": corrupt,
        "delay_ms": delays,
    })))
}

fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

/// Like Kafka's EndToEndLatency: one record at a time (acks=all), produced and consumed.
pub fn latency(site: &ConnectionSettings, topic: &str, iterations: usize, size: usize, acks: &str) -> Result<CheckResult> {
    let started = Instant::now();
    probe(site, Some(topic))?;
    let run = run_id();
    let (p, ctx) = producer(site, &[("linger.ms", "0".into()), ("acks", acks.to_string()), ("socket.nagle.disable", "true".into())])?;
    let (c, _) = consumer(site, &format!("amqdr-verify-{run}"))?;
    let partition = 0;
    let (_, high) = Consumer::fetch_watermarks(&c, topic, partition, site.timeout)?;
    clients::assign_from(&c, topic, &HashMap::from([(partition, high)]))?;
    // librdkafka starts fetching lazily: warm the connection with one record first.
    let mut hist = histogram();
    for seq in 0..=iterations as u64 {
        let t0 = Instant::now();
        send(&p, &ctx, topic, Some(partition), b"", &payload(&run, seq, size), seq)?;
        let got = collect(&c, &run, 1, size, site.timeout);
        if got.iter().all(|r| r.seq != seq) {
            let wanted = seq;
            let more = collect(&c, &run, 1, size, site.timeout);
            if more.iter().all(|r| r.seq != wanted) {
                return Err(anyhow!("record {seq} did not come back within {}s", site.timeout.as_secs()));
            }
        }
        if seq > 0 {
            hist.record(t0.elapsed().as_micros() as u64).ok();
        }
    }
    let pct = Percentiles::from_micros(&hist);
    Ok(CheckResult::new(
        format!("latency site {}", site.label),
        true,
        format!(
            "{iterations} round trips of {size} B (acks={acks}): p50 {} p99 {} p99.9 {} max {}",
            ms(pct.p50_ms),
            ms(pct.p99_ms),
            ms(pct.p999_ms),
            ms(pct.max_ms)
        ),
        started,
    )
    .with(json!({"site": site.label, "iterations": iterations, "record_size": size, "acks": acks, "latency_ms": pct})))
}

/// One partition's lag.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PartitionLag {
    pub partition: i32,
    pub source_end: i64,
    pub target_end: i64,
    /// Records not yet mirrored.
    pub records: i64,
    /// How far the newest mirrored record is behind the newest source record.
    pub seconds: f64,
    /// How the record lag was measured.
    pub method: &'static str,
}

/// All partitions at once: records not yet mirrored, and the worst seconds behind (infinite
/// when a partition has records but nothing mirrored yet).
pub fn lag_totals(lags: &[PartitionLag]) -> (i64, f64) {
    (lags.iter().map(|l| l.records).sum(), lags.iter().map(|l| l.seconds).fold(0.0, f64::max))
}

fn newest_timestamp(c: &clients::RunConsumer, topic: &str, partition: i32, end: i64, timeout: Duration) -> Result<Option<i64>> {
    if end <= 0 {
        return Ok(None);
    }
    clients::assign_from(c, topic, &HashMap::from([(partition, end - 1)]))?;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            use rdkafka::message::{Message, Timestamp};
            return Ok(match m.timestamp() {
                Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
                Timestamp::NotAvailable => None,
            });
        }
    }
    Ok(None)
}

/// Mirror lag per partition. With a MirrorMaker 1 group, records lag is the group's committed
/// offsets on the source (the seed's kafka-consumer-groups view); otherwise (MirrorMaker 2,
/// which keeps its progress in Connect's offsets) it is the source records newer than the newest
/// mirrored record, found by timestamp. Seconds come from the newest records' timestamps.
pub fn lag(source: &ConnectionSettings, target: &ConnectionSettings, topic: &str, mm1_group: Option<&str>) -> Result<Vec<PartitionLag>> {
    let (sc, _) = consumer(source, &format!("amqdr-verify-lag-{}", run_id()))?;
    let (tc, _) = consumer(target, &format!("amqdr-verify-lag-{}", run_id()))?;
    let src_end = end_offsets(&sc, source, topic)?;
    let tgt_end = end_offsets(&tc, target, topic)?;
    let committed = match mm1_group {
        Some(group) => {
            let (gc, _) = consumer(source, group)?;
            let mut tpl = TopicPartitionList::new();
            for p in src_end.keys() {
                tpl.add_partition(topic, *p);
            }
            let c = gc.committed_offsets(tpl, source.timeout)?;
            let mut m = HashMap::new();
            for e in c.elements() {
                if let Offset::Offset(o) = e.offset() {
                    m.insert(e.partition(), o);
                }
            }
            Some(m)
        }
        None => None,
    };
    let mut out = Vec::new();
    let mut parts: Vec<i32> = src_end.keys().copied().collect();
    parts.sort();
    for p in parts {
        let s_end = src_end[&p];
        let t_end = tgt_end.get(&p).copied().unwrap_or(0);
        let s_ts = newest_timestamp(&sc, topic, p, s_end, source.timeout)?;
        let t_ts = newest_timestamp(&tc, topic, p, t_end, target.timeout)?;
        let seconds = match (s_ts, t_ts) {
            (Some(s), Some(t)) => ((s - t).max(0) as f64) / 1000.0,
            (Some(_), None) => f64::INFINITY,
            _ => 0.0,
        };
        let (records, method) = match &committed {
            Some(c) => (s_end - c.get(&p).copied().unwrap_or(0), "committed offsets of the mirror group"),
            None => {
                let behind = match t_ts {
                    None => s_end,
                    Some(t) => {
                        let mut tpl = TopicPartitionList::new();
                        tpl.add_partition_offset(topic, p, Offset::Offset(t + 1))?;
                        let found = sc.offsets_for_times(tpl, source.timeout)?;
                        match found.elements().first().map(|e| e.offset()) {
                            Some(Offset::Offset(o)) => s_end - o,
                            _ => 0,
                        }
                    }
                };
                (behind, "source records newer than the newest mirrored record")
            }
        };
        out.push(PartitionLag { partition: p, source_end: s_end, target_end: t_end, records: records.max(0), seconds, method });
    }
    Ok(out)
}

/// Consumer-group failover drill (MirrorMaker 2 with group offset sync): consume part of a run
/// on the source with a group and commit, then resume the same group on the target.
pub fn failover(
    source: &ConnectionSettings,
    target: &ConnectionSettings,
    topic: &str,
    records: usize,
    consume_first: usize,
    timeout: Duration,
) -> Result<CheckResult> {
    let started = Instant::now();
    probe(source, Some(topic))?;
    probe(target, Some(topic))?;
    let run = run_id();
    let group = format!("amqdr-failover-{run}");
    let size = 64;
    let (sc, _) = consumer(source, &group)?;
    let start = end_offsets(&sc, source, topic)?;
    let (p, ctx) = producer(source, &[])?;
    for seq in 0..records as u64 {
        send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(&run, seq, size), seq)?;
    }
    finish(&p, &ctx, source, records, timeout)?;
    // Consume part of the run on the source as an application would, and commit.
    clients::assign_from(&sc, topic, &start)?;
    let first = collect(&sc, &run, consume_first, size, timeout);
    let consumed_on_source: HashSet<u64> = first.iter().map(|r| r.seq).collect();
    let mut positions: HashMap<i32, i64> = start.clone();
    for r in &first {
        let e = positions.entry(r.partition).or_insert(0);
        *e = (*e).max(r.offset + 1);
    }
    let mut tpl = TopicPartitionList::new();
    for (part, off) in &positions {
        tpl.add_partition_offset(topic, *part, Offset::Offset(*off))?;
    }
    sc.commit(&tpl, CommitMode::Sync)?;
    drop(sc);
    // Failover: wait until MirrorMaker 2 has written the group's offsets on the target.
    let sync_started = Instant::now();
    let (tc, _) = consumer(target, &group)?;
    let parts: Vec<i32> = positions.keys().copied().collect();
    let deadline = Instant::now() + timeout;
    let synced = loop {
        let mut q = TopicPartitionList::new();
        for part in &parts {
            q.add_partition(topic, *part);
        }
        let c = tc.committed_offsets(q, target.timeout)?;
        let offsets: HashMap<i32, i64> = c
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect();
        if offsets.len() == parts.len() {
            break Some(offsets);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let Some(resume_at) = synced else {
        return Ok(CheckResult::new(
            "failover".into(),
            false,
            format!(
                "group {group} offsets did not appear on the target within {}s: is sync.group.offsets.enabled on and the mirror running?",
                timeout.as_secs()
            ),
            started,
        ));
    };
    let sync_seconds = sync_started.elapsed().as_secs_f64();
    clients::assign_from(&tc, topic, &resume_at)?;
    let rest = clients::collect_until(&tc, &run, size, timeout, |seen| {
        (0..records as u64).all(|s| consumed_on_source.contains(&s) || seen.contains(&s))
    });
    let reread = rest.iter().filter(|r| consumed_on_source.contains(&r.seq)).map(|r| r.seq).collect::<HashSet<_>>().len();
    let all: HashSet<u64> = consumed_on_source.iter().copied().chain(rest.iter().map(|r| r.seq)).collect();
    let missing = records - all.len();
    let passed = missing == 0;
    Ok(CheckResult::new(
        "failover".into(),
        passed,
        format!(
            "group resumed on the target after {sync_seconds:.1}s of offset sync: {reread} of {} consumed records re-read, {missing} missing",
            consumed_on_source.len()
        ),
        started,
    )
    .with(json!({"group": group, "records": records, "consumed_before_failover": consumed_on_source.len(), "reread": reread,
        "missing": missing, "offset_sync_seconds": sync_seconds})))
}

/// Mirror lag as one number: records produced on the source since `start` not yet on the target.
pub fn lag_since(
    source: (&clients::RunConsumer, &ConnectionSettings),
    target: (&clients::RunConsumer, &ConnectionSettings),
    topic: &str,
    start: &(HashMap<i32, i64>, HashMap<i32, i64>),
) -> Result<i64> {
    let s = end_offsets(source.0, source.1, topic)?;
    let t = end_offsets(target.0, target.1, topic)?;
    let produced: i64 = s.iter().map(|(p, e)| e - start.0.get(p).copied().unwrap_or(0)).sum();
    let mirrored: i64 = t.iter().map(|(p, e)| e - start.1.get(p).copied().unwrap_or(0)).sum();
    Ok((produced - mirrored).max(0))
}

/// One thing an identity must or must not be able to do, as the brokers answered.
#[derive(Debug, Clone, Serialize)]
pub struct AclCase {
    pub identity: String,
    pub site: String,
    pub action: String,
    pub expected: &'static str,
    pub observed: String,
    pub passed: bool,
}

/// What the DR roles expect of the identities: where the application may not write (fenced
/// sites) and where the mirror reads (its identity may not write there).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AclExpectations {
    pub fenced: Vec<SiteId>,
    pub mirror_source: SiteId,
    /// Where these came from, for the report.
    pub roles: String,
}

/// Least privilege as the brokers enforce it: the application user produces and consumes on
/// every site that is not fenced and may not write on a fenced one, the mirror's user
/// authenticates on the site it reads from but may not write there, and an unknown user is
/// refused at authentication. Each as a real client.
pub fn acl(
    app_a: &ConnectionSettings,
    app_b: &ConnectionSettings,
    mirror_on_source: &ConnectionSettings,
    topic: &str,
    expect: &AclExpectations,
) -> Result<CheckResult> {
    let started = Instant::now();
    let mut cases = Vec::new();
    for (site, app) in [(SiteId::A, app_a), (SiteId::B, app_b)] {
        if expect.fenced.contains(&site) {
            cases.push(refused_write(app, topic));
            continue;
        }
        let (observed, passed) = match produce_consume(app, topic, 10, 256) {
            Ok(r) if r.passed => ("10 records produced and consumed".to_string(), true),
            Ok(r) => (r.summary, false),
            Err(e) => (crate::error::report(&e), false),
        };
        cases.push(AclCase {
            identity: app.user.clone(),
            site: app.label.clone(),
            action: format!("produce and consume {topic}"),
            expected: "allowed",
            observed,
            passed,
        });
    }
    cases.push(refused_write(mirror_on_source, topic));
    let mut unknown = app_a.clone();
    unknown.user = format!("amqdr-verify-unknown-{}", run_id());
    unknown.password = crate::material::generate_password();
    unknown.password_source = "a generated password".into();
    let (observed, passed) = match probe(&unknown, Some(topic)) {
        Ok(()) => ("connected: the brokers accept an unknown user".to_string(), false),
        Err(e) => match e.downcast_ref::<ConnectError>() {
            Some(ConnectError::AuthenticationFailed { .. }) => ("refused at SASL authentication".to_string(), true),
            _ => (crate::error::report(&e), false),
        },
    };
    cases.push(AclCase {
        identity: unknown.user.clone(),
        site: unknown.label.clone(),
        action: "connect".into(),
        expected: "refused (authentication)",
        observed,
        passed,
    });
    let failed: Vec<String> =
        cases.iter().filter(|c| !c.passed).map(|c| format!("{} on site {}: {}", c.identity, c.site, c.observed)).collect();
    let summary = if failed.is_empty() {
        let writable: Vec<&str> = SiteId::ALL.iter().filter(|s| !expect.fenced.contains(s)).map(|s| s.as_str()).collect();
        let fenced = if expect.fenced.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = expect.fenced.iter().map(|s| s.as_str()).collect();
            format!(", may not write on fenced {}", names.join(" and "))
        };
        format!(
            "{} reads and writes on {}{fenced}; {} may not write on {}; unknown users are refused ({})",
            app_a.user,
            writable.join(" and "),
            mirror_on_source.user,
            expect.mirror_source,
            expect.roles
        )
    } else {
        failed.join("; ")
    };
    Ok(CheckResult::new("acl".into(), failed.is_empty(), summary, started)
        .with(json!({"topic": topic, "expectations": expect, "cases": cases})))
}

/// An identity that authenticates (metadata answers) but whose write is refused by an ACL.
fn refused_write(site: &ConnectionSettings, topic: &str) -> AclCase {
    let mut case = AclCase {
        identity: site.user.clone(),
        site: site.label.clone(),
        action: format!("produce to {topic}"),
        expected: "refused (TOPIC_AUTHORIZATION_FAILED)",
        observed: String::new(),
        passed: false,
    };
    if let Err(e) = probe(site, Some(topic)) {
        case.observed = format!("could not connect to check: {}", crate::error::report(&e));
        return case;
    }
    // Not idempotent: an idempotent producer asks for a producer id first, and its refusal would
    // be about the cluster, not this topic.
    let outcome = producer(site, &[("enable.idempotence", "false".into())]).and_then(|(p, ctx)| {
        send(&p, &ctx, topic, None, b"amqdr-verify-acl", b"must not be written", 0)?;
        finish(&p, &ctx, site, 1, site.timeout)
    });
    match outcome {
        Ok(_) => case.observed = format!("written: {} may write on site {}", site.user, site.label),
        Err(e) => {
            let text = crate::error::report(&e);
            case.passed = text.to_lowercase().contains("topic authorization failed");
            case.observed = if case.passed { "refused: Topic authorization failed".into() } else { text };
        }
    }
    case
}
