//! `amqdr failover`: the DR site becomes primary.
//!
//! Planned (production answers): wait until production is quiet, until every record is on DR,
//! stop the mirror, record the promotion point, move consumer groups, flip the roles — nothing is
//! lost. Unplanned (production is gone): stop the mirror, move groups from MirrorMaker 2's
//! checkpoints, flip the roles, and report the last observed lag as the RPO estimate.
//!
//! The switch itself ([`planned_switch`]) also serves `failback switch`, in the other direction.
//! Its progress is journaled in the promoted site's DR record, so an interrupted run continues.

use super::mirror::{self, RunState};
use super::offsets::{self, Derivation, PartitionMove};
use super::rights;
use super::runbook::{Journaled, Runbook, Step, StepReport, confirm};
use super::sites;
use super::{Dr, refuse};
use crate::acl::SiteRights;
use crate::error::TimedOut;
use crate::kafka::blocking;
use crate::kafka::lag;
use crate::kafka::site::{GroupInfo, KafkaSite, MirrorFilter, Offsets, Tp};
use crate::kube::conditions::Condition;
use crate::kube::conditions::{Readiness, evaluate};
use crate::profile::MirrorKind;
use crate::record::{
    Direction, Journal, PartitionPoint, PromotionPoint, Role, SiteState, Transition, Verdict, now_rfc3339, split_brain_error,
};
use crate::render::MirrorFlow;
use crate::settings::SiteId;
use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct FailoverOptions {
    pub unplanned: bool,
    pub force: bool,
    pub accept_data_loss: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// Production counts as quiet after this long without new records or group members.
    pub quiet_period: Duration,
    /// Subtracted from a timestamp before looking up offsets by time (MirrorMaker 1).
    pub offset_margin: Duration,
    /// Limit of each wait.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartitionOutcome {
    pub topic: String,
    pub partition: i32,
    /// End offset on the old primary at the switch (None: it was unreachable).
    pub old_primary_end: Option<i64>,
    /// Last offset on the new primary (its end offset).
    pub new_primary_end: i64,
    /// Records that never reached the new primary: 0 after a planned switch; the last observed
    /// lag after an unplanned one (None: never observed).
    pub lost: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupOutcome {
    pub group: String,
    pub result: GroupResult,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub partitions: Vec<PartitionMove>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupResult {
    Moved,
    Unchanged,
    Skipped,
}

impl std::fmt::Display for GroupResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupResult::Moved => "moved",
            GroupResult::Unchanged => "unchanged",
            GroupResult::Skipped => "skipped",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rpo {
    pub records: Option<i64>,
    pub seconds: Option<f64>,
    /// When the lag was last measured, and how.
    pub observed_at: Option<String>,
    pub basis: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SwitchReport {
    pub operation: String,
    /// ok / already-done / dry-run
    pub result: String,
    pub planned: bool,
    pub from: SiteId,
    pub to: SiteId,
    pub epoch: u64,
    /// Duration of the whole operation (all steps): its RTO.
    pub rto_seconds: f64,
    pub rpo: Rpo,
    pub steps: Vec<StepReport>,
    pub partitions: Vec<PartitionOutcome>,
    pub groups: Vec<GroupOutcome>,
}

/// The Kafka Ready condition of a site (the operator's status, at the current generation).
pub async fn kafka_ready(dr: &Dr, site: SiteId) -> Result<Readiness> {
    let st = dr.settings().site(site);
    let cluster = dr.cluster(site)?;
    let kafka =
        crate::kube::apply::get(cluster, dr.settings().profile.api_version(), "Kafka", Some(&st.kafka_namespace), &st.cluster_name).await?;
    Ok(match kafka {
        None => Readiness::Pending(format!("Kafka {}/{} does not exist", st.kafka_namespace, st.cluster_name)),
        Some(k) => evaluate(Condition::Ready, &k),
    })
}

/// Mirrored topics of the old primary (what the switch covers).
async fn mirrored_topics(k: &Arc<KafkaSite>, filter: &MirrorFilter) -> Result<BTreeMap<String, i32>> {
    let (k, f) = (k.clone(), filter.clone());
    blocking(move || k.topics(&f)).await
}

/// Wait until the old primary is quiet: no new records on mirrored topics and no group with
/// members, for `period` on end (the seed's maintenance window, observed rather than assumed).
async fn wait_quiet(k: Arc<KafkaSite>, filter: MirrorFilter, period: Duration, timeout: Duration) -> Result<String> {
    blocking(move || {
        let deadline = Instant::now() + timeout;
        let mut last: Option<Offsets> = None;
        let mut quiet_since = Instant::now();
        loop {
            let topics = k.topics(&filter)?;
            let ends = k.ends(&topics)?;
            let active: Vec<GroupInfo> = k.groups()?.into_iter().filter(|g| filter.group(&g.name) && !g.is_empty()).collect();
            let moved = last.as_ref().is_some_and(|l| *l != ends);
            if moved || !active.is_empty() {
                quiet_since = Instant::now();
            }
            let total: i64 = ends.values().sum();
            last = Some(ends);
            if quiet_since.elapsed() >= period {
                return Ok(format!(
                    "no new records on {} topic(s) and no consumer group active for {:.0}s (sum of end offsets {total})",
                    topics.len(),
                    period.as_secs_f64()
                ));
            }
            if Instant::now() > deadline {
                let why = if active.is_empty() {
                    "records are still being produced to mirrored topics".to_string()
                } else {
                    format!(
                        "consumer groups still have members: {}",
                        active.iter().map(|g| format!("{} ({} members)", g.name, g.members)).collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(anyhow::Error::new(TimedOut(format!(
                    "site {} did not become quiet within {}s: {why}; stop producers and consumers (the maintenance window) and re-run",
                    k.conn.label,
                    timeout.as_secs()
                ))));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    })
    .await
}

/// Wait until the target has every record of the source: lag 0 by offsets and each source
/// partition's newest record present on the target.
async fn wait_drained(
    source: Arc<KafkaSite>,
    target: Arc<KafkaSite>,
    topics: BTreeMap<String, i32>,
    kind: MirrorKind,
    mm1_group: String,
    timeout: Duration,
) -> Result<String> {
    blocking(move || {
        let deadline = Instant::now() + timeout;
        loop {
            let lags = lag::measure(&source, &target, &topics, kind, &mm1_group)?;
            let (records, _) = lag::rpo(&lags);
            let missing = if records == 0 { lag::newest_records_missing(&source, &target, &topics, kind)? } else { Vec::new() };
            if records == 0 && missing.is_empty() {
                let total: i64 = lags.iter().map(|l| l.source_end).sum();
                return Ok(format!(
                    "every record of {} partition(s) is on site {} (sum of end offsets {total})",
                    lags.len(),
                    target.conn.label
                ));
            }
            if Instant::now() > deadline {
                let what = if records > 0 {
                    format!("{records} record(s) still not mirrored")
                } else {
                    format!(
                        "the newest record of {} is not on the target",
                        missing.iter().map(|(t, p)| format!("{t}/{p}")).collect::<Vec<_>>().join(", ")
                    )
                };
                return Err(anyhow::Error::new(TimedOut(format!(
                    "site {} did not catch up with site {} within {}s: {what}; is the mirror running (`amqdr status`)?",
                    target.conn.label,
                    source.conn.label,
                    timeout.as_secs()
                ))));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    })
    .await
}

/// End offsets of both sites over the old primary's mirrored topics.
async fn promotion_point(
    old: Option<Arc<KafkaSite>>,
    new: Arc<KafkaSite>,
    topics: BTreeMap<String, i32>,
    epoch: u64,
    from: SiteId,
    to: SiteId,
    unplanned: bool,
) -> Result<PromotionPoint> {
    blocking(move || {
        let old_ends = match &old {
            Some(k) => Some(k.ends(&topics)?),
            None => None,
        };
        let new_topics = new.topics_named(topics.keys())?;
        let new_ends = new.ends(&new_topics)?;
        let mut out: BTreeMap<String, BTreeMap<i32, PartitionPoint>> = BTreeMap::new();
        for (topic, count) in &topics {
            for p in 0..*count {
                let tp = (topic.clone(), p);
                out.entry(topic.clone()).or_default().insert(
                    p,
                    PartitionPoint {
                        old_primary_end: old_ends.as_ref().and_then(|e| e.get(&tp).copied()),
                        new_primary_end: new_ends.get(&tp).copied().unwrap_or(0),
                    },
                );
            }
        }
        Ok(PromotionPoint { epoch, at: now_rfc3339(), from, to, unplanned, topics: out })
    })
    .await
}

/// Move the consumer groups of the old primary to the new one. `old` is None when it is
/// unreachable: then only MirrorMaker 2's checkpoints on the new primary say where groups were.
pub async fn move_groups(
    dr: &Dr,
    old: Option<Arc<KafkaSite>>,
    new: Arc<KafkaSite>,
    topics: BTreeMap<String, i32>,
    margin: Duration,
) -> Result<Vec<GroupOutcome>> {
    let (filter, kind) = (dr.filter.clone(), dr.kind);
    blocking(move || {
        let new_groups: BTreeMap<String, GroupInfo> = new.groups()?.into_iter().map(|g| (g.name.clone(), g)).collect();
        let checkpoints = match kind {
            MirrorKind::KafkaMirrorMaker2 => new.checkpoints(&mirror::checkpoints_topic())?,
            MirrorKind::KafkaMirrorMaker => BTreeMap::new(),
        };
        let names: Vec<String> = match &old {
            Some(k) => k.groups()?.into_iter().map(|g| g.name).filter(|g| filter.group(g)).collect(),
            None => {
                let mut v: Vec<String> = checkpoints.keys().map(|(g, _)| g.clone()).filter(|g| filter.group(g)).collect();
                v.dedup();
                v
            }
        };
        let new_topics = new.topics_named(topics.keys())?;
        let new_ends = new.ends(&new_topics)?;
        let partitions: Vec<Tp> = topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
        let old_ends = match &old {
            Some(k) => k.ends(&topics)?,
            None => Offsets::new(),
        };
        let margin_ms = margin.as_millis() as i64;
        let mut out = Vec::new();
        for group in names {
            if new_groups.get(&group).is_some_and(|g| !g.is_empty()) {
                out.push(GroupOutcome {
                    group: group.clone(),
                    result: GroupResult::Skipped,
                    reason: format!("it has members on site {}: offsets of an active group are its own", new.conn.label),
                    partitions: Vec::new(),
                });
                continue;
            }
            let before = new.committed(&group, &partitions)?;
            let moves: Vec<PartitionMove> = match (&old, kind) {
                (Some(old), MirrorKind::KafkaMirrorMaker2) => {
                    let committed = old.committed(&group, &partitions)?;
                    let cps: BTreeMap<Tp, _> =
                        checkpoints.iter().filter(|((g, _), _)| *g == group).map(|((_, tp), c)| (tp.clone(), *c)).collect();
                    let mut by_time = BTreeMap::new();
                    for (tp, c) in &committed {
                        let needs_time = *c < old_ends.get(tp).copied().unwrap_or(0) && cps.get(tp).is_none_or(|cp| cp.upstream > *c);
                        if needs_time && let Some(ts) = old.read(tp, *c, *c + 1)?.first().and_then(|r| r.timestamp) {
                            let found = new.offsets_for_time(std::slice::from_ref(tp), ts - margin_ms, &new_ends)?;
                            by_time.insert(tp.clone(), (found.get(tp).copied().unwrap_or(0), ts, margin_ms));
                        }
                    }
                    offsets::identity_moves(&partitions, &committed, &old_ends, &new_ends, &before, &cps, &by_time)
                        .into_iter()
                        .filter(|m| m.source_offset.is_some())
                        .collect()
                }
                (Some(old), MirrorKind::KafkaMirrorMaker) => {
                    mm1_moves(old, &new, &group, &partitions, &old_ends, &new_ends, &before, margin_ms)?
                }
                (None, MirrorKind::KafkaMirrorMaker2) => partitions
                    .iter()
                    .filter_map(|tp| {
                        let cp = checkpoints.get(&(group.clone(), tp.clone()))?;
                        let b = before.get(tp).copied();
                        let (after, derivation) = match b {
                            Some(b) if b >= cp.downstream => (b, Derivation::AlreadyAhead { derived: cp.downstream }),
                            _ => (cp.downstream, Derivation::Checkpoint { upstream: cp.upstream, downstream: cp.downstream }),
                        };
                        Some(PartitionMove {
                            topic: tp.0.clone(),
                            partition: tp.1,
                            source_offset: Some(cp.upstream),
                            source_end: -1,
                            target_before: b,
                            target_after: Some(after),
                            derivation,
                        })
                    })
                    .collect(),
                (None, MirrorKind::KafkaMirrorMaker) => Vec::new(),
            };
            let commit: Offsets = moves
                .iter()
                .filter_map(|m| match m.target_after {
                    Some(a) if Some(a) != m.target_before => Some(((m.topic.clone(), m.partition), a)),
                    _ => None,
                })
                .collect();
            new.commit(&group, &commit)?;
            out.push(GroupOutcome {
                group,
                result: if commit.is_empty() { GroupResult::Unchanged } else { GroupResult::Moved },
                reason: String::new(),
                partitions: moves,
            });
        }
        Ok(out)
    })
    .await
}

/// MirrorMaker 1 re-partitions by key, so a group's position maps by time, not by partition:
/// every target partition of the topic resumes at the oldest unread record's timestamp minus the
/// margin (re-reads, never skips); a group that finished every partition resumes at the end.
#[allow(clippy::too_many_arguments)]
fn mm1_moves(
    old: &KafkaSite,
    new: &KafkaSite,
    group: &str,
    partitions: &[Tp],
    old_ends: &Offsets,
    new_ends: &Offsets,
    before: &Offsets,
    margin_ms: i64,
) -> Result<Vec<PartitionMove>> {
    let committed = old.committed(group, partitions)?;
    let mut out = Vec::new();
    let topics: std::collections::BTreeSet<&String> = committed.keys().map(|(t, _)| t).collect();
    for topic in topics {
        let mut positions = Vec::new();
        for ((t, p), c) in committed.iter().filter(|((t, _), _)| t == topic) {
            let end = old_ends.get(&(t.clone(), *p)).copied().unwrap_or(0);
            let ts = if *c < end { old.read(&(t.clone(), *p), *c, *c + 1)?.first().and_then(|r| r.timestamp) } else { None };
            positions.push(((t.clone(), *p), *c, end, ts));
        }
        let resume = offsets::resume_timestamp(&positions);
        let targets: Vec<Tp> = new_ends.keys().filter(|(t, _)| t == topic).cloned().collect();
        let by_time = match resume {
            Some(ts) => new.offsets_for_time(&targets, ts - margin_ms, new_ends)?,
            None => Offsets::new(),
        };
        for tp in targets {
            let (derived, derivation) = match resume {
                None => (new_ends[&tp], Derivation::CaughtUp),
                Some(ts) => (by_time.get(&tp).copied().unwrap_or(new_ends[&tp]), Derivation::Timestamp { timestamp_ms: ts, margin_ms }),
            };
            let b = before.get(&tp).copied();
            let (after, derivation) = match b {
                Some(b) if b >= derived => (b, Derivation::AlreadyAhead { derived }),
                _ => (derived, derivation),
            };
            out.push(PartitionMove {
                topic: tp.0.clone(),
                partition: tp.1,
                source_offset: positions.iter().map(|(_, c, _, _)| *c).min(),
                source_end: positions.iter().map(|(_, _, e, _)| *e).sum(),
                target_before: b,
                target_after: Some(after),
                derivation,
            });
        }
    }
    Ok(out)
}

/// Record the new roles: the promoted site first (higher epoch), then the other one when
/// reachable. An interruption between the two leaves two primaries at different epochs, which
/// the higher epoch resolves.
async fn flip_roles(
    dr: &Dr,
    to: SiteId,
    demoted_role: Role,
    epoch: u64,
    transition: Transition,
    promotion: &PromotionPoint,
    mirror_after: Direction,
) -> Result<String> {
    let at = now_rfc3339();
    // A new record for each site: the journal, the lag observed and the coverage are the old role's.
    let record = |role: Role| SiteState {
        role,
        epoch,
        last_transition: at.clone(),
        transition,
        mirror: mirror_after,
        promotion: Some(promotion.clone()),
        journal: None,
        observation: None,
        coverage: None,
    };
    let new_site = dr.sites.get(to);
    let (_, rv) = sites::reread(new_site, dr.settings()).await?;
    sites::write_record(new_site, dr.settings(), &record(Role::Primary), rv.as_deref()).await?;
    let old_site = dr.sites.get(to.other());
    if old_site.kube.is_err() {
        return Ok(format!("site {to} primary at epoch {epoch}; site {} unreachable: its record is fenced by the epoch", to.other()));
    }
    let rv = match sites::read_record(old_site, dr.settings()).await {
        crate::record::SiteRecord::Present { resource_version, .. } => resource_version,
        _ => None,
    };
    sites::write_record(old_site, dr.settings(), &record(demoted_role), rv.as_deref()).await?;
    Ok(format!("site {to} primary, site {} {demoted_role}, epoch {epoch}", to.other()))
}

fn partition_outcomes(p: &PromotionPoint, lost: impl Fn(&str, i32) -> Option<i64>) -> Vec<PartitionOutcome> {
    p.topics
        .iter()
        .flat_map(|(topic, parts)| {
            parts.iter().map(|(part, pt)| PartitionOutcome {
                topic: topic.clone(),
                partition: *part,
                old_primary_end: pt.old_primary_end,
                new_primary_end: pt.new_primary_end,
                lost: lost(topic, *part),
            })
        })
        .collect()
}

/// "2 group(s) moved, 1 skipped" (unchanged ones are not counted).
fn group_summary(groups: &[GroupOutcome]) -> String {
    let count = |r: GroupResult| groups.iter().filter(|g| g.result == r).count();
    format!("{} group(s) moved, {} skipped", count(GroupResult::Moved), count(GroupResult::Skipped))
}

/// What a planned switch from `from` to `to` produces, for the caller's report.
pub struct Switched {
    pub promotion: Option<PromotionPoint>,
    pub groups: Vec<GroupOutcome>,
    pub epoch: u64,
}

/// The planned switch: quiesce `from`, drain into `to`, stop the mirror into `to`, record the
/// promotion point, move groups, flip roles (`from` becomes `demoted_role`).
#[allow(clippy::too_many_arguments)]
pub async fn planned_switch(
    dr: &Dr,
    book: &mut Runbook,
    from: SiteId,
    to: SiteId,
    demoted_role: Role,
    transition: Transition,
    options: &FailoverOptions,
    journal: &mut Journal,
    epoch: u64,
) -> Result<Switched> {
    let old = dr.kafka(from).await?;
    let new = dr.kafka(to).await?;
    let topics = mirrored_topics(&old, &dr.filter).await?;
    // What the switch applies (the stopped mirror, the moved rights) comes from the sites'
    // Secrets: a site without them refuses now, before production is quiesced.
    let material = dr.material().await?;

    let mut steps = Journaled::new(dr, to, book, journal);
    let quiet = format!("wait until site {from} has no new records and no active consumer group for {:?}", options.quiet_period);
    steps
        .run(Step::Quiesce, &quiet, async {
            Ok(((), wait_quiet(old.clone(), dr.filter.clone(), options.quiet_period, options.timeout).await?))
        })
        .await?;
    steps
        .run(Step::Drain, &format!("wait until every record of site {from} is on site {to}"), async {
            Ok(((), wait_drained(old.clone(), new.clone(), topics.clone(), dr.kind, dr.mm1_group(), options.timeout).await?))
        })
        .await?;
    steps
        .run(Step::StopMirror, &format!("stop the mirror {from} -> {to} (kept, not deleted)"), async {
            let cluster = dr.cluster(to)?;
            let flow = MirrorFlow { source: from, target: to, running: false, alter_offsets_from: None };
            let observed = mirror::observe(cluster, dr.settings(), to).await?;
            let source = observed.source.clone().ok_or_else(|| anyhow!("the mirror into site {to} names no source"))?;
            mirror::apply_flow(cluster, dr.settings(), &material, &flow, &source).await?;
            mirror::wait_state(cluster, dr.settings(), to, RunState::Stopped, options.timeout).await?;
            Ok(((), format!("the mirror {from} -> {to} is stopped")))
        })
        .await?;
    let rights_plan = if demoted_role == Role::Fenced {
        format!("withdraw the application's Write on site {from} (fenced), grant it on site {to}")
    } else {
        format!("grant the application Write on site {to}")
    };
    steps
        .run(Step::Rights, &rights_plan, async {
            let mirror = crate::plan::Posture::of_roles(&dr.sites.roles().await).rights(to).mirror;
            let mut done = Vec::new();
            if demoted_role == Role::Fenced {
                done.push(rights::apply(dr, from, SiteRights { mirror, fenced: true }, rights::Enforce::Await, options.timeout).await?);
            }
            done.push(rights::apply(dr, to, SiteRights { mirror, fenced: false }, rights::Enforce::Await, options.timeout).await?);
            Ok(((), done.join("; ")))
        })
        .await?;
    steps
        .run(Step::PromotionPoint, "record both sites' end offsets", async {
            let p = promotion_point(Some(old.clone()), new.clone(), topics.clone(), epoch, from, to, false).await?;
            let n: usize = p.topics.values().map(|t| t.len()).sum();
            Ok((p, format!("{n} partition(s)")))
        })
        .await?;
    let groups = steps
        .run(Step::MoveGroups, &format!("move consumer groups to site {to} (empty groups only, forward only)"), async {
            let g = move_groups(dr, Some(old.clone()), new.clone(), topics.clone(), options.offset_margin).await?;
            Ok((g.clone(), group_summary(&g)))
        })
        .await?
        .unwrap_or_default();
    let promotion: Option<PromotionPoint> = steps.value(Step::PromotionPoint);
    // Not journaled: the flip writes both records anew, which ends the journal.
    steps
        .book
        .step(Step::FlipRoles, &format!("site {to} primary at epoch {epoch}, site {from} {demoted_role}"), async {
            let p = promotion.clone().ok_or_else(|| anyhow!("no promotion point was recorded"))?;
            Ok(((), flip_roles(dr, to, demoted_role, epoch, transition, &p, Direction::None).await?))
        })
        .await?;
    Ok(Switched { promotion, groups, epoch })
}

/// `amqdr failover`.
pub async fn failover(dr: &Dr, options: &FailoverOptions) -> Result<SwitchReport> {
    let roles = dr.sites.roles().await;
    let operation = if options.unplanned { "failover-unplanned" } else { "failover" };
    let b_state = roles.b.state().cloned();
    let (mut journal, resuming) = Journal::resume(b_state.as_ref(), operation);
    let verdict = roles.verdict();
    match &verdict {
        Verdict::Primary { site: SiteId::B, epoch, .. } if !resuming => {
            return Ok(SwitchReport {
                operation: operation.into(),
                result: "already-done".into(),
                planned: !options.unplanned,
                from: SiteId::A,
                to: SiteId::B,
                epoch: *epoch,
                rto_seconds: 0.0,
                rpo: Rpo { records: None, seconds: None, observed_at: None, basis: format!("site b is primary since epoch {epoch}") },
                steps: Vec::new(),
                partitions: Vec::new(),
                groups: Vec::new(),
            });
        }
        Verdict::SplitBrain { epoch } => return Err(refuse(split_brain_error(*epoch).to_string(), "see `amqdr status`")),
        Verdict::Primary { site: SiteId::A, .. } => {}
        Verdict::Primary { .. } => {}
        Verdict::NoPrimary { .. } | Verdict::Unknown { .. } => {
            roles.primary()?;
        }
    }
    let epoch = roles.epoch() + 1;
    let mut book = Runbook::new(operation, options.dry_run);

    if options.unplanned {
        return unplanned(dr, options, &mut book, &mut journal, resuming, epoch, b_state.as_ref()).await;
    }

    // Preflight: both sites, DR Ready, the mirror running, roles as expected.
    if !resuming {
        for site in SiteId::ALL {
            dr.cluster(site)
                .map_err(|e| refuse(format!("{e:#}"), "a planned failover needs both sites; if production is down use --unplanned"))?;
        }
        if let Readiness::Pending(why) = kafka_ready(dr, SiteId::B).await? {
            return Err(refuse(
                format!("the DR site's Kafka is not Ready: {why}"),
                "fix site b first (`amqdr status`); failing over to it now would lose service",
            ));
        }
        let observed = mirror::observe(dr.cluster(SiteId::B)?, dr.settings(), SiteId::B).await?;
        if observed.state != RunState::Running {
            return Err(refuse(
                format!("the mirror a -> b is {} ({}), so DR may be missing records", observed.state.as_str(), observed.detail),
                "start it (`amqdr mirror deploy`) and let it catch up, or use --unplanned --accept-data-loss",
            ));
        }
    }
    let rpo_now = current_rpo(dr, SiteId::A, SiteId::B).await;
    let question = format!(
        "Fail over from site a to site b (planned; current lag {})?",
        rpo_now.as_ref().map(|(r, s)| format!("{r} records, {s:.1}s")).unwrap_or_else(|e| format!("unknown: {e}"))
    );
    if !options.dry_run {
        confirm(&question, options.yes)?;
    }
    let switched =
        planned_switch(dr, &mut book, SiteId::A, SiteId::B, Role::Fenced, Transition::Failover, options, &mut journal, epoch).await?;
    super::users::switch_step(dr, &mut book).await;
    let partitions = switched.promotion.as_ref().map(|p| partition_outcomes(p, |_, _| Some(0))).unwrap_or_default();
    Ok(SwitchReport {
        operation: operation.into(),
        result: if options.dry_run { "dry-run" } else { "ok" }.into(),
        planned: true,
        from: SiteId::A,
        to: SiteId::B,
        epoch,
        rto_seconds: book.seconds(),
        rpo: match (options.dry_run, rpo_now) {
            (true, Ok((r, s))) => Rpo {
                records: Some(r),
                seconds: Some(s),
                observed_at: Some(now_rfc3339()),
                basis: "current lag of a -> b (dry run: nothing changed)".into(),
            },
            (true, Err(e)) => Rpo { records: None, seconds: None, observed_at: None, basis: format!("current lag unknown: {e:#}") },
            (false, Ok((r, s))) => Rpo {
                records: Some(0),
                seconds: Some(0.0),
                observed_at: None,
                basis: format!("planned: production was drained ({r} records, {s:.1}s behind when the failover started)"),
            },
            (false, Err(_)) => {
                Rpo { records: Some(0), seconds: Some(0.0), observed_at: None, basis: "planned: production was drained".into() }
            }
        },
        steps: book.steps,
        partitions,
        groups: switched.groups,
    })
}

/// The flow's current lag (records, seconds).
pub async fn current_rpo(dr: &Dr, from: SiteId, to: SiteId) -> Result<(i64, f64)> {
    let (s, t) = (dr.kafka(from).await?, dr.kafka(to).await?);
    let topics = mirrored_topics(&s, &dr.filter).await?;
    let (kind, group) = (dr.kind, dr.mm1_group());
    let lags = blocking(move || lag::measure(&s, &t, &topics, kind, &group)).await?;
    Ok(lag::rpo(&lags))
}

#[allow(clippy::too_many_arguments)]
async fn unplanned(
    dr: &Dr,
    options: &FailoverOptions,
    book: &mut Runbook,
    journal: &mut Journal,
    resuming: bool,
    epoch: u64,
    b_state: Option<&SiteState>,
) -> Result<SwitchReport> {
    dr.cluster(SiteId::B).map_err(|e| refuse(format!("{e:#}"), "the DR site must be reachable to fail over to it"))?;
    if !resuming {
        if let Readiness::Pending(why) = kafka_ready(dr, SiteId::B).await? {
            return Err(refuse(format!("the DR site's Kafka is not Ready: {why}"), "fix site b first (`amqdr status`)"));
        }
        if !options.force
            && let Ok(k) = dr.kafka(SiteId::A).await
        {
            return Err(refuse(
                format!("production (site a) answers at {}: an unplanned failover would lose what is not mirrored yet", k.conn.bootstrap),
                "use a planned failover (drop --unplanned), or add --force if site a answers but cannot serve",
            ));
        }
    }
    let observation = b_state.and_then(|s| s.observation.clone());
    let observed_zero = observation.as_ref().is_some_and(|o| o.records == 0);
    if !observed_zero && !options.accept_data_loss {
        let last = match &observation {
            Some(o) => format!("the last observed lag was {} records, {:.1}s (at {})", o.records, o.seconds, o.at),
            None => "no lag was ever observed (run `amqdr status` regularly, or `amqdr serve`, to record it)".into(),
        };
        return Err(refuse(format!("an unplanned failover may lose records: {last}"), "add --accept-data-loss to fail over anyway"));
    }
    if !options.dry_run {
        confirm("Fail over to site b without production (unplanned)?", options.yes)?;
    }
    let new = dr.kafka(SiteId::B).await?;
    let old = if options.force { dr.kafka(SiteId::A).await.ok() } else { None };

    let mut steps = Journaled::new(dr, SiteId::B, book, journal);
    steps
        .run(Step::StopMirror, "stop the mirror a -> b so nothing of site a reaches site b any more", async {
            let cluster = dr.cluster(SiteId::B)?;
            let material = dr.material().await?;
            let observed = mirror::observe(cluster, dr.settings(), SiteId::B).await?;
            if observed.state == RunState::Missing {
                return Ok(((), "no mirror in site b".to_string()));
            }
            let source = observed.source.clone().unwrap_or_default();
            mirror::apply_flow(cluster, dr.settings(), &material, &MirrorFlow::forward(false), &source).await?;
            mirror::wait_state(cluster, dr.settings(), SiteId::B, RunState::Stopped, options.timeout).await?;
            Ok(((), "the mirror a -> b is stopped".to_string()))
        })
        .await?;

    // The topics are the DR site's copies: production's list is out of reach.
    let topics = mirrored_topics(&new, &dr.filter).await?;
    steps
        .run(Step::PromotionPoint, "record the DR site's end offsets", async {
            let p = promotion_point(old.clone(), new.clone(), topics.clone(), epoch, SiteId::A, SiteId::B, true).await?;
            let n: usize = p.topics.values().map(|t| t.len()).sum();
            Ok((p, format!("{n} partition(s)")))
        })
        .await?;

    let groups = if dr.kind == MirrorKind::KafkaMirrorMaker && old.is_none() && !steps.is_done(Step::MoveGroups) {
        steps.book.skipped(Step::MoveGroups, "MirrorMaker 1 syncs no group offsets and site a is gone: groups on b keep their offsets");
        Vec::new()
    } else {
        steps
            .run(Step::MoveGroups, "move consumer groups to site b from MirrorMaker 2's last checkpoints", async {
                let g = move_groups(dr, old.clone(), new.clone(), topics.clone(), options.offset_margin).await?;
                Ok((g.clone(), group_summary(&g)))
            })
            .await?
            .unwrap_or_default()
    };

    let promotion: Option<PromotionPoint> = steps.value(Step::PromotionPoint);
    let book = steps.book;
    book.step(Step::FlipRoles, &format!("site b primary at epoch {epoch}, site a fenced (when reachable)"), async {
        let p = promotion.clone().ok_or_else(|| anyhow!("no promotion point was recorded"))?;
        Ok(((), flip_roles(dr, SiteId::B, Role::Fenced, epoch, Transition::FailoverUnplanned, &p, Direction::None).await?))
    })
    .await?;
    book.step(Step::Rights, "withdraw the application's Write on site a (when reachable)", async {
        let mirror = crate::plan::Posture::of_roles(&dr.sites.roles().await).rights(SiteId::A).mirror;
        if dr.cluster(SiteId::A).is_err() {
            return Ok(((), "site a is unreachable: `amqdr failback prepare` withdraws it once site a is back".to_string()));
        }
        Ok(((), rights::apply(dr, SiteId::A, SiteRights { mirror, fenced: true }, rights::Enforce::Eventually, options.timeout).await?))
    })
    .await?;
    super::users::switch_step(dr, book).await;

    let observation = b_state.and_then(|s| s.observation.clone());
    let lost =
        |topic: &str, partition: i32| observation.as_ref().and_then(|o| o.partitions.get(topic)).and_then(|p| p.get(&partition)).copied();
    let partitions = promotion.as_ref().map(|p| partition_outcomes(p, lost)).unwrap_or_default();
    Ok(SwitchReport {
        operation: "failover-unplanned".into(),
        result: if options.dry_run { "dry-run" } else { "ok" }.into(),
        planned: false,
        from: SiteId::A,
        to: SiteId::B,
        epoch,
        rto_seconds: book.seconds(),
        rpo: Rpo {
            records: observation.as_ref().map(|o| o.records),
            seconds: observation.as_ref().map(|o| o.seconds),
            observed_at: observation.as_ref().map(|o| o.at.clone()),
            basis: match &observation {
                Some(_) => "the last lag observed while both sites answered (records produced on site a after it are not counted)".into(),
                None => "unknown: no lag was observed before site a was lost".into(),
            },
        },
        steps: std::mem::take(&mut book.steps),
        partitions,
        groups,
    })
}
