//! `amqdr install` / `status` / `uninstall` (the real binary) against the Kubernetes test bed: a
//! real kube-apiserver (CRD schemas, server-side apply, RBAC, watches) and kube-controller-manager
//! (Deployments, garbage collection, namespace deletion). A stand-in plays Strimzi and the kubelet.
//!
//! Each test uses its own namespaces; clusters are shared by tests of one profile.

mod common;

use amqdr_standins::operator_fidelity::{self as fidelity, CONTROLPLANE_PORT, KAFKA_AGENT_PORT, REPLICATION_PORT};
use amqdr_standins::standin::{Standin, StandinOptions};
use common::kube_testbed::{self, KubeTestbed, amqdr, run};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

struct Layout {
    prefix: String,
}

impl Layout {
    fn new(prefix: &str) -> Self {
        Layout { prefix: prefix.into() }
    }
    fn ns(&self, what: &str, site: &str) -> String {
        format!("{}-{what}-{site}", self.prefix)
    }
    fn namespaces(&self) -> Vec<String> {
        ["op", "dc"].iter().flat_map(|w| ["a", "b"].iter().map(move |s| (*w, *s))).map(|(w, s)| self.ns(w, s)).collect()
    }
    fn args(&self) -> Vec<String> {
        let mut v = Vec::new();
        for site in ["a", "b"] {
            v.push("--set".into());
            v.push(format!("sites.{site}.operatorNamespace={}", self.ns("op", site)));
            v.push("--set".into());
            v.push(format!("sites.{site}.kafkaNamespace={}", self.ns("dc", site)));
        }
        v
    }
}

fn args(list: &[&str], layout: &Layout) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.extend(layout.args());
    v
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn outcomes(doc: &Value) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for s in doc["steps"].as_array().unwrap() {
        *m.entry(s["outcome"].as_str().unwrap().to_string()).or_default() += 1;
    }
    m
}

async fn standin(bed: &KubeTestbed, api_version: &str, layout: &Layout, operator_ready: bool) -> Standin {
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    Standin::start(
        client,
        StandinOptions {
            api_version: api_version.into(),
            namespaces: layout.namespaces(),
            operator_ready,
            apps_domain: "apps.testbed.local".into(),
            external_bootstraps: Default::default(),
            kafka_sites: Default::default(),
        },
    )
    .await
}

async fn secret_data(client: &kube::Client, ns: &str, name: &str, key: &str) -> String {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let s = api.get(name).await.unwrap_or_else(|e| panic!("Secret {ns}/{name}: {e}"));
    String::from_utf8(s.data.unwrap()[key].0.clone()).unwrap()
}

async fn lifecycle(bed: &KubeTestbed, profile: &str, api_version: &str, prefix: &str, purge_at_end: bool) {
    let layout = Layout::new(prefix);
    let stand = standin(bed, api_version, &layout, true).await;
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let kc = bed.kubeconfig.clone();

    // First install: everything created, every wait satisfied.
    let out = run(&kc, args(&["install", "--profile", profile, "-o", "json", "--timeout", "90s"], &layout)).await;
    let doc = json(&out);
    assert!(out.status.success(), "install failed: {doc:#}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(doc["result"], "ok");
    assert_eq!(doc["ca"], "generated");
    let first = outcomes(&doc);
    assert!(first.get("created").copied().unwrap_or(0) > 40, "{first:?}");
    assert_eq!(first.get("resumed"), Some(&2), "{first:?}");
    assert_eq!(first.get("discovered"), Some(&1), "{first:?}");
    assert!(stand.violations().is_empty(), "order violations: {:?}", stand.violations());
    let events = stand.events();
    assert_eq!(events.iter().filter(|e| e.starts_with("operator Pod")).count(), 2, "{events:?}");

    // The shared CA is in both sites, the password generated once and kept.
    let ca_a = secret_data(&client, &layout.ns("dc", "a"), "my-cluster-cluster-ca-cert", "ca.crt").await;
    let ca_b = secret_data(&client, &layout.ns("dc", "b"), "my-second-cluster-cluster-ca-cert", "ca.crt").await;
    assert_eq!(ca_a, ca_b);
    assert!(ca_a.starts_with("-----BEGIN CERTIFICATE-----"));
    let pw = secret_data(&client, &layout.ns("dc", "a"), "my-user-password", "password").await;
    assert_eq!(pw.len(), 32);
    // The mirror has its own identity: its password, not the application's, in its Secrets.
    let mirror_pw = secret_data(&client, &layout.ns("dc", "a"), "my-mirrormaker-password", "password").await;
    assert_ne!(mirror_pw, pw);
    assert_eq!(secret_data(&client, &layout.ns("dc", "b"), "my-mirrormaker-password", "password").await, mirror_pw);
    assert_eq!(secret_data(&client, &layout.ns("dc", "b"), "my-mirrormaker-source", "password").await, mirror_pw);
    assert_eq!(secret_data(&client, &layout.ns("dc", "b"), "my-mirrormaker-target", "password").await, mirror_pw);
    assert_eq!(secret_data(&client, &layout.ns("dc", "b"), "my-mirrormaker-source", "ca.crt").await, ca_a);
    // The mirror got the discovered source bootstrap.
    let expected_source = format!("my-cluster-kafka-bootstrap-{}.apps.testbed.local:443", layout.ns("dc", "a"));
    assert!(stand.events().iter().any(|e| e.contains(&format!("source {expected_source}"))), "{:?}", stand.events());

    // Each site's brokers admit only their own operator: the NetworkPolicy the operator writes
    // from STRIMZI_OPERATOR_NAMESPACE_LABELS, evaluated against the cluster's real Namespaces.
    let all_namespaces = Api::<Namespace>::all(client.clone()).list(&Default::default()).await.unwrap().items;
    let operator_pod = BTreeMap::from([("strimzi.io/kind".to_string(), "cluster-operator".to_string())]);
    for (site, cluster) in [("a", "my-cluster"), ("b", "my-second-cluster")] {
        let policies: Api<NetworkPolicy> = Api::namespaced(client.clone(), &layout.ns("dc", site));
        let policy = policies.get(&format!("{cluster}-network-policy-kafka")).await.unwrap();
        for port in [CONTROLPLANE_PORT, REPLICATION_PORT, KAFKA_AGENT_PORT] {
            let admitted = fidelity::namespaces_admitted(&policy, port, &operator_pod, &all_namespaces);
            assert_eq!(admitted, vec![layout.ns("op", site)], "site {site}: operators admitted to port {port}");
        }
    }

    // Operator Deployments resumed; per-site ClusterRoleBindings with the right subjects.
    for site in ["a", "b"] {
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &layout.ns("op", site));
        let d = deployments.get("strimzi-cluster-operator").await.unwrap();
        assert_ne!(d.spec.as_ref().unwrap().paused, Some(true));
        let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
        let crb = crbs.get(&format!("strimzi-cluster-operator-{}", layout.ns("op", site))).await.unwrap();
        assert_eq!(crb.subjects.unwrap()[0].namespace.as_deref(), Some(layout.ns("op", site).as_str()));
    }

    // Second install: nothing changes.
    let out = run(&kc, args(&["install", "--profile", profile, "-o", "json", "--timeout", "60s"], &layout)).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}");
    let second = outcomes(&doc);
    assert_eq!(second.get("created"), None, "{second:?}");
    assert_eq!(second.get("configured"), None, "re-run changed objects: {:#}", doc["steps"]);
    assert!(second.get("unchanged").copied().unwrap_or(0) > 40, "{second:?}");
    assert!(doc["ca"].as_str().unwrap().starts_with("cluster Secret"), "{}", doc["ca"]);
    assert_eq!(secret_data(&client, &layout.ns("dc", "a"), "my-user-password", "password").await, pw);
    assert_eq!(secret_data(&client, &layout.ns("dc", "a"), "my-mirrormaker-password", "password").await, mirror_pw);

    // mirror deploy alone: nothing to change; an explicit source bootstrap reconfigures the mirror.
    let out = run(&kc, args(&["mirror", "deploy", "--profile", profile, "-o", "json", "--timeout", "60s"], &layout)).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}");
    let m = outcomes(&doc);
    assert_eq!((m.get("created"), m.get("configured")), (None, None), "{m:?}");
    assert_eq!(m.get("discovered"), Some(&1), "{m:?}");
    let out = run(
        &kc,
        args(&["mirror", "deploy", "--profile", profile, "-o", "json", "--source-bootstrap", "kafka.prod.example.com:443"], &layout),
    )
    .await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}");
    assert_eq!(outcomes(&doc).get("configured"), Some(&1), "{doc:#}");
    assert!(stand.events().iter().any(|e| e.ends_with("source kafka.prod.example.com:443")), "{:?}", stand.events());

    // status: everything ready.
    let out = run(&kc, args(&["status", "--objects", "--profile", profile, "-o", "json"], &layout)).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}");
    assert_eq!(doc["healthy"], true);

    // uninstall: our namespaces and bindings go, CRDs stay (unless purging).
    let mut un = vec!["uninstall", "--profile", profile, "-o", "json", "--timeout", "120s"];
    if purge_at_end {
        un.push("--purge");
    }
    let out = run(&kc, args(&un, &layout)).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", String::from_utf8_lossy(&out.stderr));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in layout.namespaces() {
        assert!(namespaces.get_opt(&ns).await.unwrap().is_none(), "namespace {ns} still exists");
    }
    // Custom resources went first, in the background, while the operators ran: no Kafka was
    // reconciled while marked for deletion, and each Topic Operator removed its finalizer.
    assert!(stand.violations().is_empty(), "uninstall: {:?}", stand.violations());
    let events = stand.events();
    for site in ["a", "b"] {
        let topic = format!("KafkaTopic {}/my-topic", layout.ns("dc", site));
        for what in ["added", "removed"] {
            assert!(events.iter().any(|e| e.starts_with(&topic) && e.contains(&format!("{what} finalizer"))), "{what}: {events:?}");
        }
    }
    let crbs: Api<ClusterRoleBinding> = Api::all(client.clone());
    assert!(crbs.get_opt(&format!("strimzi-cluster-operator-{}", layout.ns("op", "a"))).await.unwrap().is_none());
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> = Api::all(client.clone());
    assert_eq!(crds.get_opt("kafkas.kafka.strimzi.io").await.unwrap().is_some(), !purge_at_end);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_one_cluster_install_rerun_status_uninstall() {
    let bed = kube_testbed::kube("cur");
    lifecycle(&bed, "current", "kafka.strimzi.io/v1", "c1", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_one_cluster_install_rerun_status_uninstall_purge() {
    let bed = kube_testbed::kube("leg");
    lifecycle(&bed, "legacy", "kafka.strimzi.io/v1beta2", "l1", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_two_clusters_install() {
    let (a, b) = (kube_testbed::kube("cur"), kube_testbed::kube("cur-dr"));
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("kubeconfig");
    let names = kube_testbed::merged_kubeconfig(&[&a, &b], &merged);
    let layout = Layout::new("c2");
    let stand_a = standin(&a, "kafka.strimzi.io/v1", &layout, true).await;
    let stand_b = standin(&b, "kafka.strimzi.io/v1", &layout, true).await;
    let mut cmd = args(&["install", "-o", "json", "--timeout", "90s", "--context-a", &names[0], "--context-b", &names[1]], &layout);
    cmd.extend([
        "--brokers".to_string(),
        "1".into(),
        "--set".into(),
        "topic.replicas=1".into(),
        "--set".into(),
        "topic.minInsyncReplicas=1".into(),
    ]);
    let out = run(&merged, cmd.clone()).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(doc["layout"], "two-clusters");
    // CRDs applied once per cluster.
    let crd_steps =
        doc["steps"].as_array().unwrap().iter().filter(|s| s["kind"] == "CustomResourceDefinition" && s["action"] == "apply").count();
    assert_eq!(crd_steps, 20);
    assert!(stand_a.violations().is_empty() && stand_b.violations().is_empty());
    // Site b's cluster holds the same CA as site a's.
    let ca_a =
        secret_data(&kube_testbed::client(&a.kubeconfig, None).await, &layout.ns("dc", "a"), "my-cluster-cluster-ca-cert", "ca.crt").await;
    let ca_b =
        secret_data(&kube_testbed::client(&b.kubeconfig, None).await, &layout.ns("dc", "b"), "my-second-cluster-cluster-ca-cert", "ca.crt")
            .await;
    assert_eq!(ca_a, ca_b);
    let mut uninstall = cmd.clone();
    uninstall[0] = "uninstall".into();
    let out = run(&merged, uninstall).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_install_converges_when_rerun() {
    let bed = kube_testbed::kube("cur");
    let layout = Layout::new("c3");
    let stand = standin(&bed, "kafka.strimzi.io/v1", &layout, true).await;
    // Kill the first run as soon as it has created the operator Deployments.
    let kc = bed.kubeconfig.clone();
    let a = args(&["install", "--timeout", "90s"], &layout);
    let killed = tokio::task::spawn_blocking(move || {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(env!("CARGO_BIN_EXE_amqdr"))
            .args(&a)
            .env("KUBECONFIG", &kc)
            .env("CI", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let stop = line.contains("apply Deployment/strimzi-cluster-operator");
            lines.push(line);
            if stop {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        lines
    })
    .await
    .unwrap();
    assert!(killed.iter().any(|l| l.contains("apply Deployment")), "{killed:?}");

    let rerun = || run(&bed.kubeconfig, args(&["install", "-o", "json", "--timeout", "90s"], &layout));
    let out = rerun().await;
    let doc = json(&out);
    assert!(out.status.success(), "re-run after interruption failed: {doc:#}");
    assert!(stand.violations().is_empty(), "{:?}", stand.violations());
    let out = rerun().await;
    let doc = json(&out);
    let third = outcomes(&doc);
    assert!(out.status.success());
    assert_eq!(third.get("created"), None, "{third:?}");
    assert_eq!(third.get("configured"), None, "{third:?}");
    let out = run(&bed.kubeconfig, args(&["uninstall", "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A site installed before amqdr enforced ACLs (its Kafka without `authorization`; Strimzi's
/// User Operator then refuses KafkaUsers with ACLs) converges without locking anyone out:
/// authorization on with the identities as super users, the users Ready, then the super users
/// removed. A re-run changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_without_authorization_is_upgraded_without_lockout() {
    let bed = kube_testbed::kube("cur");
    let layout = Layout::new("c8");
    let api_version = "kafka.strimzi.io/v1";
    let stand = standin(&bed, api_version, &layout, true).await;
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let install = || run(&bed.kubeconfig, args(&["install", "-o", "json", "--timeout", "90s"], &layout));
    let out = install().await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // What an older amqdr left: site a's Kafka without authorization.
    let ns = layout.ns("dc", "a");
    let kafkas: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &kafka_resource(api_version));
    kafkas.patch("my-cluster", &PatchParams::default(), &Patch::Merge(json!({"spec": {"kafka": {"authorization": null}}}))).await.unwrap();
    let users: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &ns,
        &ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("kafka.strimzi.io", "v1", "KafkaUser"), "kafkausers"),
    );
    // Strimzi writes NotReady=True (a Ready=False would mean the same).
    let not_ready = |u: &DynamicObject| {
        let c = |f: &str| u.data.pointer(&format!("/status/conditions/0/{f}")).and_then(Value::as_str).map(str::to_string);
        matches!((c("type").as_deref(), c("status").as_deref()), (Some("NotReady"), Some("True")) | (Some("Ready"), Some("False")))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let list = users.list(&Default::default()).await.unwrap().items;
        if list.len() == 3 && list.iter().all(not_ready) {
            let message = list[0].data.pointer("/status/conditions/0/message").and_then(Value::as_str).unwrap_or("");
            assert!(message.contains("Simple authorization ACL rules are configured but not supported"), "{message}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the users did not turn NotReady: {list:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The refusals just seen are the simulated old state's; the upgrade must add none.
    let before = stand.violations().len();
    let out = install().await;
    let doc = json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{doc:#}\n{stderr}");
    assert!(stderr.contains("site a runs without authorization"), "{stderr}");
    // Site a's steps, in order: Kafka with super users, Ready; every user Ready; Kafka without them.
    let steps: Vec<(String, String, String)> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["site"] == "a" && (s["kind"] == "Kafka" || s["kind"] == "KafkaUser"))
        .map(|s| (s["kind"].as_str().unwrap().into(), s["action"].as_str().unwrap().into(), s["outcome"].as_str().unwrap().into()))
        .collect();
    let pos = |kind: &str, action: &str, nth: usize| {
        steps.iter().enumerate().filter(|(_, s)| s.0 == kind && s.1 == action).nth(nth).map(|(i, _)| i)
    };
    let (bridge, last) = (pos("Kafka", "apply", 0).unwrap(), pos("Kafka", "apply", 1).unwrap());
    for nth in 0..3 {
        let ready = pos("KafkaUser", "wait Ready", nth).unwrap();
        assert!(bridge < ready && ready < last, "{steps:#?}");
    }
    assert_eq!(steps[bridge].2, "configured");
    assert_eq!(steps[last].2, "configured");
    let kafka = kafkas.get("my-cluster").await.unwrap();
    assert_eq!(kafka.data.pointer("/spec/kafka/authorization"), Some(&json!({"type": "simple"})), "no super users left");
    assert!(stand.events().iter().any(|e| e.contains(&format!("Kafka {ns}/my-cluster"))), "{:?}", stand.events());
    for u in users.list(&Default::default()).await.unwrap().items {
        assert!(!not_ready(&u), "{u:?}");
    }
    assert_eq!(stand.violations().len(), before, "{:?}", stand.violations());

    let out = install().await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}");
    let again = outcomes(&doc);
    assert_eq!((again.get("created"), again.get("configured")), (None, None), "{again:?}");
    let out = run(&bed.kubeconfig, args(&["uninstall", "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_never_ready_times_out_with_cause() {
    let bed = kube_testbed::kube("cur");
    let layout = Layout::new("c4");
    let _stand = standin(&bed, "kafka.strimzi.io/v1", &layout, false).await;
    let out = run(&bed.kubeconfig, args(&["install", "--timeout", "8s", "--no-mirror"], &layout)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("Deployment/strimzi-cluster-operator"), "{stderr}");
    assert!(stderr.contains("not Available within 8s"), "{stderr}");
    assert!(stderr.contains("0/1 available"), "{stderr}");
    assert!(stderr.contains("re-run"), "{stderr}");
    let out = run(&bed.kubeconfig, args(&["uninstall", "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn user_without_rights_gets_a_clear_error_and_nothing_changes() {
    let bed = kube_testbed::kube("cur");
    let layout = Layout::new("c5");
    let out = amqdr(&bed.limited_kubeconfig, &args(&["install", "--timeout", "10s"], &layout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("may not create customresourcedefinitions.apiextensions.k8s.io"), "{stderr}");
    assert!(stderr.contains("cluster administrator"), "{stderr}");
    // Nothing was applied.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = kube_testbed::client(&bed.kubeconfig, None).await;
        let namespaces: Api<Namespace> = Api::all(client);
        assert!(namespaces.get_opt(&layout.ns("op", "a")).await.unwrap().is_none());
    });
}

#[test]
fn unreachable_api_server_fails_fast_with_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &kc,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: down\nclusters:\n- name: down\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: down\n  context:\n    cluster: down\n    user: u\n"
        ),
    )
    .unwrap();
    let out = amqdr(&kc, &["install".to_string(), "--timeout".into(), "10s".into()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot reach the Kubernetes API server"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_manager_conflict_is_reported_and_force_takes_ownership() {
    let bed = kube_testbed::kube("cur");
    let layout = Layout::new("c6");
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    // Another tool owns a field amqdr sets.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = layout.ns("op", "a");
    let pp = kube::api::PatchParams::apply("someone-else");
    namespaces
        .patch(&ns, &pp, &kube::api::Patch::Apply(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})))
        .await
        .unwrap();
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), &ns);
    cms.patch(
        "strimzi-cluster-operator",
        &pp,
        &kube::api::Patch::Apply(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "strimzi-cluster-operator", "namespace": ns}, "data": {"log4j2.properties": "rootLogger.level = DEBUG"}})),
    )
    .await
    .unwrap();
    let out = run(&bed.kubeconfig, args(&["install", "--timeout", "60s", "--no-mirror"], &layout)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("field manager conflict") && stderr.contains("ConfigMap/strimzi-cluster-operator"), "{stderr}");
    assert!(stderr.contains("--force-conflicts"), "{stderr}");

    let _stand = standin(&bed, "kafka.strimzi.io/v1", &layout, true).await;
    let out = run(&bed.kubeconfig, args(&["install", "--timeout", "60s", "--no-mirror", "--force-conflicts"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cm = cms.get("strimzi-cluster-operator").await.unwrap();
    assert!(cm.data.unwrap()["log4j2.properties"].contains("COConfig"));
    let out = run(&bed.kubeconfig, args(&["uninstall", "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn kafka_resource(api_version: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap();
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, "Kafka"), "kafkas")
}

/// Change the external listener of a site's Kafka as another tool would, then wait for the
/// stand-in's verdict on the new generation: the NotReady condition's (reason, message).
async fn relisten_and_wait_not_ready(client: &kube::Client, api_version: &str, ns: &str, name: &str, external: Value) -> (String, String) {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &kafka_resource(api_version));
    let tls = json!({"name": "tls", "port": 9093, "type": "internal", "tls": true, "authentication": {"type": "scram-sha-512"}});
    let patch = json!({"apiVersion": api_version, "kind": "Kafka", "metadata": {"name": name, "namespace": ns},
        "spec": {"kafka": {"listeners": [tls, external]}}});
    let changed = api.patch(name, &PatchParams::apply("someone-else").force(), &Patch::Apply(&patch)).await.unwrap();
    let generation = changed.metadata.generation.unwrap();
    for _ in 0..200 {
        let k = serde_json::to_value(api.get(name).await.unwrap()).unwrap();
        if k.pointer("/status/observedGeneration").and_then(Value::as_i64) == Some(generation) {
            let c = &k["status"]["conditions"][0];
            assert_eq!(c["type"], "NotReady", "{k:#}");
            return (c["reason"].as_str().unwrap().to_string(), c["message"].as_str().unwrap().to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the stand-in did not reconcile generation {generation} of Kafka {ns}/{name}");
}

/// bootstrap.host on a loadbalancer listener: amqdr refuses it before applying anything; a
/// Kafka that has it anyway (changed by hand) is rejected by the stand-in as by the operator.
async fn bootstrap_host_on_loadbalancer(bed: &KubeTestbed, profile: &str, api_version: &str, prefix: &str, operator_message: &str) {
    let layout = Layout::new(prefix);
    let stand = standin(bed, api_version, &layout, true).await;
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let lb = ["--profile", profile, "--listener", "loadbalancer", "--no-mirror", "--timeout", "60s"];
    let mut refused: Vec<&str> = vec!["install"];
    refused.extend(lb);
    refused.extend(["--set", "kafka.listener.bootstrapHost=kafka.example.com"]);
    let out = run(&bed.kubeconfig, args(&refused, &layout)).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("kafka.listener.bootstrapHost") && stderr.contains(operator_message), "{stderr}");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(&layout.ns("op", "a")).await.unwrap().is_none(), "something was applied");

    let mut install: Vec<&str> = vec!["install"];
    install.extend(lb);
    let out = run(&bed.kubeconfig, args(&install, &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stand.violations().is_empty(), "{:?}", stand.violations());

    let external = json!({"name": "external", "port": 9094, "type": "loadbalancer", "tls": true,
        "authentication": {"type": "scram-sha-512"}, "configuration": {"bootstrap": {"host": "kafka.example.com"}}});
    let (reason, message) = relisten_and_wait_not_ready(&client, api_version, &layout.ns("dc", "a"), "my-cluster", external).await;
    assert_eq!(reason, "InvalidResourceException");
    assert_eq!(message, format!("Listener configuration is not valid: [listener external {operator_message}]"));
    assert!(stand.violations().iter().any(|v| v.contains(operator_message)), "{:?}", stand.violations());
    let out = run(&bed.kubeconfig, args(&["uninstall", "--profile", profile, "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_bootstrap_host_on_loadbalancer_refused_like_the_operator() {
    let bed = kube_testbed::kube("cur");
    let message = "cannot configure bootstrap.host because it is not TLSRoute, Route, or Ingress based listener";
    bootstrap_host_on_loadbalancer(&bed, "current", "kafka.strimzi.io/v1", "c7", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_bootstrap_host_on_loadbalancer_refused_like_the_operator() {
    let bed = kube_testbed::kube("leg");
    let message = "cannot configure bootstrap.host because it is not Route or Ingress based listener";
    bootstrap_host_on_loadbalancer(&bed, "legacy", "kafka.strimzi.io/v1beta2", "l7", message).await;
}

/// Plain Kubernetes (no OpenShift Route API, no Gateway API): a route or tlsroute listener is
/// refused before anything is applied, on both profiles.
#[test]
fn plain_kubernetes_refuses_route_and_tlsroute_before_applying() {
    let bed = kube_testbed::kube("plain");
    let layout = Layout::new("p1");
    let tlsroute = [
        "--listener",
        "tlsroute",
        "--set",
        "kafka.listener.bootstrapHost=kafka.example.com",
        "--set",
        "kafka.listener.brokerHostTemplate=broker-{nodeId}.example.com",
        "--set",
        "kafka.listener.gateway.name=gw",
    ];
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--profile", "current"], "route.openshift.io/v1"),
        (vec!["--profile", "legacy"], "route.openshift.io/v1"),
        (vec!["--profile", "current", "--listener", "route"], "route.openshift.io/v1"),
    ];
    let mut with_tlsroute = vec!["--profile", "current"];
    with_tlsroute.extend(tlsroute);
    cases.push((with_tlsroute, "gateway.networking.k8s.io/v1"));
    for (extra, api) in cases {
        let mut a = vec!["install", "--timeout", "30s"];
        a.extend(extra.iter().copied());
        let out = amqdr(&bed.kubeconfig, &args(&a, &layout));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains("kafka.listener.type") && stderr.contains(api) && stderr.contains("Nothing was applied"), "{stderr}");
        assert!(stderr.contains("--listener loadbalancer"), "{stderr}");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = kube_testbed::client(&bed.kubeconfig, None).await;
        // (The cluster's CRDs are shared with the other plain test, so only this layout's objects tell.)
        for ns in layout.namespaces() {
            assert!(Api::<Namespace>::all(client.clone()).get_opt(&ns).await.unwrap().is_none(), "{ns} was created");
        }
        let crbs: Api<ClusterRoleBinding> = Api::all(client);
        assert!(crbs.get_opt(&format!("strimzi-cluster-operator-{}", layout.ns("op", "a"))).await.unwrap().is_none());
    });
}

/// Plain Kubernetes with a loadbalancer listener installs; a Kafka switched to a route listener
/// there gets the operator's error from the stand-in instead of an endless wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_kubernetes_installs_loadbalancer_and_standin_reports_missing_route_api() {
    let bed = kube_testbed::kube("plain");
    let layout = Layout::new("p2");
    let stand = standin(&bed, "kafka.strimzi.io/v1", &layout, true).await;
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let out = run(&bed.kubeconfig, args(&["install", "--listener", "loadbalancer", "--no-mirror", "--timeout", "60s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stand.violations().is_empty(), "{:?}", stand.violations());
    let external = json!({"name": "external", "port": 9094, "type": "route", "tls": true, "authentication": {"type": "scram-sha-512"}});
    let (reason, message) =
        relisten_and_wait_not_ready(&client, "kafka.strimzi.io/v1", &layout.ns("dc", "a"), "my-cluster", external).await;
    assert_eq!(reason, "NoStackTraceThrowable");
    assert!(message.starts_with("The OpenShift route API is not available in this Kubernetes cluster"), "{message}");
    assert!(stand.violations().iter().any(|v| v.contains("route API is not available")), "{:?}", stand.violations());
    let out = run(&bed.kubeconfig, args(&["uninstall", "--listener", "loadbalancer", "--timeout=120s"], &layout)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
