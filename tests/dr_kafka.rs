//! The Kafka side of DR operations (src/dr/kafka.rs, src/dr/lag.rs) against the real brokers of
//! the Kafka test bed: end offsets, groups and committing for an empty group only, MirrorMaker 2's
//! checkpoints, recreating a topic empty, and the lag / "every record is on the target" checks.

mod common;

use amqdr::kafka::clients::{self, payload, producer, run_id, send};
use amqdr::kafka::connection::{ConnectionInputs, ConnectionSettings};
use amqdr::kafka::lag;
use amqdr::kafka::site::{KafkaSite, MirrorFilter};
use amqdr::profile::MirrorKind;
use common::kafka_testbed::{KafkaTestbed, kafka};
use rdkafka::consumer::Consumer;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A site as the application user (it produces and consumes).
fn site(bed: &KafkaTestbed, site: &str) -> ConnectionSettings {
    connect_as(bed, site, "AMQDR_USER", "AMQDR_PASSWORD_FILE")
}

/// A site as DR operations' own user (recreating topics, reading checkpoints).
fn dr_site(bed: &KafkaTestbed, site: &str) -> ConnectionSettings {
    connect_as(bed, site, "AMQDR_DR_USER", "AMQDR_DR_PASSWORD_FILE")
}

fn connect_as(bed: &KafkaTestbed, site: &str, user: &str, password_file: &str) -> ConnectionSettings {
    let inputs = ConnectionInputs {
        bootstrap: Some(bed.get(&format!("AMQDR_SITE_{}_BOOTSTRAP", site.to_uppercase())).to_string()),
        ca_file: Some(PathBuf::from(bed.get("AMQDR_CA_FILE"))),
        user: Some(bed.get(user).to_string()),
        password_file: Some(PathBuf::from(bed.get(password_file))),
        client_config: None,
    };
    inputs.resolve(site, Duration::from_secs(30)).unwrap().unwrap()
}

fn filter() -> MirrorFilter {
    MirrorFilter::new(".*", ".*", &[], &[]).unwrap()
}

fn produce(conn: &ConnectionSettings, topic: &str, n: u64) -> String {
    let run = run_id();
    let (p, ctx) = producer(conn, &[]).unwrap();
    for seq in 0..n {
        send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(&run, seq, 64), seq).unwrap();
    }
    clients::finish(&p, &ctx, conn, n as usize, Duration::from_secs(30)).unwrap();
    run
}

fn my_topic(k: &KafkaSite) -> BTreeMap<String, i32> {
    k.topics_named([&"my-topic".to_string()]).unwrap()
}

/// A topic of this test alone on site `site` (tests share the test bed's brokers).
fn create_topic(bed: &KafkaTestbed, site: &str, partitions: u32, config: &[&str]) -> String {
    let topic = format!("dr-test-{}", run_id());
    let mut cmd = std::process::Command::new("java");
    cmd.args(["-Xmx128m", "-cp", &format!("{}/*", bed.get("AMQDR_KAFKA_LIB")), "org.apache.kafka.tools.TopicCommand"])
        .args(["--bootstrap-server", bed.get(&format!("AMQDR_SITE_{}_PLAIN_BOOTSTRAP", site.to_uppercase())), "--create"])
        .args(["--topic", &topic, "--partitions", &partitions.to_string(), "--replication-factor", "1"]);
    for c in config {
        cmd.args(["--config", c]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    topic
}

fn ends_and_groups(profile: &str) {
    let bed = kafka(profile);
    let a = KafkaSite::connect(&site(&bed, "a")).unwrap();
    let topic = create_topic(&bed, "a", 3, &[]);
    let topics = a.topics_named([&topic]).unwrap();
    assert_eq!(topics.get(&topic), Some(&3), "{topics:?}");
    assert_eq!(a.ends(&topics).unwrap().values().sum::<i64>(), 0);
    produce(&a.conn, &topic, 30);
    let after = a.ends(&topics).unwrap();
    assert_eq!(after.values().sum::<i64>(), 30);
    let starts = a.starts(&topics).unwrap();
    assert!(starts.iter().all(|(tp, s)| *s == 0 && *s <= after[tp]));
    assert!(a.topics(&filter()).unwrap().contains_key(&topic));

    // A group with a member cannot be moved from outside; an empty one can.
    let group = format!("dr-test-{}", run_id());
    let (member, _) = clients::consumer(&a.conn, &group).unwrap();
    member.subscribe(&[topic.as_str()]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !a.groups().unwrap().iter().any(|g| g.name == group && !g.is_empty()) {
        let _ = member.poll(Duration::from_millis(200));
        assert!(Instant::now() < deadline, "the member never joined");
    }
    let target = BTreeMap::from([((topic.clone(), 0), 1)]);
    assert!(a.commit(&group, &target).is_err(), "committing for a group with members must fail");
    drop(member);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let empty = a.groups().unwrap().iter().find(|g| g.name == group).is_none_or(|g| g.is_empty());
        if empty && a.commit(&group, &target).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the group never became empty");
        std::thread::sleep(Duration::from_millis(300));
    }
    let parts = vec![(topic.clone(), 0), (topic.clone(), 1)];
    let committed = a.committed(&group, &parts).unwrap();
    assert_eq!(committed.get(&(topic.clone(), 0)), Some(&1));
    assert_eq!(committed.get(&(topic.clone(), 1)), None);
}

#[test]
fn current_end_offsets_groups_and_commits() {
    ends_and_groups("current");
}

#[test]
fn legacy_end_offsets_groups_and_commits() {
    ends_and_groups("legacy");
}

fn drained(profile: &str) {
    let bed = kafka(profile);
    let (a, b) = (KafkaSite::connect(&site(&bed, "a")).unwrap(), KafkaSite::connect(&site(&bed, "b")).unwrap());
    produce(&a.conn, "my-topic", 50);
    let topics = my_topic(&a);
    let kind = if profile == "legacy" { MirrorKind::KafkaMirrorMaker } else { MirrorKind::KafkaMirrorMaker2 };
    let group = bed.get("AMQDR_MIRROR_GROUP").to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lags = lag::measure(&a, &b, &topics, kind, &group).unwrap();
        assert_eq!(lags.len(), 3);
        let (records, seconds) = lag::rpo(&lags);
        assert!(seconds >= 0.0);
        if records == 0 && lag::newest_records_missing(&a, &b, &topics, kind).unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "never drained: {lags:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn current_lag_drains_to_zero_with_the_newest_records_on_dr() {
    drained("current");
}

#[test]
fn legacy_lag_drains_to_zero_with_the_newest_records_on_dr() {
    drained("legacy");
}

/// MirrorMaker 2 writes checkpoints for a group that commits on the source; amqdr reads them.
#[test]
fn mirrormaker2_checkpoints_are_read() {
    let bed = kafka("current");
    let (a, b) = (KafkaSite::connect(&site(&bed, "a")).unwrap(), KafkaSite::connect(&dr_site(&bed, "b")).unwrap());
    produce(&a.conn, "my-topic", 30);
    let group = format!("dr-cp-{}", run_id());
    let topics = my_topic(&a);
    let ends = a.ends(&topics).unwrap();
    a.commit(&group, &ends).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let cps = b.checkpoints(&amqdr::dr::mirror::checkpoints_topic()).unwrap();
        let mine: Vec<_> = cps.iter().filter(|((g, _), _)| *g == group).collect();
        if mine.len() == ends.values().filter(|e| **e > 0).count() && !mine.is_empty() {
            for ((_, tp), cp) in mine {
                assert_eq!(cp.upstream, ends[tp], "upstream offset is the group's committed offset");
                assert!(cp.downstream >= 0 && cp.written_ms > 0);
            }
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoints for {group}: {cps:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Recreating a topic empties it and keeps its partitions and topic configuration.
#[test]
fn recreated_topics_are_empty_with_the_same_shape() {
    let bed = kafka("current");
    let a = KafkaSite::connect(&dr_site(&bed, "a")).unwrap();
    let topic = create_topic(&bed, "a", 2, &["retention.ms=3600000"]);
    produce(&site(&bed, "a"), &topic, 20);
    let shape = a.topics_named([&topic]).unwrap();
    assert_eq!(a.ends(&shape).unwrap().values().sum::<i64>(), 20);
    a.recreate_topic(&topic).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = a.topics_named([&topic]).unwrap();
        if now.get(&topic) == Some(&2) && a.ends(&now).map(|e| e.values().sum::<i64>() == 0).unwrap_or(false) {
            break;
        }
        assert!(Instant::now() < deadline, "topic not recreated: {now:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let out = std::process::Command::new("java")
        .args(["-Xmx128m", "-cp", &format!("{}/*", bed.get("AMQDR_KAFKA_LIB")), "kafka.admin.ConfigCommand"])
        .args([
            "--bootstrap-server",
            bed.get("AMQDR_SITE_A_PLAIN_BOOTSTRAP"),
            "--describe",
            "--entity-type",
            "topics",
            "--entity-name",
            &topic,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("retention.ms=3600000"), "{text}");
}
