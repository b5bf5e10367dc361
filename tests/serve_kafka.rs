//! `amqdr serve` as a process for each site of the Kafka test bed (both profiles): the GTM's
//! answer per role, failure detection and recovery after `fail-after` / `recover-after` rounds
//! when a broker stops, the RPO measured by canaries while the mirror is down, `/metrics`
//! through a real OpenMetrics parser, and bad input. No Kubernetes here: the roles are
//! install's (a primary, b standby), as `serve` says in `/health`.

mod common;

use common::kafka_testbed::{KafkaTestbed, kafka, kafka_exclusive};
use common::served::{Served, sample};
use std::time::{Duration, Instant};

/// Probe every second; a round may take 3 s.
const FAST: [&str; 4] = ["--interval", "1s", "--probe-timeout", "3s"];

fn serve(bed: &KafkaTestbed, site: &str, extra: &[&str]) -> Served {
    serve_timed(bed, site, &FAST, extra)
}

fn serve_timed(bed: &KafkaTestbed, site: &str, timing: &[&str], extra: &[&str]) -> Served {
    let mut cmd = bed.amqdr();
    cmd.args(["serve", "--site", site, "--listen", "127.0.0.1:0"]).args(timing).args(extra);
    Served::start(cmd)
}

fn health_is(code: u16, prefix: &'static str) -> impl FnMut(&Served) -> Result<(), String> {
    move |s: &Served| {
        let (c, body) = s.get("/health");
        if c == code && body.starts_with(prefix) { Ok(()) } else { Err(format!("{c} {body}")) }
    }
}

fn metric(s: &Served, family: &str, sample_name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    sample(&s.metrics(), family, sample_name, labels)
}

const METRICS: [&str; 12] = [
    "amqdr_site_up",
    "amqdr_site_routable",
    "amqdr_site_role",
    "amqdr_site_epoch",
    "amqdr_probe_rounds",
    "amqdr_probe_failures",
    "amqdr_canary_roundtrip_seconds",
    "amqdr_replication_delay_seconds",
    "amqdr_rpo_seconds",
    "amqdr_replication_lag_records",
    "amqdr_replication_lag_seconds",
    "amqdr_clock_skew_seconds",
];

fn roles_health_and_metrics(profile: &str) {
    let bed = kafka(profile);
    let a = serve(&bed, "a", &[]);
    let b = serve(&bed, "b", &[]);
    let minute = Duration::from_secs(60);

    // The GTM's view: a answers 200 as primary, b 503 as standby, each saying why.
    a.wait_for("a UP and primary", minute, health_is(200, "AMQDR_SITE=UP site=a role=primary epoch=1 kafka=up roles=install"));
    b.wait_for("b healthy standby", minute, health_is(503, "AMQDR_SITE=DOWN site=b role=standby epoch=1 kafka=up roles=install"));
    let (_, body) = b.get("/health");
    assert!(body.contains("reason=\"standby") && body.contains("note=\"no Kubernetes access"), "{body}");
    for s in [&a, &b] {
        assert_eq!(s.get("/livez").0, 200);
        assert_eq!(s.get("/readyz").0, 200);
        assert_eq!(s.get("/nothing-here").0, 404);
    }

    // Canaries: round trips on a, mirrored arrivals on b (the replication delay), the RPO on
    // both, the lag from offsets of the client topic.
    b.wait_for("canaries mirrored to b", minute, |s| {
        let m = s.metrics();
        let delays = sample(&m, "amqdr_replication_delay_seconds", "amqdr_replication_delay_seconds_count", &[]).unwrap_or(0.0);
        let rpo = sample(&m, "amqdr_rpo_seconds", "amqdr_rpo_seconds", &[]).unwrap_or(f64::NAN);
        let lag = sample(&m, "amqdr_replication_lag_records", "amqdr_replication_lag_records", &[("topic", "my-topic")]);
        if delays >= 3.0 && rpo.is_finite() && lag.is_some() { Ok(()) } else { Err(format!("delays {delays}, rpo {rpo}, lag {lag:?}")) }
    });
    a.wait_for("round trips and RPO on a", minute, |s| {
        let m = s.metrics();
        let trips = sample(&m, "amqdr_canary_roundtrip_seconds", "amqdr_canary_roundtrip_seconds_count", &[]).unwrap_or(0.0);
        let rpo = sample(&m, "amqdr_rpo_seconds", "amqdr_rpo_seconds", &[]).unwrap_or(f64::NAN);
        if trips >= 3.0 && rpo.is_finite() { Ok(()) } else { Err(format!("round trips {trips}, rpo {rpo}")) }
    });

    // Every metric is there, as the parser reads it, with sane values.
    for (s, site) in [(&a, "a"), (&b, "b")] {
        let m = s.metrics();
        for name in METRICS {
            let family = &m[name];
            assert!(family.is_object(), "site {site}: {name} missing from /metrics: {m:#}");
            let samples = family["samples"].as_array().unwrap();
            assert!(!samples.is_empty(), "{name}");
            assert!(samples.iter().all(|x| x["labels"]["site"] == site), "{name}: {samples:?}");
        }
        assert_eq!(m["amqdr_probe_rounds"]["type"], "counter");
        assert_eq!(m["amqdr_canary_roundtrip_seconds"]["type"], "histogram");
        assert_eq!(m["amqdr_rpo_seconds"]["unit"], "seconds");
        assert_eq!(sample(&m, "amqdr_site_up", "amqdr_site_up", &[]), Some(1.0));
        let role = if site == "a" { "primary" } else { "standby" };
        assert_eq!(sample(&m, "amqdr_site_role", "amqdr_site_role", &[("role", role)]), Some(1.0));
        assert_eq!(sample(&m, "amqdr_site_role", "amqdr_site_role", &[("role", "fenced")]), Some(0.0));
        assert_eq!(sample(&m, "amqdr_site_routable", "amqdr_site_routable", &[]), Some(if site == "a" { 1.0 } else { 0.0 }));
        assert_eq!(sample(&m, "amqdr_probe_failures", "amqdr_probe_failures_total", &[("check", "canary")]), Some(0.0));
        let rpo = sample(&m, "amqdr_rpo_seconds", "amqdr_rpo_seconds", &[]).unwrap();
        assert!((0.0..30.0).contains(&rpo), "site {site}: rpo {rpo}");
        // One clock on the test bed: no skew can be proven.
        assert_eq!(sample(&m, "amqdr_clock_skew_seconds", "amqdr_clock_skew_seconds", &[]), Some(0.0));
        let lag = sample(&m, "amqdr_replication_lag_records", "amqdr_replication_lag_records", &[("topic", "my-topic")]).unwrap();
        assert!(lag >= 0.0, "{lag}");
        assert!(m["amqdr_replication_lag_records"]["samples"].as_array().unwrap().iter().all(|x| x["labels"]["topic"] != "amqdr-canary"));
    }
    let trips = metric(&a, "amqdr_canary_roundtrip_seconds", "amqdr_canary_roundtrip_seconds_count", &[]).unwrap();
    let total = metric(&a, "amqdr_canary_roundtrip_seconds", "amqdr_canary_roundtrip_seconds_sum", &[]).unwrap();
    assert!(total / trips < 3.0, "mean round trip {}s", total / trips);
    // b never produces canaries: a standby must not write.
    assert_eq!(metric(&b, "amqdr_canary_roundtrip_seconds", "amqdr_canary_roundtrip_seconds_count", &[]), Some(0.0));

    // SIGTERM: a graceful stop.
    for s in [a, b] {
        let status = s.stop();
        assert!(status.success(), "{status}");
    }
}

#[test]
fn current_serve_roles_health_and_metrics() {
    roles_health_and_metrics("current");
}

#[test]
fn legacy_serve_roles_health_and_metrics() {
    roles_health_and_metrics("legacy");
}

fn broker_failure_detected_and_recovered(profile: &str) {
    let bed = kafka_exclusive(profile);
    // A failing round lasts up to the probe timeout: with the timeout at the interval, DOWN
    // comes within fail-after x interval (plus the round under way when the broker stopped).
    let (fail_after, recover_after) = (3, 2);
    let timing = ["--interval", "2s", "--probe-timeout", "2s"];
    let a = serve_timed(&bed, "a", &timing, &["--fail-after", &fail_after.to_string(), "--recover-after", &recover_after.to_string()]);
    a.wait_for("a UP", Duration::from_secs(60), health_is(200, "AMQDR_SITE=UP site=a"));

    let stopped = Instant::now();
    bed.ctl(&["stop-broker", "a"]);
    let detection = a.wait_for("a DOWN", Duration::from_secs(90), health_is(503, "AMQDR_SITE=DOWN site=a role=primary epoch=1 kafka=down"));
    let detected = stopped.elapsed();
    let (_, body) = a.get("/health");
    assert!(body.contains("reason=\"cannot reach site a") || body.contains("not acknowledged"), "{body}");
    let log = a.log_text();
    assert!(log.contains(&format!("site a is DOWN after {fail_after} failed round(s)")), "{log}");
    let m = a.metrics();
    assert_eq!(sample(&m, "amqdr_site_up", "amqdr_site_up", &[]), Some(0.0));
    let failures: f64 = m["amqdr_probe_failures"]["samples"].as_array().unwrap().iter().map(|s| s["value"].as_f64().unwrap()).sum();
    assert!(failures >= fail_after as f64, "{failures}");

    let started = Instant::now();
    bed.ctl(&["start-broker", "a"]);
    a.wait_for("a UP again", Duration::from_secs(120), health_is(200, "AMQDR_SITE=UP site=a"));
    let recovered = started.elapsed();
    assert!(a.log_text().contains("site a is UP"), "{}", a.log_text());
    println!(
        "{profile}: broker a stopped -> /health 503 after {:.1}s (polling {:.1}s after stop returned); started -> 200 after {:.1}s (interval 2s, probe timeout 2s, fail-after {fail_after}, recover-after {recover_after})",
        detected.as_secs_f64(),
        detection.as_secs_f64(),
        recovered.as_secs_f64()
    );
    assert!(a.stop().success());
}

#[test]
fn current_broker_failure_detected_and_recovered() {
    broker_failure_detected_and_recovered("current");
}

#[test]
fn legacy_broker_failure_detected_and_recovered() {
    broker_failure_detected_and_recovered("legacy");
}

fn rpo(s: &Served) -> f64 {
    metric(s, "amqdr_rpo_seconds", "amqdr_rpo_seconds", &[]).unwrap_or(f64::NAN)
}

fn rpo_during_a_mirror_outage(profile: &str) {
    let bed = kafka_exclusive(profile);
    let a = serve(&bed, "a", &[]);
    let b = serve(&bed, "b", &[]);
    let steady = |s: &Served| if rpo(s) < 5.0 { Ok(()) } else { Err(format!("rpo {}", rpo(s))) };
    b.wait_for("b's RPO steady", Duration::from_secs(120), steady);
    a.wait_for("a's RPO steady", Duration::from_secs(60), steady);

    let outage = Instant::now();
    bed.ctl(&["stop-mirror"]);
    // The RPO grows with the outage, on DR (b's clock) and as production sees DR (a's clock).
    b.wait_for("b's RPO grows", Duration::from_secs(60), |s| if rpo(s) > 20.0 { Ok(()) } else { Err(format!("rpo {}", rpo(s))) });
    a.wait_for("a's RPO grows", Duration::from_secs(30), |s| if rpo(s) > 20.0 { Ok(()) } else { Err(format!("rpo {}", rpo(s))) });
    let during = (rpo(&a), rpo(&b));
    let outage_seconds = outage.elapsed().as_secs_f64();
    assert!(during.1 <= outage_seconds + 5.0, "b's RPO {} is larger than the outage ({outage_seconds}s) allows", during.1);

    bed.ctl(&["start-mirror"]);
    let restarted = Instant::now();
    // Back under the probe interval plus the mirror's delay (p99 of a healthy test bed mirror
    // stays below 3 s).
    let bound = 1.0 + 3.0;
    let back = |s: &Served| if rpo(s) < bound { Ok(()) } else { Err(format!("rpo {}", rpo(s))) };
    b.wait_for("b's RPO back", Duration::from_secs(240), back);
    a.wait_for("a's RPO back", Duration::from_secs(60), back);
    let m = b.metrics();
    let delays = sample(&m, "amqdr_replication_delay_seconds", "amqdr_replication_delay_seconds_count", &[]).unwrap();
    let slow = sample(&m, "amqdr_replication_delay_seconds", "amqdr_replication_delay_seconds_bucket", &[("le", "10.0")]).unwrap();
    assert!(delays > slow, "canaries sent during the outage arrived late: {delays} delays, {slow} within 10 s");
    println!(
        "{profile}: mirror stopped for {outage_seconds:.0}s: RPO a {:.1}s, b {:.1}s; after restart back under {bound}s in {:.1}s",
        during.0,
        during.1,
        restarted.elapsed().as_secs_f64()
    );
}

#[test]
fn current_rpo_during_a_mirror_outage() {
    rpo_during_a_mirror_outage("current");
}

#[test]
fn legacy_rpo_during_a_mirror_outage() {
    rpo_during_a_mirror_outage("legacy");
}

fn bad_input(profile: &str) {
    let bed = kafka(profile);

    // A port in use: exit code 2, naming the flag and the fix.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = bed.amqdr().args(["serve", "--site", "a", "--listen", &addr]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("--listen {addr}")) && err.contains("another port"), "{err}");

    // An unreachable broker at start: serve starts, is ready after a round, and says DOWN.
    let mut cmd = bed.amqdr();
    cmd.args(["serve", "--site", "a", "--listen", "127.0.0.1:0", "--bootstrap", "localhost:1"]).args(FAST);
    let down = Served::start(cmd);
    down.wait_for("ready", Duration::from_secs(30), |s| if s.get("/readyz").0 == 200 { Ok(()) } else { Err("not ready".into()) });
    let (code, body) = down.get("/health");
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("AMQDR_SITE=DOWN site=a role=primary epoch=1 kafka=down"), "{body}");
    assert!(body.contains("cannot reach site a at localhost:1"), "{body}");

    // A wrong password: DOWN with the cause in /health and in the log, the password nowhere.
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong-password");
    std::fs::write(&wrong, "Wr0ngPassw0rdQz\n").unwrap();
    let mut cmd = bed.amqdr();
    cmd.args(["serve", "--site", "b", "--listen", "127.0.0.1:0"]).args(FAST).env("AMQDR_PASSWORD_FILE", &wrong);
    let denied = Served::start(cmd);
    denied.wait_for("DOWN by authentication", Duration::from_secs(60), |s| {
        let (code, body) = s.get("/health");
        if code == 503 && body.contains("kafka=down") && body.contains("authentication failed on site b") { Ok(()) } else { Err(body) }
    });
    let (_, body) = denied.get("/health");
    assert!(body.contains(&format!("password file {}", wrong.display())), "{body}");
    let log = denied.log_text();
    assert!(log.contains("authentication failed on site b"), "{log}");
    let real = std::fs::read_to_string(bed.get("AMQDR_PASSWORD_FILE")).unwrap();
    for text in [&body, &log, &denied.get("/metrics").1] {
        assert!(!text.contains("Wr0ngPassw0rdQz") && !text.contains(real.trim()), "a password was printed:\n{text}");
    }
}

#[test]
fn current_serve_bad_input() {
    bad_input("current");
}

#[test]
fn legacy_serve_bad_input() {
    bad_input("legacy");
}

/// Input errors need no broker: exit code 2, the flag named, nothing started.
#[test]
fn serve_refuses_bad_flags() {
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_amqdr"));
        for (key, _) in std::env::vars() {
            if key.starts_with("AMQDR_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd.arg("serve").args(args).env("KUBECONFIG", "/nonexistent").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run(&["--site", "a", "--listen", "somewhere", "--bootstrap", "localhost:1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--listen somewhere") && err.contains("HOST:PORT"), "{err}");
    let (code, err) = run(&["--site", "a", "--listen", "127.0.0.1:0", "--bootstrap", "localhost:1", "--interval", "0s"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--interval must be above zero"), "{err}");
    // No bootstrap and no cluster to read it from.
    let (code, err) = run(&["--site", "b", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no Kafka connection for site b") && err.contains("AMQDR_SITE_B_BOOTSTRAP"), "{err}");
    let (code, err) = run(&["--site", "a", "--listen", "127.0.0.1:0", "--bootstrap", "localhost:1", "--set", "health.failAfter=0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("health.failAfter"), "{err}");
}
