//! Waits: a watch on one object (kube-runtime watcher, no polling loop), a pure condition
//! evaluated on every event, bounded by `tokio::time::timeout`. A timeout reports the last
//! conditions seen.

use super::client::Cluster;
use super::conditions::{Readiness, evaluate};
use crate::error::TimedOut;
use crate::kube::conditions::Condition;
use crate::kube::object::ObjectRef;
use anyhow::{Result, anyhow};
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn api_for(cluster: &Cluster, target: &ObjectRef, resource: &kube::api::ApiResource, namespaced: bool) -> Api<DynamicObject> {
    match (&target.namespace, namespaced) {
        (Some(ns), true) => Api::namespaced_with(cluster.client.clone(), ns, resource),
        _ => Api::all_with(cluster.client.clone(), resource),
    }
}

/// Watch `target` until `accept` returns `Some`, or the timeout passes. `on_progress` gets a
/// summary of each state seen. Returns what `accept` extracted.
pub async fn watch_until<T>(
    cluster: &Cluster,
    target: &ObjectRef,
    timeout: Duration,
    what: &str,
    mut accept: impl FnMut(&Value) -> std::result::Result<T, String>,
    on_progress: &(dyn Fn(&str) + Sync),
) -> Result<T> {
    let (resource, caps) = cluster.resolve(&target.api_version, &target.kind).await?;
    let api = api_for(cluster, target, &resource, caps.scope == kube::discovery::Scope::Namespaced);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", target.name));
    let last_seen: Arc<Mutex<String>> = Arc::new(Mutex::new("the object does not exist yet".into()));
    let seen = last_seen.clone();
    let watch = async {
        let mut stream = watcher(api, config).default_backoff().applied_objects().boxed();
        while let Some(event) = stream.next().await {
            match event {
                Ok(obj) => {
                    let json = serde_json::to_value(&obj).unwrap_or_default();
                    match accept(&json) {
                        Ok(value) => return Ok(value),
                        Err(why) => {
                            on_progress(&why);
                            *seen.lock().expect("lock") = why;
                        }
                    }
                }
                // Watch errors are retried with backoff; keep the latest for the timeout message.
                Err(e) => *seen.lock().expect("lock") = format!("watch error: {e}"),
            }
        }
        Err(anyhow!("the watch on {target} ended"))
    };
    match tokio::time::timeout(timeout, watch).await {
        Ok(result) => result,
        Err(_) => {
            let last = last_seen.lock().expect("lock").clone();
            Err(anyhow::Error::new(TimedOut(format!("{target} was not {what} within {}s; last seen: {last}", timeout.as_secs()))))
        }
    }
}

/// Wait for a plan condition (Established, Available, Ready at the current generation).
pub async fn wait_for(
    cluster: &Cluster,
    target: &ObjectRef,
    condition: Condition,
    timeout: Duration,
    on_progress: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    watch_until(
        cluster,
        target,
        timeout,
        &condition.to_string(),
        |obj| match evaluate(condition, obj) {
            Readiness::Ready => Ok(()),
            Readiness::Pending(why) => Err(why),
        },
        on_progress,
    )
    .await
}
