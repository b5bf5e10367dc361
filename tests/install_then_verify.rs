//! The whole path a user takes, across both boundaries: `amqdr install` on the Kubernetes test
//! bed (a stand-in plays Strimzi and reports the Kafka test bed's real brokers as the external
//! listeners), then `amqdr verify` with nothing but the kube context: bootstrap addresses from
//! the Kafka status, the CA from `<cluster>-cluster-ca-cert`, the password from the user's
//! Secret, all checked against real brokers over SASL_SSL/SCRAM-SHA-512.

mod common;

use amqdr_standins::standin::{Standin, StandinOptions};
use common::kafka_testbed::{KafkaTestbed, kafka};
use common::kube_testbed::{self, KubeTestbed};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

/// Namespaces of one test; the cluster names are amqdr's defaults.
fn layout_args(prefix: &str) -> Vec<String> {
    let mut v = Vec::new();
    for site in ["a", "b"] {
        v.push("--set".to_string());
        v.push(format!("sites.{site}.operatorNamespace={prefix}-op-{site}"));
        v.push("--set".to_string());
        v.push(format!("sites.{site}.kafkaNamespace={prefix}-dc-{site}"));
    }
    v
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(out)))
}

async fn standin_for(bed: &KubeTestbed, kafka: &KafkaTestbed, api_version: &str, prefix: &str) -> Standin {
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let external_bootstraps = HashMap::from([
        (format!("{prefix}-dc-a"), kafka.get("AMQDR_SITE_A_BOOTSTRAP").to_string()),
        (format!("{prefix}-dc-b"), kafka.get("AMQDR_SITE_B_BOOTSTRAP").to_string()),
    ]);
    let namespaces = ["op-a", "op-b", "dc-a", "dc-b"].iter().map(|n| format!("{prefix}-{n}")).collect();
    Standin::start(
        client,
        StandinOptions {
            api_version: api_version.into(),
            namespaces,
            operator_ready: true,
            apps_domain: "apps.testbed.local".into(),
            external_bootstraps,
            kafka_sites: Default::default(),
        },
    )
    .await
}

async fn install_then_verify(profile: &str, kube_name: &str, api_version: &str, prefix: &str) {
    let kafka = kafka(profile);
    let bed = kube_testbed::kube(kube_name);
    let layout = layout_args(prefix);
    let with_layout = |list: &[&str]| {
        let mut v = strings(list);
        v.extend(layout.iter().cloned());
        v
    };
    let run = |args: Vec<String>| kube_testbed::run(&bed.kubeconfig, args);

    // Leftovers of an earlier run of this test go first (uninstall is idempotent).
    let out = run(with_layout(&["uninstall", "--profile", profile, "--timeout", "120s"])).await;
    assert!(out.status.success(), "{}", stderr(&out));

    // Before anything is installed, verify says what is missing and how to get it (the CRDs may
    // be there already: test bed clusters are shared).
    let out = run(with_layout(&["verify", "produce-consume", "--profile", profile, "--timeout", "20s"])).await;
    assert!(matches!(out.status.code(), Some(1 | 2)), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains(&format!("Kafka {prefix}-dc-a/my-cluster not found")) || text.contains("is not served by"), "{text}");
    assert!(text.contains("`amqdr install`"), "{text}");

    // Install with the Kafka test bed's CA (brought by the user) and its users' passwords (the
    // brokers hold the test bed's credentials: this stand-in does not manage them).
    let _stand = standin_for(&bed, &kafka, api_version, prefix).await;
    let dir = Path::new(kafka.get("AMQDR_TESTBED_KAFKA_DIR"));
    let ca_cert = dir.join("certs/ca.crt").display().to_string();
    let ca_key = dir.join("certs/ca.key").display().to_string();
    let password = kafka.get("AMQDR_PASSWORD_FILE").to_string();
    let mut install = with_layout(&["install", "--profile", profile, "--listener", "loadbalancer", "-o", "json", "--timeout", "90s"]);
    let mirror_password = format!("mirror.passwordFile={}", kafka.get("AMQDR_MIRROR_PASSWORD_FILE"));
    let dr_password = format!("dr.passwordFile={}", kafka.get("AMQDR_DR_PASSWORD_FILE"));
    install.extend(strings(&["--ca-cert", &ca_cert, "--ca-key", &ca_key, "--password-file", &password]));
    install.extend(strings(&["--set", &mirror_password, "--set", &dr_password]));
    let out = run(install).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    assert_eq!(doc["ca"], format!("file {ca_cert}"), "{doc:#}");

    // verify all: every connection detail comes from the cluster.
    let out = run(with_layout(&["verify", "all", "--profile", profile, "-o", "json", "--timeout", "90s"])).await;
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    assert_eq!(doc["passed"], true, "{doc:#}");
    let names: Vec<&str> = doc["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for expected in ["produce-consume site a", "produce-consume site b", "mirror a -> b", "latency site a", "perf site a", "acl"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let mirror = doc["checks"].as_array().unwrap().iter().find(|c| c["name"] == "mirror a -> b").unwrap();
    assert_eq!(mirror["details"]["missing"], 0, "{mirror:#}");

    // verify reads the password from the user's Secret: a wrong one there is reported as an
    // authentication failure on that site, without printing it.
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let secrets: Api<Secret> = Api::namespaced(client, &format!("{prefix}-dc-b"));
    secrets
        .patch(
            "my-user-password",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"stringData": {"password": "Wr0ngPassw0rdXyz"}})),
        )
        .await
        .unwrap();
    let out = run(with_layout(&["verify", "produce-consume", "--site", "b", "--profile", profile, "--timeout", "20s"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("authentication failed on site b"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("Secret {prefix}-dc-b/my-user-password")), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Wr0ngPassw0rdXyz") && !String::from_utf8_lossy(&out.stdout).contains("Wr0ngPassw0rdXyz"));

    let out = run(with_layout(&["uninstall", "--profile", profile, "--timeout", "120s"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_install_then_verify_from_the_cluster() {
    install_then_verify("current", "cur", "kafka.strimzi.io/v1", "v1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_install_then_verify_from_the_cluster() {
    install_then_verify("legacy", "leg", "kafka.strimzi.io/v1beta2", "v2").await;
}
