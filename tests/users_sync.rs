//! Identities follow the data, both profiles, both test beds together: after `amqdr install`, an
//! application's KafkaUser with a password the User Operator generated (the stand-in generates
//! and keeps it as Strimzi does) is named by `amqdr status` as not on DR; `users sync --dry-run`
//! changes nothing; `users sync --yes` copies it; the application then logs in on DR with the
//! same password (real Kafka clients on the brokers, ACLs enforced) and `status` no longer names
//! it; a second sync has nothing to do; after a planned failover the application produces on the
//! new primary.

mod common;

use amqdr::kafka::clients::{self, payload, producer, run_id, send};
use amqdr::kafka::connection::{ConnectionInputs, ConnectionSettings};
use amqdr::kafka::site::KafkaSite;
use common::dr_pair::{Pair, json_of, ok, stderr};
use common::kube_testbed;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const USER: &str = "orders-app";
const TOPIC: &str = "orders";

async fn kafka_users(pair: &Pair, site: &str) -> Api<DynamicObject> {
    let client = kube_testbed::client(&pair.kube.kubeconfig, None).await;
    let (group, version) = pair.api_version.split_once('/').unwrap();
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, "KafkaUser"));
    Api::namespaced_with(client, &pair.ns("dc", site), &ar)
}

async fn secret_value(pair: &Pair, site: &str, name: &str, key: &str) -> Option<String> {
    let client = kube_testbed::client(&pair.kube.kubeconfig, None).await;
    let secrets: Api<Secret> = Api::namespaced(client, &pair.ns("dc", site));
    let s = secrets.get_opt(name).await.unwrap()?;
    s.data?.get(key).map(|v| String::from_utf8(v.0.clone()).unwrap())
}

/// The KafkaUser on a site once the (stand-in) User Operator reconciled its current generation.
async fn wait_ready(pair: &Pair, site: &str) -> Value {
    let users = kafka_users(pair, site).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(u) = users.get_opt(USER).await.unwrap() {
            let v = serde_json::to_value(&u).unwrap();
            let current = v.pointer("/status/observedGeneration").and_then(Value::as_i64) == u.metadata.generation;
            if current && v.pointer("/status/conditions/0/type") == Some(&json!("Ready")) {
                return v;
            }
            assert!(Instant::now() < deadline, "KafkaUser {USER} on site {site} not Ready: {:#}", v["status"]);
        }
        assert!(Instant::now() < deadline, "no KafkaUser {USER} on site {site}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The application's connection to a site with its password.
fn app_conn(pair: &Pair, site: &str, password_file: &Path) -> ConnectionSettings {
    let inputs = ConnectionInputs {
        bootstrap: Some(pair.kafka.bootstrap(site)),
        ca_file: Some(pair.kafka.get("AMQDR_CA_FILE").into()),
        user: Some(USER.into()),
        password_file: Some(password_file.to_path_buf()),
        client_config: None,
    };
    inputs.resolve(site, Duration::from_secs(30)).unwrap().unwrap()
}

fn produce(conn: &ConnectionSettings, n: u64) {
    let run = run_id();
    let (p, ctx) = producer(conn, &[]).unwrap();
    for seq in 0..n {
        send(&p, &ctx, TOPIC, None, seq.to_string().as_bytes(), &payload(&run, seq, 100), seq).unwrap();
    }
    clients::finish(&p, &ctx, conn, n as usize, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{USER} could not produce on site {}: {e:#}", conn.label));
}

/// Records of `TOPIC` the application reads on a site (it logs in and its Read ACL holds).
fn records(conn: &ConnectionSettings) -> usize {
    let k = KafkaSite::connect(conn).unwrap_or_else(|e| panic!("{USER} could not log in on site {}: {e:#}", conn.label));
    let topics = k.topics_named([&TOPIC.to_string()]).unwrap();
    let (starts, ends) = (k.starts(&topics).unwrap(), k.ends(&topics).unwrap());
    ends.iter().map(|(tp, end)| k.read(tp, starts[tp], *end).unwrap().len()).sum()
}

fn identities_named(doc: &Value) -> Vec<String> {
    doc["coverage"]["identities"].as_array().into_iter().flatten().filter(|i| i["user"] == USER).map(|i| i.to_string()).collect()
}

async fn identities_follow_the_data(profile: &str, kube_name: &str, api_version: &str, prefix: &str) {
    let pair = Pair::new(profile, kube_name, api_version, prefix).await;
    pair.reinstall().await;
    let out = pair.amqdr(&["status", "-o", "json"]).await;
    assert_eq!(ok(&out)["healthy"], true, "{}", stderr(&out));

    // Another application: its topic (on production, then DR's copy), its KafkaUser labelled to
    // follow the data, with a password the User Operator generates.
    let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", pair.kafka.plain_bootstrap("a")).create().unwrap();
    let topic = rdkafka::admin::NewTopic::new(TOPIC, 1, rdkafka::admin::TopicReplication::Fixed(1));
    for r in admin.create_topics([&topic], &rdkafka::admin::AdminOptions::new()).await.unwrap() {
        r.unwrap();
    }
    ok(&pair.amqdr(&["mirror", "sync-topics", "-o", "json"]).await);
    let user = json!({
        "apiVersion": api_version,
        "kind": "KafkaUser",
        "metadata": {"name": USER, "labels": {"strimzi.io/cluster": "my-cluster", "amqdr.io/dr": "true"}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [
                {"resource": {"type": "topic", "name": TOPIC}, "operations": ["Describe", "Read", "Write"]},
                {"resource": {"type": "group", "name": "amqdr-", "patternType": "prefix"}, "operations": ["Read"]},
            ]},
        },
    });
    let a_users = kafka_users(&pair, "a").await;
    a_users.patch(USER, &PatchParams::apply("application-team"), &Patch::Apply(&user)).await.unwrap();
    wait_ready(&pair, "a").await;
    let password = secret_value(&pair, "a", USER, "password").await.expect("the User Operator generated no password");
    assert_eq!(password.len(), 32);
    let jaas = secret_value(&pair, "a", USER, "sasl.jaas.config").await.unwrap();
    assert!(jaas.contains(&format!("username=\"{USER}\"")), "{jaas}");
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("password");
    std::fs::write(&password_file, &password).unwrap();
    let (on_a, on_b) = (app_conn(&pair, "a", &password_file), app_conn(&pair, "b", &password_file));
    produce(&on_a, 20);

    // Not on DR yet: status names it, with the fix.
    let out = pair.amqdr(&["status", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = json_of(&out);
    let named = identities_named(&doc);
    assert!(named.iter().any(|i| i.contains("no KafkaUser on site b") && i.contains("amqdr users sync")), "{:#}", doc["coverage"]);

    // A selector that is not one, and one that matches nothing.
    let out = pair.amqdr(&["users", "sync", "--selector", "amqdr.io/dr in (true)", "--dry-run"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--selector"), "{}", stderr(&out));
    let out = pair.amqdr(&["users", "sync", "--selector", "team=nobody", "--dry-run"]).await;
    assert!(out.status.success() && stderr(&out).contains("matches no KafkaUser") && stderr(&out).contains("--all"), "{}", stderr(&out));

    // The plan changes nothing and shows no password; without a terminal it needs --yes.
    let plan = ok(&pair.amqdr(&["users", "sync", "--dry-run", "-o", "json"]).await);
    assert_eq!(plan["result"], "would-sync", "{plan:#}");
    let actions: Vec<&str> = plan["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| u["actions"].as_array().unwrap())
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["keep-generated-password", "copy-password", "create-user"], "{plan:#}");
    assert!(!plan.to_string().contains(&password));
    assert!(kafka_users(&pair, "b").await.get_opt(USER).await.unwrap().is_none());
    assert!(secret_value(&pair, "a", &format!("{USER}-dr-password"), "password").await.is_none());
    let out = pair.amqdr(&["users", "sync"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));

    let out = pair.amqdr(&["users", "sync", "--yes", "-o", "json"]).await;
    assert_eq!(ok(&out)["result"], "synced");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&password) && !stderr(&out).contains(&password));
    let copy = wait_ready(&pair, "b").await;
    assert_eq!(copy.pointer("/metadata/labels/amqdr.io~1dr-copy-of"), Some(&json!("a")), "{copy:#}");
    assert_eq!(copy.pointer("/metadata/labels/strimzi.io~1cluster"), Some(&json!("my-second-cluster")), "{copy:#}");
    // Production's user keeps its password (the User Operator now takes it from amqdr's Secret).
    let original = wait_ready(&pair, "a").await;
    assert_eq!(
        original.pointer("/spec/authentication/password/valueFrom/secretKeyRef/name"),
        Some(&json!(format!("{USER}-dr-password"))),
        "{original:#}"
    );
    assert_eq!(secret_value(&pair, "a", USER, "password").await.as_deref(), Some(password.as_str()));
    assert_eq!(secret_value(&pair, "b", &format!("{USER}-dr-password"), "password").await.as_deref(), Some(password.as_str()));

    // On DR the application logs in with its password and reads what the mirror copied.
    let deadline = Instant::now() + Duration::from_secs(120);
    while records(&on_b) < 20 {
        assert!(Instant::now() < deadline, "the mirror did not copy {TOPIC} to site b");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    produce(&on_a, 5);
    let out = pair.amqdr(&["status", "-o", "json"]).await;
    let doc = json_of(&out);
    assert!(identities_named(&doc).is_empty(), "{:#}", doc["coverage"]);
    assert_eq!(out.status.code(), Some(0), "{:#}\n{}", doc["problems"], stderr(&out));

    let again = ok(&pair.amqdr(&["users", "sync", "--yes", "-o", "json"]).await);
    assert_eq!(again["result"], "in-step", "{again:#}");
    assert!(again["users"].as_array().unwrap().iter().all(|u| u["actions"].as_array().unwrap().is_empty()), "{again:#}");

    // After a planned failover the application produces on the new primary.
    let switch = ["failover", "--yes", "--quiet-period", "3s", "--offset-margin", "5s", "--timeout", "180s", "-o", "json"];
    let report = ok(&pair.amqdr(&switch).await);
    let step = report["steps"].as_array().unwrap().iter().find(|s| s["step"] == "sync-users").cloned();
    assert_eq!(step.as_ref().map(|s| s["outcome"].clone()), Some(json!("done")), "{report:#}");
    let before = records(&on_b);
    produce(&on_b, 10);
    assert_eq!(records(&on_b), before + 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_identities_follow_the_data() {
    identities_follow_the_data("current", "cur", "kafka.strimzi.io/v1", "u1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_identities_follow_the_data() {
    identities_follow_the_data("legacy", "leg", "kafka.strimzi.io/v1beta2", "u2").await;
}
