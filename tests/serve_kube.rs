//! The deployed `amqdr serve` across both test beds: `amqdr install` with the health stage on the
//! Kubernetes test bed (a stand-in plays Strimzi and reports the Kafka test bed's brokers), then
//! this test plays the kubelet for the health pods: it runs exactly the container's command line
//! from the rendered Deployment, as the pod's ServiceAccount (a token from the TokenRequest API:
//! the Role amqdr rendered must suffice), and marks the pod ready once `/readyz` answers — which
//! is what `install` waits for. The pod network is the one thing it maps: the process listens on
//! a free loopback port (AMQDR_SERVE_LISTEN) instead of the pod's port 8080.
//!
//! Then the split-brain case the DR records exist for: an unplanned failover while site a was
//! away leaves a's record saying primary at epoch 1 and b's primary at epoch 2. b's serve turns
//! routable and its canaries say so; a's serve reads them from b and fences itself (503).

mod common;

use amqdr_standins::standin::{Standin, StandinOptions};
use common::kafka_testbed::{KafkaTestbed, kafka_exclusive};
use common::kube_testbed::{self, KubeTestbed};
use common::served::Served;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ServiceAccount};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Create the canary topic on both sites' brokers, as Strimzi's topic operator would from the
/// KafkaTopic install applies (the stand-in does not run one).
fn create_topic(kafka: &KafkaTestbed, topic: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    for site in ["A", "B"] {
        let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", kafka.get(&format!("AMQDR_SITE_{site}_PLAIN_BOOTSTRAP")))
            .create()
            .unwrap();
        let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1)).set("message.timestamp.type", "LogAppendTime");
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let result = futures::executor::block_on(admin.create_topics([&new], &opts)).unwrap();
        for r in result {
            r.unwrap_or_else(|(t, e)| panic!("creating {t} on site {site}: {e}"));
        }
    }
}

/// A kubeconfig for a ServiceAccount: the test bed's server and CA, the account's token.
async fn service_account_kubeconfig(admin: &kube::Client, bed: &KubeTestbed, ns: &str, sa: &str, out: &Path) {
    let api: Api<ServiceAccount> = Api::namespaced(admin.clone(), ns);
    let request = TokenRequest { spec: TokenRequestSpec { expiration_seconds: Some(3600), ..Default::default() }, ..Default::default() };
    let token = api.create_token_request(sa, &PostParams::default(), &request).await.unwrap().status.unwrap().token;
    let text = std::fs::read_to_string(&bed.kubeconfig).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let current = doc["current-context"].as_str().unwrap();
    let ctx = doc["contexts"].as_array().unwrap().iter().find(|c| c["name"] == current).unwrap();
    let cluster_name = ctx["context"]["cluster"].as_str().unwrap();
    let mut cluster = doc["clusters"].as_array().unwrap().iter().find(|c| c["name"] == cluster_name).unwrap().clone();
    cluster["name"] = json!("testbed");
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [cluster],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "testbed", "user": sa, "namespace": ns}}],
    });
    std::fs::write(out, serde_json::to_string_pretty(&config).unwrap()).unwrap();
}

/// The kubelet's part for the health pods: run the container's args, report the pod ready.
struct HealthKubelet {
    task: tokio::task::JoinHandle<()>,
    running: Arc<Mutex<HashMap<String, Served>>>,
    args: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Drop for HealthKubelet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HealthKubelet {
    fn start(client: kube::Client, bed: KubeTestbed, namespaces: Vec<String>, dir: PathBuf) -> HealthKubelet {
        let running: Arc<Mutex<HashMap<String, Served>>> = Arc::default();
        let args: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let (r, a) = (running.clone(), args.clone());
        let task = tokio::spawn(async move {
            loop {
                for ns in &namespaces {
                    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
                    let Ok(list) = pods.list(&ListParams::default().labels("app.kubernetes.io/name=amqdr-health")).await else { continue };
                    for pod in list {
                        let name = pod.metadata.name.clone().unwrap();
                        if r.lock().unwrap().contains_key(ns) {
                            continue;
                        }
                        let spec = pod.spec.clone().unwrap();
                        let container = &spec.containers[0];
                        let container_args = container.args.clone().unwrap_or_default();
                        let kubeconfig = dir.join(format!("{ns}.kubeconfig"));
                        service_account_kubeconfig(&client, &bed, ns, spec.service_account_name.as_deref().unwrap(), &kubeconfig).await;
                        let mut cmd = Command::new(env!("CARGO_BIN_EXE_amqdr"));
                        for (key, _) in std::env::vars() {
                            if key.starts_with("AMQDR_") {
                                cmd.env_remove(key);
                            }
                        }
                        cmd.args(&container_args).env("KUBECONFIG", &kubeconfig).env("AMQDR_SERVE_LISTEN", "127.0.0.1:0");
                        let served = tokio::task::spawn_blocking(move || Served::start(cmd)).await.unwrap();
                        let addr = served.addr.clone();
                        r.lock().unwrap().insert(ns.clone(), served);
                        a.lock().unwrap().insert(ns.clone(), container_args);
                        // Ready once /readyz says so (the readiness probe the Deployment declares).
                        loop {
                            let a2 = addr.clone();
                            if tokio::task::spawn_blocking(move || common::served::get(&a2, "/readyz").0).await.unwrap() == 200 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        let t = "2026-01-01T00:00:00Z";
                        let status = json!({"status": {
                            "phase": "Running",
                            "conditions": [
                                {"type": "Initialized", "status": "True", "lastTransitionTime": t},
                                {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
                                {"type": "Ready", "status": "True", "lastTransitionTime": t},
                            ],
                            "containerStatuses": [{"name": container.name, "image": container.image.clone().unwrap_or_default(),
                                "imageID": "", "ready": true, "started": true, "restartCount": 0,
                                "state": {"running": {"startedAt": t}}}],
                        }});
                        pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(status)).await.unwrap();
                    }
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        });
        HealthKubelet { task, running, args }
    }

    fn health(&self, ns: &str) -> (u16, String) {
        let addr = self.running.lock().unwrap()[ns].addr.clone();
        common::served::get(&addr, "/health")
    }

    async fn wait_health(&self, ns: &str, code: u16, needle: &str) -> String {
        for _ in 0..600 {
            if self.running.lock().unwrap().contains_key(ns) {
                let (c, body) = self.health(ns);
                if c == code && body.contains(needle) {
                    return body;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = self.running.lock().unwrap().get(ns).map(|s| s.log_text()).unwrap_or_default();
        panic!(
            "{ns}: /health never answered {code} with {needle:?}; last {:?}\nlog:\n{log}",
            self.running.lock().unwrap().get(ns).map(|s| s.get("/health"))
        );
    }
}

async fn deployed_serve(profile: &str, api_version: &str, prefix: &str) {
    let kafka = kafka_exclusive(profile);
    let bed = kube_testbed::kube(if profile == "current" { "cur" } else { "leg" });
    let ns = |what: &str, site: &str| format!("{prefix}-{what}-{site}");
    let mut layout = Vec::new();
    for site in ["a", "b"] {
        layout.extend(strings(&["--set", &format!("sites.{site}.operatorNamespace={}", ns("op", site))]));
        layout.extend(strings(&["--set", &format!("sites.{site}.kafkaNamespace={}", ns("dc", site))]));
    }
    let run = |list: &[&str]| {
        let mut v = strings(list);
        v.extend(layout.iter().cloned());
        kube_testbed::run(&bed.kubeconfig, v)
    };
    let out = run(&["uninstall", "--profile", profile, "--timeout", "120s"]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    // A canary topic of this test's own: what b's serve writes as primary at epoch 2 must not
    // reach the other tests of the shared test bed. The test bed's brokers enforce the ACLs of
    // their own rendering, which grant the application user the test topics `dr-*`.
    let canary = format!("dr-canary-{prefix}-{}", std::process::id());
    create_topic(&kafka, &canary);

    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let namespaces: Vec<String> = ["op-a", "op-b", "dc-a", "dc-b"].iter().map(|n| format!("{prefix}-{n}")).collect();
    let _stand = Standin::start(
        client.clone(),
        StandinOptions {
            api_version: api_version.into(),
            namespaces: namespaces.clone(),
            operator_ready: true,
            apps_domain: "apps.testbed.local".into(),
            external_bootstraps: HashMap::from([
                (ns("dc", "a"), kafka.get("AMQDR_SITE_A_BOOTSTRAP").to_string()),
                (ns("dc", "b"), kafka.get("AMQDR_SITE_B_BOOTSTRAP").to_string()),
            ]),
            kafka_sites: Default::default(),
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let kubelet = HealthKubelet::start(client.clone(), bed.clone(), vec![ns("dc", "a"), ns("dc", "b")], dir.path().to_path_buf());

    let kdir = Path::new(kafka.get("AMQDR_TESTBED_KAFKA_DIR"));
    let (ca_cert, ca_key) = (kdir.join("certs/ca.crt").display().to_string(), kdir.join("certs/ca.key").display().to_string());
    let topic_setting = format!("health.canaryTopic={canary}");
    // The health stage's settings, for the install and the uninstall alike.
    let health: [&str; 6] = ["--set", "health.enabled=true", "--set", "health.image=localhost/amqdr:test", "--set", &topic_setting];
    let install_args: Vec<&str> = [
        "install",
        "--profile",
        profile,
        "--listener",
        "loadbalancer",
        "-o",
        "json",
        "--timeout",
        "120s",
        "--ca-cert",
        &ca_cert,
        "--ca-key",
        &ca_key,
        "--password-file",
        kafka.get("AMQDR_PASSWORD_FILE"),
        "--set",
        "health.intervalSeconds=1",
        "--set",
        "health.probeTimeoutSeconds=3",
    ]
    .into_iter()
    .chain(health)
    .collect();
    let out = run(&install_args).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));

    // The rendered Deployment's command line is what ran, to the letter.
    for site in ["a", "b"] {
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> = Api::namespaced(client.clone(), &ns("dc", site));
        let d = deployments.get("amqdr-health").await.unwrap();
        let rendered = d.spec.unwrap().template.spec.unwrap().containers[0].args.clone().unwrap();
        assert_eq!(kubelet.args.lock().unwrap()[&ns("dc", site)], rendered);
        let peer = if site == "a" { "B" } else { "A" };
        let expected_peer = kafka.get(&format!("AMQDR_SITE_{peer}_BOOTSTRAP"));
        assert!(rendered.windows(2).any(|w| w[0] == "--peer-bootstrap" && w[1] == expected_peer), "{rendered:?}");
        assert!(rendered.contains(&topic_setting), "{rendered:?}");
    }

    // Roles from the records install wrote, read with the pod's own rights.
    let body = kubelet.wait_health(&ns("dc", "a"), 200, "AMQDR_SITE=UP site=a role=primary epoch=1 kafka=up roles=record").await;
    assert!(!body.contains("note="), "{body}");
    kubelet.wait_health(&ns("dc", "b"), 503, "AMQDR_SITE=DOWN site=b role=standby epoch=1 kafka=up roles=record").await;

    // Unplanned failover while a was away: b primary at epoch 2, a's record unchanged.
    let mut promoted = amqdr::record::SiteState::initial(amqdr::settings::SiteId::B);
    promoted.role = amqdr::record::Role::Primary;
    promoted.epoch = 2;
    promoted.transition = amqdr::record::Transition::FailoverUnplanned;
    promoted.mirror = amqdr::record::Direction::None;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns("dc", "b"));
    cms.patch(amqdr::record::STATE_CONFIGMAP, &PatchParams::default(), &Patch::Merge(json!({"data": promoted.to_data()}))).await.unwrap();
    kubelet.wait_health(&ns("dc", "b"), 200, "AMQDR_SITE=UP site=b role=primary epoch=2 kafka=up roles=record").await;
    let body = kubelet.wait_health(&ns("dc", "a"), 503, "AMQDR_SITE=DOWN site=a role=fenced epoch=1").await;
    assert!(body.contains("fenced by epoch: site b is primary at epoch 2"), "{body}");
    let log = kubelet.running.lock().unwrap()[&ns("dc", "a")].log_text();
    assert!(log.contains("fenced by epoch"), "{log}");

    // The old primary's pod restarts: it must not answer 200 even once before it has read b.
    let args_a = kubelet.args.lock().unwrap()[&ns("dc", "a")].clone();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amqdr"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AMQDR_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(&args_a).env("KUBECONFIG", dir.path().join(format!("{}.kubeconfig", ns("dc", "a")))).env("AMQDR_SERVE_LISTEN", "127.0.0.1:0");
    let restarted = tokio::task::spawn_blocking(move || {
        let s = Served::start(cmd);
        let mut answers = Vec::new();
        let started = std::time::Instant::now();
        loop {
            let (code, body) = s.get("/health");
            answers.push(code);
            if body.contains("fenced by epoch") || started.elapsed() > Duration::from_secs(60) {
                return (answers, body, s.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await
    .unwrap();
    let (answers, body, log) = restarted;
    assert!(body.contains("fenced by epoch: site b is primary at epoch 2"), "{body}\n{log}");
    assert!(!answers.contains(&200), "the restarted old primary answered 200 before fencing itself: {answers:?}\n{log}");

    drop(kubelet);
    // Uninstall with the settings of the install: the canary's KafkaTopic carries the Topic
    // Operator's finalizer, so one left behind would hold its namespace.
    let uninstall_args: Vec<&str> = ["uninstall", "--profile", profile, "--timeout", "120s"].into_iter().chain(health).collect();
    let out = run(&uninstall_args).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_deployed_serve_reads_roles_and_fences_a_returning_primary() {
    deployed_serve("current", "kafka.strimzi.io/v1", "hs1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_deployed_serve_reads_roles_and_fences_a_returning_primary() {
    deployed_serve("legacy", "kafka.strimzi.io/v1beta2", "hs2").await;
}

/// The Route of the health endpoint (OpenShift) applies on the API server with strict field
/// validation, as install would apply it with `--listener route`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_route_applies_with_strict_validation() {
    let bed = kube_testbed::kube("cur");
    let out = kube_testbed::amqdr(
        &bed.kubeconfig,
        &strings(&[
            "render",
            "-o",
            "json",
            "--set",
            "health.enabled=true",
            "--set",
            "health.image=localhost/amqdr:test",
            "--set",
            "sites.a.kafkaNamespace=hs3-dc-a",
        ]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects: Vec<Value> = match &doc {
        Value::Array(a) => a.clone(),
        other => other["objects"].as_array().cloned().unwrap_or_default(),
    };
    let route = objects
        .iter()
        .find(|o| o["kind"] == "Route" && o["metadata"]["namespace"] == "hs3-dc-a")
        .unwrap_or_else(|| panic!("no Route in {doc:#}"))
        .clone();
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let _ = namespaces.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "hs3-dc-a"}})).unwrap()).await;
    let ar = kube::api::ApiResource::from_gvk_with_plural(&kube::api::GroupVersionKind::gvk("route.openshift.io", "v1", "Route"), "routes");
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client.clone(), "hs3-dc-a", &ar);
    let obj: kube::api::DynamicObject = serde_json::from_value(route).unwrap();
    api.patch("amqdr-health", &PatchParams::apply("amqdr").force().validation_strict(), &Patch::Apply(&obj)).await.unwrap();
    let _ = namespaces.delete("hs3-dc-a", &Default::default()).await;
}
