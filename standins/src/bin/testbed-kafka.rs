//! The Kafka test bed's link to what amqdr renders (`amqdr render -o json`): the brokers, the
//! topic and the mirror are made from the resources amqdr would apply, the way Strimzi would
//! make them, so a setting amqdr gets wrong breaks a test.
//!
//! - `testbed-kafka broker-config --rendered PLAN.json --site a|b --base FILE` prints a broker's
//!   properties: the test bed's own keys (listeners, security, log dirs, node ids: what Strimzi
//!   manages itself) from FILE, the authorizer of the Kafka's `spec.kafka.authorization` as
//!   Strimzi's KafkaBrokerConfigurationBuilder writes it (simple: AclAuthorizer with ZooKeeper,
//!   StandardAuthorizer with KRaft; `super.users` = the test bed's own identity `User:ANONYMOUS`,
//!   standing for Strimzi's internal ones, and `User:<name>` per `superUsers` entry; no
//!   authorization: no authorizer; any other type is an error), then the Kafka's
//!   `spec.kafka.config`. A rendered key Strimzi manages itself is an error (Strimzi would drop
//!   it with a warning).
//! - `testbed-kafka users --rendered PLAN.json --site a|b --bootstrap HOST:PORT [--profile P] [--prune]`
//!   applies the site's KafkaUsers (those of its Kafka: namespace and `strimzi.io/cluster`) on
//!   the brokers as Strimzi's User Operator does (SCRAM-SHA-512 credential from the rendered
//!   Secret in `secretKeyRef`, ACLs exactly `spec.authorization.acls`; tests/common/user_operator.rs).
//!   The Kafka version is the profile's (`--profile`, else the `profile` file beside PLAN.json).
//!   A KafkaUser the User Operator would refuse stops it with Strimzi's message.
//! - `testbed-kafka identity --rendered PLAN.json --site a|b --purpose application|mirror|dr-operations --password-file FILE`
//!   prints the name of the site's KafkaUser labelled `amqdr.io/identity: PURPOSE` and writes its
//!   password (from the rendered Secret) to FILE, mode 600.
//! - `testbed-kafka topic --rendered PLAN.json --site a|b --bootstrap HOST:PORT` creates or
//!   updates the site's KafkaTopic on the brokers as the Topic Operator does.
//! - `testbed-kafka mirror --rendered PLAN.json --instance-dir DIR` runs the rendered
//!   KafkaMirrorMaker2 / KafkaMirrorMaker on the instance as the cluster operator would (see
//!   `amqdr_standins::mirror_runtime`).

use amqdr_standins::kafka_config::{self, Release};
use amqdr_standins::{mirror_runtime, topic_operator, user_operator};
use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

struct Args {
    rendered: Option<PathBuf>,
    site: Option<String>,
    base: Option<PathBuf>,
    bootstrap: Option<String>,
    instance_dir: Option<PathBuf>,
    profile: Option<String>,
    prune: bool,
    purpose: Option<String>,
    password_file: Option<PathBuf>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args> {
    let mut out = Args {
        rendered: None,
        site: None,
        base: None,
        bootstrap: None,
        instance_dir: None,
        profile: None,
        prune: false,
        purpose: None,
        password_file: None,
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--rendered" => out.rendered = Some(value()?.into()),
            "--site" => out.site = Some(value()?),
            "--base" => out.base = Some(value()?.into()),
            "--bootstrap" => out.bootstrap = Some(value()?),
            "--instance-dir" => out.instance_dir = Some(value()?.into()),
            "--profile" => out.profile = Some(value()?),
            "--prune" => out.prune = true,
            "--purpose" => out.purpose = Some(value()?),
            "--password-file" => out.password_file = Some(value()?.into()),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(out)
}

/// The objects of `amqdr render -o json`.
fn rendered_objects(path: &std::path::Path) -> Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).with_context(|| format!("{} is not amqdr's JSON plan", path.display()))?;
    Ok(doc["objects"].as_array().context("no objects in the rendered plan")?.clone())
}

/// The site's object of `kind` (amqdr labels every site object with `amqdr.io/site`).
fn site_object<'a>(objects: &'a [Value], kind: &str, site: &str) -> Result<&'a Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o.pointer("/metadata/labels/amqdr.io~1site").and_then(Value::as_str) == Some(site))
        .with_context(|| format!("amqdr rendered no {kind} for site {site}"))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn broker_config(args: Args) -> Result<()> {
    let objects = rendered_objects(&args.rendered.context("--rendered is required")?)?;
    let site = args.site.context("--site is required")?;
    let base_path = args.base.context("--base is required")?;
    let base = std::fs::read_to_string(&base_path).with_context(|| format!("reading {}", base_path.display()))?;
    let kafka = site_object(&objects, "Kafka", &site)?;
    let config = kafka.pointer("/spec/kafka/config").and_then(Value::as_object).context("the Kafka has no spec.kafka.config")?;
    let (release, listeners) = (Release::of_kafka(kafka), kafka_config::listener_ids(kafka));
    let managed: Vec<&String> = config.keys().filter(|k| release.owns(k, &listeners)).collect();
    if !managed.is_empty() {
        bail!("amqdr renders {managed:?} in spec.kafka.config of site {site}: Strimzi manages these itself and ignores them");
    }
    let mut out = String::from("# The test bed's own keys (what Strimzi manages itself).\n");
    for line in base.lines() {
        let key = line.split('=').next().unwrap_or_default().trim();
        if key.starts_with("authorizer.") || key == "super.users" {
            bail!("the test bed's base properties {} set {key}: the authorizer comes from the rendered Kafka", base_path.display());
        }
        if !config.contains_key(key) {
            out.push_str(line);
            out.push('\n');
        }
    }
    let kraft = base.lines().any(|l| l.trim_start().starts_with("process.roles="));
    out.push_str(&authorizer_properties(kafka, kraft, &site)?);
    out.push_str("# spec.kafka.config as amqdr renders it.\n");
    for (k, v) in config {
        out.push_str(&format!("{k}={}\n", scalar(v)));
    }
    print!("{out}");
    Ok(())
}

/// The broker keys of the Kafka's `spec.kafka.authorization` (Strimzi's
/// KafkaBrokerConfigurationBuilder: `authorizer.class.name` and `super.users`, `;`-separated).
fn authorizer_properties(kafka: &Value, kraft: bool, site: &str) -> Result<String> {
    let authorization = match kafka.pointer("/spec/kafka/authorization") {
        None | Some(Value::Null) => return Ok("# No spec.kafka.authorization: no authorizer.\n".into()),
        Some(a) => a,
    };
    let kind = authorization.get("type").and_then(Value::as_str).unwrap_or_default();
    if kind != "simple" {
        bail!("the Kafka of site {site} asks for authorization type {kind:?}: the test bed runs simple authorization only");
    }
    if let Some(unknown) = authorization.as_object().into_iter().flatten().map(|(k, _)| k).find(|k| *k != "type" && *k != "superUsers") {
        bail!("the Kafka of site {site}: unknown field spec.kafka.authorization.{unknown}");
    }
    // Strimzi's own identities (cluster operator, entity operators, brokers over the replication
    // listener) are super users; on the test bed they all use the PLAINTEXT listener: ANONYMOUS.
    let mut super_users = vec!["User:ANONYMOUS".to_string()];
    for user in authorization.get("superUsers").and_then(Value::as_array).into_iter().flatten() {
        let name = user.as_str().with_context(|| format!("the Kafka of site {site}: a superUsers entry is not a string: {user}"))?;
        super_users.push(format!("User:{name}"));
    }
    let class = if kraft { "org.apache.kafka.metadata.authorizer.StandardAuthorizer" } else { "kafka.security.authorizer.AclAuthorizer" };
    Ok(format!(
        "# spec.kafka.authorization (simple) as Strimzi writes it.\nauthorizer.class.name={class}\nsuper.users={}\n",
        super_users.join(";")
    ))
}

/// The site's KafkaUsers: those of its Kafka (same namespace, `strimzi.io/cluster` = its name).
async fn users(args: Args) -> Result<()> {
    let rendered = args.rendered.context("--rendered is required")?;
    let objects = rendered_objects(&rendered)?;
    let site = args.site.context("--site is required")?;
    let bootstrap = args.bootstrap.context("--bootstrap is required")?;
    let profile = match args.profile {
        Some(p) => p,
        None => {
            let file = rendered.parent().unwrap_or(std::path::Path::new(".")).join("profile");
            std::fs::read_to_string(&file).with_context(|| format!("--profile not given and no {}", file.display()))?.trim().to_string()
        }
    };
    let kafka = site_object(&objects, "Kafka", &site)?;
    let namespace = kafka.pointer("/metadata/namespace").and_then(Value::as_str).context("Kafka without namespace")?;
    let cluster = kafka.pointer("/metadata/name").and_then(Value::as_str).context("Kafka without name")?;
    let api = RenderedApi { objects: objects.clone() };
    let mut specs = Vec::new();
    for user in objects.iter().filter(|o| {
        o["kind"] == "KafkaUser"
            && o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
            && o.pointer("/metadata/labels/strimzi.io~1cluster").and_then(Value::as_str) == Some(cluster)
    }) {
        let name = user.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        if let Some(refusal) = user_operator::check_authorization(user, kafka) {
            bail!("the KafkaUser {namespace}/{name} of site {site} would be NotReady: {}: {}", refusal.reason, refusal.message);
        }
        let (secret, key) = user_operator::desired_password_ref(user)
            .with_context(|| format!("the KafkaUser {namespace}/{name} has no spec.authentication.password.valueFrom.secretKeyRef"))?;
        let data = mirror_runtime::ClusterApi::secret(&api, namespace, &secret).await?;
        let password = user_operator::desired_password(namespace, &secret, &key, data.as_ref()).map_err(|r| {
            anyhow::anyhow!("the KafkaUser {namespace}/{name} of site {site} would be NotReady: {}: {}", r.reason, r.message)
        })?;
        specs.push(user_operator::UserSpec::from_kafka_user(user, password)?);
    }
    if specs.is_empty() {
        bail!("amqdr rendered no KafkaUser for the Kafka {namespace}/{cluster} of site {site}");
    }
    let tool = user_operator::UserOperatorTool {
        profile,
        bootstrap,
        instance_dir: rendered.parent().map(|p| p.to_path_buf()),
        acls_admin_api_supported: user_operator::acls_admin_api_supported(kafka),
    };
    let result = tool.apply(&specs, args.prune).await?;
    for user in result["users"].as_array().into_iter().flatten() {
        eprintln!(
            "testbed: user {} ready on site {site} ({} ACLs, {} created, {} deleted)",
            user["name"].as_str().unwrap_or_default(),
            user["acls"],
            user["aclsCreated"],
            user["aclsDeleted"]
        );
    }
    for pruned in result["pruned"].as_array().into_iter().flatten() {
        eprintln!("testbed: user {} pruned on site {site}", pruned.as_str().unwrap_or_default());
    }
    Ok(())
}

/// The site's KafkaUser of one purpose (`amqdr.io/identity`): print its name, write its password.
async fn identity(args: Args) -> Result<()> {
    let objects = rendered_objects(&args.rendered.context("--rendered is required")?)?;
    let site = args.site.context("--site is required")?;
    let purpose = args.purpose.context("--purpose is required")?;
    let file = args.password_file.context("--password-file is required")?;
    let kafka = site_object(&objects, "Kafka", &site)?;
    let namespace = kafka.pointer("/metadata/namespace").and_then(Value::as_str).context("Kafka without namespace")?;
    let users: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            o["kind"] == "KafkaUser"
                && o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
                && o.pointer("/metadata/labels/amqdr.io~1identity").and_then(Value::as_str) == Some(purpose.as_str())
        })
        .collect();
    let [user] = users.as_slice() else {
        bail!("amqdr rendered {} KafkaUsers labelled amqdr.io/identity={purpose} for site {site}, not one", users.len());
    };
    let name = user.pointer("/metadata/name").and_then(Value::as_str).context("KafkaUser without name")?;
    let (secret, key) = user_operator::desired_password_ref(user).with_context(|| format!("the KafkaUser {name} has no secretKeyRef"))?;
    let data = mirror_runtime::ClusterApi::secret(&RenderedApi { objects: objects.clone() }, namespace, &secret).await?;
    let password =
        user_operator::desired_password(namespace, &secret, &key, data.as_ref()).map_err(|r| anyhow::anyhow!("{}", r.message))?;
    let _ = std::fs::remove_file(&file);
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&file)?;
        f.write_all(password.as_bytes())?;
    }
    println!("{name}");
    Ok(())
}

async fn topic(args: Args) -> Result<()> {
    let objects = rendered_objects(&args.rendered.context("--rendered is required")?)?;
    let site = args.site.context("--site is required")?;
    let bootstrap = args.bootstrap.context("--bootstrap is required")?;
    let topics: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            o["kind"] == "KafkaTopic" && o.pointer("/metadata/labels/amqdr.io~1site").and_then(Value::as_str) == Some(site.as_str())
        })
        .collect();
    if topics.is_empty() {
        bail!("amqdr rendered no KafkaTopic for site {site}");
    }
    for topic in topics {
        let name = topic.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        match topic_operator::reconcile(&bootstrap, name, &topic["spec"]).await? {
            topic_operator::TopicOutcome::Ready { topic_name } => eprintln!("testbed: topic {topic_name} ready on site {site}"),
            topic_operator::TopicOutcome::NotReady { topic_name, reason, message } => {
                bail!("the KafkaTopic {name} of site {site} ({topic_name}) is not ready: {reason}: {message}")
            }
        }
    }
    Ok(())
}

/// The Kubernetes API as the rendered plan has it: the Secrets amqdr would apply.
struct RenderedApi {
    objects: Vec<Value>,
}

impl mirror_runtime::ClusterApi for RenderedApi {
    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
        let Some(secret) = self.objects.iter().find(|o| {
            o["kind"] == "Secret"
                && o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
                && o["metadata"]["name"] == name
        }) else {
            return Ok(None);
        };
        let mut data = BTreeMap::new();
        for (k, v) in secret.get("data").and_then(Value::as_object).into_iter().flatten() {
            let text = v.as_str().unwrap_or_default();
            if text == "<redacted>" {
                bail!("Secret {namespace}/{name} is redacted: render with --show-secrets");
            }
            data.insert(k.clone(), base64::engine::general_purpose::STANDARD.decode(text)?);
        }
        for (k, v) in secret.get("stringData").and_then(Value::as_object).into_iter().flatten() {
            data.insert(k.clone(), v.as_str().unwrap_or_default().as_bytes().to_vec());
        }
        Ok(Some(data))
    }

    async fn config_map(&self, _namespace: &str, _name: &str) -> Result<Option<BTreeMap<String, String>>> {
        Ok(None)
    }

    async fn put_config_map_entry(&self, namespace: &str, name: &str, _key: &str, _value: &str, _owner: &Value) -> Result<()> {
        bail!("no Kubernetes API to write ConfigMap {namespace}/{name} to")
    }

    async fn remove_annotations(&self, _kind: &str, _namespace: &str, _name: &str, _keys: &[&str]) -> Result<()> {
        Ok(())
    }
}

/// Run the rendered mirror resource on the instance: the Kafka namespaces amqdr renders map to
/// the instance's sites a and b.
async fn mirror(args: Args) -> Result<()> {
    let objects = rendered_objects(&args.rendered.context("--rendered is required")?)?;
    let instance_dir = args.instance_dir.context("--instance-dir is required")?;
    let mut sites = HashMap::new();
    for site in ["a", "b"] {
        let kafka = site_object(&objects, "Kafka", site)?;
        let namespace = kafka.pointer("/metadata/namespace").and_then(Value::as_str).context("Kafka without namespace")?;
        sites.insert(namespace.to_string(), mirror_runtime::KafkaSite::new(&instance_dir, site));
    }
    let resource = objects
        .iter()
        .find(|o| o["kind"] == mirror_runtime::MM2_KIND || o["kind"] == mirror_runtime::MM1_KIND)
        .context("amqdr rendered no mirror resource")?;
    let kind = resource["kind"].as_str().unwrap_or_default();
    let runtime = mirror_runtime::MirrorRuntime::new(sites);
    let reconciled = runtime.reconcile(&RenderedApi { objects: objects.clone() }, kind, resource).await;
    println!("{}", serde_json::to_string_pretty(&reconciled.status)?);
    let ready = reconciled.status["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready");
    if !ready {
        bail!("the {kind} is not ready: {:?}", reconciled.notes);
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().context("usage: testbed-kafka broker-config|topic|users|identity|mirror ...")?;
    let args = parse(argv)?;
    match command.as_str() {
        "broker-config" => broker_config(args),
        "topic" => topic(args).await,
        "users" => users(args).await,
        "identity" => identity(args).await,
        "mirror" => mirror(args).await,
        other => bail!("unknown command {other}"),
    }
}
