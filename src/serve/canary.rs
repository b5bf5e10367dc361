//! Canary records and what mirrored ones tell. The primary's `serve` produces one canary per
//! partition of the canary topic each round, carrying its site, DR role, epoch and send time;
//! every `serve` reads the canary topic of its own site (and of the peer, when it has one).
//!
//! A canary read on a site other than the one that produced it has been mirrored there: its
//! timestamp on that site is the broker's append time (the canary topic is `LogAppendTime`), so
//! `append - sent` is the replication delay, and the newest send time seen per source partition
//! bounds the RPO. Both mix two clocks; [`SkewBounds`] says when the mix is provably off.

use crate::record::Role;
use crate::settings::SiteId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Format version of [`Canary`]; readers skip records of other versions.
const VERSION: u8 = 1;

/// One canary record's value (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canary {
    pub v: u8,
    /// The site that produced it, with its DR role and epoch then: a marker the other site reads
    /// to learn that this site is primary at that epoch.
    pub site: SiteId,
    pub role: Role,
    pub epoch: u64,
    /// Wall clock of the producing `serve`, ms since the Unix epoch.
    pub sent_ms: i64,
    /// The `serve` process that produced it and its round, to match its own round trips.
    pub run: String,
    pub seq: u64,
    /// Partition it was produced to on its own site (MirrorMaker 1 re-partitions).
    pub partition: i32,
}

impl Canary {
    pub fn new(site: SiteId, role: Role, epoch: u64, sent_ms: i64, run: &str, seq: u64, partition: i32) -> Canary {
        Canary { v: VERSION, site, role, epoch, sent_ms, run: run.into(), seq, partition }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("canary serializes")
    }

    /// A canary of this format, or None for anything else in the topic.
    pub fn decode(bytes: &[u8]) -> Option<Canary> {
        serde_json::from_slice::<Canary>(bytes).ok().filter(|c| c.v == VERSION)
    }
}

/// A canary found on a site it was mirrored to.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub canary: Canary,
    /// The site whose canary topic it was read from (not `canary.site`).
    pub on: SiteId,
    /// Append time on `on` (its broker's clock), when the topic keeps LogAppendTime.
    pub appended_ms: Option<i64>,
    /// When the reading `serve` got it (its own clock).
    pub read_ms: i64,
    /// The site of the reading `serve`.
    pub reader: SiteId,
}

impl Sighting {
    /// Arrival on `on` minus the send time: the replication delay, in seconds. Without an append
    /// time only a reader on `on` has a clock of that site to use.
    pub fn delay_seconds(&self) -> Option<f64> {
        let arrival = self.appended_ms.or((self.reader == self.on).then_some(self.read_ms))?;
        Some((arrival - self.canary.sent_ms) as f64 / 1000.0)
    }
}

/// The newest send time seen per (producing site, receiving site, source partition).
#[derive(Debug, Default, Clone)]
pub struct RpoTracker {
    newest: BTreeMap<(SiteId, SiteId, i32), i64>,
}

impl RpoTracker {
    pub fn observe(&mut self, s: &Sighting) {
        let e = self.newest.entry((s.canary.site, s.on, s.canary.partition)).or_insert(s.canary.sent_ms);
        *e = (*e).max(s.canary.sent_ms);
    }

    /// Seconds between `now_ms` and the send time of the newest canary of `from` seen on `to`,
    /// taking the partition that is furthest behind: every record `from` produced before then
    /// is on `to` (as far as MirrorMaker copies a partition in order). None before any was seen.
    pub fn rpo_seconds(&self, from: SiteId, to: SiteId, now_ms: i64) -> Option<f64> {
        let oldest = self.newest.iter().filter(|((f, t, _), _)| *f == from && *t == to).map(|(_, sent)| *sent).min()?;
        Some(((now_ms - oldest) as f64 / 1000.0).max(0.0))
    }
}

/// What mirrored canaries prove about the clock of the receiving site minus the clock of the
/// producing site. A delay can't be negative, so `appended - sent` is an upper bound; a primary
/// reading its canary back from DR after it arrived gets a lower bound `appended - read`. When
/// the bounds exclude zero the skew is certain; otherwise it hides inside the delay.
#[derive(Debug, Clone, Default)]
pub struct SkewBounds {
    recent: VecDeque<(Option<f64>, Option<f64>)>,
}

/// How many recent canaries the bounds come from (clocks drift; old bounds go stale).
const SKEW_WINDOW: usize = 120;

impl SkewBounds {
    pub fn observe(&mut self, s: &Sighting) {
        let Some(appended) = s.appended_ms else { return };
        let upper = Some((appended - s.canary.sent_ms) as f64 / 1000.0);
        let lower = (s.reader == s.canary.site).then(|| (appended - s.read_ms) as f64 / 1000.0);
        self.recent.push_back((lower, upper));
        if self.recent.len() > SKEW_WINDOW {
            self.recent.pop_front();
        }
    }

    /// The smallest skew the canaries prove (receiving minus producing clock, seconds; negative:
    /// the receiving site is behind), or 0 when none is provable.
    pub fn detected_seconds(&self) -> f64 {
        let lower = self.recent.iter().filter_map(|(l, _)| *l).fold(f64::NEG_INFINITY, f64::max);
        let upper = self.recent.iter().filter_map(|(_, u)| *u).fold(f64::INFINITY, f64::min);
        if lower > 0.0 {
            lower
        } else if upper < 0.0 {
            upper
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(site: SiteId, on: SiteId, reader: SiteId, partition: i32, sent: i64, appended: Option<i64>, read: i64) -> Sighting {
        Sighting { canary: Canary::new(site, Role::Primary, 1, sent, "r", 0, partition), on, appended_ms: appended, read_ms: read, reader }
    }

    #[test]
    fn round_trip_and_foreign_records() {
        let c = Canary::new(SiteId::A, Role::Primary, 3, 1_700_000_000_000, "ab12", 7, 2);
        assert_eq!(Canary::decode(&c.encode()), Some(c.clone()));
        let text = String::from_utf8(c.encode()).unwrap();
        assert!(text.contains(r#""role":"primary""#) && text.contains(r#""site":"a""#), "{text}");
        assert_eq!(Canary::decode(b"testbed-probe"), None);
        assert_eq!(Canary::decode(text.replace(r#""v":1"#, r#""v":9"#).as_bytes()), None);
    }

    #[test]
    fn delay_uses_the_receiving_site_clock() {
        // Appended on b 800 ms after a sent it.
        let s = seen(SiteId::A, SiteId::B, SiteId::B, 0, 10_000, Some(10_800), 10_900);
        assert_eq!(s.delay_seconds(), Some(0.8));
        // CreateTime topic: the reader on b uses its own clock.
        let s = seen(SiteId::A, SiteId::B, SiteId::B, 0, 10_000, None, 10_900);
        assert_eq!(s.delay_seconds(), Some(0.9));
        // ... a reader on a has no clock of b.
        let s = seen(SiteId::A, SiteId::B, SiteId::A, 0, 10_000, None, 10_900);
        assert_eq!(s.delay_seconds(), None);
    }

    #[test]
    fn rpo_follows_the_partition_furthest_behind() {
        let mut t = RpoTracker::default();
        assert_eq!(t.rpo_seconds(SiteId::A, SiteId::B, 50_000), None);
        t.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 10_000, None, 0));
        t.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 1, 14_000, None, 0));
        t.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 16_000, None, 0));
        // An older canary arriving late does not move the newest back.
        t.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 12_000, None, 0));
        assert_eq!(t.rpo_seconds(SiteId::A, SiteId::B, 20_000), Some(6.0));
        // Other flows are kept apart.
        assert_eq!(t.rpo_seconds(SiteId::B, SiteId::A, 20_000), None);
    }

    #[test]
    fn skew_is_reported_only_when_proven() {
        let mut b = SkewBounds::default();
        assert_eq!(b.detected_seconds(), 0.0);
        // b's clock in step: delays positive, a's read-back after arrival.
        b.observe(&seen(SiteId::A, SiteId::B, SiteId::A, 0, 1_000, Some(1_300), 1_500));
        assert_eq!(b.detected_seconds(), 0.0);
        // b's clock 5 s behind: arrival "before" sending.
        let mut behind = SkewBounds::default();
        behind.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 10_000, Some(5_200), 5_300));
        behind.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 11_000, Some(6_400), 6_500));
        assert_eq!(behind.detected_seconds(), -4.8);
        // b's clock 5 s ahead, seen by a reading DR back: arrival after a's own read.
        let mut ahead = SkewBounds::default();
        ahead.observe(&seen(SiteId::A, SiteId::B, SiteId::A, 0, 10_000, Some(15_300), 10_600));
        assert_eq!(ahead.detected_seconds(), 4.7);
        // Without append times nothing is proven.
        let mut none = SkewBounds::default();
        none.observe(&seen(SiteId::A, SiteId::B, SiteId::B, 0, 10_000, None, 5_000));
        assert_eq!(none.detected_seconds(), 0.0);
    }
}
