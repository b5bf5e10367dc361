//! The DR record: the role each site records in its own cluster, and the rules that turn the two records into
//! one answer: who is primary, at which epoch, or split brain.
//!
//! Each site's Kafka namespace holds a ConfigMap [`STATE_CONFIGMAP`] with the site's `role`
//! (primary / standby / fenced), a monotonic `epoch`, the last transition, the mirror direction,
//! the last promotion point and, while a DR operation runs, its journal (so an interrupted
//! operation resumes). Transitions always write the newly promoted site first with the higher
//! epoch, so an interruption between the two writes leaves two primaries at *different* epochs,
//! which the higher epoch resolves; two primaries at the *same* epoch only arise from manual
//! edits or a partitioned unplanned failover run twice, and are reported as split brain.

pub mod store;

use crate::settings::SiteId;
use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub const STATE_CONFIGMAP: &str = "amqdr-dr-state";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Clients are routed here; the mirror copies from here.
    Primary,
    /// Receives the mirror; never routable.
    Standby,
    /// A former primary that lost its role: nothing from it may be copied until failback.
    Fenced,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
            Role::Fenced => "fenced",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "primary" => Some(Role::Primary),
            "standby" => Some(Role::Standby),
            "fenced" => Some(Role::Fenced),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way records flow, if at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    #[serde(rename = "a->b")]
    AToB,
    #[serde(rename = "b->a")]
    BToA,
    #[serde(rename = "none")]
    None,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::AToB => "a->b",
            Direction::BToA => "b->a",
            Direction::None => "none",
        }
    }

    pub fn from_to(source: SiteId, target: SiteId) -> Direction {
        match (source, target) {
            (SiteId::A, SiteId::B) => Direction::AToB,
            (SiteId::B, SiteId::A) => Direction::BToA,
            _ => Direction::None,
        }
    }

    /// (source, target) of a flowing direction.
    pub fn sites(self) -> Option<(SiteId, SiteId)> {
        match self {
            Direction::AToB => Some((SiteId::A, SiteId::B)),
            Direction::BToA => Some((SiteId::B, SiteId::A)),
            Direction::None => None,
        }
    }

    fn parse(text: &str) -> Option<Direction> {
        match text {
            "a->b" => Some(Direction::AToB),
            "b->a" => Some(Direction::BToA),
            "none" => Some(Direction::None),
            _ => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What changed a site's role last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transition {
    Install,
    Failover,
    FailoverUnplanned,
    FailbackPrepare,
    FailbackSync,
    FailbackSwitch,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Install => "install",
            Transition::Failover => "failover",
            Transition::FailoverUnplanned => "failover-unplanned",
            Transition::FailbackPrepare => "failback-prepare",
            Transition::FailbackSync => "failback-sync",
            Transition::FailbackSwitch => "failback-switch",
        }
    }

    fn parse(text: &str) -> Option<Transition> {
        [
            Transition::Install,
            Transition::Failover,
            Transition::FailoverUnplanned,
            Transition::FailbackPrepare,
            Transition::FailbackSync,
            Transition::FailbackSwitch,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

/// End offsets of one partition on both sites at a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionPoint {
    /// End offset on the site that was primary before the switch (None: unreachable then).
    pub old_primary_end: Option<i64>,
    /// End offset on the newly promoted site.
    pub new_primary_end: i64,
}

/// Where the sites stood when the primary role moved: per topic, per partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromotionPoint {
    pub epoch: u64,
    pub at: String,
    pub from: SiteId,
    pub to: SiteId,
    pub unplanned: bool,
    pub topics: BTreeMap<String, BTreeMap<i32, PartitionPoint>>,
}

/// The lag last measured while both sites answered: what an unplanned failover reports as its
/// RPO estimate when production is gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LagObservation {
    pub at: String,
    pub direction: Direction,
    pub records: i64,
    pub seconds: f64,
    /// Records behind per topic and partition.
    #[serde(default)]
    pub partitions: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// How much of production DR did not cover when `status` last looked (read by `serve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageSummary {
    pub at: String,
    /// Topics in scope missing on the standby or with fewer partitions there.
    pub unprotected_topics: usize,
    /// Identities whose KafkaUser or password is not what DR needs on a site.
    pub identity_drift: usize,
}

/// A DR operation under way, so a re-run continues where an interrupted one stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub operation: String,
    pub started: String,
    /// Steps done so far, in order.
    pub done: Vec<String>,
    /// Values a later step needs (e.g. the promotion point taken before the roles flip).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Journal {
    pub fn new(operation: &str) -> Journal {
        Journal { operation: operation.into(), started: now_rfc3339(), done: Vec::new(), values: BTreeMap::new() }
    }

    /// The journal of `operation` in a site's record (resuming: true), or a new one.
    pub fn resume(state: Option<&SiteState>, operation: &str) -> (Journal, bool) {
        match state.and_then(|s| s.journal.clone()) {
            Some(j) if j.operation == operation => (j, true),
            _ => (Journal::new(operation), false),
        }
    }

    pub fn is_done(&self, step: &str) -> bool {
        self.done.iter().any(|s| s == step)
    }
}

/// One site's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteState {
    pub role: Role,
    pub epoch: u64,
    pub last_transition: String,
    pub transition: Transition,
    pub mirror: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<PromotionPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal: Option<Journal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<LagObservation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<CoverageSummary>,
}

impl SiteState {
    /// What `install` records: a primary, b standby, epoch 1, mirroring a -> b.
    pub fn initial(site: SiteId) -> SiteState {
        SiteState {
            role: if site == SiteId::A { Role::Primary } else { Role::Standby },
            epoch: 1,
            last_transition: now_rfc3339(),
            transition: Transition::Install,
            mirror: Direction::AToB,
            promotion: None,
            journal: None,
            observation: None,
            coverage: None,
        }
    }

    /// The ConfigMap `data` of this state.
    pub fn to_data(&self) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        data.insert("role".into(), self.role.to_string());
        data.insert("epoch".into(), self.epoch.to_string());
        data.insert("lastTransition".into(), self.last_transition.clone());
        data.insert("transition".into(), self.transition.as_str().into());
        data.insert("mirrorDirection".into(), self.mirror.to_string());
        if let Some(p) = &self.promotion {
            data.insert("promotionPoint".into(), to_json(p));
        }
        if let Some(j) = &self.journal {
            data.insert("operation".into(), to_json(j));
        }
        if let Some(o) = &self.observation {
            data.insert("lastObservation".into(), to_json(o));
        }
        if let Some(c) = &self.coverage {
            data.insert("lastCoverage".into(), to_json(c));
        }
        data
    }

    /// Parse a ConfigMap's `data`; errors name the key and say how to repair it.
    pub fn from_data(data: &BTreeMap<String, String>) -> Result<SiteState> {
        let get = |key: &str| data.get(key).map(String::as_str).ok_or_else(|| anyhow!("key {key} is missing"));
        let role = Role::parse(get("role")?).ok_or_else(|| anyhow!("role {:?} is not primary, standby or fenced", data["role"]))?;
        let epoch = get("epoch")?.parse::<u64>().map_err(|_| anyhow!("epoch {:?} is not a number", data["epoch"]))?;
        let transition = data.get("transition").and_then(|t| Transition::parse(t)).unwrap_or(Transition::Install);
        let mirror = data.get("mirrorDirection").and_then(|d| Direction::parse(d)).unwrap_or(Direction::AToB);
        fn parse_json<T: serde::de::DeserializeOwned>(data: &BTreeMap<String, String>, key: &str) -> Result<Option<T>> {
            data.get(key).map(|text| serde_json::from_str(text).with_context(|| format!("key {key} is not valid JSON"))).transpose()
        }
        Ok(SiteState {
            role,
            epoch,
            last_transition: data.get("lastTransition").cloned().unwrap_or_default(),
            transition,
            mirror,
            promotion: parse_json(data, "promotionPoint")?,
            journal: parse_json(data, "operation")?,
            observation: parse_json(data, "lastObservation")?,
            coverage: parse_json(data, "lastCoverage")?,
        })
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("DR state values serialize")
}

/// What could be read of one site's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "record", rename_all = "lowercase")]
pub enum SiteRecord {
    /// The site's cluster did not answer (the reason).
    Unreachable { reason: String },
    /// No DR state ConfigMap (installed before DR operations existed, or not installed).
    Missing,
    /// The ConfigMap exists but cannot be parsed.
    Invalid { reason: String },
    Present {
        #[serde(flatten)]
        state: Box<SiteState>,
        #[serde(skip)]
        resource_version: Option<String>,
    },
}

impl SiteRecord {
    pub fn state(&self) -> Option<&SiteState> {
        match self {
            SiteRecord::Present { state, .. } => Some(state),
            _ => None,
        }
    }
}

/// Both sites' records and what they mean together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roles {
    pub a: SiteRecord,
    pub b: SiteRecord,
}

/// The one answer the two records give.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// One primary at the highest epoch (`stale` names a site that still claims primary at an
    /// older epoch: it is fenced by the epoch, whatever its record says).
    Primary { site: SiteId, epoch: u64, stale: Option<SiteId> },
    /// Both claim primary at the same epoch.
    SplitBrain { epoch: u64 },
    /// Neither record says primary (e.g. a failback between its steps with a fenced and b lost).
    NoPrimary { epoch: u64 },
    /// No record could be read on either site.
    Unknown { reason: String },
}

impl Roles {
    pub fn get(&self, site: SiteId) -> &SiteRecord {
        match site {
            SiteId::A => &self.a,
            SiteId::B => &self.b,
        }
    }

    /// The highest epoch either site has recorded (0 when none).
    pub fn epoch(&self) -> u64 {
        SiteId::ALL.iter().filter_map(|s| self.get(*s).state()).map(|s| s.epoch).max().unwrap_or(0)
    }

    pub fn verdict(&self) -> Verdict {
        let states: Vec<(SiteId, &SiteState)> = SiteId::ALL.iter().filter_map(|s| self.get(*s).state().map(|st| (*s, st))).collect();
        if states.is_empty() {
            let reason = SiteId::ALL
                .iter()
                .map(|s| match self.get(*s) {
                    SiteRecord::Unreachable { reason } => format!("site {s} unreachable ({reason})"),
                    SiteRecord::Invalid { reason } => format!("site {s}: invalid {STATE_CONFIGMAP} ({reason})"),
                    _ => format!("site {s}: no {STATE_CONFIGMAP}"),
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Verdict::Unknown { reason };
        }
        let epoch = self.epoch();
        let primaries: Vec<(SiteId, u64)> =
            states.iter().filter(|(_, s)| s.role == Role::Primary).map(|(site, s)| (*site, s.epoch)).collect();
        match primaries.as_slice() {
            [] => Verdict::NoPrimary { epoch },
            [(site, e)] => Verdict::Primary { site: *site, epoch: *e, stale: None },
            [(_, e1), (_, e2)] if e1 == e2 => Verdict::SplitBrain { epoch: *e1 },
            [(s1, e1), (s2, e2)] => {
                let ((win, we), (lose, _)) = if e1 > e2 { ((*s1, *e1), (*s2, *e2)) } else { ((*s2, *e2), (*s1, *e1)) };
                Verdict::Primary { site: win, epoch: we, stale: Some(lose) }
            }
            _ => unreachable!("two sites"),
        }
    }

    /// The site that is primary, or an error saying why there is none, with the fix.
    pub fn primary(&self) -> Result<(SiteId, u64)> {
        match self.verdict() {
            Verdict::Primary { site, epoch, .. } => Ok((site, epoch)),
            Verdict::SplitBrain { epoch } => Err(split_brain_error(epoch)),
            Verdict::NoPrimary { epoch } => Err(anyhow!(
                "neither site is primary (epoch {epoch})\n  fix: finish the failback that was under way (`amqdr failback switch`), or see `amqdr status`"
            )),
            Verdict::Unknown { reason } => Err(anyhow!(
                "the DR roles are unknown: {reason}\n  fix: run `amqdr install` (it records a=primary, b=standby), or make a site reachable"
            )),
        }
    }
}

impl Roles {
    /// Sites the application may not write to: recorded fenced, or claiming primary at an older
    /// epoch than the other site's (fenced by the epoch).
    pub fn fenced_sites(&self) -> Vec<SiteId> {
        let stale = match self.verdict() {
            Verdict::Primary { stale, .. } => stale,
            _ => None,
        };
        SiteId::ALL.into_iter().filter(|s| stale == Some(*s) || self.get(*s).state().is_some_and(|st| st.role == Role::Fenced)).collect()
    }
}

pub fn split_brain_error(epoch: u64) -> anyhow::Error {
    anyhow!(
        "split brain: both sites claim primary at epoch {epoch}; clients may be writing to both and the mirror must not run\n  fix: decide which site keeps the data clients must see, stop clients on the other, then record it: `amqdr failover --unplanned --force` promotes b, or `amqdr failback prepare` fences a after a has been made standby by hand (kubectl edit configmap {STATE_CONFIGMAP}: role=fenced)"
    )
}

pub fn now_rfc3339() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(role: Role, epoch: u64) -> SiteRecord {
        let mut s = SiteState::initial(SiteId::A);
        s.role = role;
        s.epoch = epoch;
        SiteRecord::Present { state: Box::new(s), resource_version: None }
    }

    #[test]
    fn install_roles() {
        let roles = Roles {
            a: SiteRecord::Present { state: Box::new(SiteState::initial(SiteId::A)), resource_version: None },
            b: SiteRecord::Present { state: Box::new(SiteState::initial(SiteId::B)), resource_version: None },
        };
        assert_eq!(roles.verdict(), Verdict::Primary { site: SiteId::A, epoch: 1, stale: None });
        assert_eq!(roles.primary().unwrap(), (SiteId::A, 1));
    }

    #[test]
    fn higher_epoch_wins_over_a_stale_primary() {
        // Unplanned failover while a was unreachable: a still says primary at epoch 1.
        let roles = Roles { a: state(Role::Primary, 1), b: state(Role::Primary, 2) };
        assert_eq!(roles.verdict(), Verdict::Primary { site: SiteId::B, epoch: 2, stale: Some(SiteId::A) });
        let roles = Roles { a: state(Role::Primary, 3), b: state(Role::Primary, 2) };
        assert_eq!(roles.verdict(), Verdict::Primary { site: SiteId::A, epoch: 3, stale: Some(SiteId::B) });
    }

    #[test]
    fn same_epoch_primaries_are_split_brain() {
        let roles = Roles { a: state(Role::Primary, 2), b: state(Role::Primary, 2) };
        assert_eq!(roles.verdict(), Verdict::SplitBrain { epoch: 2 });
        let e = roles.primary().unwrap_err().to_string();
        assert!(e.contains("split brain") && e.contains("fix:"), "{e}");
    }

    #[test]
    fn one_site_unreachable_uses_the_other() {
        let roles = Roles { a: SiteRecord::Unreachable { reason: "connection refused".into() }, b: state(Role::Standby, 1) };
        assert_eq!(roles.verdict(), Verdict::NoPrimary { epoch: 1 });
        let roles = Roles { a: SiteRecord::Unreachable { reason: "x".into() }, b: state(Role::Primary, 2) };
        assert_eq!(roles.primary().unwrap(), (SiteId::B, 2));
        let none = Roles { a: SiteRecord::Missing, b: SiteRecord::Unreachable { reason: "timeout".into() } };
        assert!(matches!(none.verdict(), Verdict::Unknown { .. }));
        assert!(none.primary().unwrap_err().to_string().contains("amqdr install"));
    }

    #[test]
    fn configmap_data_round_trip() {
        let mut s = SiteState::initial(SiteId::B);
        s.promotion = Some(PromotionPoint {
            epoch: 2,
            at: now_rfc3339(),
            from: SiteId::A,
            to: SiteId::B,
            unplanned: false,
            topics: BTreeMap::from([(
                "my-topic".to_string(),
                BTreeMap::from([(0, PartitionPoint { old_primary_end: Some(10), new_primary_end: 12 })]),
            )]),
        });
        s.journal = Some(Journal::new("failover"));
        let data = s.to_data();
        assert_eq!(data["role"], "standby");
        assert_eq!(data["mirrorDirection"], "a->b");
        assert_eq!(SiteState::from_data(&data).unwrap(), s);
        let mut bad = data.clone();
        bad.insert("epoch".into(), "two".into());
        assert!(SiteState::from_data(&bad).unwrap_err().to_string().contains("epoch"));
        bad.remove("role");
        assert!(SiteState::from_data(&bad).unwrap_err().to_string().contains("role"));
    }
}
