//! Parts of the stand-in that make it act like Strimzi where a reading of the operator's source
//! (0.45.2 and 1.2.0) showed amqdr's tests were too lenient:
//! - a Kafka the operator rejects: its listeners (ListenersValidator) or an external listener
//!   whose API the cluster does not serve (KafkaListenersReconciler: Route, TLSRoute);
//! - the Kafka's NetworkPolicy, built from the operator Deployment's environment the way
//!   KafkaCluster.generateNetworkPolicy / NetworkPolicyUtils do, and an evaluator of its selectors;
//! - the Topic Operator's `strimzi.io/topic-operator` finalizer on KafkaTopics (the User
//!   Operator adds none, in either release).

#![allow(dead_code)]

use crate::listeners_validator::{self, Strimzi};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const TOPIC_OPERATOR_FINALIZER: &str = "strimzi.io/topic-operator";
const FIELD_MANAGER: &str = "strimzi-cluster-operator";

/// Ports of the Kafka pods only Strimzi's own components reach (KafkaCluster: control plane,
/// replication, agent).
pub const CONTROLPLANE_PORT: i32 = 9090;
pub const REPLICATION_PORT: i32 = 9091;
pub const KAFKA_AGENT_PORT: i32 = 8443;

/// Why the operator would fail to reconcile this Kafka, as its NotReady condition says it:
/// `(reason, message)`.
pub async fn kafka_rejection(client: &Client, api_version: &str, kafka: &Value) -> Option<(String, String)> {
    let strimzi = Strimzi::of_api_version(api_version);
    let listeners = listeners_validator::kafka_listeners(kafka);
    let replicas = kafka.pointer("/spec/kafka/replicas").and_then(Value::as_i64).unwrap_or(0);
    let broker_ids: Vec<i64> = (0..replicas).collect();
    let errors = listeners_validator::errors(strimzi, &listeners, &broker_ids);
    if !errors.is_empty() {
        return Some(("InvalidResourceException".into(), listeners_validator::rejection_message(&errors)));
    }
    let name = kafka.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let types: Vec<&str> = listeners.iter().filter_map(|l| l.get("type").and_then(Value::as_str)).collect();
    if types.contains(&"route") && !api_served(client, "route.openshift.io", "v1", None).await {
        return Some((
            "NoStackTraceThrowable".into(),
            format!(
                "The OpenShift route API is not available in this Kubernetes cluster. Exposing Kafka cluster {name} using routes is not possible."
            ),
        ));
    }
    if types.contains(&"tlsroute") && !api_served(client, "gateway.networking.k8s.io", "v1", Some("TLSRoute")).await {
        return Some((
            "NoStackTraceThrowable".into(),
            format!(
                "The Gateway API TLSRoute resource is not available in this Kubernetes cluster. Exposing Kafka cluster {name} using TLSRoutes is not possible."
            ),
        ));
    }
    None
}

/// PlatformFeaturesAvailability: the group serves `version` (and `kind` in it, when given).
async fn api_served(client: &Client, group: &str, version: &str, kind: Option<&str>) -> bool {
    match kube::discovery::group(client, group).await {
        Ok(g) => {
            let resources = g.versioned_resources(version);
            g.versions().any(|v| v == version) && kind.is_none_or(|k| resources.iter().any(|(r, _)| r.kind == k))
        }
        Err(_) => false,
    }
}

/// The operator Deployment watching `namespace` (its STRIMZI_NAMESPACE), with its environment.
async fn operator_watching(client: &Client, namespace: &str) -> Option<(String, BTreeMap<String, String>)> {
    let deployments: Api<Deployment> = Api::all(client.clone());
    let list = deployments.list(&ListParams::default().labels("app=strimzi")).await.ok()?;
    list.items.into_iter().filter(|d| d.metadata.deletion_timestamp.is_none()).find_map(|d| {
        let env: BTreeMap<String, String> = d
            .spec
            .as_ref()?
            .template
            .spec
            .as_ref()?
            .containers
            .first()?
            .env
            .as_ref()?
            .iter()
            .filter_map(|e| e.value.clone().map(|v| (e.name.clone(), v)))
            .collect();
        let watched = env.get("STRIMZI_NAMESPACE")?;
        (watched == "*" || watched.split(',').any(|n| n.trim() == namespace))
            .then(|| (d.metadata.namespace.clone().unwrap_or_default(), env))
    })
}

/// Labels.fromString: `k=v,k2=v2`.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    text.split(',').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// NetworkPolicyUtils.clusterOperatorNamespaceSelector: none in the same namespace, the
/// configured labels, or (labels unset) every namespace.
fn operator_namespace_selector(operand_ns: &str, operator_ns: &str, labels: Option<&String>) -> Option<Value> {
    if operand_ns == operator_ns {
        return None;
    }
    match labels.map(|l| parse_labels(l)).filter(|l| !l.is_empty()) {
        Some(l) => Some(json!({"matchLabels": l})),
        None => Some(json!({})),
    }
}

/// Create or update `<cluster>-network-policy-kafka` the way the operator does (owned by the
/// Kafka). Returns the operator namespace the policy was built for.
pub async fn reconcile_network_policy(client: &Client, kafka: &Value) -> anyhow::Result<Option<String>> {
    let ns = kafka.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default();
    let name = kafka.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let Some((operator_ns, env)) = operator_watching(client, ns).await else { return Ok(None) };
    let co_selector = operator_namespace_selector(ns, &operator_ns, env.get("STRIMZI_OPERATOR_NAMESPACE_LABELS"));
    let mut co_peer = json!({"podSelector": {"matchLabels": {"strimzi.io/kind": "cluster-operator"}}});
    if let Some(sel) = co_selector {
        co_peer["namespaceSelector"] = sel;
    }
    let peer = |labels: Value| json!({"podSelector": {"matchLabels": labels}});
    let kafka_peer = peer(json!({"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka", "strimzi.io/name": format!("{name}-kafka")}));
    let eo_peer = peer(json!({"strimzi.io/name": format!("{name}-entity-operator")}));
    let exporter_peer = peer(json!({"strimzi.io/name": format!("{name}-kafka-exporter")}));
    let cc_peer = peer(json!({"strimzi.io/name": format!("{name}-cruise-control")}));
    let rule = |port: i64, from: Vec<Value>| json!({"ports": [{"port": port, "protocol": "TCP"}], "from": from});
    let mut ingress = vec![
        rule(CONTROLPLANE_PORT.into(), vec![kafka_peer.clone(), co_peer.clone()]),
        rule(REPLICATION_PORT.into(), vec![co_peer.clone(), kafka_peer.clone(), eo_peer, exporter_peer, cc_peer]),
        rule(KAFKA_AGENT_PORT.into(), vec![co_peer]),
    ];
    for l in listeners_validator::kafka_listeners(kafka) {
        // User listeners are open to all unless the Kafka names peers.
        let from = l.get("networkPolicyPeers").and_then(Value::as_array).cloned().unwrap_or_default();
        ingress.push(rule(l.get("port").and_then(Value::as_i64).unwrap_or(0), from));
    }
    let policy = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {
            "name": format!("{name}-network-policy-kafka"), "namespace": ns,
            "labels": {"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka", "strimzi.io/name": format!("{name}-kafka")},
            "ownerReferences": [{
                "apiVersion": kafka["apiVersion"], "kind": "Kafka", "name": name, "uid": kafka.pointer("/metadata/uid"),
                "blockOwnerDeletion": true, "controller": false,
            }],
        },
        "spec": {
            "podSelector": {"matchLabels": {"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka", "strimzi.io/name": format!("{name}-kafka")}},
            "ingress": ingress,
        },
    });
    let api: Api<NetworkPolicy> = Api::namespaced(client.clone(), ns);
    api.patch(&format!("{name}-network-policy-kafka"), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&policy)).await?;
    Ok(Some(operator_ns))
}

fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector.match_labels.as_ref().is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let by_expressions = selector.match_expressions.as_ref().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let values = e.values.clone().unwrap_or_default();
            let value = labels.get(&e.key);
            match e.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
    });
    by_labels && by_expressions
}

/// The namespaces from which a pod with `pod_labels` may reach `port` under `policy`,
/// evaluated against the given Namespace objects as a NetworkPolicy implementation would.
pub fn namespaces_admitted(
    policy: &NetworkPolicy,
    port: i32,
    pod_labels: &BTreeMap<String, String>,
    namespaces: &[Namespace],
) -> Vec<String> {
    let policy_ns = policy.metadata.namespace.clone().unwrap_or_default();
    let rules = policy.spec.as_ref().and_then(|s| s.ingress.clone()).unwrap_or_default();
    let mut admitted = Vec::new();
    for ns in namespaces {
        let ns_name = ns.metadata.name.clone().unwrap_or_default();
        let ns_labels: BTreeMap<String, String> = ns.metadata.labels.clone().unwrap_or_default();
        let allowed = rules.iter().any(|rule| {
            let port_matches = rule.ports.as_ref().is_none_or(|ports| {
                ports
                    .iter()
                    .any(|p| matches!(&p.port, Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) if *n == port))
            });
            let peers = rule.from.clone().unwrap_or_default();
            let from_matches = peers.is_empty()
                || peers.iter().any(|peer| {
                    let pod_ok = peer.pod_selector.as_ref().is_none_or(|s| selector_matches(s, pod_labels));
                    let ns_ok = match &peer.namespace_selector {
                        None => ns_name == policy_ns,
                        Some(s) => selector_matches(s, &ns_labels),
                    };
                    (peer.pod_selector.is_some() || peer.namespace_selector.is_some()) && pod_ok && ns_ok
                });
            port_matches && from_matches
        });
        if allowed {
            admitted.push(ns_name);
        }
    }
    admitted
}

fn kafka_topic_resource(api_version: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap();
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, "KafkaTopic"), "kafkatopics")
}

/// The Topic Operator runs in the Kafka's entity operator: it exists while the Kafka does (and
/// is not being deleted), and only its site's cluster operator creates it.
pub async fn topic_operator_running(client: &Client, api_version: &str, ns: &str, cluster: &str) -> bool {
    let (group, version) = api_version.split_once('/').unwrap();
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, "Kafka"), "kafkas");
    let kafkas: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    let kafka_live = matches!(kafkas.get_opt(cluster).await, Ok(Some(k)) if k.metadata.deletion_timestamp.is_none());
    kafka_live && operator_watching(client, ns).await.is_some()
}

/// What the Topic Operator does with a KafkaTopic's finalizer: adds it when it first reconciles
/// the topic, removes it once the topic is deleted (after deleting the Kafka topic) — only while
/// it runs. Returns a journal line when it acted or could not.
pub async fn topic_finalizer(client: &Client, api_version: &str, topic: &DynamicObject) -> anyhow::Result<Option<String>> {
    let ns = topic.metadata.namespace.clone().unwrap_or_default();
    let name = topic.metadata.name.clone().unwrap_or_default();
    let cluster = topic.metadata.labels.as_ref().and_then(|l| l.get("strimzi.io/cluster")).cloned().unwrap_or_default();
    let finalizers = topic.metadata.finalizers.clone().unwrap_or_default();
    let has = finalizers.iter().any(|f| f == TOPIC_OPERATOR_FINALIZER);
    let deleting = topic.metadata.deletion_timestamp.is_some();
    if !topic_operator_running(client, api_version, &ns, &cluster).await {
        return Ok((deleting && has)
            .then(|| format!("KafkaTopic {ns}/{name} keeps finalizer {TOPIC_OPERATOR_FINALIZER}: its Topic Operator is gone")));
    }
    let wanted: Vec<String> = match (deleting, has) {
        (false, false) => finalizers.iter().cloned().chain([TOPIC_OPERATOR_FINALIZER.to_string()]).collect(),
        (true, true) => finalizers.iter().filter(|f| *f != TOPIC_OPERATOR_FINALIZER).cloned().collect(),
        _ => return Ok(None),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &kafka_topic_resource(api_version));
    // Optimistic concurrency, as the operator's update does.
    let patch = json!({"metadata": {"finalizers": wanted, "resourceVersion": topic.metadata.resource_version}});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(Some(format!("KafkaTopic {ns}/{name}: {} finalizer {TOPIC_OPERATOR_FINALIZER}", if deleting { "removed" } else { "added" })))
}
