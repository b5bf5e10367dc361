//! Runs a Plan against the clusters: stages in order, the lanes of a stage concurrently (the two
//! sites in parallel), the steps of a lane in order — except that consecutive applies of one
//! phase, which do not depend on each other, are sent together.

use crate::error::TimedOut;
use crate::kube::apply::{self, Outcome};
use crate::kube::client::Clusters;
use crate::kube::cluster_state;
use crate::kube::object::Manifest;
use crate::kube::object::ObjectRef;
use crate::kube::wait;
use crate::plan::show::StepRow;
use crate::plan::{Action, Lane, Plan, Step};
use crate::progress::Progress;
use crate::render::discovered_bootstrap;
use crate::settings::SiteId;
use anyhow::{Result, anyhow};
use futures::future::join_all;
use kube::api::PatchParams;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub timeout: Duration,
    pub force_conflicts: bool,
}

/// What happened to one step: its row of the Plan listing plus the outcome; also the JSON
/// shape of `install -o json` (stable).
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    #[serde(flatten)]
    pub step: StepRow,
    /// created / configured / unchanged for applies; ready / resumed / discovered / failed / skipped.
    pub outcome: String,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Values found while running (the sites' discovered bootstraps), substituted into later objects.
#[derive(Default)]
struct Facts {
    bootstraps: Mutex<BTreeMap<SiteId, String>>,
}

pub struct Execution {
    pub reports: Vec<StepReport>,
    /// The first error of each failed lane.
    pub errors: Vec<anyhow::Error>,
}

pub async fn execute(plan: &Plan, clusters: &Clusters, options: &ExecOptions, progress: &Progress) -> Execution {
    let facts = Facts::default();
    let pp = apply::patch_params(options.force_conflicts);
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    let mut failed = false;
    for stage in &plan.stages {
        let mut lane_runs = Vec::new();
        for lane in &stage.lanes {
            let first_index = index + 1;
            index += lane.steps.len();
            let name = format!("{} {}", if stage.name == "cluster-wide" { "cluster" } else { "site" }, lane.site);
            progress.lane(&format!("{name} {}", stage.name), lane.steps.len());
            lane_runs.push(run_lane(stage.name, lane, first_index, clusters, options, &pp, &facts, progress, failed));
        }
        for (lane_reports, error) in join_all(lane_runs).await {
            reports.extend(lane_reports);
            if let Some(e) = error {
                errors.push(e);
            }
        }
        // A later stage depends on every earlier one: stop after a failed stage.
        failed |= !errors.is_empty();
    }
    progress.finish();
    reports.sort_by_key(|r| r.step.index);
    Execution { reports, errors }
}

#[allow(clippy::too_many_arguments)]
async fn run_lane(
    stage: &'static str,
    lane: &Lane,
    first_index: usize,
    clusters: &Clusters,
    options: &ExecOptions,
    pp: &PatchParams,
    facts: &Facts,
    progress: &Progress,
    skip: bool,
) -> (Vec<StepReport>, Option<anyhow::Error>) {
    let label = format!("{} {}", if stage == "cluster-wide" { "cluster" } else { "site" }, lane.site);
    let label = format!("{label} {stage}");
    let cluster = clusters.site(lane.site);
    let mut reports = Vec::new();
    let mut i = 0;
    let mut error: Option<anyhow::Error> = if skip { Some(anyhow!("skipped: an earlier stage failed")) } else { None };
    while i < lane.steps.len() {
        // Consecutive applies of the same phase go together.
        let mut j = i + 1;
        if matches!(lane.steps[i].action, Action::Apply { .. }) {
            while j < lane.steps.len() && lane.steps[j].phase == lane.steps[i].phase && matches!(lane.steps[j].action, Action::Apply { .. })
            {
                j += 1;
            }
        }
        let batch: Vec<(usize, &Step)> = (i..j).map(|k| (first_index + k, &lane.steps[k])).collect();
        if error.is_some() {
            for (idx, step) in batch {
                reports.push(report(stage, lane, idx, step, "skipped", 0.0, None));
            }
            i = j;
            continue;
        }
        let label = label.as_str();
        let results = join_all(batch.iter().map(|(idx, step)| async move {
            let started = Instant::now();
            progress.step(label, &describe(step));
            let result = run_step(step, clusters, cluster, options, pp, facts, progress, label).await;
            (*idx, *step, result, started.elapsed().as_secs_f64())
        }))
        .await;
        for (idx, step, result, seconds) in results {
            match result {
                Ok((outcome, message)) => {
                    progress.done(label, &format!("{idx:>3} {}: {outcome} ({seconds:.1}s)", describe(step)));
                    reports.push(report(stage, lane, idx, step, &outcome, seconds, message));
                }
                Err(e) => {
                    let text = crate::error::report(&e);
                    progress.done(label, &format!("{idx:>3} {}: FAILED ({seconds:.1}s)", describe(step)));
                    reports.push(report(stage, lane, idx, step, "failed", seconds, Some(text)));
                    if error.is_none() {
                        error = Some(e.context(format!("step {idx} ({}) failed in {label}", describe(step))));
                    }
                }
            }
        }
        i = j;
    }
    progress.lane_done(
        &label,
        if skip {
            "skipped"
        } else if error.is_some() {
            "FAILED"
        } else {
            "done"
        },
    );
    if skip {
        error = None;
    }
    (reports, error)
}

fn describe(step: &Step) -> String {
    match &step.action {
        Action::Apply { object } => format!("apply {}", object.describe()),
        Action::Wait { target, condition } => format!("wait {condition} {target}"),
        Action::ResumeRollout { target } => format!("resume rollout {target}"),
        Action::DiscoverBootstrap { site, kafka } => format!("discover bootstrap of site {site} from {kafka}"),
        Action::CreateOnly { object } => format!("create {} unless present", object.describe()),
    }
}

fn report(stage: &'static str, lane: &Lane, index: usize, step: &Step, outcome: &str, seconds: f64, message: Option<String>) -> StepReport {
    StepReport {
        step: StepRow::new(index, stage, lane, step),
        outcome: outcome.to_string(),
        seconds: (seconds * 1000.0).round() / 1000.0,
        message,
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    step: &Step,
    clusters: &Clusters,
    cluster: &crate::kube::client::Cluster,
    options: &ExecOptions,
    pp: &PatchParams,
    facts: &Facts,
    progress: &Progress,
    label: &str,
) -> Result<(String, Option<String>)> {
    let on_progress = |text: &str| progress.waiting(label, text);
    match &step.action {
        Action::Apply { object } => {
            let object = prepare(object, cluster, facts).await?;
            let applied = apply::apply(cluster, &object, pp).await?;
            Ok((applied.outcome.to_string(), None))
        }
        Action::Wait { target, condition } => {
            wait::wait_for(cluster, target, *condition, options.timeout, &on_progress).await?;
            Ok(("ready".into(), None))
        }
        Action::ResumeRollout { target } => {
            let live = apply::get(cluster, &target.api_version, &target.kind, target.namespace.as_deref(), &target.name)
                .await?
                .ok_or_else(|| anyhow!("{target} does not exist"))?;
            if live.pointer("/spec/paused").and_then(Value::as_bool) != Some(true) {
                return Ok((Outcome::Unchanged.to_string(), None));
            }
            apply::merge_patch(
                cluster,
                &target.api_version,
                &target.kind,
                target.namespace.as_deref(),
                &target.name,
                &serde_json::json!({"spec": {"paused": false}}),
            )
            .await?;
            Ok(("resumed".into(), None))
        }
        Action::CreateOnly { object } => {
            if apply::get(cluster, object.api_version(), object.kind(), object.namespace(), object.name()).await?.is_some() {
                return Ok((Outcome::Kept.to_string(), None));
            }
            let applied = apply::apply(cluster, object, pp).await?;
            Ok((applied.outcome.to_string(), None))
        }
        Action::DiscoverBootstrap { site, kafka } => {
            let source = clusters.site(*site);
            let bootstrap = discover_bootstrap(source, kafka, options.timeout, &on_progress).await?;
            facts.bootstraps.lock().expect("lock").insert(*site, bootstrap.clone());
            Ok(("discovered".into(), Some(bootstrap)))
        }
    }
}

/// Fill in run-time values and keep a resumed rollout resumed: `spec.paused` is applied only
/// while the Deployment is new or still paused, so re-running install never pauses a running
/// operator again, and an interrupted install keeps the operator paused until its RBAC exists.
async fn prepare(object: &Manifest, cluster: &crate::kube::client::Cluster, facts: &Facts) -> Result<Manifest> {
    let mut object = object.clone();
    for site in SiteId::ALL {
        let placeholder = discovered_bootstrap(site);
        if object.contains_string(&placeholder) {
            let found = facts.bootstraps.lock().expect("lock").get(&site).cloned();
            let bootstrap = found.ok_or_else(|| match site {
                SiteId::A => anyhow!("{} needs the source bootstrap, which was not discovered; pass --source-bootstrap", object.describe()),
                SiteId::B => anyhow!("{} needs site b's bootstrap, which was not discovered", object.describe()),
            })?;
            object.substitute(&placeholder, &bootstrap);
        }
    }
    if object.kind() == "Deployment" && object.0.pointer("/spec/paused") == Some(&Value::Bool(true)) {
        let live = apply::get(cluster, object.api_version(), object.kind(), object.namespace(), object.name()).await?;
        if let Some(live) = live
            && live.pointer("/spec/paused").and_then(Value::as_bool) != Some(true)
            && let Some(spec) = object.0.get_mut("spec").and_then(Value::as_object_mut)
        {
            spec.remove("paused");
        }
    }
    Ok(object)
}

async fn discover_bootstrap(
    cluster: &crate::kube::client::Cluster,
    kafka: &ObjectRef,
    timeout: Duration,
    on_progress: &(dyn Fn(&str) + Sync),
) -> Result<String> {
    let route_name = format!("{}-kafka-bootstrap", kafka.name);
    let ns = kafka.namespace.as_deref();
    // An OpenShift Route's admitted host counts as soon as it exists, before the Kafka reports it.
    let from_route = async {
        match apply::get(cluster, "route.openshift.io/v1", "Route", ns, &route_name).await {
            Ok(Some(route)) => cluster_state::bootstrap_from_route(&route),
            _ => None,
        }
    };
    if let Some(b) = from_route.await {
        return Ok(b);
    }
    wait::watch_until(
        cluster,
        kafka,
        timeout,
        "reporting an external bootstrap address",
        |obj| cluster_state::bootstrap_from_status(obj).ok_or_else(|| "no external listener address in status.listeners yet".to_string()),
        on_progress,
    )
    .await
    .map_err(|e| {
        if e.is::<TimedOut>() { e.context("pass --source-bootstrap HOST:PORT if site a is reachable under another address") } else { e }
    })
}
