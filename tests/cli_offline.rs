//! The real binary, offline: render / install --dry-run / print-config, and bad input that must
//! fail with exit code 2 before any cluster is contacted.

use std::io::Write;
use std::process::{Command, Output};

fn amqdr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amqdr"))
        .args(args)
        // No kubeconfig: proves offline commands never contact a cluster.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("AMQDR_PROFILE")
        .env_remove("AMQDR_CONFIG")
        .env_remove("AMQDR_PASSWORD_FILE")
        .output()
        .expect("run amqdr")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn temp_file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

#[test]
fn dry_run_prints_the_plan_without_a_cluster() {
    for profile in ["legacy", "current"] {
        let out = amqdr(&["install", "--dry-run", "--profile", profile]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        let kafka_lines = stdout.lines().filter(|l| l.contains(" Kafka ") && l.contains("apply")).count();
        assert_eq!(kafka_lines, 2, "{stdout}");
        let expected_mirror = if profile == "legacy" { "KafkaMirrorMaker " } else { "KafkaMirrorMaker2" };
        assert!(stdout.contains(expected_mirror), "{stdout}");
        assert!(stdout.contains("resume rollout"));
    }
}

#[test]
fn yaml_output_is_multi_document_and_redacted() {
    let pw = temp_file("Sup3rSecretPassw0rd\n");
    let out = amqdr(&["render", "-o", "yaml", "--password-file", pw.path().to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.matches("\n---\n").count() > 50);
    assert!(stdout.contains("<redacted>"));
    let b64 = "U3VwM3JTZWNyZXRQYXNzdzByZA==";
    assert!(!stdout.contains(b64) && !stdout.contains("Sup3rSecretPassw0rd"));
    assert!(!stdout.contains("BEGIN PRIVATE KEY") && !stdout.contains("LS0tLS1CRUdJTiBQUklWQVRFIEtFWS"));
    let shown = amqdr(&["render", "-o", "yaml", "--show-secrets", "--password-file", pw.path().to_str().unwrap()]);
    assert!(text(&shown).0.contains(b64));
}

#[test]
fn json_output_is_stable_and_parseable() {
    let out =
        amqdr(&["install", "--dry-run", "-o", "json", "--brokers", "1", "--set", "topic.replicas=1", "--set", "topic.minInsyncReplicas=1"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["profile"], "current");
    assert_eq!(doc["layout"], "one-cluster");
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps[0]["index"], 1);
    assert_eq!(steps[0]["stage"], "cluster-wide");
    assert!(doc["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("kafka.brokers")));
    assert!(stderr.contains("warning: kafka.brokers"), "{stderr}");
}

#[test]
fn print_config_shows_effective_defaults_and_round_trips() {
    let out = amqdr(&["render", "--print-config", "--profile", "legacy"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("zookeeper: 3"), "{stdout}");
    assert!(stdout.contains("groupId: my-mirrormaker-group-id"));
    // Every key of the README's settings table, with its effective value.
    assert!(stdout.contains("registry: quay.io"), "{stdout}");
    assert!(stdout.contains("exclude:"), "{stdout}");
    // The printed config is a valid config file.
    let f = temp_file(&stdout);
    let again = amqdr(&["render", "--print-config", "--config", f.path().to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again).1);
    assert_eq!(text(&again).0, stdout);
}

#[test]
fn config_file_values_are_overridden_by_flags() {
    let f = temp_file("kafka:\n  brokers: 5\ntopic:\n  partitions: 12\n");
    let out = amqdr(&["render", "--print-config", "-c", f.path().to_str().unwrap(), "--brokers", "4"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("brokers: 4"), "{stdout}");
    assert!(stdout.contains("partitions: 12"), "{stdout}");
}

fn assert_usage_error(args: &[&str], needles: &[&str]) {
    let out = amqdr(args);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "args {args:?}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "args {args:?}: expected {n:?} in:\n{stderr}");
    }
}

#[test]
fn bad_input_exits_2_naming_field_and_fix() {
    assert_usage_error(
        &["install", "--dry-run", "--set", "sites.a.kafkaNamespace=DataCenter_A"],
        &["sites.a.kafkaNamespace", "RFC 1123", "fix:"],
    );
    assert_usage_error(&["install", "--dry-run", "--brokers", "0"], &["kafka.brokers", "at least 1", "--brokers"]);
    assert_usage_error(&["render", "--profile", "legacy", "--listener", "tlsroute"], &["kafka.listener.type", "legacy"]);
    assert_usage_error(&["render", "--set", "kafka.zookeeper=3"], &["kafka.zookeeper", "--profile legacy"]);
    assert_usage_error(&["render", "--profile", "legacy", "--set", "kafka.controllers=3"], &["kafka.controllers"]);
    assert_usage_error(&["render", "--set", "mirror.maxRequestSize=5000000"], &["mirror.maxRequestSize", "message.max.bytes"]);
    assert_usage_error(&["render", "--set", "kafka.retentionBytes=20000000000"], &["kafka.retentionBytes", "10Gi"]);
    assert_usage_error(
        &["render", "--pull-secret", "/nonexistent/pull-secret.base64"],
        &["operator.pullSecretFile", "/nonexistent/pull-secret.base64"],
    );
    let junk = temp_file("this is not a certificate");
    let p = junk.path().to_str().unwrap();
    assert_usage_error(&["render", "--ca-cert", p, "--ca-key", p], &["ca.certFile", "PEM"]);
    assert_usage_error(&["render", "--pull-secret", p], &["operator.pullSecretFile", "dockerconfigjson"]);
    let unknown = temp_file("kafka:\n  brokerCount: 3\n");
    assert_usage_error(&["render", "-c", unknown.path().to_str().unwrap()], &["brokerCount", "config file"]);
    assert_usage_error(&["render", "--set", "nonsense"], &["PATH=VALUE"]);
}

#[test]
fn a_bad_user_selection_exits_2_before_any_cluster_is_contacted() {
    assert_usage_error(&["users", "sync", "--selector", "amqdr.io/dr in (true)", "--dry-run"], &["--selector", "set-based", "--all"]);
    assert_usage_error(&["users", "sync", "--selector", "Bad_Prefix/x=y"], &["--selector", "not a label key"]);
    assert_usage_error(&["install", "--sync-users", "--selector", "a=b,,c"], &["--selector", "empty term"]);
    assert_usage_error(&["install", "--all"], &["--sync-users"]);
    assert_usage_error(&["mirror", "deploy", "--selector", "team=orders"], &["--sync-users"]);
}

#[test]
fn environment_overrides_config_and_flags_override_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_amqdr")).args(["render", "--print-config"]).env("AMQDR_PROFILE", "legacy").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("profile: legacy"));
    let out = Command::new(env!("CARGO_BIN_EXE_amqdr"))
        .args(["render", "--print-config", "--profile", "current"])
        .env("AMQDR_PROFILE", "legacy")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("profile: current"));
    let out = Command::new(env!("CARGO_BIN_EXE_amqdr")).args(["render"]).env("AMQDR_PROFILE", "old").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AMQDR_PROFILE"));
}

#[test]
fn mirror_properties_follow_the_settings() {
    let out = amqdr(&["mirror", "properties", "--set", "mirror.syncIntervalSeconds=5"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("source->target.sync.group.offsets.interval.seconds=5"), "{stdout}");
    assert!(stdout.contains("target->source.enabled=false"));
}

#[test]
fn help_lists_the_product_commands() {
    let (stdout, _) = text(&amqdr(&["--help"]));
    for cmd in ["install", "render", "uninstall", "status", "mirror", "verify"] {
        assert!(stdout.contains(cmd), "{stdout}");
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // Like `amqdr render -o yaml | head -1`: the reader goes away after the first bytes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_amqdr"))
        .args(["render", "-o", "yaml"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("AMQDR_PROFILE")
        .env_remove("AMQDR_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(&first[..4], b"---\n");
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn listener_options_and_broker_config_the_operator_would_refuse() {
    for profile in ["current", "legacy"] {
        for listener in ["loadbalancer", "nodeport"] {
            assert_usage_error(
                &[
                    "install",
                    "--dry-run",
                    "--profile",
                    profile,
                    "--listener",
                    listener,
                    "--set",
                    "kafka.listener.bootstrapHost=kafka.example.com",
                ],
                &["kafka.listener.bootstrapHost", "cannot configure bootstrap.host", "--set kafka.listener.bootstrapHost", "fix: remove"],
            );
        }
        assert_usage_error(
            &["render", "--profile", profile, "--set", r#"kafka.config={"advertised.listeners": "x", "ssl.truststore.type": "PEM"}"#],
            &["kafka.config.advertised.listeners", "kafka.config.ssl.truststore.type", "ignores", "fix:"],
        );
    }
    // What the operator takes is rendered.
    let out = amqdr(&[
        "render",
        "-o",
        "yaml",
        "--set",
        "kafka.listener.bootstrapHost=kafka.apps.example.com",
        "--set",
        r#"kafka.config={"num.io.threads": 8}"#,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("host: kafka.apps.example.com") && stdout.contains("num.io.threads: 8"), "{stdout}");
}

#[test]
fn image_registry_moves_every_image_and_print_config_shows_them() {
    for profile in ["current", "legacy"] {
        let out = amqdr(&["render", "-o", "yaml", "--profile", profile, "--image-registry", "mirror.example.com:5000"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(!stdout.contains("quay.io"), "an image still points at quay.io:\n{stdout}");
        assert!(stdout.contains("image: mirror.example.com:5000/strimzi/operator:"), "{stdout}");
        let out = amqdr(&["render", "--print-config", "--profile", profile, "--image-registry", "mirror.example.com:5000"]);
        let (config, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(config.contains("registry: mirror.example.com:5000"), "{config}");
        assert!(config.contains("kafkaExporter: mirror.example.com:5000/strimzi/kafka:"), "{config}");
        assert!(!config.contains("quay.io"), "{config}");
        let f = temp_file(&config);
        let again = amqdr(&["render", "--print-config", "--config", f.path().to_str().unwrap()]);
        assert_eq!(text(&again).0, config, "{}", text(&again).1);
    }
    // A product image per Kafka version, and operator.image moving the images built from it.
    let out = amqdr(&[
        "render",
        "-o",
        "yaml",
        "--set",
        "operator.image=registry.redhat.io/amq-streams/strimzi-rhel9-operator:3.0.0",
        "--set",
        r#"images.kafka={"4.3.1": "registry.redhat.io/amq-streams/kafka-43-rhel9:3.0.0"}"#,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("4.3.1=registry.redhat.io/amq-streams/kafka-43-rhel9:3.0.0"), "{stdout}");
    assert!(stdout.contains("value: registry.redhat.io/amq-streams/strimzi-rhel9-operator:3.0.0"), "{stdout}");
    assert_usage_error(&["render", "--image-registry", "https://mirror.example.com"], &["images.registry", "--image-registry", "fix:"]);
    assert_usage_error(&["render", "--set", "images.kafkaBridge=quay.io/Strimzi/bridge:1"], &["images.kafkaBridge", "fix:"]);
    assert_usage_error(&["render", "--set", r#"images.kafka={"9.9.9": "mirror.example.com/kafka:1"}"#], &["images.kafka.9.9.9", "4.3.1"]);
}
