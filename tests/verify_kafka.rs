//! `amqdr verify` (the real binary) against real Kafka brokers: Kafka 3.9 with ZooKeeper and
//! MirrorMaker 1 (legacy) and Kafka 4.3 KRaft with MirrorMaker 2 (current), SASL_SSL with
//! SCRAM-SHA-512 and certificates from amqdr's CA code.

mod common;

use common::kafka_testbed::{KafkaTestbed, kafka, kafka_exclusive};
use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant};

fn run(bed: &KafkaTestbed, args: &[&str]) -> Output {
    bed.amqdr().arg("verify").args(args).arg("--profile").arg(&bed.profile).output().expect("run amqdr")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn all_checks_pass(profile: &str) {
    let bed = kafka(profile);
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("verify.xml");
    let out = run(&bed, &["all", "-o", "json", "--timeout", "90s", "--junit", junit.to_str().unwrap()]);
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    assert_eq!(doc["passed"], true);
    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7, "{doc:#}");
    let acl = checks.iter().find(|c| c["name"] == "acl").unwrap();
    assert_eq!(acl["passed"], true, "{acl:#}");
    let mirror = checks.iter().find(|c| c["name"] == "mirror a -> b").unwrap();
    assert_eq!(mirror["details"]["missing"], 0);
    assert!(mirror["details"]["delay_ms"]["count"].as_u64().unwrap() >= 100);
    let perf = checks.iter().find(|c| c["name"] == "perf site a").unwrap();
    assert_eq!(perf["details"]["result"]["records"], 2000);
    assert!(perf["details"]["result"]["records_per_second"].as_f64().unwrap() > 0.0);
    let latency = checks.iter().find(|c| c["name"] == "latency site a").unwrap();
    assert!(latency["details"]["latency_ms"]["p50_ms"].as_f64().unwrap() > 0.0);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 7, "{xml}");
    assert!(xml.contains("failures=\"0\""));
}

#[test]
fn legacy_all_checks_pass() {
    all_checks_pass("legacy");
}

#[test]
fn current_all_checks_pass() {
    all_checks_pass("current");
}

fn negative_paths(profile: &str) {
    let bed = kafka(profile);
    let dir = tempfile::tempdir().unwrap();
    // Wrong password: authentication failed, exit 1.
    let wrong = dir.path().join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let out = run(&bed, &["produce-consume", "--timeout", "15s", "--password-file", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("authentication failed"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not-the-password"), "password leaked");
    // Wrong CA: certificate verify failed, naming the CA file.
    let other = dir.path().join("other-ca");
    let status = std::process::Command::new(env!("CARGO_MANIFEST_DIR").to_string() + "/target/debug/examples/testbed-certs")
        .args(["--out", other.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let ca = other.join("ca.crt");
    let out = run(&bed, &["produce-consume", "--timeout", "15s", "--ca-file", ca.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("certificate verify failed"), "{}", stderr(&out));
    assert!(stderr(&out).contains(ca.to_str().unwrap()), "{}", stderr(&out));
    // A topic outside the user's ACLs: the brokers do not reveal whether it exists.
    let out = run(&bed, &["produce-consume", "--timeout", "15s", "--topic", "no-such-topic"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not authorized to use topic no-such-topic"), "{}", stderr(&out));
    assert!(stderr(&out).contains("user.topics"), "{}", stderr(&out));
    // Unreachable broker: a closed loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = run(&bed, &["produce-consume", "--timeout", "10s", "--bootstrap", &format!("localhost:{port}")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot reach site a"), "{}", stderr(&out));
    // A record above the brokers' message.max.bytes names the setting.
    let out = run(&bed, &["produce-consume", "--timeout", "20s", "--records", "1", "--record-size", "1200000"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("message.max.bytes"), "{}", stderr(&out));
}

/// Least privilege on real brokers: each case of `verify acl` as the brokers answered it, and
/// the check failing when the mirror's identity is one that may write on production.
fn acl_is_enforced(profile: &str) {
    let bed = kafka(profile);
    let out = run(&bed, &["acl", "-o", "json", "--timeout", "60s"]);
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    let cases = doc["checks"][0]["details"]["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 4, "{doc:#}");
    let find = |identity: &str, site: &str| cases.iter().find(|c| c["identity"] == identity && c["site"] == site).cloned().unwrap();
    assert_eq!(find("my-user", "a")["observed"], "10 records produced and consumed");
    assert_eq!(find("my-user", "b")["observed"], "10 records produced and consumed");
    assert_eq!(find("my-mirrormaker", "a")["observed"], "refused: Topic authorization failed");
    let unknown = cases.iter().find(|c| c["identity"].as_str().unwrap().starts_with("amqdr-verify-unknown-")).unwrap();
    assert_eq!(unknown["observed"], "refused at SASL authentication");
    // Connections given explicitly: no DR state is read, the installed layout is expected.
    let expect = &doc["checks"][0]["details"]["expectations"];
    assert_eq!((expect["fenced"].clone(), expect["mirrorSource"].clone()), (serde_json::json!([]), serde_json::json!("a")), "{doc:#}");
    assert!(expect["roles"].as_str().unwrap().starts_with("as installed"), "{doc:#}");
    eprintln!("{profile}: {}", doc["checks"][0]["summary"]);

    // The application user in the mirror's place may write on production: the check fails (exit 3).
    let out = run(&bed, &["acl", "-o", "json", "--mirror-user", "my-user", "--mirror-password-file", bed.get("AMQDR_PASSWORD_FILE")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["checks"][0]["passed"], false);
    assert!(doc["checks"][0]["summary"].as_str().unwrap().contains("my-user may write on site a"), "{doc:#}");
}

#[test]
fn legacy_acl_is_enforced() {
    acl_is_enforced("legacy");
}

#[test]
fn current_acl_is_enforced() {
    acl_is_enforced("current");
}

#[test]
fn legacy_negative_paths() {
    negative_paths("legacy");
}

#[test]
fn current_negative_paths() {
    negative_paths("current");
}

fn large_records_mirror(profile: &str) {
    let bed = kafka(profile);
    let out = run(&bed, &["mirror", "--records", "3", "--record-size", "1048000", "--timeout", "90s", "-o", "json"]);
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    assert_eq!(doc["checks"][0]["details"]["missing"], 0);
    assert_eq!(doc["checks"][0]["details"]["corrupt"], 0);
}

#[test]
fn legacy_seed_sized_records_are_mirrored() {
    large_records_mirror("legacy");
}

#[test]
fn current_seed_sized_records_are_mirrored() {
    large_records_mirror("current");
}

/// The source broker restarts while records are produced with acks=all: nothing is lost.
fn broker_restart_during_mirror(profile: &str, site: &str) {
    let bed = kafka_exclusive(profile);
    let child = bed
        .amqdr()
        .args(["verify", "mirror", "--records", "30000", "--record-size", "512", "--timeout", "180s", "-o", "json", "--profile", profile])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let restart_began = started.elapsed();
    bed.ctl(&["restart-broker", site]);
    let out = child.wait_with_output().unwrap();
    let finished = started.elapsed();
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    assert!(restart_began < finished, "the restart began after the check ended; nothing was tested");
    assert_eq!(doc["checks"][0]["details"]["missing"], 0, "{doc:#}");
    assert_eq!(doc["checks"][0]["details"]["missing_on_source"], 0, "{doc:#}");
}

#[test]
fn current_source_broker_restart_loses_nothing() {
    broker_restart_during_mirror("current", "a");
}

#[test]
fn legacy_target_broker_restart_loses_nothing() {
    broker_restart_during_mirror("legacy", "b");
}

#[test]
fn client_properties_file_in_the_seed_format_works() {
    let bed = kafka("current");
    let props = bed.get("AMQDR_CLIENT_CONFIG").to_string();
    let out = bed
        .amqdr()
        .env_remove("AMQDR_PASSWORD_FILE")
        .env_remove("AMQDR_CA_FILE")
        .env_remove("AMQDR_USER")
        .args(["verify", "produce-consume", "--site", "b", "--timeout", "30s", "--client-config", &props])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn lag_reports_every_partition() {
    for profile in ["legacy", "current"] {
        let bed = kafka(profile);
        let out = run(&bed, &["lag", "-o", "json", "--timeout", "30s"]);
        let doc = json(&out);
        assert!(out.status.success(), "{doc:#}");
        let parts = doc["checks"][0]["details"]["partitions"].as_array().unwrap();
        assert_eq!(parts.len(), 3);
        let method = parts[0]["method"].as_str().unwrap();
        if profile == "legacy" {
            assert!(method.contains("committed offsets"), "{method}");
        } else {
            assert!(method.contains("newer than the newest mirrored"), "{method}");
        }
    }
}

#[test]
fn failover_drill_resumes_the_group_on_dr() {
    let bed = kafka("current");
    let out = run(&bed, &["failover", "--records", "200", "--consume-first", "100", "--timeout", "120s", "-o", "json"]);
    let doc = json(&out);
    assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
    let d = &doc["checks"][0]["details"];
    assert_eq!(d["missing"], 0);
    assert_eq!(d["consumed_before_failover"], 100);
    // MirrorMaker 2 translates offsets conservatively: some re-reads, never skipped records.
    assert!(d["reread"].as_u64().unwrap() <= 100);
    let legacy = kafka("legacy");
    let out = run(&legacy, &["failover", "--timeout", "10s"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("MirrorMaker 2"));
}

/// The CI gate "DR keeps up": with the mirror stopped, records produced on the source make
/// `verify lag` with limits fail (exit 3) and name the limit; once the mirror runs again the
/// lag drains back within them.
fn lag_limits_fail_while_the_mirror_is_down(profile: &str) {
    let bed = kafka_exclusive(profile);
    bed.ctl(&["stop-mirror"]);
    // The newest mirrored record is now at least this old when new records arrive.
    std::thread::sleep(Duration::from_secs(3));
    let out = run(&bed, &["produce-consume", "--records", "60", "--timeout", "30s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&bed, &["lag", "-o", "json", "--timeout", "30s", "--max-lag-seconds", "2", "--max-lag-records", "10"]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(3), "{doc:#}\n{}", stderr(&out));
    let summary = doc["checks"][0]["summary"].as_str().unwrap();
    assert!(summary.contains("above --max-lag-seconds 2") && summary.contains("above --max-lag-records 10"), "{summary}");
    let behind: i64 = doc["checks"][0]["details"]["partitions"].as_array().unwrap().iter().map(|p| p["records"].as_i64().unwrap()).sum();
    assert!(behind >= 60, "{doc:#}");

    bed.ctl(&["start-mirror"]);
    // Bounded wait for the restarted mirror to catch up (it resumes from its committed position).
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let out = run(&bed, &["lag", "-o", "json", "--timeout", "30s", "--max-lag-seconds", "2", "--max-lag-records", "10"]);
        if out.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "the mirror did not catch up: {:#}", json(&out));
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[test]
fn current_lag_limits_fail_while_the_mirror_is_down() {
    lag_limits_fail_while_the_mirror_is_down("current");
}

#[test]
fn legacy_lag_limits_fail_while_the_mirror_is_down() {
    lag_limits_fail_while_the_mirror_is_down("legacy");
}

/// The seed's performance table: three rows (10 KiB x 100/s, 100 KiB x 10/s, 1048000 B x 1/s),
/// each with throughput, average latency and the largest mirror lag seen on the DR site.
#[test]
fn seed_perf_matrix_reports_mirror_lag() {
    for profile in ["legacy", "current"] {
        let bed = kafka(profile);
        let out = run(&bed, &["perf", "--matrix", "seed", "--matrix-seconds", "2", "-o", "json", "--timeout", "60s"]);
        let doc = json(&out);
        assert!(out.status.success(), "{doc:#}\n{}", stderr(&out));
        let rows = doc["checks"][0]["details"]["rows"].as_array().unwrap();
        let sizes: Vec<u64> = rows.iter().map(|r| r["record_size"].as_u64().unwrap()).collect();
        assert_eq!(sizes, [10_240, 102_400, 1_048_000], "{doc:#}");
        for r in rows {
            assert!(r["result"]["records"].as_u64().unwrap() >= 2, "{r:#}");
            assert!(r["result"]["mb_per_second"].as_f64().unwrap() > 0.0, "{r:#}");
            assert!(r["result"]["max_mirror_lag_records"].is_i64(), "mirror lag not measured: {r:#}");
        }
        let md = run(&bed, &["perf", "--matrix", "seed", "--matrix-seconds", "1", "--markdown", "--timeout", "60s"]);
        let text = String::from_utf8_lossy(&md.stdout);
        assert!(md.status.success(), "{}", stderr(&md));
        assert!(text.starts_with("| Message Size | Message Rate | Throughput | Avg Latency | Max MirrorMaker Lag |"), "{text}");
        assert_eq!(text.lines().count(), 5, "{text}");
    }
}
