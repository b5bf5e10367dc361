//! The one apply path: server-side apply with field manager `amqdr` and strict field
//! validation, typed k8s-openapi objects for core kinds and `DynamicObject` for Strimzi kinds.
//! Also deletion for uninstall, and API errors turned into messages a user can act on.

use super::client::Cluster;
use crate::kube::object::{MANAGED_BY, MANAGED_BY_LABEL, Manifest};
use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Resource;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use kube::core::NamespaceResourceScope;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;

pub const FIELD_MANAGER: &str = "amqdr";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
    Deleted,
    Absent,
    /// Present but not ours (no amqdr label): left alone.
    Kept,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
            Outcome::Absent => "absent",
            Outcome::Kept => "kept",
        })
    }
}

pub fn patch_params(force_conflicts: bool) -> PatchParams {
    let pp = PatchParams::apply(FIELD_MANAGER).validation_strict();
    if force_conflicts { pp.force() } else { pp }
}

fn resource_version(v: &Value) -> Option<String> {
    v.pointer("/metadata/resourceVersion").and_then(Value::as_str).map(str::to_string)
}

/// Result of one apply: the outcome and the object the server returned.
pub struct Applied {
    pub outcome: Outcome,
    pub live: Value,
}

/// A typed API for a core kind, namespaced or cluster-scoped.
trait TypedApi: Sized {
    fn api(cluster: &Cluster, namespace: Option<&str>) -> Api<Self>;
}

macro_rules! namespaced {
    ($($t:ty),*) => {$(
        impl TypedApi for $t {
            fn api(cluster: &Cluster, namespace: Option<&str>) -> Api<Self> {
                namespaced_api::<$t>(cluster, namespace)
            }
        }
    )*};
}
macro_rules! cluster_scoped {
    ($($t:ty),*) => {$(
        impl TypedApi for $t {
            fn api(cluster: &Cluster, _namespace: Option<&str>) -> Api<Self> {
                Api::all(cluster.client.clone())
            }
        }
    )*};
}

fn namespaced_api<K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>>(cluster: &Cluster, ns: Option<&str>) -> Api<K> {
    Api::namespaced(cluster.client.clone(), ns.unwrap_or("default"))
}

namespaced!(ServiceAccount, Secret, ConfigMap, Deployment, RoleBinding);
cluster_scoped!(Namespace, ClusterRole, ClusterRoleBinding, CustomResourceDefinition);

async fn apply_typed<K>(cluster: &Cluster, object: &Manifest, pp: &PatchParams) -> Result<Applied>
where
    K: TypedApi + Resource + Clone + Debug + Serialize + DeserializeOwned,
{
    let typed: K =
        serde_json::from_value(object.0.clone()).with_context(|| format!("{} is not a valid {}", object.describe(), object.kind()))?;
    let api = K::api(cluster, object.namespace());
    let before = api.get_opt(object.name()).await.map_err(|e| api_error(e, "reading", object))?;
    let after = api.patch(object.name(), pp, &Patch::Apply(&typed)).await.map_err(|e| api_error(e, "applying", object))?;
    outcome(before.map(|b| serde_json::to_value(b).unwrap_or_default()), serde_json::to_value(after)?)
}

async fn dynamic_api(cluster: &Cluster, api_version: &str, kind: &str, namespace: Option<&str>) -> Result<Api<DynamicObject>> {
    let (resource, caps) = cluster.resolve(api_version, kind).await?;
    Ok(match (caps.scope, namespace) {
        (kube::discovery::Scope::Namespaced, Some(ns)) => Api::namespaced_with(cluster.client.clone(), ns, &resource),
        (kube::discovery::Scope::Namespaced, None) => return Err(anyhow!("{kind} is namespaced but the object has no namespace")),
        (kube::discovery::Scope::Cluster, _) => Api::all_with(cluster.client.clone(), &resource),
    })
}

async fn apply_dynamic(cluster: &Cluster, object: &Manifest, pp: &PatchParams) -> Result<Applied> {
    let api = dynamic_api(cluster, object.api_version(), object.kind(), object.namespace()).await?;
    let before = api.get_opt(object.name()).await.map_err(|e| api_error(e, "reading", object))?;
    let after = api.patch(object.name(), pp, &Patch::Apply(&object.0)).await.map_err(|e| api_error(e, "applying", object))?;
    outcome(before.map(|b| serde_json::to_value(b).unwrap_or_default()), serde_json::to_value(after)?)
}

fn outcome(before: Option<Value>, after: Value) -> Result<Applied> {
    let outcome = match before {
        None => Outcome::Created,
        Some(b) if resource_version(&b) == resource_version(&after) => Outcome::Unchanged,
        Some(_) => Outcome::Configured,
    };
    Ok(Applied { outcome, live: after })
}

/// Server-side apply of one object.
pub async fn apply(cluster: &Cluster, object: &Manifest, pp: &PatchParams) -> Result<Applied> {
    match (object.api_version(), object.kind()) {
        ("v1", "Namespace") => apply_typed::<Namespace>(cluster, object, pp).await,
        ("v1", "ServiceAccount") => apply_typed::<ServiceAccount>(cluster, object, pp).await,
        ("v1", "Secret") => apply_typed::<Secret>(cluster, object, pp).await,
        ("v1", "ConfigMap") => apply_typed::<ConfigMap>(cluster, object, pp).await,
        ("apps/v1", "Deployment") => apply_typed::<Deployment>(cluster, object, pp).await,
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => apply_typed::<RoleBinding>(cluster, object, pp).await,
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => apply_typed::<ClusterRoleBinding>(cluster, object, pp).await,
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => apply_typed::<ClusterRole>(cluster, object, pp).await,
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => apply_typed::<CustomResourceDefinition>(cluster, object, pp).await,
        _ => apply_dynamic(cluster, object, pp).await,
    }
}

/// Read any object as JSON (None when absent).
pub async fn get(cluster: &Cluster, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Result<Option<Value>> {
    let api = dynamic_api(cluster, api_version, kind, namespace).await?;
    let found = api.get_opt(name).await.with_context(|| format!("reading {kind}/{name}"))?;
    Ok(found.map(|o| serde_json::to_value(o).unwrap_or_default()))
}

/// Every object of a kind in a namespace, as JSON.
pub async fn list(cluster: &Cluster, api_version: &str, kind: &str, namespace: &str) -> Result<Vec<Value>> {
    let api = dynamic_api(cluster, api_version, kind, Some(namespace)).await?;
    let found = api.list(&Default::default()).await.with_context(|| format!("listing {kind} in {namespace}"))?;
    Ok(found.items.into_iter().map(|o| serde_json::to_value(o).unwrap_or_default()).collect())
}

/// Merge-patch an object (field manager amqdr), e.g. to resume a paused rollout.
pub async fn merge_patch(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    patch: &Value,
) -> Result<Value> {
    let api = dynamic_api(cluster, api_version, kind, namespace).await?;
    let pp = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let after = api.patch(name, &pp, &Patch::Merge(patch)).await.with_context(|| format!("patching {kind}/{name}"))?;
    Ok(serde_json::to_value(after)?)
}

/// Delete an object amqdr manages (label `app.kubernetes.io/managed-by=amqdr`) with the given
/// propagation to its dependents. Objects without the label are kept.
pub async fn delete_owned(cluster: &Cluster, object: &Manifest, propagation: PropagationPolicy) -> Result<(Outcome, Option<String>)> {
    let api = match dynamic_api(cluster, object.api_version(), object.kind(), object.namespace()).await {
        Ok(api) => api,
        // The kind is gone (CRDs deleted earlier): nothing of it can remain.
        Err(_) if object.api_version().contains("strimzi.io") => return Ok((Outcome::Absent, None)),
        Err(e) => return Err(e),
    };
    let Some(live) = api.get_opt(object.name()).await.map_err(|e| api_error(e, "reading", object))? else {
        return Ok((Outcome::Absent, None));
    };
    let ours = live.metadata.labels.as_ref().and_then(|l| l.get(MANAGED_BY_LABEL)).map(String::as_str) == Some(MANAGED_BY);
    if !ours {
        return Ok((Outcome::Kept, None));
    }
    let uid = live.metadata.uid.clone();
    let dp = DeleteParams {
        propagation_policy: Some(propagation),
        preconditions: uid.clone().map(|uid| kube::api::Preconditions { uid: Some(uid), resource_version: None }),
        ..Default::default()
    };
    match api.delete(object.name(), &dp).await {
        Ok(_) => Ok((Outcome::Deleted, uid)),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok((Outcome::Absent, None)),
        Err(e) => Err(api_error(e, "deleting", object)),
    }
}

/// An API error as a message naming the object and, for the common cases, the fix.
pub fn api_error(err: kube::Error, doing: &str, object: &Manifest) -> anyhow::Error {
    let what = object.describe();
    match &err {
        kube::Error::Api(s) if s.is_conflict() && doing == "applying" => anyhow!(
            "field manager conflict while applying {what}: {}\n  fix: another tool owns these fields; re-run with --force-conflicts to take ownership",
            s.message
        ),
        kube::Error::Api(s) if s.code == 422 || s.code == 400 => {
            anyhow!("the API server rejected {what} ({}): {}", s.reason, s.message)
        }
        kube::Error::Api(s) if s.is_forbidden() => anyhow!(
            "forbidden while {doing} {what}: {}\n  fix: amqdr needs cluster-admin rights (it installs CRDs, ClusterRoles and bindings)",
            s.message
        ),
        _ => anyhow::Error::new(err).context(format!("{doing} {what}")),
    }
}
