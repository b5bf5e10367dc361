//! The mirror as DR operations drive it, through the resources Strimzi reconciles: whether a
//! flow copies (KafkaMirrorMaker2 connector `state`, KafkaMirrorMaker `replicas`), stopping and
//! starting it by applying the same objects `install` applies, and setting where a MirrorMaker 2
//! source connector resumes (Strimzi's `alterOffsets` ConfigMap and `strimzi.io/connector-offsets`
//! annotation, applied while the connector is stopped).

use crate::kube::apply::{self, patch_params};
use crate::kube::client::Cluster;
use crate::kube::conditions::summarize_conditions;
use crate::kube::object::Manifest;
use crate::kube::object::ObjectRef;
use crate::kube::wait;
use crate::material::Material;
use crate::mirror::{SOURCE_ALIAS, TARGET_ALIAS};
use crate::profile::MirrorKind;
use crate::render::{self, DISCOVERED_SOURCE_BOOTSTRAP, MirrorFlow};
use crate::settings::{Settings, SiteId};
use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

pub const OFFSETS_ANNOTATION: &str = "strimzi.io/connector-offsets";
pub const CONNECTOR_ANNOTATION: &str = "strimzi.io/mirrormaker-connector";

/// MirrorMaker 2's connector names as Strimzi builds them (`<source alias>-><target alias>.<Class>`).
pub fn source_connector() -> String {
    format!("{SOURCE_ALIAS}->{TARGET_ALIAS}.MirrorSourceConnector")
}

pub fn checkpoint_connector() -> String {
    format!("{SOURCE_ALIAS}->{TARGET_ALIAS}.MirrorCheckpointConnector")
}

pub use crate::mirror::checkpoints_topic;

/// The mirror that copies into `target` (it runs there).
pub fn mirror_ref(settings: &Settings, target: SiteId) -> ObjectRef {
    ObjectRef {
        api_version: settings.profile.api_version().into(),
        kind: settings.mirror_kind().as_str().into(),
        namespace: Some(settings.site(target).kafka_namespace.clone()),
        name: settings.mirror.name.clone(),
    }
}

/// Whether a flow copies records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    Running,
    Stopped,
    Paused,
    /// Reconciling, or the connector/tasks are not all in one state yet.
    Pending,
    Failed,
    Missing,
}

impl RunState {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Stopped => "stopped",
            RunState::Paused => "paused",
            RunState::Pending => "pending",
            RunState::Failed => "failed",
            RunState::Missing => "missing",
        }
    }

    /// Could records flow? (Anything but a settled stop, pause or absence.)
    pub fn may_copy(&self) -> bool {
        matches!(self, RunState::Running | RunState::Pending | RunState::Failed)
    }
}

/// A mirror resource as observed.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    pub state: RunState,
    /// One line for tables and errors.
    pub detail: String,
    /// The address the mirror copies from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn connector_state(obj: &Value, name: &str) -> Option<String> {
    obj.pointer("/status/connectors")?
        .as_array()?
        .iter()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|c| c.pointer("/connector/state"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn generation_current(obj: &Value) -> bool {
    let g = obj.pointer("/metadata/generation").and_then(Value::as_i64);
    let o = obj.pointer("/status/observedGeneration").and_then(Value::as_i64);
    g.is_some() && g == o
}

/// What a KafkaMirrorMaker2 / KafkaMirrorMaker object says about its flow (pure).
pub fn evaluate(kind: MirrorKind, obj: Option<&Value>) -> Observed {
    let Some(obj) = obj else { return Observed { state: RunState::Missing, detail: "no mirror resource".into(), source: None } };
    let source = ["/spec/mirrors/0/source/bootstrapServers", "/spec/consumer/bootstrapServers"]
        .iter()
        .find_map(|p| obj.pointer(p).and_then(Value::as_str))
        .map(str::to_string);
    let pending = |detail: String| Observed { state: RunState::Pending, detail, source: source.clone() };
    if !generation_current(obj) {
        return pending(format!("being reconciled; {}", summarize_conditions(obj)));
    }
    match kind {
        MirrorKind::KafkaMirrorMaker2 => {
            let states: Vec<(String, Option<String>)> =
                [source_connector(), checkpoint_connector()].into_iter().map(|n| (n.clone(), connector_state(obj, &n))).collect();
            let detail = states.iter().map(|(n, s)| format!("{n} {}", s.as_deref().unwrap_or("absent"))).collect::<Vec<_>>().join(", ");
            let all = |want: &str| states.iter().all(|(_, s)| s.as_deref() == Some(want));
            let state = if all("RUNNING") {
                RunState::Running
            } else if all("STOPPED") {
                RunState::Stopped
            } else if all("PAUSED") {
                RunState::Paused
            } else if states.iter().any(|(_, s)| s.as_deref() == Some("FAILED")) {
                RunState::Failed
            } else {
                RunState::Pending
            };
            Observed { state, detail, source }
        }
        MirrorKind::KafkaMirrorMaker => {
            let replicas = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let ready = obj
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
            let state = match (replicas, ready) {
                (0, _) => RunState::Stopped,
                (_, true) => RunState::Running,
                (_, false) => RunState::Pending,
            };
            Observed { state, detail: format!("{replicas} replica(s); {}", summarize_conditions(obj)), source }
        }
    }
}

/// The mirror into `target` as it is now.
pub async fn observe(cluster: &Cluster, settings: &Settings, target: SiteId) -> Result<Observed> {
    let r = mirror_ref(settings, target);
    let obj = apply::get(cluster, &r.api_version, &r.kind, r.namespace.as_deref(), &r.name).await?;
    Ok(evaluate(settings.mirror_kind(), obj.as_ref()))
}

/// Apply the mirror of `flow` (its Secrets and the resource) in the target site, with the
/// source's external address, as `install` would with the same settings.
pub async fn apply_flow(
    cluster: &Cluster,
    settings: &Settings,
    material: &Material,
    flow: &MirrorFlow,
    source_bootstrap: &str,
) -> Result<()> {
    let (secrets, mirror) = render::mirror_objects(settings, material, flow)?;
    let pp = patch_params(false);
    for mut object in secrets.into_iter().chain(mirror) {
        object.substitute(DISCOVERED_SOURCE_BOOTSTRAP, source_bootstrap);
        apply::apply(cluster, &object, &pp).await?;
    }
    Ok(())
}

/// Watch the mirror into `target` until it settles in `want` (at the current generation).
pub async fn wait_state(cluster: &Cluster, settings: &Settings, target: SiteId, want: RunState, timeout: Duration) -> Result<()> {
    let r = mirror_ref(settings, target);
    let kind = settings.mirror_kind();
    let what = format!("{} (mirror into site {target})", want.as_str());
    wait::watch_until(
        cluster,
        &r,
        timeout,
        &what,
        |obj| {
            let o = evaluate(kind, Some(obj));
            if o.state == want { Ok(()) } else { Err(format!("{}: {}", o.state.as_str(), o.detail)) }
        },
        &|_| {},
    )
    .await
}

/// Remove the mirror into `target` (the reverse mirror after a failback), and wait until gone.
pub async fn delete(cluster: &Cluster, settings: &Settings, target: SiteId, timeout: Duration) -> Result<bool> {
    let r = mirror_ref(settings, target);
    let object = Manifest(json!({"apiVersion": r.api_version, "kind": r.kind, "metadata": {"name": r.name, "namespace": r.namespace}}));
    let (outcome, uid) = apply::delete_owned(cluster, &object, kube::api::PropagationPolicy::Background).await?;
    if let Some(uid) = uid {
        crate::plan::teardown::wait_gone(cluster, &object, &uid, timeout).await?;
    }
    Ok(outcome == apply::Outcome::Deleted)
}

/// The body Kafka Connect's `PATCH /connectors/{name}/offsets` takes for MirrorSourceConnector:
/// per source partition `{cluster, topic, partition}` the last copied offset, or null to copy
/// from the start (MirrorSourceTask resumes at stored + 1).
pub fn source_offsets_json(positions: &[(String, i32, Option<i64>)]) -> Value {
    let offsets: Vec<Value> = positions
        .iter()
        .map(|(topic, partition, last)| {
            json!({
                "partition": {"cluster": SOURCE_ALIAS, "topic": topic, "partition": partition},
                "offset": last.map(|o| json!({"offset": o})),
            })
        })
        .collect();
    json!({"offsets": offsets})
}

/// The ConfigMap data key Strimzi reads a MirrorMaker 2 connector's offsets from
/// (KafkaMirrorMaker2AssemblyOperator: `->` becomes `--`, plus `.json`).
pub fn offsets_key(connector: &str) -> String {
    format!("{}.json", connector.replace("->", "--"))
}

/// Set where the stopped source connector of the mirror into `target` resumes: write the
/// ConfigMap the resource names in `alterOffsets`, annotate the resource, and wait until Strimzi
/// has applied it (it removes the annotations) — or report the warning it raised.
pub async fn alter_source_offsets(
    cluster: &Cluster,
    settings: &Settings,
    target: SiteId,
    configmap: &str,
    positions: &[(String, i32, Option<i64>)],
    timeout: Duration,
) -> Result<()> {
    let r = mirror_ref(settings, target);
    let ns = r.namespace.clone().expect("namespaced");
    let connector = source_connector();
    let cm = Manifest(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": configmap, "namespace": ns, "labels": {
            crate::kube::object::MANAGED_BY_LABEL: crate::kube::object::MANAGED_BY, crate::kube::object::SITE_LABEL: target.as_str()}},
        "data": {offsets_key(&connector): serde_json::to_string(&source_offsets_json(positions))?},
    }));
    apply::apply(cluster, &cm, &patch_params(true)).await?;
    apply::merge_patch(
        cluster,
        &r.api_version,
        &r.kind,
        Some(&ns),
        &r.name,
        &json!({"metadata": {"annotations": {OFFSETS_ANNOTATION: "alter", CONNECTOR_ANNOTATION: connector}}}),
    )
    .await?;
    wait::watch_until(
        cluster,
        &r,
        timeout,
        "done altering the source connector's offsets",
        |obj| {
            let warning = obj.pointer("/status/conditions").and_then(Value::as_array).and_then(|c| {
                c.iter()
                    .find(|c| c["type"] == "Warning" && c["reason"] == "AlterOffsets")
                    .and_then(|c| c["message"].as_str().map(str::to_string))
            });
            let annotated = obj.pointer("/metadata/annotations").and_then(|a| a.get(OFFSETS_ANNOTATION)).is_some();
            match (annotated, warning) {
                (false, _) => Ok(Ok(())),
                (true, Some(w)) if generation_current(obj) => Ok(Err(w)),
                _ => Err("waiting for the operator to alter the offsets".to_string()),
            }
        },
        &|_| {},
    )
    .await?
    .map_err(|warning| anyhow!("Strimzi could not alter the offsets of {connector} in {}/{}: {warning}", ns, r.name))
}

/// The mirror must not copy (it is stopped, paused or absent); otherwise an error naming it.
pub fn ensure_not_copying(observed: &Observed, target: SiteId, why: &str) -> Result<()> {
    if observed.state.may_copy() {
        let from = target.other();
        bail!(
            crate::error::UsageError::new(format!(
                "the mirror {from} -> {target} is {} ({}): {why}",
                observed.state.as_str(),
                observed.detail
            ))
            .with_hint("with identity topic names MirrorMaker cannot detect a loop: never run both directions; see `amqdr status`")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kmm2(generation: i64, observed: i64, source: &str, checkpoint: &str) -> Value {
        json!({"metadata": {"generation": generation}, "spec": {"mirrors": [{"source": {"bootstrapServers": "a:443"}}]},
        "status": {"observedGeneration": observed, "conditions": [{"type": "Ready", "status": "True"}], "connectors": [
            {"name": source_connector(), "connector": {"state": source, "worker_id": "w"}, "tasks": [], "type": "source"},
            {"name": checkpoint_connector(), "connector": {"state": checkpoint, "worker_id": "w"}, "tasks": [], "type": "source"},
        ]}})
    }

    #[test]
    fn mirrormaker2_states() {
        let k = MirrorKind::KafkaMirrorMaker2;
        assert_eq!(evaluate(k, Some(&kmm2(2, 2, "RUNNING", "RUNNING"))).state, RunState::Running);
        assert_eq!(evaluate(k, Some(&kmm2(2, 2, "STOPPED", "STOPPED"))).state, RunState::Stopped);
        assert_eq!(evaluate(k, Some(&kmm2(2, 2, "STOPPED", "RUNNING"))).state, RunState::Pending);
        assert_eq!(evaluate(k, Some(&kmm2(3, 2, "STOPPED", "STOPPED"))).state, RunState::Pending, "status of an older spec");
        assert_eq!(evaluate(k, Some(&kmm2(2, 2, "FAILED", "RUNNING"))).state, RunState::Failed);
        assert_eq!(evaluate(k, None).state, RunState::Missing);
        assert_eq!(evaluate(k, Some(&kmm2(2, 2, "RUNNING", "RUNNING"))).source.as_deref(), Some("a:443"));
        assert!(RunState::Pending.may_copy() && !RunState::Stopped.may_copy() && !RunState::Missing.may_copy());
    }

    #[test]
    fn mirrormaker1_states() {
        let k = MirrorKind::KafkaMirrorMaker;
        let obj = |replicas: i64, ready: &str| {
            json!({"metadata": {"generation": 1}, "spec": {"replicas": replicas, "consumer": {"bootstrapServers": "a:443"}},
                "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": ready}]}})
        };
        assert_eq!(evaluate(k, Some(&obj(3, "True"))).state, RunState::Running);
        assert_eq!(evaluate(k, Some(&obj(0, "True"))).state, RunState::Stopped);
        assert_eq!(evaluate(k, Some(&obj(3, "False"))).state, RunState::Pending);
    }

    #[test]
    fn offsets_body_and_key() {
        let body = source_offsets_json(&[("my-topic".into(), 0, Some(119)), ("my-topic".into(), 1, None)]);
        assert_eq!(body["offsets"][0]["partition"], json!({"cluster": "source", "topic": "my-topic", "partition": 0}));
        assert_eq!(body["offsets"][0]["offset"], json!({"offset": 119}));
        assert!(body["offsets"][1]["offset"].is_null(), "no stored offset: copy from the start");
        assert_eq!(offsets_key(&source_connector()), "source--target.MirrorSourceConnector.json");
    }
}
