//! What DR protects, on the Kafka test bed's real brokers with the ACLs amqdr renders enforced:
//! another application's topic, outside the application user's `user.topics`, created on
//! production after the mirror started, reaches DR with its records (and, with MirrorMaker 2,
//! its configs) because the mirror's rights follow its scope; while the mirror is stopped
//! `amqdr status` names the topic as missing on DR with its records, and stops naming it once the
//! mirror has copied it (MirrorMaker 1 after `amqdr mirror sync-topics` created it with
//! production's partitions and configs); a topic deleted on production shows as an orphan on DR,
//! not as a gap. `verify mirror --topic` waits for a topic the mirror has not created on DR yet.

mod common;

use common::kafka_testbed::{KafkaTestbed, kafka_exclusive};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A topic of another application: not `dr-*`, so outside the test bed's `user.topics`.
fn other_applications_topic() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("orders-{}-{nanos:x}", std::process::id())
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap()
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32, config: &[(&str, &str)]) {
    let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (k, v) in config {
        new = new.set(k, v);
    }
    for r in futures::executor::block_on(admin(bootstrap).create_topics([&new], &AdminOptions::new())).unwrap() {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
}

fn delete_topic(bootstrap: &str, topic: &str) {
    for r in futures::executor::block_on(admin(bootstrap).delete_topics(&[topic], &AdminOptions::new())).unwrap() {
        r.unwrap_or_else(|(t, e)| panic!("deleting {t}: {e}"));
    }
}

/// As the other application would, on the test bed's listener without authentication.
fn produce(bootstrap: &str, topic: &str, n: usize) {
    let p: BaseProducer = ClientConfig::new().set("bootstrap.servers", bootstrap).set("acks", "all").create().unwrap();
    for i in 0..n {
        let key = format!("k{i}");
        let value = format!("order {i}");
        loop {
            match p.send(BaseRecord::to(topic).key(&key).payload(&value)) {
                Ok(()) => break,
                Err((_, _)) => {
                    p.poll(Duration::from_millis(50));
                }
            }
        }
    }
    assert_eq!(p.flush(Duration::from_secs(30)), Ok(()));
}

fn records_on(bootstrap: &str, topic: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new().set("bootstrap.servers", bootstrap).set("group.id", "dr-coverage-probe").create().unwrap();
    let Ok(md) = c.fetch_metadata(Some(topic), Duration::from_secs(10)) else { return 0 };
    let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else { return 0 };
    t.partitions().iter().map(|p| c.fetch_watermarks(topic, p.id(), Duration::from_secs(10)).map(|(lo, hi)| hi - lo).unwrap_or(0)).sum()
}

/// `amqdr status -o json` as DR operations run it (their own user; no Kubernetes here, so the
/// run is degraded for that reason, and the coverage part is what is checked).
fn status(bed: &KafkaTestbed) -> Value {
    let out = bed.amqdr().args(["status", "-o", "json"]).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert!(doc["coverage"].is_object(), "no coverage measured: {doc:#}");
    doc
}

fn names(doc: &Value, list: &str) -> Vec<String> {
    doc["coverage"][list]
        .as_array()
        .unwrap_or_else(|| panic!("coverage.{list}: {doc:#}"))
        .iter()
        .map(|e| e.get("topic").unwrap_or(e).as_str().unwrap_or_default().to_string())
        .collect()
}

fn wait_until(what: &str, seconds: u64, mut done: impl FnMut() -> Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let why = match done() {
            None => return,
            Some(why) => why,
        };
        assert!(Instant::now() < deadline, "{what} within {seconds}s: {why}");
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn another_applications_topic_is_protected(profile: &str) {
    let bed = kafka_exclusive(profile);
    let (a, b) = (bed.plain_bootstrap("a"), bed.plain_bootstrap("b"));
    let topic = other_applications_topic();
    let config: &[(&str, &str)] = &[("retention.ms", "3600000")];

    bed.ctl(&["stop-mirror"]);
    create_topic(&a, &topic, 3, config);
    produce(&a, &topic, 200);
    let doc = status(&bed);
    let missing = doc["coverage"]["missing_topics"].as_array().unwrap().iter().find(|m| m["topic"] == topic.as_str()).cloned();
    let missing = missing.unwrap_or_else(|| panic!("{topic} not named missing on b: {:#}", doc["coverage"]));
    assert_eq!((missing["partitions"].as_i64(), missing["records"].as_i64()), (Some(3), Some(200)), "{missing:#}");
    assert!(missing["oldest_record_age_seconds"].as_f64().is_some_and(|s| s >= 0.0), "{missing:#}");
    assert!(
        doc["problems"].as_array().unwrap().iter().any(|p| p.as_str().is_some_and(|p| p.contains("DR coverage") && p.contains(&topic))),
        "{:#}",
        doc["problems"]
    );
    let table = bed.amqdr().arg("status").output().unwrap();
    assert_eq!(table.status.code(), Some(3));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("missing on b") && text.contains(&topic) && text.contains("200 record(s)"), "{text}");

    // What `mirror sync-topics` would do: create the topic on b with a's partitions and configs.
    let out = bed.amqdr().args(["mirror", "sync-topics", "--dry-run", "-o", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let create = plan["actions"].as_array().unwrap().iter().find(|a| a["topic"] == topic.as_str()).cloned();
    let create = create.unwrap_or_else(|| panic!("no action for {topic}: {plan:#}"));
    assert_eq!((create["action"].as_str(), create["partitions"].as_i64()), (Some("create"), Some(3)), "{create:#}");
    assert_eq!(create["configs"]["retention.ms"], "3600000", "{create:#}");
    assert_eq!(records_on(&b, &topic), 0, "--dry-run created {topic} on b");
    if profile == "legacy" {
        // MirrorMaker 1 would create it with the broker's defaults and copy no config: amqdr
        // creates it first, before its records arrive.
        let out = bed.amqdr().args(["mirror", "sync-topics"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc = status(&bed);
        assert!(!names(&doc, "missing_topics").contains(&topic), "{:#}", doc["coverage"]);
        assert!(!names(&doc, "config_drift").contains(&topic), "{:#}", doc["coverage"]);
    }

    bed.ctl(&["start-mirror"]);
    wait_until(&format!("{topic} covered on b"), 180, || {
        let doc = status(&bed);
        let gaps: Vec<String> = ["missing_topics", "partition_mismatches", "config_drift"]
            .iter()
            .flat_map(|l| names(&doc, l))
            .filter(|t| t == &topic)
            .collect();
        let copied = records_on(&b, &topic);
        (copied != 200 || !gaps.is_empty()).then(|| format!("{copied} of 200 records on b, gaps {gaps:?}: {:#}", doc["coverage"]))
    });

    delete_topic(&a, &topic);
    wait_until(&format!("{topic} an orphan on b"), 60, || {
        let doc = status(&bed);
        let orphan = names(&doc, "orphans").contains(&topic);
        let gap = names(&doc, "missing_topics").contains(&topic);
        (!orphan || gap).then(|| format!("{:#}", doc["coverage"]))
    });
    delete_topic(&b, &topic);

    // "Does a new topic reach DR?" as `verify mirror` asks it: a topic of the application
    // (`dr-*`, its user.topics on the test bed) that the mirror has not created on b yet is
    // waited for, not refused.
    let fresh = format!("dr-{}", other_applications_topic());
    create_topic(&a, &fresh, 2, &[]);
    let out =
        bed.amqdr().args(["verify", "mirror", "--topic", &fresh, "--records", "20", "--timeout", "150s", "-o", "json"]).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(out.status.success(), "{doc:#}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(doc["checks"][0]["details"]["missing"], 0, "{doc:#}");
    delete_topic(&a, &fresh);
    delete_topic(&b, &fresh);
}

#[test]
fn current_another_applications_topic_is_protected() {
    another_applications_topic_is_protected("current");
}

#[test]
fn legacy_another_applications_topic_is_protected() {
    another_applications_topic_is_protected("legacy");
}
