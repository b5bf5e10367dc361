//! The mirror as amqdr configures it, run the way Strimzi runs it on real brokers: MirrorMaker 1
//! on the legacy test bed mirrors topics created after it started; on the kube test bed the
//! operator stand-in turns the KafkaMirrorMaker2 / KafkaMirrorMaker amqdr applies into real
//! Connect connectors / MirrorMaker 1 processes on a DR test bed instance.

mod common;

use amqdr_standins::standin::{Standin, StandinOptions};
use common::kafka_testbed::{KafkaTestbed, kafka_dr, kafka_exclusive};
use common::kube_testbed::{self, KubeTestbed};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let results = admin.create_topics([&NewTopic::new(topic, partitions, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap();
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
}

async fn produce(bootstrap: &str, topic: &str, count: usize) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    for i in 0..count {
        let key = format!("k{i}");
        producer
            .send(FutureRecord::to(topic).key(&key).payload(&format!("record {i}")), Duration::from_secs(30))
            .await
            .unwrap_or_else(|(e, _)| panic!("producing to {topic}: {e}"));
    }
}

/// Records on `topic` at `bootstrap` (sum of high watermarks), 0 while the topic does not exist.
/// The metadata request never creates the topic.
fn records_on(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "mirror-testbed-probe")
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    let Ok(md) = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)) else { return 0 };
    let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else { return 0 };
    t.partitions()
        .iter()
        .map(|p| consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10)).map(|(_, high)| high).unwrap_or(0))
        .sum()
}

/// Issue 10, finding 1: a topic created on production after MirrorMaker 1 started reaches DR.
/// Before the fix the DR brokers refused to create it (auto-creation off), the mirror's producer
/// timed out and MirrorMaker 1 exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_topic_created_after_the_mirror_started_reaches_b() {
    let bed = kafka_exclusive("legacy");
    // Within the test bed's `user.topics` (dr-*): the mirror's own identity may read only those.
    let topic = unique("dr-late-topic");
    create_topic(&bed.plain_bootstrap("a"), &topic, 2).await;
    produce(&bed.plain_bootstrap("a"), &topic, 50).await;
    let b = bed.plain_bootstrap("b");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while Instant::now() < deadline {
        seen = records_on(&b, &topic);
        if seen >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(seen, 50, "records of {topic} on site b");
}

// ---------------------------------------------------------------------------------------------
// The mirror resources amqdr applies, run for real by the operator stand-in on a DR instance.

/// Namespaces of one test; the cluster names are amqdr's defaults.
fn layout(prefix: &str) -> Vec<String> {
    let mut v = Vec::new();
    for site in ["a", "b"] {
        v.extend(["--set".to_string(), format!("sites.{site}.operatorNamespace={prefix}-op-{site}")]);
        v.extend(["--set".to_string(), format!("sites.{site}.kafkaNamespace={prefix}-dc-{site}")]);
    }
    v
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn wait_until<F, Fut>(what: &str, seconds: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn get_json(url: &str) -> Value {
    let (code, body) = amqdr_standins::mirror_runtime::rest("GET", url, None).await.unwrap();
    assert_eq!(code, 200, "GET {url}: {body}");
    body
}

fn dynamic_api(client: &kube::Client, api_version: &str, kind: &str, namespace: &str) -> Api<DynamicObject> {
    let (group, version) = api_version.split_once('/').unwrap();
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &format!("{}s", kind.to_lowercase()));
    Api::namespaced_with(client.clone(), namespace, &ar)
}

async fn resource(api: &Api<DynamicObject>, name: &str) -> Value {
    serde_json::to_value(api.get(name).await.unwrap()).unwrap()
}

/// Whether the status reflects the current generation.
fn observed(v: &Value) -> bool {
    v.pointer("/status/observedGeneration") == v.pointer("/metadata/generation")
}

fn connector_status<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.pointer("/status/connectors")?.as_array()?.iter().find(|c| c["name"] == name)?.pointer("/connector/state")?.as_str()
}

/// A window in which something must not happen (no event to wait for: the absence is the check).
const QUIET_WINDOW: Duration = Duration::from_secs(6);

struct Install {
    kafka: KafkaTestbed,
    kube: KubeTestbed,
    client: kube::Client,
    standin: Standin,
    prefix: String,
    profile: String,
    api_version: String,
}

impl Install {
    fn ns(&self, site: &str) -> String {
        format!("{}-dc-{site}", self.prefix)
    }

    async fn amqdr(&self, args: &[&str]) -> std::process::Output {
        let mut v = strings(args);
        v.extend(["--profile".to_string(), self.profile.clone()]);
        v.extend(layout(&self.prefix));
        kube_testbed::run(&self.kube.kubeconfig, v).await
    }
}

/// amqdr installs both sites on the kube test bed (one-broker sizing) with the stand-in mapping
/// the Kafka namespaces to a DR instance's sites.
async fn install(profile: &str, kube_name: &str, api_version: &str, prefix: &str) -> Install {
    let kafka = kafka_dr(profile);
    let kube = kube_testbed::kube(kube_name);
    let client = kube_testbed::client(&kube.kubeconfig, None).await;
    let (dc_a, dc_b) = (format!("{prefix}-dc-a"), format!("{prefix}-dc-b"));
    let standin = Standin::start(
        client.clone(),
        StandinOptions {
            api_version: api_version.into(),
            namespaces: ["op-a", "op-b", "dc-a", "dc-b"].iter().map(|n| format!("{prefix}-{n}")).collect(),
            operator_ready: true,
            apps_domain: "apps.testbed.local".into(),
            external_bootstraps: HashMap::from([(dc_a.clone(), kafka.bootstrap("a")), (dc_b.clone(), kafka.bootstrap("b"))]),
            kafka_sites: HashMap::from([(dc_a, kafka.site("a")), (dc_b, kafka.site("b"))]),
        },
    )
    .await;
    let install = Install { kafka, kube, client, standin, prefix: prefix.into(), profile: profile.into(), api_version: api_version.into() };
    let out = install.amqdr(&["uninstall", "--timeout", "120s"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = install.kafka.dir();
    let (ca_cert, ca_key) = (dir.join("certs/ca.crt").display().to_string(), dir.join("certs/ca.key").display().to_string());
    let password = install.kafka.get("AMQDR_PASSWORD_FILE").to_string();
    let quorum = if profile == "legacy" { "kafka.zookeeper=1" } else { "kafka.controllers=1" };
    let args = [
        "install",
        "--listener",
        "loadbalancer",
        "--timeout",
        "240s",
        "--brokers",
        "1",
        "--set",
        "topic.replicas=1",
        "--set",
        "topic.minInsyncReplicas=1",
        "--set",
        quorum,
        "--set",
        "mirror.syncIntervalSeconds=2",
        "--ca-cert",
        &ca_cert,
        "--ca-key",
        &ca_key,
        "--password-file",
        &password,
    ];
    let out = install.amqdr(&args).await;
    assert!(
        out.status.success(),
        "install: {}\nstand-in: {:#?}\n{:#?}",
        String::from_utf8_lossy(&out.stderr),
        install.standin.events(),
        install.standin.violations()
    );
    install
}

async fn verify_mirror_passes(install: &Install) {
    let out = install.amqdr(&["verify", "mirror", "--records", "200", "--timeout", "120s", "-o", "json"]).await;
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

const SOURCE: &str = "source->target.MirrorSourceConnector";
const CHECKPOINT: &str = "source->target.MirrorCheckpointConnector";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_kmm2_runs_as_connectors_that_follow_state_and_offsets() {
    let install = install("current", "drc", "kafka.strimzi.io/v1", "mc").await;
    let (dc_a, dc_b) = (install.ns("a"), install.ns("b"));
    let kmm2 = dynamic_api(&install.client, &install.api_version, "KafkaMirrorMaker2", &dc_b);
    let connect =
        install.kafka.connect_url("b", &dc_b, "my-mirrormaker").expect("the stand-in started a Connect worker for my-mirrormaker");

    // The real connectors, named and configured as Strimzi does, and the status it writes.
    let names = get_json(&format!("{connect}/connectors")).await;
    let mut names: Vec<&str> = names.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    names.sort();
    assert_eq!(names, [CHECKPOINT, SOURCE]);
    let config = get_json(&format!("{connect}/connectors/{}/config", "source-%3Etarget.MirrorSourceConnector")).await;
    assert_eq!(config["source.cluster.alias"], "source");
    assert_eq!(config["target.cluster.security.protocol"], "SASL_SSL");
    assert!(
        config["source.cluster.sasl.jaas.config"]
            .as_str()
            .unwrap()
            .contains(&format!("${{strimzisecrets:{dc_b}/my-mirrormaker-source:password}}"))
    );
    assert_eq!(config["topics"], ".*");
    let status = resource(&kmm2, "my-mirrormaker").await;
    assert_eq!(connector_status(&status, SOURCE), Some("RUNNING"), "{status:#}");
    assert_eq!(
        status.pointer("/status/url").and_then(Value::as_str),
        Some(format!("http://my-mirrormaker-mirrormaker2-api.{dc_b}.svc:8083").as_str())
    );
    assert_eq!(
        status.pointer("/status/labelSelector").and_then(Value::as_str),
        Some("strimzi.io/cluster=my-mirrormaker,strimzi.io/name=my-mirrormaker-mirrormaker2,strimzi.io/kind=KafkaMirrorMaker2")
    );
    verify_mirror_passes(&install).await;

    // state: stopped -> Connect stops the connector; the status says so; nothing more reaches b.
    let patch = json!([{"op": "add", "path": "/spec/mirrors/0/sourceConnector/state", "value": "stopped"}]);
    kmm2.patch("my-mirrormaker", &PatchParams::default(), &Patch::<Value>::Json(serde_json::from_value(patch).unwrap())).await.unwrap();
    let source_status = format!("{connect}/connectors/source-%3Etarget.MirrorSourceConnector/status");
    wait_until("the source connector STOPPED on Connect and in the status", 60, || async {
        let rest = get_json(&source_status).await;
        let s = resource(&kmm2, "my-mirrormaker").await;
        rest.pointer("/connector/state") == Some(&json!("STOPPED")) && observed(&s) && connector_status(&s, SOURCE) == Some("STOPPED")
    })
    .await;
    let (a_plain, b_plain) = (install.kafka.plain_bootstrap("a"), install.kafka.plain_bootstrap("b"));
    let on_b = records_on(&b_plain, "my-topic");
    produce(&a_plain, "my-topic", 30).await;
    tokio::time::sleep(QUIET_WINDOW).await;
    assert_eq!(records_on(&b_plain, "my-topic"), on_b, "records reached b while the source connector was stopped");

    // Offsets: list to a ConfigMap, then alter partition 0 back to 0 from a ConfigMap.
    let offsets_url = format!("{connect}/connectors/source-%3Etarget.MirrorSourceConnector/offsets");
    let patch = json!({"metadata": {"annotations": {"strimzi.io/connector-offsets": "list", "strimzi.io/mirrormaker-connector": SOURCE}}});
    let list = json!([{"op": "add", "path": "/spec/mirrors/0/sourceConnector/listOffsets", "value": {"toConfigMap": {"name": "mirror-offsets-list"}}}]);
    kmm2.patch("my-mirrormaker", &PatchParams::default(), &Patch::<Value>::Json(serde_json::from_value(list).unwrap())).await.unwrap();
    kmm2.patch("my-mirrormaker", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(install.client.clone(), &dc_b);
    let key = "source--target.MirrorSourceConnector.json";
    wait_until("the offsets listed into ConfigMap mirror-offsets-list", 60, || async {
        let listed = config_maps.get_opt("mirror-offsets-list").await.unwrap().and_then(|c| c.data).and_then(|d| d.get(key).cloned());
        let annotations = resource(&kmm2, "my-mirrormaker").await.pointer("/metadata/annotations/strimzi.io~1connector-offsets").cloned();
        listed.is_some() && annotations.is_none()
    })
    .await;
    let listed: Value = serde_json::from_str(&config_maps.get("mirror-offsets-list").await.unwrap().data.unwrap()[key]).unwrap();
    assert_eq!(listed, get_json(&offsets_url).await);
    let partition0 = |offsets: &Value| {
        offsets["offsets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["partition"]["topic"] == "my-topic" && o["partition"]["partition"] == 0)
            .map(|o| o["offset"]["offset"].as_i64().unwrap())
    };
    assert!(partition0(&listed).unwrap() > 0, "{listed:#}");
    let alter = json!({"offsets": [{"partition": {"cluster": "source", "topic": "my-topic", "partition": 0}, "offset": {"offset": 0}}]});
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "mirror-offsets-alter"}, "data": {key: alter.to_string()}})).unwrap();
    config_maps.create(&PostParams::default(), &cm).await.unwrap();
    let spec = json!([{"op": "add", "path": "/spec/mirrors/0/sourceConnector/alterOffsets", "value": {"fromConfigMap": {"name": "mirror-offsets-alter"}}}]);
    kmm2.patch("my-mirrormaker", &PatchParams::default(), &Patch::<Value>::Json(serde_json::from_value(spec).unwrap())).await.unwrap();
    let patch = json!({"metadata": {"annotations": {"strimzi.io/connector-offsets": "alter", "strimzi.io/mirrormaker-connector": SOURCE}}});
    kmm2.patch("my-mirrormaker", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    wait_until("the altered offset on Connect and the annotations removed", 60, || async {
        let offsets = get_json(&offsets_url).await;
        let annotations = resource(&kmm2, "my-mirrormaker").await.pointer("/metadata/annotations").cloned().unwrap_or(json!({}));
        partition0(&offsets) == Some(0)
            && annotations.get("strimzi.io/connector-offsets").is_none()
            && annotations.get("strimzi.io/mirrormaker-connector").is_none()
    })
    .await;

    // A reverse KafkaMirrorMaker2 (b -> a) created stopped in site a's namespace copies nothing
    // until it is set running. (a -> b stays stopped: identity replication would loop otherwise.)
    let topic = unique("reverse");
    create_topic(&b_plain, &topic, 1).await;
    produce(&b_plain, &topic, 20).await;
    // The reverse mirror's own identity on both sites (the brokers enforce ACLs): a KafkaUser per
    // site with one password, as `amqdr` does for its mirror, and the rights a b -> a mirror needs.
    let secrets: Api<Secret> = Api::namespaced(install.client.clone(), &dc_b);
    let ca = secrets.get("my-mirrormaker-source").await.unwrap().data.unwrap()["ca.crt"].clone();
    let password = unique("reverse-password");
    let reverse_secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "reverse-credentials"},
        "data": {"ca.crt": ca, "password": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &password)},
    }))
    .unwrap();
    let all = |resource: Value| json!({"resource": resource, "operations": ["All"], "host": "*"});
    let acls = json!([
        all(json!({"type": "topic", "name": "*", "patternType": "literal"})),
        all(json!({"type": "group", "name": "*", "patternType": "literal"})),
        all(json!({"type": "cluster"})),
    ]);
    for (ns, cluster) in [(&dc_a, "my-cluster"), (&dc_b, "my-second-cluster")] {
        let site_secrets: Api<Secret> = Api::namespaced(install.client.clone(), ns);
        site_secrets.create(&PostParams::default(), &reverse_secret).await.unwrap();
        let user: DynamicObject = serde_json::from_value(json!({
            "apiVersion": install.api_version, "kind": "KafkaUser",
            "metadata": {"name": "reverse-mirror", "namespace": ns, "labels": {"strimzi.io/cluster": cluster}},
            "spec": {
                "authentication": {"type": "scram-sha-512", "password": {"valueFrom": {"secretKeyRef": {"name": "reverse-credentials", "key": "password"}}}},
                "authorization": {"type": "simple", "acls": acls},
            },
        }))
        .unwrap();
        dynamic_api(&install.client, &install.api_version, "KafkaUser", ns).create(&PostParams::default(), &user).await.unwrap();
    }
    for ns in [&dc_a, &dc_b] {
        let users = dynamic_api(&install.client, &install.api_version, "KafkaUser", ns);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let u = resource(&users, "reverse-mirror").await;
            if observed(&u) && u.pointer("/status/conditions/0/type") == Some(&json!("Ready")) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "KafkaUser {ns}/reverse-mirror not Ready after 90 s: {:#}\n{:#?}\n{:#?}",
                u["status"],
                install.standin.violations(),
                install.standin.events()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let client_side = |alias: &str, bootstrap: &str| {
        json!({
            "alias": alias, "bootstrapServers": bootstrap,
            "tls": {"trustedCertificates": [{"secretName": "reverse-credentials", "certificate": "ca.crt"}]},
            "authentication": {"type": "scram-sha-512", "username": "reverse-mirror", "passwordSecret": {"secretName": "reverse-credentials", "password": "password"}},
        })
    };
    let mut target = client_side("a", "my-cluster-kafka-bootstrap:9093");
    target["groupId"] = json!("reverse-connect");
    target["configStorageTopic"] = json!("reverse-config");
    target["offsetStorageTopic"] = json!("reverse-offsets");
    target["statusStorageTopic"] = json!("reverse-status");
    target["config"] = json!({"config.storage.replication.factor": -1, "offset.storage.replication.factor": -1, "status.storage.replication.factor": -1, "offset.flush.interval.ms": 2000});
    let reverse: DynamicObject = serde_json::from_value(json!({
        "apiVersion": install.api_version, "kind": "KafkaMirrorMaker2",
        "metadata": {"name": "reverse", "namespace": dc_a},
        "spec": {"version": "4.3.1", "replicas": 1, "target": target, "mirrors": [{
            "source": client_side("b", &install.kafka.bootstrap("b")),
            "sourceConnector": {"tasksMax": 1, "state": "stopped", "config": {
                "replication.policy.class": "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
                "offset-syncs.topic.location": "target", "replication.factor": -1, "offset-syncs.topic.replication.factor": -1,
                "sync.topic.acls.enabled": "false"}},
            "topicsPattern": topic,
        }]},
    }))
    .unwrap();
    let kmm2_a = dynamic_api(&install.client, &install.api_version, "KafkaMirrorMaker2", &dc_a);
    kmm2_a.create(&PostParams::default(), &reverse).await.unwrap();
    wait_until("the reverse KafkaMirrorMaker2 Ready with its connector STOPPED", 180, || async {
        let s = resource(&kmm2_a, "reverse").await;
        observed(&s)
            && s.pointer("/status/conditions/0/type") == Some(&json!("Ready"))
            && connector_status(&s, "b->a.MirrorSourceConnector") == Some("STOPPED")
    })
    .await;
    let reverse_connect = install.kafka.connect_url("a", &dc_a, "reverse").expect("a Connect worker on site a");
    let reverse_offsets = get_json(&format!("{reverse_connect}/connectors/b-%3Ea.MirrorSourceConnector/offsets")).await;
    assert_eq!(reverse_offsets["offsets"], json!([]), "the stopped connector never ran: {reverse_offsets:#}");
    tokio::time::sleep(QUIET_WINDOW).await;
    assert_eq!(records_on(&a_plain, &topic), 0, "{topic} reached a while the reverse connector was stopped");
    let patch = json!([{"op": "replace", "path": "/spec/mirrors/0/sourceConnector/state", "value": "running"}]);
    kmm2_a.patch("reverse", &PatchParams::default(), &Patch::<Value>::Json(serde_json::from_value(patch).unwrap())).await.unwrap();
    wait_until("the 20 records of the reverse topic on site a", 120, || async { records_on(&a_plain, &topic) == 20 }).await;

    // Deleting the resource stops its worker (its pods go with it).
    kmm2_a.delete("reverse", &Default::default()).await.unwrap();
    wait_until("the reverse worker stopped", 60, || async { !install.kafka.mirror_process_running("a", &dc_a, "reverse") }).await;
    assert!(install.standin.violations().is_empty(), "{:#?}\n{:#?}", install.standin.violations(), install.standin.events());
    let out = install.amqdr(&["uninstall", "--timeout", "120s"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_kmm_runs_as_a_mirrormaker_1_process_that_replicas_zero_stops() {
    let install = install("legacy", "drl", "kafka.strimzi.io/v1beta2", "ml").await;
    let dc_b = install.ns("b");
    assert!(install.kafka.mirror_process_running("b", &dc_b, "my-mirrormaker"), "no MirrorMaker 1 process for my-mirrormaker");
    let group = "my-mirrormaker-group-id";
    let a_plain = install.kafka.plain_bootstrap("a");
    assert!(group_members(&a_plain, group) > 0, "the MirrorMaker 1 group has no members on site a");
    verify_mirror_passes(&install).await;
    let kmm = dynamic_api(&install.client, &install.api_version, "KafkaMirrorMaker", &dc_b);
    let status = resource(&kmm, "my-mirrormaker").await;
    let reasons: Vec<&str> =
        status.pointer("/status/conditions").unwrap().as_array().unwrap().iter().filter_map(|c| c["reason"].as_str()).collect();
    assert_eq!(reasons, ["MirrorMaker1Deprecation"], "{status:#}");

    kmm.patch("my-mirrormaker", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 0}}))).await.unwrap();
    wait_until("replicas 0: the process gone, the group empty on site a", 90, || async {
        let s = resource(&kmm, "my-mirrormaker").await;
        observed(&s)
            && s.pointer("/status/replicas") == Some(&json!(0))
            && !install.kafka.mirror_process_running("b", &dc_b, "my-mirrormaker")
            && group_members(&a_plain, group) == 0
    })
    .await;
    assert!(install.standin.violations().is_empty(), "{:#?}", install.standin.violations());
    let out = install.amqdr(&["uninstall", "--timeout", "120s"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Members of a consumer group (0 when it is empty or unknown).
fn group_members(bootstrap: &str, group: &str) -> usize {
    let consumer: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    consumer
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .map(|l| l.groups().iter().find(|g| g.name() == group).map(|g| g.members().len()).unwrap_or(0))
        .unwrap_or(0)
}
