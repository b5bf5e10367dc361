//! How far a flow's target is behind its source, per partition, in records and in seconds
//! (the age of the oldest record not yet on the target), and whether the target has everything.
//!
//! MirrorMaker 1 keeps its position as its consumer group's committed offsets on the source:
//! unmirrored = `[committed, end)`. MirrorMaker 2 keeps its position in Kafka Connect's offsets on
//! the target, which clients should not read; with identity topic names and unchanged record
//! timestamps, the source records newer than the target's newest record are the unmirrored ones
//! (what `verify lag` measures too).

use super::site::{KafkaSite, Offsets, Record, Tp, record_identity};
use crate::profile::MirrorKind;
use anyhow::Result;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Serialize)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    pub source_end: i64,
    /// First source offset not on the target.
    pub mirrored_to: i64,
    pub records: i64,
    /// Age of the oldest unmirrored record (0 when none).
    pub seconds: f64,
}

/// Lag per topic (the worst partition's seconds, the sum of records).
#[derive(Debug, Clone, Serialize)]
pub struct TopicLag {
    pub topic: String,
    pub records: i64,
    pub seconds: f64,
}

pub fn per_topic(parts: &[PartitionLag]) -> Vec<TopicLag> {
    let mut by: BTreeMap<&str, TopicLag> = BTreeMap::new();
    for p in parts {
        let t = by.entry(&p.topic).or_insert_with(|| TopicLag { topic: p.topic.clone(), records: 0, seconds: 0.0 });
        t.records += p.records;
        t.seconds = t.seconds.max(p.seconds);
    }
    by.into_values().collect()
}

/// The worst seconds and the total records of a flow: the RPO if the source were lost now.
pub fn rpo(parts: &[PartitionLag]) -> (i64, f64) {
    (parts.iter().map(|p| p.records).sum(), parts.iter().map(|p| p.seconds).fold(0.0, f64::max))
}

fn age_seconds(now_ms: i64, record: Option<&Record>) -> f64 {
    record.and_then(|r| r.timestamp).map(|ts| ((now_ms - ts).max(0) as f64) / 1000.0).unwrap_or(0.0)
}

/// Measure a flow's lag over `topics` (as the source has them).
pub fn measure(
    source: &KafkaSite,
    target: &KafkaSite,
    topics: &BTreeMap<String, i32>,
    kind: MirrorKind,
    mm1_group: &str,
) -> Result<Vec<PartitionLag>> {
    let now = crate::kafka::clients::now_ms();
    let source_ends = source.ends(topics)?;
    let source_starts = source.starts(topics)?;
    let partitions: Vec<Tp> = source_ends.keys().cloned().collect();
    let position: Offsets = match kind {
        MirrorKind::KafkaMirrorMaker => {
            let committed = source.committed(mm1_group, &partitions)?;
            partitions.iter().map(|tp| (tp.clone(), committed.get(tp).copied().unwrap_or(source_starts[tp]))).collect()
        }
        MirrorKind::KafkaMirrorMaker2 => {
            let target_topics: BTreeMap<String, i32> = target.topics_named(topics.keys())?.into_iter().collect();
            let target_ends = target.ends(&target_topics)?;
            let target_starts = target.starts(&target_topics)?;
            let mut out = Offsets::new();
            let mut by_time: Vec<(Tp, i64)> = Vec::new();
            for tp in &partitions {
                let (start, end) = (target_starts.get(tp).copied().unwrap_or(0), target_ends.get(tp).copied().unwrap_or(0));
                match target.last_record(tp, start, end)?.and_then(|r| r.timestamp) {
                    Some(ts) => by_time.push((tp.clone(), ts + 1)),
                    None => {
                        out.insert(tp.clone(), source_starts[tp]);
                    }
                }
            }
            for (tp, ts) in by_time {
                let found = source.offsets_for_time(std::slice::from_ref(&tp), ts, &source_ends)?;
                out.insert(tp.clone(), found.get(&tp).copied().unwrap_or(source_ends[&tp]));
            }
            out
        }
    };
    let mut lags = Vec::new();
    for tp in &partitions {
        let end = source_ends[tp];
        let at = position[tp].min(end).max(source_starts[tp]);
        let oldest = if at < end { source.read(tp, at, at + 1)?.into_iter().next() } else { None };
        lags.push(PartitionLag {
            topic: tp.0.clone(),
            partition: tp.1,
            source_end: end,
            mirrored_to: at,
            records: end - at,
            seconds: age_seconds(now, oldest.as_ref()),
        });
    }
    Ok(lags)
}

/// The newest record of every source partition is on the target (MirrorMaker 2 keeps the
/// partition; MirrorMaker 1 re-partitions, so any target partition's recent records count).
/// Returns the partitions whose newest record is missing.
pub fn newest_records_missing(source: &KafkaSite, target: &KafkaSite, topics: &BTreeMap<String, i32>, kind: MirrorKind) -> Result<Vec<Tp>> {
    const TAIL: i64 = 200;
    let source_ends = source.ends(topics)?;
    let source_starts = source.starts(topics)?;
    let target_topics: BTreeMap<String, i32> = target.topics_named(topics.keys())?.into_iter().collect();
    let target_ends = target.ends(&target_topics)?;
    let target_starts = target.starts(&target_topics)?;
    let tail = |tp: &Tp| -> Result<Vec<Record>> {
        let (s, e) = (target_starts.get(tp).copied().unwrap_or(0), target_ends.get(tp).copied().unwrap_or(0));
        target.read(tp, (e - TAIL).max(s), e)
    };
    let mut missing = Vec::new();
    let mut tails_by_topic: BTreeMap<String, HashSet<u64>> = BTreeMap::new();
    for (tp, end) in &source_ends {
        let Some(newest) = source.last_record(tp, source_starts[tp], *end)? else { continue };
        let id = record_identity(&newest);
        let found = match kind {
            MirrorKind::KafkaMirrorMaker2 => tail(tp)?.iter().any(|r| record_identity(r) == id),
            MirrorKind::KafkaMirrorMaker => {
                if !tails_by_topic.contains_key(&tp.0) {
                    let mut ids = HashSet::new();
                    for p in 0..target_topics.get(&tp.0).copied().unwrap_or(0) {
                        ids.extend(tail(&(tp.0.clone(), p))?.iter().map(record_identity));
                    }
                    tails_by_topic.insert(tp.0.clone(), ids);
                }
                tails_by_topic[&tp.0].contains(&id)
            }
        };
        if !found {
            missing.push(tp.clone());
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_and_flow_totals() {
        let p = |topic: &str, partition, records, seconds| PartitionLag {
            topic: topic.into(),
            partition,
            source_end: 100,
            mirrored_to: 100 - records,
            records,
            seconds,
        };
        let parts = [p("a", 0, 3, 1.5), p("a", 1, 0, 0.0), p("b", 0, 7, 9.0)];
        let topics = per_topic(&parts);
        assert_eq!((topics[0].records, topics[0].seconds), (3, 1.5));
        assert_eq!((topics[1].records, topics[1].seconds), (7, 9.0));
        assert_eq!(rpo(&parts), (10, 9.0));
        assert_eq!(rpo(&[]), (0, 0.0));
    }
}
