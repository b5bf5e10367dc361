//! The arithmetic of DR operations, as pure functions: which records of the old primary never
//! reached the new one (the stranded tail), where a consumer group resumes on the other site and
//! how that was derived, and where a reverse mirror starts.

use crate::kafka::site::{Checkpoint, Offsets, Record, Tp, record_identity};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Records of the new primary that came through the mirror, counted by identity, so that each
/// copy accounts for one original.
#[derive(Debug, Default)]
pub struct Copies(HashMap<u64, usize>);

impl Copies {
    pub fn add(&mut self, records: &[Record]) {
        for r in records {
            *self.0.entry(record_identity(r)).or_default() += 1;
        }
    }

    /// Take one copy of `r`; false if none is left.
    fn take(&mut self, r: &Record) -> bool {
        match self.0.get_mut(&record_identity(r)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

/// The records of one partition of the old primary that are not on the new primary.
#[derive(Debug, Clone, Serialize)]
pub struct StrandedPartition {
    pub topic: String,
    pub partition: i32,
    /// First offset examined on the old primary (the mirror had copied everything before it).
    pub from: i64,
    /// End offset of the old primary.
    pub end: i64,
    /// Records in `[from, end)` found on the new primary.
    pub mirrored: usize,
    /// Offsets of the records not found (the stranded tail).
    #[serde(skip)]
    pub stranded_offsets: Vec<i64>,
    pub stranded: usize,
}

/// Split the candidate records of one partition into mirrored and stranded.
pub fn stranded_partition(tp: &Tp, from: i64, end: i64, candidates: &[Record], copies: &mut Copies) -> StrandedPartition {
    let mut stranded_offsets = Vec::new();
    let mut mirrored = 0;
    for r in candidates {
        if copies.take(r) {
            mirrored += 1;
        } else {
            stranded_offsets.push(r.offset);
        }
    }
    StrandedPartition { topic: tp.0.clone(), partition: tp.1, from, end, mirrored, stranded: stranded_offsets.len(), stranded_offsets }
}

/// How a group's new offset on the target was found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Derivation {
    /// The group had read everything on the source: the target's end, exact.
    CaughtUp,
    /// MirrorMaker 2's checkpoint (upstream offset translated; conservative, may re-read).
    Checkpoint { upstream: i64, downstream: i64 },
    /// First record at or after the source position's timestamp minus a margin (MirrorMaker 1,
    /// or no checkpoint yet): re-reads, never skips, as long as timestamps rise.
    Timestamp { timestamp_ms: i64, margin_ms: i64 },
    /// The group was already at or past the derived offset on the target: offsets only move forward.
    AlreadyAhead { derived: i64 },
    /// The group has no committed offset on the source for this partition.
    NoSourceOffset,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartitionMove {
    pub topic: String,
    pub partition: i32,
    /// Committed offset on the source site (None: none).
    pub source_offset: Option<i64>,
    pub source_end: i64,
    /// Committed offset on the target before the move.
    pub target_before: Option<i64>,
    /// What the target holds after the move.
    pub target_after: Option<i64>,
    #[serde(flatten)]
    pub derivation: Derivation,
}

/// Never move a group backwards on the target.
fn forward_only(derived: i64, before: Option<i64>) -> (i64, Option<Derivation>) {
    match before {
        Some(b) if b >= derived => (b, Some(Derivation::AlreadyAhead { derived })),
        _ => (derived, None),
    }
}

/// Moves of one group with identical partitions on both sites (MirrorMaker 2 with the identity
/// replication policy): caught-up partitions go to the target's end, others through the
/// checkpoint, else by timestamp (`by_time` holds the offsets found that way, when needed).
pub fn identity_moves(
    partitions: &[Tp],
    source_committed: &Offsets,
    source_ends: &Offsets,
    target_ends: &Offsets,
    target_before: &Offsets,
    checkpoints: &BTreeMap<Tp, Checkpoint>,
    by_time: &BTreeMap<Tp, (i64, i64, i64)>,
) -> Vec<PartitionMove> {
    partitions
        .iter()
        .map(|tp| {
            let source_offset = source_committed.get(tp).copied();
            let source_end = source_ends.get(tp).copied().unwrap_or(0);
            let before = target_before.get(tp).copied();
            let (after, derivation) = match source_offset {
                None => (before, Derivation::NoSourceOffset),
                Some(c) if c >= source_end => {
                    let (o, kept) = forward_only(target_ends.get(tp).copied().unwrap_or(0), before);
                    (Some(o), kept.unwrap_or(Derivation::CaughtUp))
                }
                Some(c) => {
                    let derived = match checkpoints.get(tp) {
                        Some(cp) if cp.upstream <= c => {
                            Some((cp.downstream, Derivation::Checkpoint { upstream: cp.upstream, downstream: cp.downstream }))
                        }
                        _ => by_time
                            .get(tp)
                            .map(|(offset, ts, margin)| (*offset, Derivation::Timestamp { timestamp_ms: *ts, margin_ms: *margin })),
                    };
                    match derived {
                        Some((d, how)) => {
                            let (o, kept) = forward_only(d, before);
                            (Some(o), kept.unwrap_or(how))
                        }
                        None => (before, Derivation::NoSourceOffset),
                    }
                }
            };
            PartitionMove {
                topic: tp.0.clone(),
                partition: tp.1,
                source_offset,
                source_end,
                target_before: before,
                target_after: after,
                derivation,
            }
        })
        .collect()
}

/// The timestamp from which a group must resume when partitions do not correspond (MirrorMaker
/// 1 re-partitions by key): the oldest timestamp among the records at the group's positions on
/// partitions it has not finished. None: it has finished every partition.
pub fn resume_timestamp(positions: &[(Tp, i64, i64, Option<i64>)]) -> Option<i64> {
    positions.iter().filter(|(_, committed, end, _)| committed < end).filter_map(|(_, _, _, ts)| *ts).min()
}

/// Where a reverse mirror starts on its source (the new primary) for each partition: right
/// after the promotion point, or at the log start for a topic recreated empty on the target.
/// Returned as the next offset to copy.
pub fn reverse_start(promotion_end: Option<i64>, log_start: i64, recreated: bool) -> i64 {
    if recreated { log_start } else { promotion_end.unwrap_or(log_start).max(log_start) }
}

/// The Kafka Connect source offset MirrorSourceTask resumes from: it stores the last copied
/// offset and seeks to `stored + 1`; "nothing copied yet" is no stored offset (a tombstone),
/// because negative offsets are rejected (MirrorUtils.validateSourceOffset).
pub fn connect_offset_for_next(next: i64) -> Option<i64> {
    (next > 0).then_some(next - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(offset: i64, key: &str, ts: i64) -> Record {
        Record {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: Some(ts),
            key: Some(key.as_bytes().to_vec()),
            value: Some(b"v".to_vec()),
            headers: vec![],
        }
    }

    #[test]
    fn stranded_tail_is_what_has_no_copy() {
        let a = vec![rec(10, "k1", 1), rec(11, "k2", 2), rec(12, "k3", 3), rec(13, "k3", 3)];
        // b holds copies of k1, k2 and one k3 (offsets differ on b).
        let mut b: Vec<Record> = vec![rec(40, "k1", 1), rec(41, "k2", 2), rec(42, "k3", 3)];
        b.iter_mut().for_each(|r| r.partition = 5);
        let mut copies = Copies::default();
        copies.add(&b);
        let s = stranded_partition(&("t".into(), 0), 10, 14, &a, &mut copies);
        assert_eq!((s.mirrored, s.stranded), (3, 1));
        assert_eq!(s.stranded_offsets, vec![13], "one copy answers for one original");
    }

    #[test]
    fn group_moves_caught_up_checkpoint_timestamp_forward_only() {
        let tp = |p: i32| ("t".to_string(), p);
        let parts = [tp(0), tp(1), tp(2), tp(3), tp(4)];
        let source_committed = Offsets::from([(tp(0), 100), (tp(1), 50), (tp(2), 50), (tp(3), 50)]);
        let source_ends = Offsets::from([(tp(0), 100), (tp(1), 100), (tp(2), 100), (tp(3), 100), (tp(4), 100)]);
        let target_ends = Offsets::from([(tp(0), 120), (tp(1), 120), (tp(2), 120), (tp(3), 120), (tp(4), 120)]);
        let target_before = Offsets::from([(tp(3), 90)]);
        let checkpoints = BTreeMap::from([
            (tp(1), Checkpoint { upstream: 48, downstream: 66, written_ms: 0 }),
            (tp(3), Checkpoint { upstream: 50, downstream: 70, written_ms: 0 }),
        ]);
        let by_time = BTreeMap::from([(tp(2), (64, 1_000, 30_000))]);
        let m = identity_moves(&parts, &source_committed, &source_ends, &target_ends, &target_before, &checkpoints, &by_time);
        assert_eq!(m[0].target_after, Some(120));
        assert_eq!(m[0].derivation, Derivation::CaughtUp);
        assert_eq!(m[1].target_after, Some(66));
        assert!(matches!(m[1].derivation, Derivation::Checkpoint { upstream: 48, downstream: 66 }));
        assert_eq!(m[2].target_after, Some(64));
        assert!(matches!(m[2].derivation, Derivation::Timestamp { .. }));
        assert_eq!(m[3].target_after, Some(90), "never backwards");
        assert_eq!(m[3].derivation, Derivation::AlreadyAhead { derived: 70 });
        assert_eq!(m[4].target_after, None);
        assert_eq!(m[4].derivation, Derivation::NoSourceOffset);
    }

    #[test]
    fn checkpoint_ahead_of_the_group_is_not_used() {
        // The group was reset backwards on the source after the last checkpoint.
        let tp = ("t".to_string(), 0);
        let m = identity_moves(
            std::slice::from_ref(&tp),
            &Offsets::from([(tp.clone(), 10)]),
            &Offsets::from([(tp.clone(), 100)]),
            &Offsets::from([(tp.clone(), 100)]),
            &Offsets::new(),
            &BTreeMap::from([(tp.clone(), Checkpoint { upstream: 60, downstream: 60, written_ms: 0 })]),
            &BTreeMap::from([(tp.clone(), (9, 5, 0))]),
        );
        assert_eq!(m[0].target_after, Some(9));
    }

    #[test]
    fn resume_timestamp_ignores_finished_partitions() {
        let p = |n: i32| ("t".to_string(), n);
        assert_eq!(resume_timestamp(&[(p(0), 10, 10, Some(5)), (p(1), 3, 10, Some(900)), (p(2), 4, 10, Some(700))]), Some(700));
        assert_eq!(resume_timestamp(&[(p(0), 10, 10, Some(5))]), None);
    }

    #[test]
    fn reverse_mirror_start_positions() {
        assert_eq!(reverse_start(Some(120), 0, false), 120);
        assert_eq!(reverse_start(Some(120), 0, true), 0, "a recreated topic gets the whole history back");
        assert_eq!(reverse_start(Some(5), 30, false), 30, "never before the log start");
        assert_eq!(connect_offset_for_next(120), Some(119));
        assert_eq!(connect_offset_for_next(0), None);
    }
}
