//! `uninstall` and `status`: both walk the same Plan. Uninstall deletes what the Plan applies,
//! in reverse order, only objects carrying amqdr's label, waiting for each to be gone; CRDs,
//! ClusterRoles and Kafka volumes stay unless `--purge`.

use crate::kube::apply::{self, Outcome};
use crate::kube::client::{Cluster, Clusters};
use crate::kube::conditions::{Readiness, evaluate, summarize_conditions};
use crate::kube::object::Manifest;
use crate::kube::object::ObjectRef;
use crate::plan::{Action, Plan};
use crate::progress::Progress;
use crate::settings::SiteId;
use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PropagationPolicy};
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct DeleteReport {
    pub site: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub outcome: String,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

pub struct UninstallOptions {
    pub purge: bool,
    pub dry_run: bool,
    pub timeout: Duration,
}

fn is_cluster_wide(o: &Manifest) -> bool {
    matches!(o.kind(), "CustomResourceDefinition" | "ClusterRole")
}

/// The objects to delete, in deletion order, with the site whose cluster holds them.
pub fn deletion_order(plan: &Plan, purge: bool) -> Vec<(crate::settings::SiteId, Manifest)> {
    let mut out = Vec::new();
    for (_, lane, step) in plan.steps() {
        if let Action::Apply { object } | Action::CreateOnly { object } = &step.action
            && (purge || !is_cluster_wide(object))
        {
            out.push((lane.site, object.clone()));
        }
    }
    out.reverse();
    // Strimzi's custom resources first, while their operators still run: the operator stops
    // reconciling a Kafka once it is gone, and the Topic Operator removes its finalizer from
    // KafkaTopics only while it runs (inside the Kafka's entity operator). Namespaces last of
    // their site: their contents are deleted one by one first, so nothing of someone else's in
    // them is touched by namespace deletion unless they are ours entirely.
    out.sort_by_key(|(_, o)| match o.kind() {
        _ if is_strimzi_resource(o) => 0,
        "CustomResourceDefinition" | "ClusterRole" => 3,
        "Namespace" => 2,
        _ => 1,
    });
    out
}

/// A custom resource the Strimzi operators act on (Kafka, KafkaNodePool, KafkaTopic, ...).
fn is_strimzi_resource(o: &Manifest) -> bool {
    o.api_version().starts_with("kafka.strimzi.io/")
}

/// How the deletion of `o` reaches its dependents. Strimzi resources go at once (background):
/// in the foreground a Kafka would stay, marked for deletion, while its still running operator
/// reconciles it and recreates the children the garbage collector is removing.
fn propagation(o: &Manifest) -> PropagationPolicy {
    if is_strimzi_resource(o) { PropagationPolicy::Background } else { PropagationPolicy::Foreground }
}

async fn pvcs(cluster: &Cluster, namespace: &str, kafka_cluster: &str) -> Result<Vec<String>> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(&format!("strimzi.io/cluster={kafka_cluster}")))
        .await
        .with_context(|| format!("listing PersistentVolumeClaims in {namespace}"))?;
    Ok(list.items.into_iter().filter_map(|p| p.metadata.name).collect())
}

pub(crate) async fn wait_gone(cluster: &Cluster, object: &Manifest, uid: &str, timeout: Duration) -> Result<()> {
    let (resource, caps) = match cluster.resolve(object.api_version(), object.kind()).await {
        Ok(found) => found,
        // The kind itself is gone (its CRD was deleted): so is the object.
        Err(_) => return Ok(()),
    };
    let api: Api<DynamicObject> = match (object.namespace(), caps.scope) {
        (Some(ns), kube::discovery::Scope::Namespaced) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
        _ => Api::all_with(cluster.client.clone(), &resource),
    };
    let gone = kube::runtime::wait::await_condition(api, object.name(), kube::runtime::wait::conditions::is_deleted(uid));
    match tokio::time::timeout(timeout, gone).await {
        Ok(result) => result.map(|_| ()).with_context(|| format!("watching {} until deleted", object.describe())),
        Err(_) => Err(anyhow::Error::new(crate::error::TimedOut(format!(
            "{} was still present {}s after deletion (finalizers, or a controller that is not running?)",
            object.describe(),
            timeout.as_secs()
        )))),
    }
}

/// Delete everything the Plan applied: the two sites concurrently (each in reverse apply order),
/// then, with `--purge`, the cluster-wide objects.
pub async fn uninstall(
    plan: &Plan,
    clusters: &Clusters,
    settings: &crate::settings::Settings,
    options: &UninstallOptions,
    progress: &Progress,
) -> Vec<DeleteReport> {
    let order = deletion_order(plan, options.purge);
    let site_objects = |site: SiteId| order.iter().filter(move |(s, o)| *s == site && !is_cluster_wide(o));
    let run_site = |site: SiteId| async move {
        let mut reports = Vec::new();
        for (_, object) in site_objects(site) {
            reports.push(delete_one(clusters.site(site), site, object, settings, options, progress).await);
        }
        reports
    };
    let (a, b) = futures::join!(run_site(SiteId::A), run_site(SiteId::B));
    let mut reports: Vec<DeleteReport> = a.into_iter().chain(b).collect();
    let mut seen = std::collections::HashSet::new();
    for (site, object) in order.iter().filter(|(_, o)| is_cluster_wide(o)) {
        // One cluster holds one copy of each cluster-wide object.
        let cluster_key = if clusters.one_cluster { SiteId::A } else { *site };
        if seen.insert((cluster_key, object.describe())) {
            reports.push(delete_one(clusters.site(*site), *site, object, settings, options, progress).await);
        }
    }
    reports
}

async fn delete_one(
    cluster: &Cluster,
    site: SiteId,
    object: &Manifest,
    settings: &crate::settings::Settings,
    options: &UninstallOptions,
    progress: &Progress,
) -> DeleteReport {
    let started = Instant::now();
    let mut message = None;
    let outcome: Result<String> = async {
        if object.kind() == "Namespace" {
            let st = settings.site(site);
            if object.name() == st.kafka_namespace {
                let claims = pvcs(cluster, &st.kafka_namespace, &st.cluster_name).await?;
                if !claims.is_empty() {
                    if !options.purge {
                        message = Some(format!(
                            "kept: it holds {} PersistentVolumeClaim(s) of {}; --purge deletes them",
                            claims.len(),
                            st.cluster_name
                        ));
                        return Ok("kept".to_string());
                    }
                    if !options.dry_run {
                        let api: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client.clone(), &st.kafka_namespace);
                        for c in &claims {
                            api.delete(c, &DeleteParams::default()).await.with_context(|| format!("deleting PersistentVolumeClaim {c}"))?;
                        }
                    }
                    message = Some(format!("with {} PersistentVolumeClaim(s)", claims.len()));
                }
            }
        }
        if options.dry_run {
            return Ok("would delete".to_string());
        }
        let (outcome, uid) = apply::delete_owned(cluster, object, propagation(object)).await?;
        if let (Outcome::Deleted, Some(uid)) = (outcome, uid) {
            wait_gone(cluster, object, &uid, options.timeout).await?;
        }
        Ok(outcome.to_string())
    }
    .await;
    let (outcome, message) = match outcome {
        Ok(o) => (o, message),
        Err(e) => ("failed".to_string(), Some(crate::error::report(&e))),
    };
    progress.done(&format!("site {site}"), &format!("delete {}: {outcome}", object.describe()));
    DeleteReport {
        site: site.to_string(),
        kind: object.kind().into(),
        namespace: object.namespace().map(str::to_string),
        name: object.name().into(),
        outcome,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        message,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub site: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// missing / present / ready / not-ready
    pub state: String,
    pub detail: String,
}

/// The live state of every object the Plan applies; readiness where the Plan waits on it.
pub async fn status(plan: &Plan, clusters: &Clusters) -> Vec<StatusRow> {
    let waits: Vec<(ObjectRef, crate::kube::conditions::Condition)> = plan
        .steps()
        .filter_map(|(_, _, s)| match &s.action {
            Action::Wait { target, condition } => Some((target.clone(), *condition)),
            _ => None,
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for (_, lane, step) in plan.steps() {
        let (Action::Apply { object } | Action::CreateOnly { object }) = &step.action else { continue };
        let cluster = clusters.site(lane.site);
        if !seen.insert((clusters.one_cluster || lane.site == crate::settings::SiteId::A, object.describe(), lane.site)) {
            continue;
        }
        let target = ObjectRef::of(object);
        let live = apply::get(cluster, object.api_version(), object.kind(), object.namespace(), object.name()).await;
        let (state, detail) = match live {
            Err(e) => ("unknown".to_string(), format!("{e:#}")),
            Ok(None) => ("missing".to_string(), String::new()),
            Ok(Some(v)) => match waits.iter().find(|(t, _)| *t == target) {
                Some((_, condition)) => match evaluate(*condition, &v) {
                    Readiness::Ready => ("ready".to_string(), summarize(&v)),
                    Readiness::Pending(why) => ("not-ready".to_string(), why),
                },
                None => ("present".to_string(), String::new()),
            },
        };
        rows.push(StatusRow {
            site: lane.site.to_string(),
            kind: object.kind().into(),
            namespace: object.namespace().map(str::to_string),
            name: object.name().into(),
            state,
            detail,
        });
    }
    rows
}

fn summarize(v: &Value) -> String {
    summarize_conditions(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::Material;
    use crate::plan::Scope;
    use crate::settings::Settings;

    #[test]
    fn strimzi_resources_go_first_while_the_operators_run() {
        for profile in [crate::profile::Profile::Current, crate::profile::Profile::Legacy] {
            let settings = Settings { profile, ..Settings::default() };
            let plan = Plan::build(&settings, &Material::offline(&settings).unwrap(), Scope::Install).unwrap();
            for site in SiteId::ALL {
                let kinds: Vec<(String, PropagationPolicy)> = deletion_order(&plan, false)
                    .into_iter()
                    .filter(|(s, _)| *s == site)
                    .map(|(_, o)| (o.kind().to_string(), propagation(&o)))
                    .collect();
                let last_custom = kinds.iter().rposition(|(k, _)| k.starts_with("Kafka")).unwrap();
                let operator = kinds.iter().position(|(k, _)| k == "Deployment").unwrap();
                assert!(last_custom < operator, "{kinds:?}");
                let topic = kinds.iter().position(|(k, _)| k == "KafkaTopic").unwrap();
                let kafka = kinds.iter().position(|(k, _)| k == "Kafka").unwrap();
                assert!(topic < kafka, "the Topic Operator must outlive its KafkaTopics: {kinds:?}");
                for (kind, policy) in &kinds {
                    let background = matches!(policy, PropagationPolicy::Background);
                    assert_eq!(background, kind.starts_with("Kafka"), "{kind}");
                }
            }
        }
    }
}
