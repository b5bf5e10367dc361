//! The test's stand-in for what does not run on the test bed: the Strimzi operator (it writes
//! `status` of Kafka, KafkaUser, KafkaTopic and the mirror resources the way Strimzi does, and the
//! OpenShift Route of the external listener) and the kubelet (it marks the operator's Pods
//! running and ready, so the real Deployment controller reports the Deployment Available).
//! It reacts to watch events, like the real components, and records what it saw so tests can
//! check the order amqdr applied things in. Where Strimzi rejects a resource or acts on its own
//! (listener rules, missing APIs, NetworkPolicies, the Topic Operator's finalizer) it follows
//! `operator_fidelity`.
//!
//! KafkaUsers are reconciled as Strimzi's User Operator does (`user_operator`): only once their
//! Kafka (`strimzi.io/cluster`) exists (the Entity Operator deploys it), NotReady with Strimzi's
//! message when they ask for simple authorization and the Kafka has none that supports ACLs
//! (in every namespace), again whenever the Kafka's `spec.kafka.authorization` changes (Strimzi
//! restarts the User Operator with a new STRIMZI_ACLS_ADMIN_API_SUPPORTED). In namespaces mapped
//! to a Kafka test bed site the user is applied on the real brokers (SCRAM-SHA-512 credential from
//! the Secret in `secretKeyRef`, or generated and kept in Secret `<user>` as Strimzi does, exactly
//! its ACLs), and removed from them when it is deleted.

#![allow(dead_code)]

use crate::operator_fidelity as fidelity;
use crate::user_operator;
use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::{Pod, Secret};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct StandinOptions {
    /// `kafka.strimzi.io/v1beta2` (legacy) or `kafka.strimzi.io/v1` (current).
    pub api_version: String,
    /// Namespaces this stand-in serves (tests share clusters).
    pub namespaces: Vec<String>,
    /// Mark operator Pods ready (false: the operator never becomes available).
    pub operator_ready: bool,
    /// Hostname suffix for Route hosts.
    pub apps_domain: String,
    /// `host:port` a Kafka in this namespace reports for its external listener instead of a
    /// made-up Route host: the address of a real broker (the Kafka test bed), so `amqdr verify`
    /// can find and reach it through the cluster as it would on OpenShift.
    pub external_bootstraps: std::collections::HashMap<String, String>,
    /// Namespace -> the Kafka test bed site its Kafka runs on. In these namespaces the mirror
    /// resources run for real (Connect worker / MirrorMaker 1 process, tests/common/mirror_runtime.rs)
    /// and KafkaTopics are created on the brokers (tests/common/topic_operator.rs).
    pub kafka_sites: std::collections::HashMap<String, crate::mirror_runtime::KafkaSite>,
}

#[derive(Default, Debug)]
pub struct Journal {
    pub events: Vec<String>,
    /// Things a real operator would have failed on (e.g. a Kafka without its CA Secrets).
    pub violations: Vec<String>,
}

pub struct Standin {
    task: tokio::task::JoinHandle<()>,
    pub journal: Arc<Mutex<Journal>>,
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> String {
    // RFC 3339 without fractions, as Kubernetes writes it.
    let t = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

fn ready_conditions() -> Value {
    json!([{"type": "Ready", "status": "True", "lastTransitionTime": now()}])
}

fn resource(api_version: &str, kind: &str, plural: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap();
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

enum Event {
    Custom(&'static str, Box<DynamicObject>),
    /// A watched object was deleted (KafkaUsers only).
    Deleted(&'static str, Box<DynamicObject>),
    Pod(Box<Pod>),
    /// Strimzi's periodic reconciliation (shortened): users left NotReady by a failure on the
    /// brokers (a site's Kafka down) are tried again.
    Tick,
}

/// How often NotReady KafkaUsers of mapped namespaces are reconciled again (Strimzi: every
/// STRIMZI_FULL_RECONCILIATION_INTERVAL_MS, 120 s by default).
const USER_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

/// What the stand-in remembers between events: the `spec.kafka.authorization` each Kafka had
/// when its KafkaUsers were last reconciled (namespace, name).
#[derive(Default)]
struct Memory {
    kafka_authorization: HashMap<(String, String), Value>,
}

impl Standin {
    pub async fn start(client: Client, options: StandinOptions) -> Standin {
        let journal = Arc::new(Mutex::new(Journal::default()));
        let kinds: Vec<(&'static str, &'static str)> = vec![
            ("Kafka", "kafkas"),
            ("KafkaUser", "kafkausers"),
            ("KafkaTopic", "kafkatopics"),
            ("KafkaMirrorMaker", "kafkamirrormakers"),
            ("KafkaMirrorMaker2", "kafkamirrormaker2s"),
        ];
        let j = journal.clone();
        let task = tokio::spawn(async move {
            let mut memory = Memory::default();
            let _mirrors = (!options.kafka_sites.is_empty()).then(|| {
                let j = j.clone();
                let record: crate::mirror_runtime::kube_driver::Recorder = Arc::new(move |note| match note {
                    crate::mirror_runtime::Note::Event(e) => j.lock().unwrap().events.push(e),
                    crate::mirror_runtime::Note::Violation(v) => j.lock().unwrap().violations.push(v),
                });
                let runtime = crate::mirror_runtime::MirrorRuntime::new(options.kafka_sites.clone());
                crate::mirror_runtime::kube_driver::spawn(client.clone(), &options.api_version, runtime, record)
            });
            let mut streams = Vec::new();
            for (kind, plural) in kinds {
                if options.api_version.ends_with("/v1") && kind == "KafkaMirrorMaker" {
                    continue;
                }
                let ar = resource(&options.api_version, kind, plural);
                let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
                if kind == "KafkaUser" {
                    // Deletions too: the User Operator removes the user from the brokers.
                    let s = watcher(api, watcher::Config::default())
                        .default_backoff()
                        .filter_map(move |r| async move {
                            match r {
                                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => Some(Event::Custom(kind, Box::new(o))),
                                Ok(watcher::Event::Delete(o)) => Some(Event::Deleted(kind, Box::new(o))),
                                _ => None,
                            }
                        })
                        .boxed();
                    streams.push(s);
                    continue;
                }
                let s = watcher(api, watcher::Config::default())
                    .default_backoff()
                    .applied_objects()
                    .filter_map(move |r| async move { r.ok().map(|o| Event::Custom(kind, Box::new(o))) })
                    .boxed();
                streams.push(s);
            }
            let pods: Api<Pod> = Api::all(client.clone());
            streams.push(
                watcher(pods, watcher::Config::default().labels("name=strimzi-cluster-operator"))
                    .default_backoff()
                    .applied_objects()
                    .filter_map(|r| async move { r.ok().map(|p| Event::Pod(Box::new(p))) })
                    .boxed(),
            );
            if !options.kafka_sites.is_empty() {
                streams.push(
                    stream::unfold((), |()| async {
                        tokio::time::sleep(USER_RETRY).await;
                        Some((Event::Tick, ()))
                    })
                    .boxed(),
                );
            }
            let mut all = stream::select_all(streams);
            while let Some(event) = all.next().await {
                let result = match event {
                    Event::Custom(kind, obj) => on_custom(&client, &options, &j, &mut memory, kind, *obj).await,
                    Event::Deleted(_, obj) => on_user_deleted(&client, &options, &j, *obj).await,
                    Event::Pod(pod) => on_pod(&client, &options, &j, *pod).await,
                    Event::Tick => retry_users(&client, &options, &j).await,
                };
                if let Err(e) = result {
                    j.lock().unwrap().events.push(format!("stand-in error: {e}"));
                }
            }
        });
        Standin { task, journal }
    }

    pub fn events(&self) -> Vec<String> {
        self.journal.lock().unwrap().events.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.journal.lock().unwrap().violations.clone()
    }
}

async fn secret_exists(client: &Client, ns: &str, name: &str) -> bool {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    matches!(api.get_opt(name).await, Ok(Some(_)))
}

async fn on_custom(
    client: &Client,
    options: &StandinOptions,
    journal: &Arc<Mutex<Journal>>,
    memory: &mut Memory,
    kind: &str,
    obj: DynamicObject,
) -> anyhow::Result<()> {
    let ns = obj.metadata.namespace.clone().unwrap_or_default();
    if !options.namespaces.contains(&ns) {
        return Ok(());
    }
    let site = options.kafka_sites.get(&ns);
    if site.is_some() && kind.starts_with("KafkaMirrorMaker") {
        return Ok(()); // the mirror runtime's own watch reconciles these
    }
    let name = obj.metadata.name.clone().unwrap_or_default();
    let generation = obj.metadata.generation.unwrap_or(1);
    let data = serde_json::to_value(&obj)?;
    if kind == "KafkaUser" {
        if obj.metadata.deletion_timestamp.is_some()
            || data.pointer("/status/observedGeneration").and_then(Value::as_i64) == Some(generation)
        {
            return Ok(());
        }
        return reconcile_user(client, options, journal, &data).await;
    }
    if kind == "KafkaTopic" {
        // The Topic Operator's finalizer (added on first sight, removed on deletion while it runs).
        if let Some(line) = fidelity::topic_finalizer(client, &options.api_version, &obj).await? {
            journal.lock().unwrap().events.push(line);
        }
    }
    if obj.metadata.deletion_timestamp.is_some() {
        if kind != "Kafka" {
            return Ok(());
        }
        // Strimzi does not look at a Kafka's deletionTimestamp: marked for foreground deletion, it
        // is reconciled again and its children recreated while the garbage collector removes them.
        journal
            .lock()
            .unwrap()
            .violations
            .push(format!("Kafka {ns}/{name} was reconciled while marked for deletion: deleted in the foreground while its operator runs"));
    }
    if data.pointer("/status/observedGeneration").and_then(Value::as_i64) == Some(generation) {
        return Ok(());
    }
    journal.lock().unwrap().events.push(format!("{kind} {ns}/{name} generation {generation}"));
    let mut status = json!({"observedGeneration": generation, "conditions": ready_conditions()});
    match kind {
        "Kafka" => {
            for secret in [format!("{name}-cluster-ca-cert"), format!("{name}-cluster-ca")] {
                if !secret_exists(client, &ns, &secret).await {
                    let msg = format!("Kafka {ns}/{name}: Cluster CA should not be generated, but the secrets were not found ({secret})");
                    journal.lock().unwrap().violations.push(msg.clone());
                    status["conditions"] =
                        json!([{"type": "NotReady", "status": "True", "reason": "ClusterCaSecretsMissing", "message": msg}]);
                }
            }
            let (host, port) = match options.external_bootstraps.get(&ns).and_then(|b| b.rsplit_once(':')) {
                Some((host, port)) => (host.to_string(), port.parse::<u16>()?),
                None => (format!("{name}-kafka-bootstrap-{ns}.{}", options.apps_domain), 443),
            };
            status["listeners"] = json!([
                {"name": "tls", "bootstrapServers": format!("{name}-kafka-bootstrap.{ns}.svc:9093")},
                {"name": "external", "bootstrapServers": format!("{host}:{port}"), "addresses": [{"host": host, "port": port}]},
            ]);
            status["clusterId"] = json!(format!("standin-{name}"));
            let ca_missing = status["conditions"][0]["type"] == "NotReady";
            if ca_missing {
                // The operator stops at its CA reconciliation.
            } else if let Some((reason, message)) = fidelity::kafka_rejection(client, &options.api_version, &data).await {
                journal.lock().unwrap().violations.push(format!("Kafka {ns}/{name}: {message}"));
                status["conditions"] =
                    json!([{"type": "NotReady", "status": "True", "reason": reason, "message": message, "lastTransitionTime": now()}]);
                status.as_object_mut().unwrap().remove("listeners");
            } else {
                let listener_type = data.pointer("/spec/kafka/listeners/1/type").and_then(Value::as_str).unwrap_or("");
                if listener_type == "route" {
                    ensure_route(client, &ns, &format!("{name}-kafka-bootstrap"), &host).await?;
                }
                if let Some(operator_ns) = fidelity::reconcile_network_policy(client, &data).await? {
                    journal
                        .lock()
                        .unwrap()
                        .events
                        .push(format!("NetworkPolicy {ns}/{name}-network-policy-kafka for operator in {operator_ns}"));
                }
            }
        }
        "KafkaTopic" => match site {
            Some(site) => {
                let outcome = crate::topic_operator::reconcile(&site.plain_bootstrap()?, &name, &data["spec"]).await?;
                if let crate::topic_operator::TopicOutcome::NotReady { message, .. } = &outcome {
                    journal.lock().unwrap().violations.push(format!("KafkaTopic {ns}/{name}: {message}"));
                }
                status = outcome.status(&now());
                status["observedGeneration"] = json!(generation);
            }
            None => status["topicName"] = json!(data.pointer("/spec/topicName").and_then(Value::as_str).unwrap_or(&name)),
        },
        "KafkaMirrorMaker" | "KafkaMirrorMaker2" => {
            for path in ["/spec/consumer/tls/trustedCertificates/0/secretName", "/spec/target/tls/trustedCertificates/0/secretName"] {
                if let Some(secret) = data.pointer(path).and_then(Value::as_str)
                    && !secret_exists(client, &ns, secret).await
                {
                    journal.lock().unwrap().violations.push(format!("{kind} {ns}/{name}: Secret {secret} missing"));
                }
            }
            let bootstrap = data
                .pointer("/spec/consumer/bootstrapServers")
                .or_else(|| data.pointer("/spec/mirrors/0/source/bootstrapServers"))
                .and_then(Value::as_str)
                .unwrap_or("");
            journal.lock().unwrap().events.push(format!("{kind} {ns}/{name} source {bootstrap}"));
            status["replicas"] = data.pointer("/spec/replicas").cloned().unwrap_or(json!(1));
        }
        _ => {}
    }
    let ar = resource(&options.api_version, kind, &format!("{}s", kind.to_lowercase()));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({"status": status}))).await?;
    if kind == "Kafka" {
        // The User Operator starts with the Kafka and restarts when its authorization changes
        // (STRIMZI_ACLS_ADMIN_API_SUPPORTED): every KafkaUser of the cluster is reconciled again.
        let authorization = data.pointer("/spec/kafka/authorization").cloned().unwrap_or(Value::Null);
        let key = (ns.clone(), name.clone());
        if memory.kafka_authorization.get(&key) != Some(&authorization) {
            memory.kafka_authorization.insert(key, authorization);
            let ar = resource(&options.api_version, "KafkaUser", "kafkausers");
            let users: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
            let list = users.list(&kube::api::ListParams::default().labels(&format!("strimzi.io/cluster={name}"))).await?;
            for user in list.items {
                if user.metadata.deletion_timestamp.is_none()
                    && let Err(e) = reconcile_user(client, options, journal, &serde_json::to_value(&user)?).await
                {
                    journal.lock().unwrap().events.push(format!("stand-in error: {e}"));
                }
            }
        }
    }
    Ok(())
}

/// KafkaUsers of namespaces mapped to a Kafka test bed site that are NotReady at their current
/// generation are reconciled again.
async fn retry_users(client: &Client, options: &StandinOptions, journal: &Arc<Mutex<Journal>>) -> anyhow::Result<()> {
    for ns in options.kafka_sites.keys().filter(|ns| options.namespaces.contains(ns)) {
        let users: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), ns, &resource(&options.api_version, "KafkaUser", "kafkausers"));
        for u in users.list(&Default::default()).await?.items {
            let data = serde_json::to_value(&u)?;
            let reconciled = data.pointer("/status/observedGeneration").and_then(Value::as_i64) == u.metadata.generation;
            let ready = data.pointer("/status/conditions/0/type").and_then(Value::as_str) == Some("Ready");
            if reconciled && !ready && u.metadata.deletion_timestamp.is_none() {
                reconcile_user(client, options, journal, &data).await?;
            }
        }
    }
    Ok(())
}

/// The User Operator's reconciliation of one KafkaUser (see the module documentation).
async fn reconcile_user(client: &Client, options: &StandinOptions, journal: &Arc<Mutex<Journal>>, data: &Value) -> anyhow::Result<()> {
    let ns = data.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_string();
    let name = data.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    let generation = data.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    let cluster = data.pointer("/metadata/labels/strimzi.io~1cluster").and_then(Value::as_str).unwrap_or_default();
    let kafkas: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource(&options.api_version, "Kafka", "kafkas"));
    let Some(kafka) = (if cluster.is_empty() { None } else { kafkas.get_opt(cluster).await? }) else {
        // No Kafka, no Entity Operator: nothing reconciles the user (yet).
        journal.lock().unwrap().events.push(format!("KafkaUser {ns}/{name} generation {generation}: no Kafka {cluster:?}, not reconciled"));
        return Ok(());
    };
    let kafka = serde_json::to_value(&kafka)?;
    journal.lock().unwrap().events.push(format!("KafkaUser {ns}/{name} generation {generation}"));
    let outcome = match user_operator::check_authorization(data, &kafka) {
        Some(refusal) => Err(refusal),
        None => match options.kafka_sites.get(&ns) {
            Some(site) => apply_user(client, site, &ns, &name, data, &kafka).await,
            None => Ok(()),
        },
    };
    let status = match outcome {
        Ok(()) => json!({"observedGeneration": generation, "conditions": ready_conditions(), "username": name, "secret": name}),
        Err(refusal) => {
            journal.lock().unwrap().violations.push(format!("KafkaUser {ns}/{name}: {}: {}", refusal.reason, refusal.message));
            refusal.status(generation, &now())
        }
    };
    let users: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource(&options.api_version, "KafkaUser", "kafkausers"));
    // Strimzi writes a new KafkaUserStatus: a NotReady one has no username or secret (null
    // removes them in a merge patch).
    let mut status = status;
    for field in ["username", "secret"] {
        if status.get(field).is_none() {
            status[field] = Value::Null;
        }
    }
    users.patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({"status": status}))).await?;
    Ok(())
}

/// Apply the user on the brokers of its site; the refusal Strimzi reports otherwise.
async fn apply_user(
    client: &Client,
    site: &crate::mirror_runtime::KafkaSite,
    ns: &str,
    name: &str,
    data: &Value,
    kafka: &Value,
) -> Result<(), user_operator::Refusal> {
    let other = |e: anyhow::Error| user_operator::Refusal::other(&format!("{e:#}"));
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let data_of = |s: Option<Secret>| {
        s.map(|s| s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect::<std::collections::BTreeMap<_, _>>())
    };
    let password = match user_operator::desired_password_ref(data) {
        Some((secret_name, key)) => {
            let secret = data_of(secrets.get_opt(&secret_name).await.map_err(|e| other(e.into()))?);
            user_operator::desired_password(ns, &secret_name, &key, secret.as_ref())?
        }
        // Generated: the one already in the user's Secret, or a new one.
        None => data_of(secrets.get_opt(name).await.map_err(|e| other(e.into()))?)
            .and_then(|d| d.get("password").filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()))
            .unwrap_or_else(user_operator::generate_password),
    };
    let spec = user_operator::UserSpec::from_kafka_user(data, password.clone()).map_err(other)?;
    let mut tool = user_operator::UserOperatorTool::for_site(site).map_err(other)?;
    tool.acls_admin_api_supported = user_operator::acls_admin_api_supported(kafka);
    tool.apply(&[spec], false).await.map_err(other)?;
    let pp = PatchParams::apply("strimzi-user-operator").force();
    secrets.patch(name, &pp, &Patch::Apply(user_operator::user_secret(data, &password))).await.map_err(|e| other(e.into()))?;
    Ok(())
}

/// A deleted KafkaUser: in a namespace mapped to a test bed site its credential and ACLs go.
async fn on_user_deleted(
    client: &Client,
    options: &StandinOptions,
    journal: &Arc<Mutex<Journal>>,
    obj: DynamicObject,
) -> anyhow::Result<()> {
    let ns = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    if !options.namespaces.contains(&ns) {
        return Ok(());
    }
    let Some(site) = options.kafka_sites.get(&ns) else {
        return Ok(());
    };
    let mut tool = user_operator::UserOperatorTool::for_site(site)?;
    // ACLs as the running User Operator manages them (its Kafka's authorization; gone: as before).
    let cluster = obj.metadata.labels.as_ref().and_then(|l| l.get("strimzi.io/cluster")).cloned().unwrap_or_default();
    let kafkas: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource(&options.api_version, "Kafka", "kafkas"));
    if let Some(kafka) = if cluster.is_empty() { None } else { kafkas.get_opt(&cluster).await? } {
        tool.acls_admin_api_supported = user_operator::acls_admin_api_supported(&serde_json::to_value(&kafka)?);
    }
    tool.delete(&[name.as_str()]).await?;
    journal.lock().unwrap().events.push(format!("KafkaUser {ns}/{name} deleted from the brokers of site {}", site.site));
    Ok(())
}

async fn ensure_route(client: &Client, ns: &str, name: &str, host: &str) -> anyhow::Result<()> {
    let ar = resource("route.openshift.io/v1", "Route", "routes");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
    if api.get_opt(name).await?.is_none() {
        let route: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "route.openshift.io/v1", "kind": "Route",
            "metadata": {"name": name, "namespace": ns, "labels": {"strimzi.io/kind": "Kafka"}},
            "spec": {"host": host, "to": {"kind": "Service", "name": name}, "tls": {"termination": "passthrough"}},
        }))?;
        api.create(&PostParams::default(), &route).await?;
    }
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"ingress": [{"host": host, "routerName": "default"}]}})),
    )
    .await?;
    Ok(())
}

async fn on_pod(client: &Client, options: &StandinOptions, journal: &Arc<Mutex<Journal>>, pod: Pod) -> anyhow::Result<()> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    if !options.namespaces.contains(&ns) {
        return Ok(());
    }
    let name = pod.metadata.name.clone().unwrap_or_default();
    let ready =
        pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if ready || !options.operator_ready {
        return Ok(());
    }
    // The operator's first act needs its RoleBindings in the watched namespace.
    let watched = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.env.as_ref())
        .and_then(|env| env.iter().find(|e| e.name == "STRIMZI_NAMESPACE"))
        .and_then(|e| e.value.clone())
        .unwrap_or_default();
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), &watched);
    for rb in ["strimzi-cluster-operator", "strimzi-cluster-operator-watched", "strimzi-cluster-operator-entity-operator-delegation"] {
        if bindings.get_opt(rb).await?.is_none() {
            journal.lock().unwrap().violations.push(format!("operator Pod {ns}/{name} ran before RoleBinding {rb} existed in {watched}"));
        }
    }
    journal.lock().unwrap().events.push(format!("operator Pod {ns}/{name} started"));
    let container = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .unwrap_or_default();
    let t = now();
    let status = json!({"status": {
        "phase": "Running",
        "startTime": t,
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
            {"type": "Initialized", "status": "True", "lastTransitionTime": t},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
            {"type": "Ready", "status": "True", "lastTransitionTime": t},
        ],
        "containerStatuses": [{"name": container.0, "image": container.1, "imageID": "", "ready": true, "started": true,
            "restartCount": 0, "state": {"running": {"startedAt": t}}}],
    }});
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(status)).await?;
    Ok(())
}
