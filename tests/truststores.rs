//! Java trust stores on real parts:
//! - the `ca.p12` / `ca.password` amqdr publishes in `<cluster>-cluster-ca-cert` (as Strimzi does
//!   for CAs it generates) work for a real Java client — Kafka's console tools from the test bed's
//!   jars — against the Kafka test bed, and `install` keeps them across re-runs and sites (Kubernetes
//!   test bed);
//! - `verify --client-config` reads the seed's `kafka.client.truststore.jks` made by the test bed
//!   JDK's `keytool`, whichever format it wrote, and says which property is wrong when it is.

mod common;

use amqdr::truststore::CaTrustStore;
use amqdr_standins::standin::{Standin, StandinOptions};
use base64::Engine;
use common::kafka_testbed::{KafkaTestbed, kafka};
use common::kube_testbed::{self, repo_root, run};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn b64(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(text.as_str().expect("base64 string")).unwrap()
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}-{nanos}", std::process::id())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn testbed_password(bed: &KafkaTestbed) -> String {
    std::fs::read_to_string(bed.get("AMQDR_PASSWORD_FILE")).unwrap().trim().to_string()
}

fn testbed_certs(bed: &KafkaTestbed) -> PathBuf {
    Path::new(bed.get("AMQDR_TESTBED_KAFKA_DIR")).join("certs")
}

/// The test bed's JDK (`AMQDR_TESTBED_JAVA`, else `java` on the PATH) and its sibling tools.
fn jdk_tool(name: &str) -> PathBuf {
    match std::env::var_os("AMQDR_TESTBED_JAVA") {
        Some(java) => Path::new(&java).with_file_name(name),
        None => PathBuf::from(name),
    }
}

/// A Kafka Java tool from the test bed's jars, the way the test bed runs them.
fn kafka_tool(bed: &KafkaTestbed, logs: &Path, tool: &str, args: &[&str]) -> Command {
    // The console producer moved to the tools jar in Kafka 4 (the consumer already had in 3.9).
    let class = match (tool, bed.profile.as_str()) {
        ("producer", "legacy") => "kafka.tools.ConsoleProducer",
        ("producer", _) => "org.apache.kafka.tools.ConsoleProducer",
        ("consumer", _) => "org.apache.kafka.tools.consumer.ConsoleConsumer",
        ("groups", _) => "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        other => panic!("unknown tool {other:?}"),
    };
    let kafka_dir = repo_root().join("tests/testbed/kafka");
    let mut c = Command::new(jdk_tool("java"));
    c.args(["-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"])
        .arg(format!("-Dlog4j2.configurationFile={}", kafka_dir.join("log4j2.properties").display()))
        .arg(format!("-Dlog4j.configuration=file:{}", kafka_dir.join("log4j.properties").display()))
        .arg(format!("-Dkafka.logs.dir={}", logs.display()))
        .arg(format!("-Dtestbed.process={tool}"))
        .arg("-cp")
        .arg(format!("{}/*", bed.get("AMQDR_KAFKA_LIB")))
        .arg(class)
        .args(args);
    c
}

fn check(what: &str, out: &Output) {
    assert!(out.status.success(), "{what} failed ({}):\n{}\n{}", out.status, String::from_utf8_lossy(&out.stdout), stderr(out));
}

/// The cluster CA Secret's data of a site, as `amqdr render -o json --show-secrets` gives it.
fn rendered_ca_cert_data(doc: &Value, name: &str) -> Value {
    doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Secret {name} rendered"))["data"]
        .clone()
}

/// The rendered `ca.p12` with its `ca.password`, used as Strimzi's documentation tells Java
/// clients to: `ssl.truststore.type=PKCS12`. The JVM's own trust store does not hold the test
/// bed's CA, so the TLS handshake succeeds only through `ca.p12`.
fn java_client_trusts_rendered_ca_p12(profile: &str) {
    let bed = kafka(profile);
    let dir = tempfile::tempdir().unwrap();
    let certs = testbed_certs(&bed);
    let out = bed
        .amqdr()
        .args(["render", "-o", "json", "--show-secrets", "--profile", profile])
        .arg("--ca-cert")
        .arg(certs.join("ca.crt"))
        .arg("--ca-key")
        .arg(certs.join("ca.key"))
        .output()
        .unwrap();
    check("amqdr render", &out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = rendered_ca_cert_data(&doc, "my-cluster-cluster-ca-cert");
    let b = rendered_ca_cert_data(&doc, "my-second-cluster-cluster-ca-cert");
    assert_eq!((&a["ca.p12"], &a["ca.password"]), (&b["ca.p12"], &b["ca.password"]), "both sites must publish the same store");
    let store = dir.path().join("ca.p12");
    std::fs::write(&store, b64(&a["ca.p12"])).unwrap();
    let store_password = String::from_utf8(b64(&a["ca.password"])).unwrap();
    // Java lists the operator's entry: alias ca.crt, a trusted certificate.
    let out = Command::new(jdk_tool("keytool"))
        .args(["-list", "-storetype", "PKCS12", "-storepass", &store_password, "-keystore"])
        .arg(&store)
        .output()
        .unwrap();
    check("keytool -list", &out);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("1 entry") && listing.contains("ca.crt,") && listing.contains("trustedCertEntry"), "{listing}");

    let config = dir.path().join("client-p12.properties");
    std::fs::write(
        &config,
        format!(
            "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"my-user\" password=\"{}\";\n\
             ssl.truststore.type=PKCS12\nssl.truststore.location={}\nssl.truststore.password={store_password}\n\
             ssl.endpoint.identification.algorithm=HTTPS\n",
            testbed_password(&bed),
            store.display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let bootstrap = bed.get("AMQDR_SITE_A_BOOTSTRAP");
    let logs = dir.path();
    let id = unique();
    let group = format!("amqdr-ca-p12-{id}");
    let record = format!("ca.p12 round trip {id}");

    // A fresh group positioned at the end of the topic, so the consumer starts before our record.
    let out = kafka_tool(
        &bed,
        logs,
        "groups",
        &["--bootstrap-server", bootstrap, "--command-config", config, "--group", &group]
            .into_iter()
            .chain(["--topic", "my-topic", "--reset-offsets", "--to-latest", "--execute"])
            .collect::<Vec<_>>(),
    )
    .output()
    .unwrap();
    check("kafka-consumer-groups --reset-offsets", &out);

    let mut producer =
        kafka_tool(&bed, logs, "producer", &["--bootstrap-server", bootstrap, "--topic", "my-topic", "--producer.config", config])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    writeln!(producer.stdin.take().unwrap(), "{record}").unwrap();
    check("kafka-console-producer", &producer.wait_with_output().unwrap());

    // Other tests may add records meanwhile: read until ours arrives (the tool exits by itself
    // after a minute without records).
    let consumer_err = std::fs::File::create(dir.path().join("consumer.err")).unwrap();
    let mut consumer = kafka_tool(
        &bed,
        logs,
        "consumer",
        &["--bootstrap-server", bootstrap, "--topic", "my-topic", "--group", &group, "--consumer.config", config, "--timeout-ms", "60000"],
    )
    .stdout(Stdio::piped())
    .stderr(consumer_err)
    .spawn()
    .unwrap();
    let found = BufReader::new(consumer.stdout.take().unwrap()).lines().map_while(Result::ok).any(|line| line == record);
    let _ = consumer.kill();
    let _ = consumer.wait();
    assert!(
        found,
        "the Java consumer did not get the record through ca.p12:\n{}",
        std::fs::read_to_string(dir.path().join("consumer.err")).unwrap_or_default()
    );
}

#[test]
fn legacy_java_client_trusts_rendered_ca_p12() {
    java_client_trusts_rendered_ca_p12("legacy");
}

#[test]
fn current_java_client_trusts_rendered_ca_p12() {
    java_client_trusts_rendered_ca_p12("current");
}

/// The seed's step 4 `client-sasl-scram.properties`: same keys, same layout, with the test bed's
/// password (and `ssl.truststore.password` as given).
fn seed_client_properties(password: &str, store_password: &str) -> String {
    format!(
        "security.protocol=SASL_SSL\n\
         ssl.truststore.location=kafka.client.truststore.jks\n\
         ssl.truststore.password={store_password}\n\
         ssl.endpoint.identification.algorithm=HTTPS\n\
         \n\
         sasl.mechanism=SCRAM-SHA-512\n\
         sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n      \
         username=\"my-user\" \\\n      \
         password=\"{password}\";\n"
    )
}

/// The seed's steps 2 and 3 in `dir`: `ca.crt`, then `keytool -import` into
/// `kafka.client.truststore.jks` (PKCS#12 on current JDKs; JKS with `-storetype JKS`).
fn seed_truststore(bed: &KafkaTestbed, dir: &Path, storetype: Option<&str>) {
    std::fs::copy(testbed_certs(bed).join("ca.crt"), dir.join("ca.crt")).unwrap();
    let _ = std::fs::remove_file(dir.join("kafka.client.truststore.jks"));
    let mut keytool = Command::new(jdk_tool("keytool"));
    keytool.current_dir(dir).args([
        "-keystore",
        "kafka.client.truststore.jks",
        "-alias",
        "CARoot",
        "-import",
        "-file",
        "ca.crt",
        "-storepass",
        "test1234",
        "-noprompt",
    ]);
    if let Some(t) = storetype {
        keytool.args(["-storetype", t]);
    }
    check("keytool -import", &keytool.output().unwrap());
    let bytes = std::fs::read(dir.join("kafka.client.truststore.jks")).unwrap();
    let is_jks = bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]);
    assert_eq!(is_jks, storetype == Some("JKS"), "keytool wrote another format than expected; the test would not cover both");
}

/// `amqdr verify produce-consume` on site a with only the seed's properties file, from `dir`
/// (the relative trust store location resolves there, as for Java).
fn verify_with_seed_properties(bed: &KafkaTestbed, dir: &Path) -> Output {
    bed.amqdr()
        .current_dir(dir)
        .env_remove("AMQDR_CA_FILE")
        .env_remove("AMQDR_PASSWORD_FILE")
        .env_remove("AMQDR_USER")
        .env_remove("AMQDR_CLIENT_CONFIG")
        .args(["verify", "produce-consume", "--site", "a", "--timeout", "30s", "--client-config", "client-sasl-scram.properties"])
        .args(["--bootstrap", bed.get("AMQDR_SITE_A_BOOTSTRAP")])
        .output()
        .unwrap()
}

fn seed_truststores_work(profile: &str) {
    let bed = kafka(profile);
    for storetype in [None, Some("JKS")] {
        let dir = tempfile::tempdir().unwrap();
        seed_truststore(&bed, dir.path(), storetype);
        std::fs::write(dir.path().join("client-sasl-scram.properties"), seed_client_properties(&testbed_password(&bed), "test1234"))
            .unwrap();
        let out = verify_with_seed_properties(&bed, dir.path());
        assert!(out.status.success(), "keytool store {storetype:?}: {}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "{}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn legacy_seed_keytool_truststores_work() {
    seed_truststores_work("legacy");
}

#[test]
fn current_seed_keytool_truststores_work() {
    seed_truststores_work("current");
}

#[test]
fn wrong_store_password_or_untrusted_store_is_explained() {
    let bed = kafka("current");
    let password = testbed_password(&bed);
    for storetype in [None, Some("JKS")] {
        let dir = tempfile::tempdir().unwrap();
        seed_truststore(&bed, dir.path(), storetype);
        std::fs::write(dir.path().join("client-sasl-scram.properties"), seed_client_properties(&password, "not-the-password")).unwrap();
        let out = verify_with_seed_properties(&bed, dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let text = stderr(&out);
        assert!(text.contains("ssl.truststore.password") && text.contains("kafka.client.truststore.jks"), "{text}");
    }

    // A store that opens but trusts another CA (keytool's own self-signed key entry): the broker's
    // certificate is refused, and the message names the trust store.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(jdk_tool("keytool"))
        .current_dir(dir.path())
        .args(["-genkeypair", "-alias", "other", "-keyalg", "EC", "-dname", "CN=not-the-cluster-ca", "-validity", "2"])
        .args(["-keystore", "kafka.client.truststore.jks", "-storepass", "test1234", "-storetype", "JKS"])
        .output()
        .unwrap();
    check("keytool -genkeypair", &out);
    std::fs::write(dir.path().join("client-sasl-scram.properties"), seed_client_properties(&password, "test1234")).unwrap();
    let out = verify_with_seed_properties(&bed, dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("certificate verify failed") && text.contains("trust store kafka.client.truststore.jks (JKS"), "{text}");
}

async fn ca_cert_secret(client: &kube::Client, ns: &str, name: &str) -> (Vec<u8>, String, String) {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    let data = api.get(name).await.unwrap_or_else(|e| panic!("Secret {ns}/{name}: {e}")).data.unwrap();
    let text = |key: &str| String::from_utf8(data[key].0.clone()).unwrap();
    (data["ca.p12"].0.clone(), text("ca.password"), text("ca.crt"))
}

/// The objects a run created or changed.
fn changed(doc: &Value) -> Vec<String> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outcome"] == "created" || s["outcome"] == "configured")
        .map(|s| format!("{} {} {}/{}", text(&s["outcome"]), text(&s["kind"]), text(&s["namespace"]), text(&s["name"])))
        .collect()
}

/// `install` publishes one `ca.p12` for both sites, a re-run changes nothing, and a site whose
/// Secret lacks the store (made by an older amqdr) gets the other site's, not a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_keeps_one_ca_p12_for_both_sites() {
    let bed = kube_testbed::kube("cur");
    let ns = |what: &str, site: &str| format!("p12-{what}-{site}");
    let namespaces: Vec<String> = ["op", "dc"].iter().flat_map(|w| ["a", "b"].map(|s| ns(w, s))).collect();
    let client = kube_testbed::client(&bed.kubeconfig, None).await;
    let _standin = Standin::start(
        client.clone(),
        StandinOptions {
            api_version: "kafka.strimzi.io/v1".into(),
            namespaces: namespaces.clone(),
            operator_ready: true,
            apps_domain: "apps.testbed.local".into(),
            external_bootstraps: Default::default(),
            kafka_sites: Default::default(),
        },
    )
    .await;
    let args = |list: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        for site in ["a", "b"] {
            v.extend(["--set".into(), format!("sites.{site}.operatorNamespace={}", ns("op", site))]);
            v.extend(["--set".into(), format!("sites.{site}.kafkaNamespace={}", ns("dc", site))]);
        }
        v
    };
    let install = || run(&bed.kubeconfig, args(&["install", "--profile", "current", "-o", "json", "--timeout", "90s"]));
    let json = |out: &Output| -> Value {
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)));
        assert!(out.status.success(), "{doc:#}\n{}", stderr(out));
        doc
    };

    json(&install().await);
    let (p12_a, password_a, ca_crt) = ca_cert_secret(&client, &ns("dc", "a"), "my-cluster-cluster-ca-cert").await;
    let (p12_b, password_b, _) = ca_cert_secret(&client, &ns("dc", "b"), "my-second-cluster-cluster-ca-cert").await;
    assert_eq!((&p12_a, &password_a), (&p12_b, &password_b), "the sites hold different ca.p12");
    assert!(CaTrustStore { p12: p12_a.clone(), password: password_a.clone() }.trusts_only(&ca_crt));

    let doc = json(&install().await);
    assert!(changed(&doc).is_empty(), "the re-run changed {:?}", changed(&doc));
    assert_eq!(ca_cert_secret(&client, &ns("dc", "a"), "my-cluster-cluster-ca-cert").await.0, p12_a);

    // Site b's Secret as an amqdr without ca.p12 left it.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns("dc", "b"));
    secrets
        .patch(
            "my-second-cluster-cluster-ca-cert",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"ca.p12": null, "ca.password": null}})),
        )
        .await
        .unwrap();
    let doc = json(&install().await);
    assert_eq!(changed(&doc), vec![format!("configured Secret {}/my-second-cluster-cluster-ca-cert", ns("dc", "b"))], "{doc:#}");
    assert_eq!(ca_cert_secret(&client, &ns("dc", "b"), "my-second-cluster-cluster-ca-cert").await.0, p12_a);

    let out = run(&bed.kubeconfig, args(&["uninstall", "--profile", "current", "-o", "json", "--timeout", "120s"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
}
