//! DR operations end to end, both profiles, both test beds together: `amqdr install` on the kube
//! test bed (the stand-in runs the mirror resources amqdr applies as Strimzi would: MirrorMaker 2
//! connectors in a Kafka Connect worker driven through its REST API, MirrorMaker 1 as a process),
//! against a Kafka test bed instance of this test alone; then `amqdr status`, planned failover,
//! the guards, failback with a stranded tail (export, then discard in the second cycle), a second
//! cycle, and an unplanned failover with production's broker stopped mid-stream whose accounting
//! is checked against what really reached DR.

mod common;

use amqdr::kafka::clients::{self, parse_payload, payload, producer, run_id, send};
use amqdr::kafka::connection::ConnectionSettings;
use amqdr::kafka::site::{KafkaSite, Record};
use common::dr_pair::{Pair, json_of, ok, stderr};
use common::kube_testbed;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Produce `n` records of a new run to `topic` on a site with acks=all; returns the run id.
fn produce(conn: &ConnectionSettings, topic: &str, n: u64) -> String {
    let run = run_id();
    let (p, ctx) = producer(conn, &[]).unwrap();
    for seq in 0..n {
        send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(&run, seq, 100), seq).unwrap();
    }
    clients::finish(&p, &ctx, conn, n as usize, Duration::from_secs(60)).unwrap();
    run
}

/// Produce `n` records of a new run as a writer amqdr does not manage (the test bed's listener
/// without authentication, a super user): stray writes that a fenced site's ACLs cannot stop.
fn produce_unmanaged(bootstrap: &str, topic: &str, n: u64) -> String {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let run = run_id();
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("acks", "all")
        .create()
        .unwrap();
    for seq in 0..n {
        let value = payload(&run, seq, 100);
        let key = seq.to_string();
        p.send(BaseRecord::to(topic).key(key.as_bytes()).payload(&value)).map_err(|(e, _)| e).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    run
}

/// A fenced site refuses the application's writes.
fn assert_write_refused(conn: &ConnectionSettings, topic: &str) {
    let run = run_id();
    let (p, ctx) = producer(conn, &[("enable.idempotence", "false".into())]).unwrap();
    send(&p, &ctx, topic, None, b"0", &payload(&run, 0, 100), 0).unwrap();
    let err = clients::finish(&p, &ctx, conn, 1, Duration::from_secs(30)).expect_err("the fenced site took a write");
    assert!(format!("{err:#}").contains("Topic authorization failed"), "{err:#}");
}

/// Every record of `topic` on a site (all partitions, whole log).
fn all_records(k: &KafkaSite, topic: &str) -> Vec<Record> {
    let topics = k.topics_named([&topic.to_string()]).unwrap();
    let (starts, ends) = (k.starts(&topics).unwrap(), k.ends(&topics).unwrap());
    ends.iter().flat_map(|(tp, end)| k.read(tp, starts[tp], *end).unwrap()).collect()
}

/// Sequence numbers of run `run` in `records`, with how often each appears.
fn seqs(records: &[Record], run: &str) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for r in records {
        if let Some(seq) = r.value.as_deref().and_then(|v| parse_payload(run, v)) {
            *out.entry(seq).or_default() += 1;
        }
    }
    out
}

/// Wait until `run`'s `n` records are all on a site.
fn wait_for_run(k: &KafkaSite, topic: &str, run: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let found = seqs(&all_records(k, topic), run);
        if found.len() as u64 == n {
            return;
        }
        assert!(Instant::now() < deadline, "only {} of {n} records of run {run} reached site {}", found.len(), k.conn.label);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A consumer group reads `count` records of `run` on a site, partition after partition as a
/// consumer may, and commits; returns the sequence numbers it read.
fn consume_and_commit(k: &KafkaSite, group: &str, topic: &str, run: &str, count: usize) -> BTreeSet<u64> {
    let (c, _) = clients::consumer(&k.conn, group).unwrap();
    let topics = k.topics_named([&topic.to_string()]).unwrap();
    let starts = k.starts(&topics).unwrap();
    let mut by_partition: BTreeMap<i32, i64> = BTreeMap::new();
    let mut taken = BTreeSet::new();
    let ends = k.ends(&topics).unwrap();
    for (tp, end) in &ends {
        for r in k.read(tp, starts[tp], *end).unwrap() {
            let seq = r.value.as_deref().and_then(|v| parse_payload(run, v));
            if seq.is_some() && taken.len() >= count {
                break;
            }
            by_partition.insert(tp.1, r.offset + 1);
            if let Some(seq) = seq {
                taken.insert(seq);
            }
        }
    }
    let offsets: BTreeMap<(String, i32), i64> = by_partition.into_iter().map(|(p, o)| ((topic.to_string(), p), o)).collect();
    drop(c);
    k.commit(group, &offsets).unwrap();
    taken
}

/// What a group reads on a site from its committed offsets: the run's records, by sequence.
fn resume(k: &KafkaSite, group: &str, topic: &str, run: &str) -> BTreeMap<u64, usize> {
    let topics = k.topics_named([&topic.to_string()]).unwrap();
    let ends = k.ends(&topics).unwrap();
    let parts: Vec<(String, i32)> = ends.keys().cloned().collect();
    let committed = k.committed(group, &parts).unwrap();
    let starts = k.starts(&topics).unwrap();
    let records: Vec<Record> =
        ends.iter().flat_map(|(tp, end)| k.read(tp, committed.get(tp).copied().unwrap_or(starts[tp]), *end).unwrap()).collect();
    seqs(&records, run)
}

/// `verify acl` as a pipeline runs it (connections from the clusters): its details.
async fn verify_acl(pair: &Pair) -> Value {
    let doc = ok(&pair.amqdr(&["verify", "acl", "-o", "json", "--timeout", "60s"]).await);
    doc["checks"][0]["details"].clone()
}

fn acl_case<'a>(details: &'a Value, identity: &str, site: &str) -> &'a Value {
    let cases = details["cases"].as_array().unwrap();
    cases
        .iter()
        .find(|c| c["identity"] == identity && c["site"] == site)
        .unwrap_or_else(|| panic!("no case {identity} on {site}: {details:#}"))
}

async fn dr_cycle(profile: &str, kube_name: &str, api_version: &str, prefix: &str) {
    let pair = Pair::new(profile, kube_name, api_version, prefix).await;
    let topic = "my-topic";
    let legacy = profile == "legacy";
    let switch = ["--yes", "--quiet-period", "3s", "--offset-margin", "5s", "--timeout", "180s", "-o", "json"];

    pair.reinstall().await;
    assert_eq!(pair.record("a").await["role"], "primary");
    assert_eq!(pair.record("b").await["role"], "standby");
    let (a, b) = (pair.site("a"), pair.site("b"));

    // The DR view: healthy, a primary, the mirror a -> b running.
    let run1 = produce(&a.conn, topic, 40);
    wait_for_run(&b, topic, &run1, 40);
    let status = ok(&pair.amqdr(&["status", "-o", "json"]).await);
    assert_eq!(status["healthy"], true, "{status:#}");
    assert_eq!(status["verdict"]["site"], "a");
    assert_eq!(status["mirror"]["direction"], "a->b");
    assert_eq!(status["mirror"]["state"], "running");
    assert!(status["rpo_seconds"].is_number(), "{status:#}");
    // DR covers all of production: nothing missing, amqdr's identities as the roles say; the
    // summary is in both records for `serve`.
    let coverage = &status["coverage"];
    for gap in ["missing_topics", "partition_mismatches", "config_drift", "groups_without_offsets", "identities"] {
        assert_eq!(coverage[gap].as_array().map(Vec::len), Some(0), "{gap}: {coverage:#}");
    }
    for site in ["a", "b"] {
        let recorded: Value = serde_json::from_str(&pair.record(site).await["lastCoverage"]).unwrap();
        assert_eq!((recorded["unprotectedTopics"].as_u64(), recorded["identityDrift"].as_u64()), (Some(0), Some(0)), "{recorded:#}");
    }

    // Guards: no --yes without a terminal; DR not Ready; a reverse mirror while a -> b runs.
    let out = pair.amqdr(&["failover", "--quiet-period", "3s"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    let out = pair.amqdr(&["failback", "sync", "--yes"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    set_kafka_ready(&pair, "b", false).await;
    let out = pair.amqdr(&["failover"].iter().copied().chain(switch).collect::<Vec<_>>()).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not Ready"), "{}", stderr(&out));
    set_kafka_ready(&pair, "b", true).await;

    // Consumer groups on production: one finished, one halfway.
    let run2 = produce(&a.conn, topic, 60);
    wait_for_run(&b, topic, &run2, 60);
    consume_and_commit(&a, "app-finished", topic, &run2, 60);
    let halfway_read = consume_and_commit(&a, "app-halfway", topic, &run2, 30);

    // Dry run: steps and the current lag, nothing changed.
    let doc = ok(&pair.amqdr(&["failover", "--dry-run", "-o", "json", "--quiet-period", "3s"]).await);
    assert_eq!(doc["result"], "dry-run");
    assert!(doc["steps"].as_array().unwrap().iter().all(|s| s["outcome"] == "would run"), "{doc:#}");
    assert_eq!(pair.record("a").await["role"], "primary");

    // Planned failover: nothing lost, groups resume on b.
    let failover1 = ok(&pair.amqdr(&["failover"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(failover1["result"], "ok", "{failover1:#}");
    for p in failover1["partitions"].as_array().unwrap() {
        assert_eq!(p["lost"], 0, "{p:#}");
    }
    let rec_b = pair.record("b").await;
    assert_eq!((rec_b["role"].as_str(), rec_b["epoch"].as_str()), ("primary", "2"));
    assert_eq!(pair.record("a").await["role"], "fenced");
    for run in [&run1, &run2] {
        let on_b = seqs(&all_records(&b, topic), run);
        assert_eq!(on_b.len(), if *run == run1 { 40 } else { 60 }, "missing on b after a planned failover");
    }
    let finished = resume(&b, "app-finished", topic, &run2);
    assert!(finished.is_empty(), "a group that had read everything re-reads nothing: {finished:?}");
    let halfway = resume(&b, "app-halfway", topic, &run2);
    let missing: Vec<u64> = (0..60).filter(|s| !halfway_read.contains(s) && !halfway.contains_key(s)).collect();
    assert!(missing.is_empty(), "records skipped by the moved group: {missing:?}");
    let reread = halfway.keys().filter(|s| halfway_read.contains(s)).count();
    let step_seconds: Vec<String> =
        failover1["steps"].as_array().unwrap().iter().map(|s| format!("{} {}s", s["step"].as_str().unwrap_or("?"), s["seconds"])).collect();
    eprintln!("planned failover RTO {}s ({}); app-halfway re-reads {reread} of 30", failover1["rto_seconds"], step_seconds.join(", "));
    if legacy {
        assert!(failover1["groups"].to_string().contains("timestamp"), "{failover1:#}");
    } else {
        assert!(failover1["groups"].to_string().contains("checkpoint") || failover1["groups"].to_string().contains("caught-up"));
    }
    // Idempotent: a second run reports it is done.
    let again = ok(&pair.amqdr(&["failover"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(again["result"], "already-done");
    // install / mirror deploy keep the mirror a -> b stopped now.
    ok(&pair.amqdr(&["mirror", "deploy", "-o", "json", "--timeout", "120s"]).await);
    let status = ok_or_degraded(&pair.amqdr(&["status", "-o", "json"]).await);
    assert_eq!(status["mirror"]["into_b"]["state"], "stopped", "{status:#}");

    // The application may no longer write to the fenced production; a writer amqdr does not
    // manage still can: the stranded tail.
    assert_write_refused(&a.conn, topic);
    let acl = verify_acl(&pair).await;
    assert_eq!(acl["expectations"]["fenced"], serde_json::json!(["a"]), "{acl:#}");
    assert_eq!(acl_case(&acl, "my-user", "a")["observed"], "refused: Topic authorization failed", "{acl:#}");
    assert_eq!(acl_case(&acl, "my-user", "b")["observed"], "10 records produced and consumed", "{acl:#}");
    let stray = produce_unmanaged(pair.kafka.get("AMQDR_SITE_A_PLAIN_BOOTSTRAP"), topic, 7);
    let dr_run = produce(&b.conn, topic, 20);
    let out = pair.amqdr(&["failback", "prepare", "--yes", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("7 record(s)") && stderr(&out).contains("--stranded"), "{}", stderr(&out));
    let export = tempfile::tempdir().unwrap();
    let file = export.path().join("stranded.jsonl");
    let prepared =
        ok(&pair.amqdr(&["failback", "prepare", "--yes", "-o", "json", "--stranded", "export", "--to", file.to_str().unwrap()]).await);
    assert_eq!(prepared["stranded_records"], 7, "{prepared:#}");
    let lines: Vec<Value> = std::fs::read_to_string(&file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 7);
    let exported: HashSet<u64> = lines
        .iter()
        .map(|l| {
            use base64::Engine;
            let v = base64::engine::general_purpose::STANDARD.decode(l["value"].as_str().unwrap()).unwrap();
            parse_payload(&stray, &v).expect("only the stranded records are exported")
        })
        .collect();
    assert_eq!(exported.len(), 7);
    assert!(seqs(&all_records(&a, topic), &stray).is_empty(), "the stranded records left site a");

    // Sync: the reverse mirror starts at the promotion point (the topic was recreated: from the
    // start), so a gets b's whole history once, and no stranded record comes back.
    let synced = ok(&pair.amqdr(&["failback", "sync"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(synced["result"], "ok", "{synced:#}");
    wait_for_run(&a, topic, &dr_run, 20);
    for (run, n) in [(&run1, 40), (&run2, 60), (&dr_run, 20)] {
        let on_a = seqs(&all_records(&a, topic), run);
        assert_eq!(on_a.len(), n, "run {run} on a after sync");
        assert!(on_a.values().all(|c| *c == 1), "duplicates on a: {on_a:?}");
    }
    // The mirror now reads from b: its identity may not write there.
    let acl = verify_acl(&pair).await;
    assert_eq!(acl["expectations"]["mirrorSource"], "b", "{acl:#}");
    assert_eq!(acl_case(&acl, "my-mirrormaker", "b")["observed"], "refused: Topic authorization failed", "{acl:#}");
    // The forward mirror must not be started while b -> a runs.
    let out = pair.amqdr(&["failback", "sync", "--yes", "-o", "json"]).await;
    assert_eq!(json_of(&out)["result"], "already-done");

    // Switch back: a primary, b standby, the mirror a -> b from a's end.
    consume_and_commit(&b, "app-dr", topic, &dr_run, 20);
    let switched = ok(&pair.amqdr(&["failback", "switch"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(switched["result"], "ok", "{switched:#}");
    assert_eq!(pair.record("a").await["role"], "primary");
    assert_eq!(pair.record("b").await["role"], "standby");
    assert!(pair.mirror_resource("a").await.is_none(), "the reverse mirror is removed");
    // Production is writable again for the application.
    let after = produce(&a.conn, topic, 25);
    wait_for_run(&b, topic, &after, 25);
    for run in [&run1, &run2, &dr_run] {
        assert!(seqs(&all_records(&b, topic), run).values().all(|c| *c == 1), "records copied into b twice (run {run})");
    }
    assert!(resume(&a, "app-dr", topic, &dr_run).is_empty(), "the DR consumer resumes on a after what it read");
    eprintln!("failback switch RTO {}s", switched["rto_seconds"]);
    let status = ok(&pair.amqdr(&["status", "-o", "json"]).await);
    assert_eq!(status["healthy"], true, "{status:#}");

    // The cycle works twice; this time the stranded records are discarded.
    let f2 = ok(&pair.amqdr(&["failover"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(f2["epoch"], 4);
    assert_write_refused(&a.conn, topic);
    let stray2 = produce_unmanaged(pair.kafka.get("AMQDR_SITE_A_PLAIN_BOOTSTRAP"), topic, 3);
    let p2 = ok(&pair.amqdr(&["failback", "prepare", "-o", "json", "--yes", "--stranded", "discard"]).await);
    assert_eq!(p2["stranded_records"], 3, "{p2:#}");
    assert!(seqs(&all_records(&a, topic), &stray2).is_empty(), "discarded records left site a");
    let p2 = ok(&pair.amqdr(&["failback", "prepare", "-o", "json", "--yes"]).await);
    assert_eq!((p2["stranded_records"].as_u64(), p2["result"].as_str()), (Some(0), Some("already-done")), "{p2:#}");
    ok(&pair.amqdr(&["failback", "sync"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    let s2 = ok(&pair.amqdr(&["failback", "switch"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    assert_eq!(s2["epoch"], 5);

    // Unplanned: production's broker stops while records are produced with acks=all.
    let status = ok(&pair.amqdr(&["status", "-o", "json"]).await);
    assert_eq!(status["healthy"], true, "{status:#}");
    let out = pair.amqdr(&["failover", "--unplanned", "--accept-data-loss", "--yes", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(2), "refused while production answers: {}", stderr(&out));
    let acked = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let run_u = run_id();
    let writer = {
        let (conn, acked, stop, run) = (a.conn.clone(), acked.clone(), stop.clone(), run_u.clone());
        std::thread::spawn(move || produce_until(&conn, topic, &run, &acked, &stop))
    };
    std::thread::sleep(Duration::from_secs(4));
    pair.kafka.stop_broker("a");
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let acked: Vec<u64> = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    let out = pair.amqdr(&["failover", "--unplanned", "--yes", "-o", "json", "--timeout", "120s"]).await;
    let unplanned = if out.status.code() == Some(2) && stderr(&out).contains("--accept-data-loss") {
        ok(&pair.amqdr(&["failover", "--unplanned", "--accept-data-loss", "--yes", "-o", "json", "--timeout", "120s"]).await)
    } else {
        ok(&out)
    };
    assert_eq!(unplanned["planned"], false);
    assert_eq!(pair.record("b").await["role"], "primary");
    let on_b = seqs(&all_records(&b, topic), &run_u);
    let really_lost = acked.iter().filter(|s| !on_b.contains_key(s)).count();
    eprintln!("unplanned failover: {} acked on a, {} on b, {really_lost} lost; report: {:#}", acked.len(), on_b.len(), unplanned["rpo"]);
    // Production back: prepare finds exactly the records of a that never reached b, and every
    // acknowledged record is on b or among them.
    pair.kafka.start_broker("a");
    let a = pair.site("a");
    let on_a = seqs(&all_records(&a, topic), &run_u);
    let not_on_b: HashSet<u64> = on_a.keys().filter(|s| !on_b.contains_key(s)).copied().collect();
    let file = export.path().join("unplanned.jsonl");
    let prepared =
        ok(&pair.amqdr(&["failback", "prepare", "--yes", "-o", "json", "--stranded", "export", "--to", file.to_str().unwrap()]).await);
    let exported: HashSet<u64> = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            use base64::Engine;
            let l: Value = serde_json::from_str(l).unwrap();
            let v = base64::engine::general_purpose::STANDARD.decode(l["value"].as_str().unwrap()).unwrap();
            parse_payload(&run_u, &v).expect("only records of the interrupted run are stranded")
        })
        .collect();
    assert_eq!(exported, not_on_b, "{prepared:#}");
    assert!(acked.iter().all(|s| on_b.contains_key(s) || exported.contains(s)), "an acknowledged record is neither on b nor reported");
    assert_eq!(prepared["stranded_records"].as_u64().unwrap() as usize, not_on_b.len());
    eprintln!("unplanned failover: really lost {really_lost} acknowledged record(s), {} stranded in all", not_on_b.len());
    ok(&pair.amqdr(&["failback", "sync"].iter().copied().chain(switch).collect::<Vec<_>>()).await);
    ok(&pair.amqdr(&["failback", "switch"].iter().copied().chain(switch).collect::<Vec<_>>()).await);

    let out = pair.amqdr(&["uninstall", "--timeout", "120s"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Produce one record at a time with acks=all until told to stop, keeping the acknowledged ones.
fn produce_until(conn: &ConnectionSettings, topic: &str, run: &str, acked: &std::sync::Mutex<Vec<u64>>, stop: &AtomicBool) {
    let (p, ctx) = producer(conn, &[("message.timeout.ms", "3000".into()), ("delivery.timeout.ms", "3000".into())]).unwrap();
    let mut seq = 0;
    while !stop.load(Ordering::SeqCst) {
        if send(&p, &ctx, topic, None, seq.to_string().as_bytes(), &payload(run, seq, 100), seq).is_err() {
            break;
        }
        seq += 1;
        p.poll(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = rdkafka::producer::Producer::flush(&p, Duration::from_secs(5));
    for d in ctx.deliveries.lock().unwrap().iter() {
        if d.error.is_none() {
            acked.lock().unwrap().push(d.seq);
        }
    }
}

fn ok_or_degraded(out: &Output) -> Value {
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(out));
    json_of(out)
}

/// Play the operator reporting site `site`'s Kafka NotReady (or Ready again).
async fn set_kafka_ready(pair: &Pair, site: &str, ready: bool) {
    let client = kube_testbed::client(&pair.kube.kubeconfig, None).await;
    let (group, version) = pair.api_version.split_once('/').unwrap();
    let ar = kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(group, version, "Kafka"));
    let api: Api<DynamicObject> = Api::namespaced_with(client, &pair.ns("dc", site), &ar);
    let status = if ready {
        json!([{"type": "Ready", "status": "True"}])
    } else {
        json!([{"type": "NotReady", "status": "True", "reason": "BrokersNotReady", "message": "test: brokers not ready"}])
    };
    let cluster = if site == "a" { "my-cluster" } else { "my-second-cluster" };
    api.patch_status(cluster, &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": status}}))).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_dr_operations() {
    dr_cycle("current", "cur", "kafka.strimzi.io/v1", "d1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_dr_operations() {
    dr_cycle("legacy", "leg", "kafka.strimzi.io/v1beta2", "d2").await;
}
