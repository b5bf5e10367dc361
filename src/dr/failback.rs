//! `amqdr failback prepare | sync | switch`: DR back to production, in a maintenance window.
//!
//! - prepare: production is reachable and fenced; the records it holds that never reached DR (the
//!   stranded tail) are reported and, by explicit choice, exported and/or discarded (the topics
//!   recreated empty: Apache Kafka cannot truncate a log's tail);
//! - sync: the reverse mirror b -> a is created stopped in site a, its start set exactly after the
//!   promotion point (from the start for recreated topics), then started;
//! - switch: a planned failover in the reverse direction, the reverse mirror removed, and the
//!   production -> DR mirror restarted at production's end, so nothing is copied into DR twice.

use super::failover::{self, FailoverOptions, GroupOutcome, SwitchReport};
use super::mirror::{self, RunState};
use super::offsets::{self, Copies, StrandedPartition};
use super::rights;
use super::runbook::{Runbook, Step, StepReport, confirm, save_journal};
use super::sites;
use super::{Dr, refuse};
use crate::acl::{MirrorRights, SiteRights};
use crate::kafka::blocking;
use crate::kafka::lag;
use crate::kafka::site::{KafkaSite, Record, Tp};
use crate::kube::cluster_state;
use crate::profile::MirrorKind;
use crate::record::{Direction, Journal, PromotionPoint, Role, SiteRecord, SiteState, Transition, Verdict, now_rfc3339};
use crate::render::MirrorFlow;
use crate::settings::SiteId;
use anyhow::{Context, Result, anyhow};
use base64::Engine;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// What to do with records of site a that never reached site b.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stranded {
    /// Recreate the affected topics on site a empty (their records are lost).
    Discard,
    /// Write them to a JSON Lines file (--to), then discard them.
    Export,
}

#[derive(Debug, Clone)]
pub struct FailbackOptions {
    pub switch: FailoverOptions,
    pub stranded: Option<Stranded>,
    pub export_to: Option<PathBuf>,
}

/// The failback's notes in site a's record, kept from prepare to switch.
const JOURNAL: &str = "failback";
const RECREATED: &str = "recreated";
const START_OFFSETS_CONFIGMAP_SUFFIX: &str = "-start-offsets";

#[derive(Debug, Clone, Serialize)]
pub struct PrepareReport {
    pub operation: &'static str,
    pub result: String,
    pub epoch: u64,
    pub stranded_records: usize,
    pub partitions: Vec<StrandedPartition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_to: Option<String>,
    pub recreated_topics: Vec<String>,
    pub steps: Vec<StepReport>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub operation: &'static str,
    pub result: String,
    /// Per partition of site b: the first offset the reverse mirror copies.
    pub start: Vec<StartPosition>,
    pub lag: Vec<lag::TopicLag>,
    pub steps: Vec<StepReport>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartPosition {
    pub topic: String,
    pub partition: i32,
    pub next: i64,
    pub why: &'static str,
}

fn promotion_of(dr_roles: &crate::record::Roles) -> Result<PromotionPoint> {
    dr_roles
        .b
        .state()
        .and_then(|s| s.promotion.clone())
        .filter(|p| p.to == SiteId::B)
        .ok_or_else(|| refuse("site b's DR record has no promotion point", "fail over first (`amqdr failover`); see `amqdr status`"))
}

fn failback_journal(a: Option<&SiteState>) -> Journal {
    Journal::resume(a, JOURNAL).0
}

fn recreated_topics(j: &Journal) -> BTreeSet<String> {
    j.values.get(RECREATED).and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default()
}

/// Site b must be primary and site a reachable (its kube API and its Kafka).
async fn require_failback_roles(dr: &Dr, roles: &crate::record::Roles) -> Result<u64> {
    match roles.verdict() {
        Verdict::Primary { site: SiteId::B, epoch, .. } => {
            for site in SiteId::ALL {
                dr.cluster(site).map_err(|e| refuse(format!("{e:#}"), "failback needs both sites reachable"))?;
            }
            Ok(epoch)
        }
        Verdict::Primary { site: SiteId::A, .. } => Err(refuse("site a is primary: there is nothing to fail back", "see `amqdr status`")),
        Verdict::SplitBrain { epoch } => Err(refuse(crate::record::split_brain_error(epoch).to_string(), "see `amqdr status`")),
        _ => Err(roles.primary().err().unwrap_or_else(|| anyhow!("no primary"))),
    }
}

/// The records of site a that are not on site b, per partition (with the records).
fn stranded_tail(
    old: &KafkaSite,
    new: &KafkaSite,
    filter: &crate::kafka::site::MirrorFilter,
    promotion: &PromotionPoint,
    kind: MirrorKind,
    mm1_group: &str,
) -> Result<Vec<(StrandedPartition, Vec<Record>)>> {
    const SLACK: i64 = 100;
    let topics = old.topics(filter)?;
    let (starts, ends) = (old.starts(&topics)?, old.ends(&topics)?);
    let new_topics = new.topics_named(topics.keys())?;
    let (new_starts, new_ends) = (new.starts(&new_topics)?, new.ends(&new_topics)?);
    let mut out = Vec::new();
    for (tp, end) in &ends {
        let start = starts[tp];
        let point = promotion.topics.get(&tp.0).and_then(|p| p.get(&tp.1)).copied();
        // Planned (production's end at the switch is known): everything after it was written
        // after the mirror stopped and cannot be on b. Unplanned: find the newest record b got.
        let (from, needs_matching) = match point {
            Some(p) if p.old_primary_end.is_some() => (p.old_primary_end.unwrap_or(start), false),
            Some(p) => (
                unplanned_from(old, new, tp, start, *end, new_starts.get(tp).copied().unwrap_or(0), p.new_primary_end, kind, mm1_group)?,
                true,
            ),
            None => (start, true),
        };
        let from = from.clamp(start, *end);
        let candidates = old.read(tp, from, *end)?;
        let mut copies = Copies::default();
        if needs_matching && !candidates.is_empty() {
            let window = candidates.len() as i64 + SLACK;
            let b_partitions: Vec<Tp> = match kind {
                MirrorKind::KafkaMirrorMaker2 => vec![tp.clone()],
                MirrorKind::KafkaMirrorMaker => (0..new_topics.get(&tp.0).copied().unwrap_or(0)).map(|p| (tp.0.clone(), p)).collect(),
            };
            for bp in b_partitions {
                let limit = promotion
                    .topics
                    .get(&bp.0)
                    .and_then(|p| p.get(&bp.1))
                    .map(|p| p.new_primary_end)
                    .unwrap_or_else(|| new_ends.get(&bp).copied().unwrap_or(0));
                let lo = (limit - window).max(new_starts.get(&bp).copied().unwrap_or(0));
                copies.add(&new.read(&bp, lo, limit)?);
            }
        }
        let s = offsets::stranded_partition(tp, from, *end, &candidates, &mut copies);
        let stranded: Vec<Record> = candidates.into_iter().filter(|r| s.stranded_offsets.contains(&r.offset)).collect();
        out.push((s, stranded));
    }
    Ok(out)
}

/// Unplanned: the first offset of site a after the newest record site b received through the
/// mirror (conservative: earlier when it cannot be pinned down; matching sorts out the rest).
#[allow(clippy::too_many_arguments)]
fn unplanned_from(
    old: &KafkaSite,
    new: &KafkaSite,
    tp: &Tp,
    start: i64,
    end: i64,
    new_start: i64,
    new_end: i64,
    kind: MirrorKind,
    mm1_group: &str,
) -> Result<i64> {
    match kind {
        MirrorKind::KafkaMirrorMaker => Ok(old.committed(mm1_group, std::slice::from_ref(tp))?.get(tp).copied().unwrap_or(start)),
        MirrorKind::KafkaMirrorMaker2 => {
            let Some(newest) = new.last_record(tp, new_start, new_end)? else { return Ok(start) };
            let Some(ts) = newest.timestamp else { return Ok(start) };
            let ends = std::collections::BTreeMap::from([(tp.clone(), end)]);
            let at = old.offsets_for_time(std::slice::from_ref(tp), ts, &ends)?.get(tp).copied().unwrap_or(start);
            let id = crate::kafka::site::record_identity(&newest);
            let scan = old.read(tp, at, (at + 1000).min(end))?;
            Ok(scan.iter().find(|r| crate::kafka::site::record_identity(r) == id).map(|r| r.offset + 1).unwrap_or(at))
        }
    }
}

fn export_line(r: &Record) -> serde_json::Value {
    let b64 = |v: &Option<Vec<u8>>| v.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b));
    serde_json::json!({
        "topic": r.topic, "partition": r.partition, "offset": r.offset, "timestamp": r.timestamp,
        "key": b64(&r.key), "value": b64(&r.value),
        "headers": r.headers.iter().map(|(k, v)| serde_json::json!({"key": k, "value": b64(v)})).collect::<Vec<_>>(),
    })
}

/// Write the records as JSON Lines, durably, to a new file.
fn export(path: &std::path::Path, records: &[&Record]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    for r in records {
        writeln!(f, "{}", serde_json::to_string(&export_line(r))?)?;
    }
    f.sync_all()?;
    Ok(())
}

/// `amqdr failback prepare`.
pub async fn prepare(dr: &Dr, options: &FailbackOptions) -> Result<PrepareReport> {
    let roles = dr.sites.roles().await;
    let epoch = require_failback_roles(dr, &roles).await?;
    let promotion = promotion_of(&roles)?;
    let old = dr
        .kafka(SiteId::A)
        .await
        .map_err(|e| refuse(format!("site a's Kafka does not answer: {e:#}"), "failback needs production's brokers up"))?;
    let new = dr.kafka(SiteId::B).await?;
    let a_state = roles.a.state().cloned();
    let mut journal = failback_journal(a_state.as_ref());
    let mut book = Runbook::new("failback prepare", options.switch.dry_run);

    let (o, n, f, p, kind, group) = (old.clone(), new.clone(), dr.filter.clone(), promotion.clone(), dr.kind, dr.mm1_group());
    let tail = blocking(move || stranded_tail(&o, &n, &f, &p, kind, &group)).await?;
    let total: usize = tail.iter().map(|(s, _)| s.stranded).sum();
    let affected: BTreeSet<String> = tail.iter().filter(|(s, _)| s.stranded > 0).map(|(s, _)| s.topic.clone()).collect();
    if total > 0 && options.stranded.is_none() {
        let detail = tail
            .iter()
            .filter(|(s, _)| s.stranded > 0)
            .map(|(s, _)| format!("{}/{}: {} (offsets {}..{})", s.topic, s.partition, s.stranded, s.from, s.end))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(refuse(
            format!("site a holds {total} record(s) that never reached site b: {detail}"),
            "decide what happens to them: --stranded export --to FILE (kept in a file, then removed from site a) or --stranded discard",
        ));
    }
    if options.stranded == Some(Stranded::Export) && total > 0 && options.export_to.is_none() {
        return Err(refuse("--stranded export needs --to FILE", "name a file that does not exist yet"));
    }
    let fenced = a_state.as_ref().is_some_and(|s| s.role == Role::Fenced && s.epoch == epoch);
    if !options.switch.dry_run && (total > 0 || !fenced) {
        confirm(
            &format!(
                "Prepare failback: fence site a{}?",
                if total > 0 { format!(" and remove its {total} stranded record(s)") } else { String::new() }
            ),
            options.switch.yes,
        )?;
    }

    if fenced {
        book.done_earlier(Step::FenceA);
    } else {
        book.step(Step::FenceA, &format!("record site a as fenced at epoch {epoch}"), async {
            let a = dr.sites.get(SiteId::A);
            let rv = match &roles.a {
                SiteRecord::Present { resource_version, .. } => resource_version.clone(),
                _ => None,
            };
            let state = SiteState {
                role: Role::Fenced,
                epoch,
                last_transition: now_rfc3339(),
                transition: Transition::FailbackPrepare,
                mirror: Direction::None,
                promotion: Some(promotion.clone()),
                journal: Some(journal.clone()),
                observation: None,
                coverage: None,
            };
            sites::write_record(a, dr.settings(), &state, rv.as_deref()).await?;
            Ok(((), format!("site a fenced at epoch {epoch}")))
        })
        .await?;
    }
    // Idempotent: also after an unplanned failover that could not reach site a.
    book.step(Step::Rights, "withdraw the application's Write on site a (fenced)", async {
        let mirror = crate::plan::Posture::of_roles(&roles).rights(SiteId::A).mirror;
        Ok(((), rights::apply(dr, SiteId::A, SiteRights { mirror, fenced: true }, rights::Enforce::Await, options.switch.timeout).await?))
    })
    .await?;

    let mut exported = None;
    if total > 0 {
        if let (Some(Stranded::Export), Some(path)) = (options.stranded, &options.export_to) {
            let records: Vec<&Record> = tail.iter().flat_map(|(_, r)| r.iter()).collect();
            book.step(Step::ExportStranded, &format!("write {total} record(s) to {}", path.display()), async {
                export(path, &records)?;
                Ok(((), format!("{total} record(s) written to {}", path.display())))
            })
            .await?;
            exported = Some(path.display().to_string());
        }
        let topics: Vec<String> = affected.iter().cloned().collect();
        let recreated = book
            .step(Step::RecreateTopics, &format!("recreate {} on site a empty", topics.join(", ")), async {
                let k = old.clone();
                let list = topics.clone();
                blocking(move || {
                    for t in &list {
                        k.recreate_topic(t)?;
                    }
                    Ok(())
                })
                .await?;
                Ok(((), format!("{} topic(s) recreated empty: {}", topics.len(), topics.join(", "))))
            })
            .await?;
        if recreated.is_some() {
            let mut all = recreated_topics(&journal);
            all.extend(affected.iter().cloned());
            journal.values.insert(RECREATED.into(), serde_json::to_value(&all)?);
            save_journal(dr, SiteId::A, &journal).await?;
        }
    }
    Ok(PrepareReport {
        operation: "failback prepare",
        result: if options.switch.dry_run {
            "dry-run"
        } else if total == 0 && fenced {
            "already-done"
        } else {
            "ok"
        }
        .into(),
        epoch,
        stranded_records: total,
        partitions: tail.into_iter().map(|(s, _)| s).collect(),
        exported_to: exported,
        recreated_topics: recreated_topics(&journal).into_iter().collect(),
        seconds: book.seconds(),
        steps: book.steps,
    })
}

/// Where the reverse mirror starts on each partition of site b.
async fn start_positions(
    dr: &Dr,
    new: &Arc<KafkaSite>,
    promotion: &PromotionPoint,
    recreated: &BTreeSet<String>,
) -> Result<Vec<StartPosition>> {
    let (k, f) = (new.clone(), dr.filter.clone());
    let canary = dr.settings().canary_topic().to_string();
    let (starts, canary_ends) = blocking(move || {
        let topics = k.topics(&f)?;
        let canary_topic = k.topics_named([&canary])?;
        Ok((k.starts(&topics)?, k.ends(&canary_topic)?))
    })
    .await?;
    // The reverse mirror also carries serve's canary topic (mirror_include); its history is
    // probes only, so the mirror takes new canaries and never replays old ones into site a.
    let canary_positions = canary_ends.iter().map(|((topic, partition), end)| StartPosition {
        topic: topic.clone(),
        partition: *partition,
        next: *end,
        why: "serve's canary topic: new canaries only",
    });
    Ok(starts
        .iter()
        .map(|((topic, partition), log_start)| {
            let point = promotion.topics.get(topic).and_then(|p| p.get(partition)).map(|p| p.new_primary_end);
            let is_recreated = recreated.contains(topic);
            StartPosition {
                topic: topic.clone(),
                partition: *partition,
                next: offsets::reverse_start(point, *log_start, is_recreated),
                why: if is_recreated {
                    "topic recreated on site a: copy its whole history back"
                } else if point.is_some() {
                    "right after the promotion point"
                } else {
                    "created on site b after the promotion: copy all of it"
                },
            }
        })
        .chain(canary_positions)
        .collect())
}

/// Site b's external bootstrap, as the reverse mirror in site a reaches it.
async fn external_bootstrap(dr: &Dr, site: SiteId) -> Result<String> {
    let st = dr.settings().site(site);
    let kafka = crate::kube::apply::get(
        dr.cluster(site)?,
        dr.settings().profile.api_version(),
        "Kafka",
        Some(&st.kafka_namespace),
        &st.cluster_name,
    )
    .await?
    .ok_or_else(|| anyhow!("Kafka {}/{} not found on site {site}", st.kafka_namespace, st.cluster_name))?;
    cluster_state::bootstrap_from_status(&kafka)
        .ok_or_else(|| anyhow!("Kafka {}/{} reports no external listener address", st.kafka_namespace, st.cluster_name))
}

fn start_configmap(dr: &Dr) -> String {
    format!("{}{START_OFFSETS_CONFIGMAP_SUFFIX}", dr.settings().mirror.name)
}

/// Create the mirror of `flow` stopped, set where it starts, then run it: a new mirror never
/// copies from the earliest record. `positions` are the next offsets to copy per partition.
async fn start_mirror_at(
    dr: &Dr,
    book: &mut Runbook,
    source: SiteId,
    target: SiteId,
    positions: &[(String, i32, i64)],
    timeout: std::time::Duration,
) -> Result<()> {
    let cluster = dr.cluster(target)?.clone();
    let material = dr.material().await?;
    let bootstrap = external_bootstrap(dr, source).await?;
    let configmap = start_configmap(dr);
    // The mirror's user reads on `source` and writes on `target` before the mirror runs.
    let roles = dr.sites.roles().await;
    let posture = crate::plan::Posture::of_roles(&roles);
    book.step(Step::Rights, &format!("the mirror's user reads on site {source} and writes on site {target}"), async {
        let mut done = Vec::new();
        for site in [source, target] {
            let rights = SiteRights { mirror: MirrorRights::from_source(source), fenced: posture.fenced.contains(&site) };
            done.push(rights::apply(dr, site, rights, rights::Enforce::Await, timeout).await?);
        }
        Ok(((), done.join("; ")))
    })
    .await?;
    match dr.kind {
        MirrorKind::KafkaMirrorMaker2 => {
            let stopped = MirrorFlow { source, target, running: false, alter_offsets_from: Some(configmap.clone()) };
            book.step(
                Step::CreateMirrorStopped,
                &format!("apply the mirror {source} -> {target} in site {target} with its connectors stopped"),
                async {
                    mirror::apply_flow(&cluster, dr.settings(), &material, &stopped, &bootstrap).await?;
                    mirror::wait_state(&cluster, dr.settings(), target, RunState::Stopped, timeout).await?;
                    Ok(((), format!("the mirror {source} -> {target} exists, stopped")))
                },
            )
            .await?;
            let connect: Vec<(String, i32, Option<i64>)> =
                positions.iter().map(|(t, p, next)| (t.clone(), *p, offsets::connect_offset_for_next(*next))).collect();
            book.step(
                Step::SetStartOffsets,
                "alter the source connector's offsets through Strimzi (ConfigMap + strimzi.io/connector-offsets)",
                async {
                    mirror::alter_source_offsets(&cluster, dr.settings(), target, &configmap, &connect, timeout).await?;
                    Ok(((), format!("{} partition(s) positioned", connect.len())))
                },
            )
            .await?;
            let running = MirrorFlow { source, target, running: true, alter_offsets_from: Some(configmap.clone()) };
            book.step(Step::StartMirror, &format!("start the mirror {source} -> {target}"), async {
                mirror::apply_flow(&cluster, dr.settings(), &material, &running, &bootstrap).await?;
                mirror::wait_state(&cluster, dr.settings(), target, RunState::Running, timeout).await?;
                Ok(((), format!("the mirror {source} -> {target} runs")))
            })
            .await?;
        }
        MirrorKind::KafkaMirrorMaker => {
            let group = dr.mm1_group();
            let offsets: crate::kafka::site::Offsets = positions.iter().map(|(t, p, n)| ((t.clone(), *p), *n)).collect();
            let k = dr.kafka(source).await?;
            book.step(
                Step::SetStartOffsets,
                &format!("commit MirrorMaker 1's group {group} on site {source} at the start positions"),
                async {
                    let n = offsets.len();
                    let g = group.clone();
                    blocking(move || {
                        k.wait_until_empty(&g, timeout)?;
                        k.commit(&g, &offsets)
                    })
                    .await?;
                    Ok(((), format!("{n} partition(s) positioned")))
                },
            )
            .await?;
            let running = MirrorFlow { source, target, running: true, alter_offsets_from: None };
            book.step(Step::StartMirror, &format!("start the mirror {source} -> {target}"), async {
                mirror::apply_flow(&cluster, dr.settings(), &material, &running, &bootstrap).await?;
                mirror::wait_state(&cluster, dr.settings(), target, RunState::Running, timeout).await?;
                Ok(((), format!("the mirror {source} -> {target} runs")))
            })
            .await?;
        }
    }
    Ok(())
}

/// Record the mirror direction in both sites' records (roles unchanged).
async fn record_direction(dr: &Dr, direction: Direction, transition: Transition, clear_journal: bool) -> Result<()> {
    for site in SiteId::ALL {
        let s = dr.sites.get(site);
        let (mut state, rv) = sites::reread(s, dr.settings()).await?;
        state.mirror = direction;
        state.transition = transition;
        state.last_transition = now_rfc3339();
        if clear_journal {
            state.journal = None;
        }
        sites::write_record(s, dr.settings(), &state, rv.as_deref()).await?;
    }
    Ok(())
}

/// `amqdr failback sync`.
pub async fn sync(dr: &Dr, options: &FailbackOptions) -> Result<SyncReport> {
    let roles = dr.sites.roles().await;
    require_failback_roles(dr, &roles).await?;
    let a_state = roles.a.state().cloned();
    if !a_state.as_ref().is_some_and(|s| s.role == Role::Fenced) {
        return Err(refuse("site a is not fenced", "run `amqdr failback prepare` first"));
    }
    let promotion = promotion_of(&roles)?;
    let mut book = Runbook::new("failback sync", options.switch.dry_run);
    let forward = mirror::observe(dr.cluster(SiteId::B)?, dr.settings(), SiteId::B).await?;
    mirror::ensure_not_copying(&forward, SiteId::B, "a reverse mirror b -> a must not start while records flow a -> b")?;
    let new = dr.kafka(SiteId::B).await?;
    let old = dr.kafka(SiteId::A).await?;
    let reverse = mirror::observe(dr.cluster(SiteId::A)?, dr.settings(), SiteId::A).await?;
    let mut start = Vec::new();
    if reverse.state == RunState::Running {
        book.done_earlier(Step::StartMirror);
    } else {
        // Records written to site a since prepare would be stranded behind the reverse mirror.
        let (o, n, f, p, kind, group) = (old.clone(), new.clone(), dr.filter.clone(), promotion.clone(), dr.kind, dr.mm1_group());
        let tail = blocking(move || stranded_tail(&o, &n, &f, &p, kind, &group)).await?;
        let total: usize = tail.iter().map(|(s, _)| s.stranded).sum();
        if total > 0 {
            return Err(refuse(
                format!("site a holds {total} record(s) that are not on site b (written since prepare?)"),
                "run `amqdr failback prepare` again",
            ));
        }
        let recreated = recreated_topics(&failback_journal(a_state.as_ref()));
        start = start_positions(dr, &new, &promotion, &recreated).await?;
        if !options.switch.dry_run {
            confirm("Start the reverse mirror b -> a?", options.switch.yes)?;
        }
        let positions: Vec<(String, i32, i64)> = start.iter().map(|s| (s.topic.clone(), s.partition, s.next)).collect();
        start_mirror_at(dr, &mut book, SiteId::B, SiteId::A, &positions, options.switch.timeout).await?;
        if !options.switch.dry_run {
            record_direction(dr, Direction::BToA, Transition::FailbackSync, false).await?;
        }
    }
    let lag = if options.switch.dry_run {
        Vec::new()
    } else {
        let (s, t, kind, group) = (new.clone(), old.clone(), dr.kind, dr.mm1_group());
        let f = dr.filter.clone();
        let parts = blocking(move || {
            let topics = s.topics(&f)?;
            lag::measure(&s, &t, &topics, kind, &group)
        })
        .await?;
        lag::per_topic(&parts)
    };
    Ok(SyncReport {
        operation: "failback sync",
        result: if options.switch.dry_run {
            "dry-run"
        } else if start.is_empty() {
            "already-done"
        } else {
            "ok"
        }
        .into(),
        start,
        lag,
        seconds: book.seconds(),
        steps: book.steps,
    })
}

/// `amqdr failback switch`.
pub async fn switch(dr: &Dr, options: &FailbackOptions) -> Result<SwitchReport> {
    let roles = dr.sites.roles().await;
    let a_state = roles.a.state().cloned();
    let mut book = Runbook::new("failback switch", options.switch.dry_run);
    let verdict = roles.verdict();
    // After the roles flipped, an interrupted switch still has to remove the reverse mirror and
    // restart the forward one.
    let tail_only = matches!(verdict, Verdict::Primary { site: SiteId::A, .. })
        && a_state.as_ref().is_some_and(|s| s.transition == Transition::FailbackSwitch && s.mirror == Direction::None);
    if matches!(verdict, Verdict::Primary { site: SiteId::A, .. }) && !tail_only {
        return Err(refuse("site a is primary: there is nothing to switch", "see `amqdr status`"));
    }
    let mut groups: Vec<GroupOutcome> = Vec::new();
    let mut promotion = None;
    let mut epoch = roles.epoch();
    if !tail_only {
        require_failback_roles(dr, &roles).await?;
        let b_direction = roles.b.state().map(|s| s.mirror);
        let (mut journal, resuming) = Journal::resume(a_state.as_ref(), "failback-switch");
        if !resuming && b_direction != Some(Direction::BToA) {
            return Err(refuse("the reverse mirror b -> a is not running", "run `amqdr failback sync` first and let it catch up"));
        }
        if !options.switch.dry_run {
            confirm("Switch production back to site a (b becomes standby)?", options.switch.yes)?;
        }
        epoch += 1;
        let switched = failover::planned_switch(
            dr,
            &mut book,
            SiteId::B,
            SiteId::A,
            Role::Standby,
            Transition::FailbackSwitch,
            &options.switch,
            &mut journal,
            epoch,
        )
        .await?;
        groups = switched.groups;
        promotion = switched.promotion;
        super::users::switch_step(dr, &mut book).await;
        if options.switch.dry_run {
            book.step(Step::RemoveReverseMirror, "delete the mirror b -> a in site a", async { Ok(((), String::new())) }).await?;
            book.step(Step::RestartForwardMirror, "start the mirror a -> b at site a's end offsets", async { Ok(((), String::new())) })
                .await?;
            return Ok(report(options, book, epoch, promotion, groups));
        }
    }
    book.step(Step::RemoveReverseMirror, "delete the mirror b -> a in site a", async {
        let removed = mirror::delete(dr.cluster(SiteId::A)?, dr.settings(), SiteId::A, options.switch.timeout).await?;
        Ok(((), if removed { "the mirror b -> a is deleted".to_string() } else { "already gone".to_string() }))
    })
    .await?;
    // The forward mirror resumes at production's end: everything before it is on DR already.
    let a = dr.kafka(SiteId::A).await?;
    let f = dr.filter.clone();
    let ends = blocking(move || {
        let topics = a.topics(&f)?;
        a.ends(&topics)
    })
    .await?;
    let positions: Vec<(String, i32, i64)> = ends.iter().map(|((t, p), e)| (t.clone(), *p, *e)).collect();
    start_mirror_at(dr, &mut book, SiteId::A, SiteId::B, &positions, options.switch.timeout).await?;
    record_direction(dr, Direction::AToB, Transition::FailbackSwitch, true).await?;
    Ok(report(options, book, epoch, promotion, groups))
}

fn report(
    options: &FailbackOptions,
    book: Runbook,
    epoch: u64,
    promotion: Option<PromotionPoint>,
    groups: Vec<GroupOutcome>,
) -> SwitchReport {
    let partitions = promotion
        .as_ref()
        .map(|p| {
            p.topics
                .iter()
                .flat_map(|(t, parts)| {
                    parts.iter().map(|(n, pt)| failover::PartitionOutcome {
                        topic: t.clone(),
                        partition: *n,
                        old_primary_end: pt.old_primary_end,
                        new_primary_end: pt.new_primary_end,
                        lost: Some(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    SwitchReport {
        operation: "failback switch".into(),
        result: if options.switch.dry_run { "dry-run" } else { "ok" }.into(),
        planned: true,
        from: SiteId::B,
        to: SiteId::A,
        epoch,
        rto_seconds: book.seconds(),
        rpo: failover::Rpo {
            records: Some(0),
            seconds: Some(0.0),
            observed_at: None,
            basis: "planned: site b was drained into site a".into(),
        },
        steps: book.steps,
        partitions,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_carry_everything_of_a_record() {
        let r = Record {
            topic: "t".into(),
            partition: 2,
            offset: 41,
            timestamp: Some(1_700_000_000_000),
            key: Some(b"k".to_vec()),
            value: None,
            headers: vec![("h".into(), Some(b"v".to_vec()))],
        };
        let line = export_line(&r);
        assert_eq!(line["partition"], 2);
        assert_eq!(line["offset"], 41);
        assert_eq!(line["key"], "aw==");
        assert!(line["value"].is_null());
        assert_eq!(line["headers"][0]["value"], "dg==");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stranded.jsonl");
        export(&path, &[&r, &r]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert!(export(&path, &[&r]).is_err(), "never overwrites an export");
    }
}
