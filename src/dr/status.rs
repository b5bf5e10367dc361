//! `amqdr status`: the DR view of the pair. Per site: reachable, Kafka Ready, operator
//! Available, role and epoch; the mirror's direction and state; per topic the lag in records and
//! seconds and the RPO now (the worst); consumer groups' last offset sync. Works with a site
//! down (it says so and shows the rest). Records the lag it measured in the standby's DR record:
//! an unplanned failover reports it as its RPO estimate when production is gone.

use super::Dr;
use super::coverage::{self, Coverage, MirrorTraits};
use super::mirror::{self, Observed, RunState};
use super::sites::{self, Site};
use crate::kafka::blocking;
use crate::kafka::lag::{self, PartitionLag, TopicLag};
use crate::kafka::site::KafkaSite;
use crate::kube::conditions::Condition;
use crate::kube::conditions::{Readiness, evaluate};
use crate::profile::MirrorKind;
use crate::record::{CoverageSummary, Direction, LagObservation, Role, SiteRecord, Verdict, now_rfc3339};
use crate::settings::SiteId;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize)]
pub struct SiteStatus {
    pub site: SiteId,
    pub kube: String,
    pub kafka: String,
    pub kafka_ready: Option<bool>,
    pub operator_available: Option<bool>,
    pub role: Option<String>,
    pub epoch: Option<u64>,
    pub record: SiteRecord,
    pub detail: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MirrorStatus {
    /// The direction the DR records say records flow.
    pub direction: Direction,
    /// running / stopped / missing / ... of the mirror of that direction (or of a -> b when none).
    pub state: String,
    pub into_b: Option<Observed>,
    pub into_a: Option<Observed>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSync {
    pub group: String,
    /// Seconds since MirrorMaker 2 last wrote a checkpoint for the group.
    pub last_sync_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrStatus {
    pub healthy: bool,
    pub problems: Vec<String>,
    pub verdict: Verdict,
    pub sites: Vec<SiteStatus>,
    pub mirror: MirrorStatus,
    pub topics: Vec<TopicLag>,
    pub partitions: Vec<PartitionLag>,
    /// The worst lag in seconds: what would be lost at most if the source failed now.
    pub rpo_seconds: Option<f64>,
    pub rpo_records: Option<i64>,
    pub groups: Vec<GroupSync>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_note: Option<String>,
    /// What DR protects of the flowing direction's source, and what not yet.
    pub coverage: Option<Coverage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_note: Option<String>,
}

async fn site_status(dr: &Dr, site: &Site, record: &SiteRecord) -> (SiteStatus, Option<Arc<KafkaSite>>) {
    let settings = dr.settings();
    let st = settings.site(site.id);
    let mut detail = Vec::new();
    let (kube, kafka_ready, operator_available) = match &site.kube {
        Err(why) => {
            detail.push(why.clone());
            ("unreachable".to_string(), None, None)
        }
        Ok(cluster) => {
            let api = settings.profile.api_version();
            let kafka = crate::kube::apply::get(cluster, api, "Kafka", Some(&st.kafka_namespace), &st.cluster_name).await;
            let ready = match kafka {
                Ok(Some(k)) => match evaluate(Condition::Ready, &k) {
                    Readiness::Ready => Some(true),
                    Readiness::Pending(why) => {
                        detail.push(format!("Kafka: {why}"));
                        Some(false)
                    }
                },
                Ok(None) => {
                    detail.push(format!("Kafka {}/{} does not exist", st.kafka_namespace, st.cluster_name));
                    Some(false)
                }
                Err(e) => {
                    detail.push(format!("{e:#}"));
                    None
                }
            };
            let deploy =
                crate::kube::apply::get(cluster, "apps/v1", "Deployment", Some(&st.operator_namespace), "strimzi-cluster-operator").await;
            let available = match deploy {
                Ok(Some(d)) => Some(evaluate(Condition::Available, &d) == Readiness::Ready),
                Ok(None) => Some(false),
                Err(_) => None,
            };
            ("reachable".to_string(), ready, available)
        }
    };
    let kafka = match dr.kafka(site.id).await {
        Ok(k) => (format!("reachable ({})", k.conn.bootstrap), Some(k)),
        Err(e) => {
            detail.push(crate::error::report(&e));
            ("unreachable".to_string(), None)
        }
    };
    let state = record.state();
    (
        SiteStatus {
            site: site.id,
            kube,
            kafka: kafka.0,
            kafka_ready,
            operator_available,
            role: state.map(|s| s.role.to_string()),
            epoch: state.map(|s| s.epoch),
            record: record.clone(),
            detail,
        },
        kafka.1,
    )
}

/// Build the DR view; `max_lag_seconds` turns lag into a problem.
pub async fn status(dr: &Dr, max_lag_seconds: Option<f64>) -> Result<DrStatus> {
    let roles = dr.sites.roles().await;
    let verdict = roles.verdict();
    let ((sa, ka), (sb, kb)) = tokio::join!(site_status(dr, &dr.sites.a, &roles.a), site_status(dr, &dr.sites.b, &roles.b));
    let mut problems: Vec<String> = [&sa, &sb].into_iter().flat_map(site_problems).collect();
    problems.extend(verdict_problem(&verdict));
    let direction = [&roles.a, &roles.b]
        .iter()
        .filter_map(|r| r.state())
        .max_by_key(|s| (s.epoch, s.role == Role::Primary))
        .map(|s| s.mirror)
        .unwrap_or(Direction::AToB);
    let (mirror, mirror_problems) = mirror_status(dr, direction).await;
    problems.extend(mirror_problems);

    let mut flow = FlowMeasure::default();
    if let Some((source, target)) = direction.sites() {
        let (ks, kt) = if source == SiteId::A { (ka, kb) } else { (kb, ka) };
        match (ks, kt) {
            (Some(s), Some(t)) => flow = FlowMeasure::of(dr, source, target, s, t, max_lag_seconds, &mut problems).await,
            _ => problems.push(format!("lag of {direction} not measured: a site's Kafka is unreachable")),
        }
    }
    if let Some(c) = flow.coverage.as_mut() {
        match coverage::own_identities(dr, &roles).await {
            Ok(drift) => c.identities.extend(drift),
            Err(e) => c.notes.push(format!("identities not compared: {}", crate::error::report(&e))),
        }
        match super::users::coverage(dr).await {
            Ok((drift, standby_only)) => {
                c.identities.extend(drift);
                c.standby_only_users = standby_only;
            }
            Err(e) => c.notes.push(format!("KafkaUsers not compared: {}", crate::error::report(&e))),
        }
        problems.extend(c.problems().into_iter().map(|p| format!("DR coverage: {p}")));
    }
    if let Some((_, target)) = direction.sites()
        && flow.lag_measured
    {
        record_observation(dr, target, direction, &flow.partitions, flow.coverage.as_ref().map(Coverage::summary)).await;
    }
    Ok(DrStatus {
        healthy: problems.is_empty(),
        problems,
        verdict,
        sites: vec![sa, sb],
        mirror,
        topics: lag::per_topic(&flow.partitions),
        partitions: flow.partitions,
        rpo_seconds: flow.rpo.map(|(_, s)| s),
        rpo_records: flow.rpo.map(|(r, _)| r),
        groups: flow.groups,
        groups_note: flow.groups_note,
        coverage: flow.coverage,
        coverage_note: flow.coverage_note,
    })
}

/// What is wrong with one site: unreachable APIs, Kafka or operator not ready, a bad record.
fn site_problems(s: &SiteStatus) -> Vec<String> {
    let mut out = Vec::new();
    if s.kube == "unreachable" {
        out.push(format!("site {}: Kubernetes API unreachable", s.site));
    }
    if s.kafka == "unreachable" {
        out.push(format!("site {}: Kafka unreachable", s.site));
    }
    if s.kafka_ready == Some(false) {
        out.push(format!("site {}: Kafka not Ready", s.site));
    }
    if s.operator_available == Some(false) {
        out.push(format!("site {}: operator not Available", s.site));
    }
    if let SiteRecord::Invalid { reason } = &s.record {
        out.push(format!("site {}: DR record invalid: {reason}", s.site));
    }
    out
}

/// The roles' verdict as a problem, when it is one.
fn verdict_problem(verdict: &Verdict) -> Option<String> {
    match verdict {
        Verdict::SplitBrain { epoch } => Some(format!("split brain: both sites primary at epoch {epoch}")),
        Verdict::NoPrimary { epoch } => Some(format!("no primary at epoch {epoch}")),
        Verdict::Unknown { reason } => Some(format!("roles unknown: {reason}")),
        Verdict::Primary { stale: Some(s), .. } => {
            Some(format!("site {s} still claims primary at an older epoch (fenced by the epoch; `amqdr failback prepare` records it)"))
        }
        Verdict::Primary { .. } => None,
    }
}

/// Both mirrors as their sites report them, and what is wrong: the recorded flow not running, or
/// a mirror copying against the records.
async fn mirror_status(dr: &Dr, direction: Direction) -> (MirrorStatus, Vec<String>) {
    let observe = |site: SiteId| async move {
        match dr.sites.get(site).kube.as_ref() {
            Ok(c) => mirror::observe(c, dr.settings(), site).await.ok(),
            Err(_) => None,
        }
    };
    let (into_a, into_b) = tokio::join!(observe(SiteId::A), observe(SiteId::B));
    let mut problems = Vec::new();
    let flowing = direction.sites();
    let state = match flowing {
        Some((_, target)) => match if target == SiteId::A { &into_a } else { &into_b } {
            Some(o) => o.state.as_str().to_string(),
            None => "unknown".into(),
        },
        None => "none".into(),
    };
    if flowing.is_some() && state != RunState::Running.as_str() {
        problems.push(format!("the mirror {direction} is {state}"));
    }
    for (target, o) in [(SiteId::A, &into_a), (SiteId::B, &into_b)] {
        if let Some(o) = o
            && o.state.may_copy()
            && flowing.map(|(_, t)| t) != Some(target)
        {
            problems.push(format!("the mirror into site {target} is {} although the records say {direction}", o.state.as_str()));
        }
    }
    (MirrorStatus { direction, state, into_b, into_a }, problems)
}

/// What is measured of the flow `source -> target` while both Kafkas answer.
#[derive(Default)]
struct FlowMeasure {
    partitions: Vec<PartitionLag>,
    /// (records, seconds)
    rpo: Option<(i64, f64)>,
    lag_measured: bool,
    groups: Vec<GroupSync>,
    groups_note: Option<String>,
    coverage: Option<Coverage>,
    coverage_note: Option<String>,
}

impl FlowMeasure {
    async fn of(
        dr: &Dr,
        source: SiteId,
        target: SiteId,
        s: Arc<KafkaSite>,
        t: Arc<KafkaSite>,
        max_lag_seconds: Option<f64>,
        problems: &mut Vec<String>,
    ) -> FlowMeasure {
        let mut flow = FlowMeasure::default();
        let (f, kind, group) = (dr.filter.clone(), dr.kind, dr.mm1_group());
        let (s2, t2) = (s.clone(), t.clone());
        let measured = blocking(move || {
            let topics = s2.topics(&f)?;
            lag::measure(&s2, &t2, &topics, kind, &group)
        })
        .await;
        match measured {
            Ok(p) => {
                flow.lag_measured = true;
                let (records, seconds) = lag::rpo(&p);
                flow.rpo = Some((records, seconds));
                if let Some(max) = max_lag_seconds
                    && seconds > max
                {
                    problems.push(format!("lag {seconds:.1}s is above --max-lag-seconds {max}"));
                }
                flow.partitions = p;
            }
            Err(e) => problems.push(format!("lag not measured: {}", crate::error::report(&e))),
        }
        let mut checkpoint_groups = std::collections::BTreeSet::new();
        match dr.kind {
            MirrorKind::KafkaMirrorMaker2 => match group_syncs(dr, t.clone()).await {
                Ok(g) => {
                    checkpoint_groups.extend(g.iter().map(|g| g.group.clone()));
                    flow.groups = g;
                }
                Err(e) => flow.groups_note = Some(format!("checkpoints not read: {e:#}")),
            },
            MirrorKind::KafkaMirrorMaker => flow.groups_note = Some("MirrorMaker 1 syncs no consumer group offsets".into()),
        }
        let (f, traits) = (dr.filter.clone(), mirror_traits(dr));
        match blocking(move || coverage::measure(source, target, &s, &t, &f, traits, &checkpoint_groups)).await {
            Ok(c) => flow.coverage = Some(c),
            Err(e) => flow.coverage_note = Some(format!("coverage not measured: {}", crate::error::report(&e))),
        }
        flow
    }
}

/// The groups MirrorMaker 2 checkpoints on `target`, with the age of each one's newest checkpoint.
async fn group_syncs(dr: &Dr, target: Arc<KafkaSite>) -> Result<Vec<GroupSync>> {
    let now = crate::kafka::clients::now_ms();
    let f = dr.filter.clone();
    let checkpoints = blocking(move || target.checkpoints(&mirror::checkpoints_topic())).await?;
    let mut newest: BTreeMap<String, i64> = BTreeMap::new();
    for ((g, _), c) in checkpoints.iter().filter(|((g, _), _)| f.group(g)) {
        let e = newest.entry(g.clone()).or_insert(0);
        *e = (*e).max(c.written_ms);
    }
    Ok(newest.into_iter().map(|(group, ms)| GroupSync { group, last_sync_seconds: ((now - ms).max(0) as f64) / 1000.0 }).collect())
}

fn mirror_traits(dr: &Dr) -> MirrorTraits {
    MirrorTraits { kind: dr.kind, config_sync_seconds: crate::render::mirror::config_sync_seconds(dr.settings()) }
}

/// Keep the measured lag in the target's record, where an unplanned failover finds it as its
/// RPO estimate, and the coverage in both records, where each site's `serve` reads it (best
/// effort: status stays read-mostly and must not fail because of it).
async fn record_observation(dr: &Dr, target: SiteId, direction: Direction, parts: &[PartitionLag], coverage: Option<CoverageSummary>) {
    let (records, seconds) = lag::rpo(parts);
    let mut by: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
    for p in parts {
        by.entry(p.topic.clone()).or_default().insert(p.partition, p.records);
    }
    for id in [target, target.other()] {
        if id != target && coverage.is_none() {
            continue;
        }
        let site = dr.sites.get(id);
        let Ok((mut state, rv)) = sites::reread(site, dr.settings()).await else { continue };
        if id == target {
            state.observation = Some(LagObservation { at: now_rfc3339(), direction, records, seconds, partitions: by.clone() });
        }
        if coverage.is_some() {
            state.coverage = coverage.clone();
        }
        if let Err(e) = sites::write_record(site, dr.settings(), &state, rv.as_deref()).await {
            tracing::warn!("observation not recorded on site {id}: {}", crate::error::report(&e));
        }
    }
}

/// The DR view as a table.
pub fn table(s: &DrStatus) -> String {
    let mut out = String::new();
    let mut t = crate::output::table(&["SITE", "KUBE", "KAFKA", "READY", "OPERATOR", "ROLE", "EPOCH"]);
    let yes_no = |v: Option<bool>| v.map(|b| if b { "yes" } else { "NO" }).unwrap_or("?").to_string();
    for site in &s.sites {
        t.add_row([
            site.site.to_string(),
            site.kube.clone(),
            site.kafka.clone(),
            yes_no(site.kafka_ready),
            yes_no(site.operator_available),
            site.role.clone().unwrap_or_else(|| "-".into()),
            site.epoch.map(|e| e.to_string()).unwrap_or_else(|| "-".into()),
        ]);
    }
    out.push_str(&format!("{t}\n\n"));
    out.push_str(&format!("mirror: {} ({})\n", s.mirror.direction, s.mirror.state));
    if !s.topics.is_empty() {
        let mut t = crate::output::table(&["TOPIC", "LAG (RECORDS)", "LAG (SECONDS)"]);
        for topic in &s.topics {
            t.add_row([topic.topic.clone(), topic.records.to_string(), format!("{:.1}", topic.seconds)]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if let (Some(r), Some(sec)) = (s.rpo_records, s.rpo_seconds) {
        out.push_str(&format!("RPO now: {sec:.1}s ({r} records)\n"));
    }
    if !s.groups.is_empty() {
        out.push_str("consumer groups (last offset sync): ");
        out.push_str(&s.groups.iter().map(|g| format!("{} {:.0}s ago", g.group, g.last_sync_seconds)).collect::<Vec<_>>().join(", "));
        out.push('\n');
    }
    if let Some(n) = &s.groups_note {
        out.push_str(&format!("consumer groups: {n}\n"));
    }
    if let Some(c) = &s.coverage {
        out.push_str(&coverage_table(c));
    }
    if let Some(n) = &s.coverage_note {
        out.push_str(&format!("coverage: {n}\n"));
    }
    for site in &s.sites {
        for d in &site.detail {
            out.push_str(&format!("site {}: {d}\n", site.site));
        }
    }
    if s.healthy {
        out.push_str("healthy\n");
    } else {
        out.push_str(&format!("DEGRADED: {}\n", s.problems.join("; ")));
    }
    out
}

/// What DR covers, as `status` prints it: one line when all is covered, else a table of gaps.
fn coverage_table(c: &Coverage) -> String {
    let mut out = format!("DR coverage {} -> {}: {} topic(s) in scope, {} gap(s)\n", c.source, c.target, c.protected_topics, c.gaps());
    if c.gaps() > 0 {
        let mut t = crate::output::table(&["GAP", "WHAT", "DETAIL"]);
        for m in &c.missing_topics {
            let age = m.oldest_record_age_seconds.map(|a| format!(", oldest record {a:.0}s old")).unwrap_or_default();
            t.add_row([
                format!("missing on {}", c.target),
                m.topic.clone(),
                format!("{} partition(s), {} record(s){age}", m.partitions, m.records),
            ]);
        }
        for m in &c.partition_mismatches {
            t.add_row(["partitions".into(), m.topic.clone(), format!("{} on {}, {} on {}", m.source, c.source, m.target, c.target)]);
        }
        for d in &c.config_drift {
            let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
            t.add_row([
                "config".into(),
                format!("{} {}", d.topic, d.key),
                format!("{} on {}, {} on {}: {}", v(&d.source), c.source, v(&d.target), c.target, d.why),
            ]);
        }
        for g in &c.groups_without_offsets {
            t.add_row([
                "group".into(),
                g.group.clone(),
                format!("committed on {} ({}), no offsets on {} yet", c.source, g.topics.join(", "), c.target),
            ]);
        }
        for i in &c.identities {
            t.add_row(["identity".into(), format!("{} (site {})", i.user, i.site), i.problem.clone()]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if !c.orphans.is_empty() {
        out.push_str(&format!(
            "orphans on site {} (their source topic was deleted; MirrorMaker does not mirror deletions): {}\n",
            c.target,
            c.orphans.join(", ")
        ));
    }
    if !c.standby_only_users.is_empty() {
        out.push_str(&format!("KafkaUsers only on site {} (not on site {}): {}\n", c.target, c.source, c.standby_only_users.join(", ")));
    }
    if !c.not_protected.is_empty() {
        out.push_str(&format!("not protected by choice (outside mirror.include): {}\n", c.not_protected.join(", ")));
    }
    for n in &c.notes {
        out.push_str(&format!("coverage: {n}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_single_current_primary_is_no_problem() {
        assert_eq!(verdict_problem(&Verdict::Primary { site: SiteId::B, epoch: 3, stale: None }), None);
        let stale = verdict_problem(&Verdict::Primary { site: SiteId::B, epoch: 3, stale: Some(SiteId::A) }).unwrap();
        assert!(stale.contains("site a still claims primary"), "{stale}");
        assert!(verdict_problem(&Verdict::SplitBrain { epoch: 2 }).unwrap().contains("split brain"));
        assert!(verdict_problem(&Verdict::NoPrimary { epoch: 2 }).unwrap().contains("no primary"));
        assert!(verdict_problem(&Verdict::Unknown { reason: "x".into() }).unwrap().contains("roles unknown: x"));
    }
}
