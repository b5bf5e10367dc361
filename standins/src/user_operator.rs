//! Strimzi's User Operator on the Kafka test bed: what it does to a SCRAM-SHA-512 KafkaUser with
//! simple authorization on real brokers (credential upsert, ACLs made exactly the spec's, both
//! removed on deletion), through `tests/testbed/kafka/UserOperator.java` (Kafka's Admin API,
//! compiled per Kafka version by `tests/testbed/kafka/user-operator.sh`), and the status it
//! reports when it refuses a KafkaUser (messages of Strimzi 0.45.2 and 1.2.0, identical):
//!
//! - `KafkaUserModel.fromCrd` throws `InvalidResourceException("Simple authorization ACL rules are
//!   configured but not supported in the Kafka cluster configuration.")` when the KafkaUser has
//!   simple authorization and the operator runs with `STRIMZI_ACLS_ADMIN_API_SUPPORTED=false`
//!   (EntityUserOperator sets it from the Kafka's `spec.kafka.authorization.supportsAdminApi()`:
//!   simple true, custom its `supportsAdminApi`, opa false, keycloak `delegateToKafkaAcls`; no
//!   authorization: false);
//! - `getRequiredSecret` fails with `InvalidResourceException("Secret <name> in namespace <ns> not
//!   found")` for a missing desired-password Secret; `maybeGeneratePassword` with "Secret <name>
//!   does not contain the key <key> with requested user password." / "The requested user
//!   password is empty.".
//!
//! UserControllerLoop writes these as `NotReady` with the `ExecutionException` of its
//! `future.get()`: reason `ExecutionException`, message the wrapped exception's `toString()` —
//! `io.strimzi.operator.common.ReconciliationException: io.strimzi.operator.common.model.InvalidResourceException: ...`
//! for the first (createOrUpdate returns a failed future of a ReconciliationException), and
//! `java.util.concurrent.CompletionException: io.strimzi.operator.common.model.InvalidResourceException: ...`
//! for the Secret errors (raised inside the future chain and re-thrown by its `handle`). The
//! status then has no `username` / `secret`.

#![allow(dead_code)]

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const ACLS_NOT_SUPPORTED: &str = "Simple authorization ACL rules are configured but not supported in the Kafka cluster configuration.";
const RECONCILIATION_EXCEPTION: &str = "io.strimzi.operator.common.ReconciliationException";
const INVALID_RESOURCE_EXCEPTION: &str = "io.strimzi.operator.common.model.InvalidResourceException";
const COMPLETION_EXCEPTION: &str = "java.util.concurrent.CompletionException";

/// A KafkaUser the User Operator refuses: the `NotReady` condition it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub reason: String,
    pub message: String,
}

impl Refusal {
    /// `KafkaUserModel.fromCrd` threw (a failed future of a ReconciliationException).
    fn from_crd(message: &str) -> Refusal {
        Refusal {
            reason: "ExecutionException".into(),
            message: format!("{RECONCILIATION_EXCEPTION}: {INVALID_RESOURCE_EXCEPTION}: {message}"),
        }
    }

    /// An InvalidResourceException raised inside the reconciliation's future chain.
    fn in_chain(message: &str) -> Refusal {
        Refusal { reason: "ExecutionException".into(), message: format!("{COMPLETION_EXCEPTION}: {INVALID_RESOURCE_EXCEPTION}: {message}") }
    }

    /// Any other failure of the reconciliation (e.g. a broker error), as the loop reports it.
    pub fn other(message: &str) -> Refusal {
        Refusal { reason: "ExecutionException".into(), message: format!("{COMPLETION_EXCEPTION}: {message}") }
    }

    /// `status` of the KafkaUser (Strimzi sets conditions and observedGeneration only).
    pub fn status(&self, generation: i64, now: &str) -> Value {
        json!({
            "observedGeneration": generation,
            "conditions": [{"type": "NotReady", "status": "True", "reason": self.reason, "message": self.message,
                "lastTransitionTime": now}],
        })
    }
}

/// STRIMZI_ACLS_ADMIN_API_SUPPORTED as EntityUserOperator derives it from the Kafka.
pub fn acls_admin_api_supported(kafka: &Value) -> bool {
    let Some(authorization) = kafka.pointer("/spec/kafka/authorization").filter(|a| a.is_object()) else {
        return false;
    };
    match authorization.get("type").and_then(Value::as_str) {
        Some("simple") => true,
        Some("custom") => authorization.get("supportsAdminApi").and_then(Value::as_bool).unwrap_or(false),
        Some("keycloak") => authorization.get("delegateToKafkaAcls").and_then(Value::as_bool).unwrap_or(false),
        _ => false,
    }
}

/// Whether the KafkaUser asks for simple authorization (ACLs).
pub fn has_simple_authorization(user: &Value) -> bool {
    user.pointer("/spec/authorization/type").and_then(Value::as_str) == Some("simple")
}

/// The fromCrd check: a KafkaUser with simple authorization needs a Kafka whose authorizer
/// supports the Admin API for ACLs.
pub fn check_authorization(user: &Value, kafka: &Value) -> Option<Refusal> {
    (has_simple_authorization(user) && !acls_admin_api_supported(kafka)).then(|| Refusal::from_crd(ACLS_NOT_SUPPORTED))
}

/// `spec.authentication.password.valueFrom.secretKeyRef` of a SCRAM-SHA-512 KafkaUser: (Secret, key).
pub fn desired_password_ref(user: &Value) -> Option<(String, String)> {
    let r = user.pointer("/spec/authentication/password/valueFrom/secretKeyRef")?;
    Some((r.get("name")?.as_str()?.to_string(), r.get("key")?.as_str()?.to_string()))
}

/// The desired password from the Secret's data (`None`: the Secret does not exist), or the
/// refusal Strimzi reports.
pub fn desired_password(
    namespace: &str,
    secret_name: &str,
    key: &str,
    secret: Option<&std::collections::BTreeMap<String, Vec<u8>>>,
) -> std::result::Result<String, Refusal> {
    let Some(data) = secret else {
        return Err(Refusal::in_chain(&format!("Secret {secret_name} in namespace {namespace} not found")));
    };
    let Some(bytes) = data.get(key) else {
        return Err(Refusal::in_chain(&format!("Secret {secret_name} does not contain the key {key} with requested user password.")));
    };
    if bytes.is_empty() {
        return Err(Refusal::in_chain("The requested user password is empty."));
    }
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// STRIMZI_SCRAM_SHA_PASSWORD_LENGTH's default: the length of a password the User Operator generates.
pub const SCRAM_PASSWORD_LENGTH: usize = 32;

/// A password as the User Operator generates one for a KafkaUser that names none: alphanumerics.
pub fn generate_password() -> String {
    use rand::Rng;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(SCRAM_PASSWORD_LENGTH).map(char::from).collect()
}

/// The `sasl.jaas.config` the User Operator writes beside the password.
pub fn sasl_jaas_config(user: &str, password: &str) -> String {
    format!("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{password}\";")
}

/// The Secret `<user>` the User Operator keeps for a SCRAM-SHA-512 KafkaUser (generated or
/// desired password alike): `password` and `sasl.jaas.config`, the KafkaUser's labels with the
/// operator's own, owned by the KafkaUser (not as controller, so deleting the Secret alone works).
pub fn user_secret(user: &Value, password: &str) -> Value {
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    let name = user.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let mut labels = user.pointer("/metadata/labels").cloned().filter(Value::is_object).unwrap_or(json!({}));
    for (k, v) in [
        ("strimzi.io/kind", "KafkaUser".to_string()),
        ("app.kubernetes.io/instance", name.to_string()),
        ("app.kubernetes.io/managed-by", "strimzi-user-operator".into()),
        ("app.kubernetes.io/name", "strimzi-user-operator".into()),
        ("app.kubernetes.io/part-of", format!("strimzi-{name}")),
    ] {
        labels[k] = json!(v);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": user.pointer("/metadata/namespace").cloned().unwrap_or(Value::Null),
            "labels": labels,
            "ownerReferences": [{
                "apiVersion": user.get("apiVersion").cloned().unwrap_or(Value::Null),
                "kind": "KafkaUser",
                "name": name,
                "uid": user.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
                "controller": false,
                "blockOwnerDeletion": false,
            }],
        },
        "type": "Opaque",
        "data": {"password": b64(password), "sasl.jaas.config": b64(&sasl_jaas_config(name, password))},
    })
}

/// One user as UserOperator.java applies it: `acls` in Strimzi's format (null: none).
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub name: String,
    pub password: String,
    pub acls: Value,
}

impl UserSpec {
    /// From a KafkaUser and its password (`spec.authorization.acls`; none without authorization).
    pub fn from_kafka_user(user: &Value, password: String) -> Result<UserSpec> {
        let name = user.pointer("/metadata/name").and_then(Value::as_str).context("KafkaUser without a name")?.to_string();
        match user.pointer("/spec/authentication/type").and_then(Value::as_str) {
            Some("scram-sha-512") => {}
            other => bail!("KafkaUser {name}: authentication {other:?}: the test bed's User Operator does SCRAM-SHA-512 only"),
        }
        let acls = match user.pointer("/spec/authorization") {
            None | Some(Value::Null) => json!([]),
            Some(a) if a.get("type").and_then(Value::as_str) == Some("simple") => a.get("acls").cloned().unwrap_or(json!([])),
            Some(a) => bail!("KafkaUser {name}: unknown authorization type {}", a.get("type").unwrap_or(&Value::Null)),
        };
        Ok(UserSpec { name, password, acls })
    }
}

/// Where and how UserOperator.java runs: the Kafka version of the test bed profile
/// (`legacy` = 3.9, `current` = 4.3), the brokers' listener without authentication, and the
/// instance folder (logs, the temporary spec file; the system's temp folder without one).
#[derive(Debug, Clone)]
pub struct UserOperatorTool {
    pub profile: String,
    pub bootstrap: String,
    pub instance_dir: Option<PathBuf>,
    /// STRIMZI_ACLS_ADMIN_API_SUPPORTED ([`acls_admin_api_supported`] of the Kafka): false leaves
    /// ACLs alone (credentials only), as Strimzi's DisabledSimpleAclOperator does.
    pub acls_admin_api_supported: bool,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/testbed/kafka/user-operator.sh")
}

static SPEC_COUNTER: AtomicU64 = AtomicU64::new(0);

impl UserOperatorTool {
    /// For a site of a test bed instance (`KafkaSite`): its profile file and plain listener.
    pub fn for_site(site: &crate::mirror_runtime::KafkaSite) -> Result<UserOperatorTool> {
        let profile = std::fs::read_to_string(site.instance_dir.join("profile"))
            .with_context(|| format!("the Kafka test bed instance {} has no profile", site.instance_dir.display()))?;
        Ok(UserOperatorTool {
            profile: profile.trim().to_string(),
            bootstrap: site.plain_bootstrap()?,
            instance_dir: Some(site.instance_dir.clone()),
            acls_admin_api_supported: true,
        })
    }

    async fn run(&self, args: &[&str]) -> Result<Value> {
        let mut cmd = tokio::process::Command::new(script());
        cmd.arg(&self.profile).arg("run").args(args).stdin(std::process::Stdio::null());
        if let Some(dir) = &self.instance_dir {
            cmd.env("AMQDR_TESTBED_KAFKA_DIR", dir);
        }
        let out = cmd.output().await.with_context(|| format!("running {}", script().display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let result: Option<Value> = serde_json::from_str(stdout.trim()).ok();
        if !out.status.success() {
            let error = result.as_ref().and_then(|r| r.get("error")).and_then(Value::as_str).map(str::to_string);
            bail!("{}", error.unwrap_or_else(|| format!("UserOperator {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        result.with_context(|| format!("UserOperator {args:?} printed no JSON: {stdout}"))
    }

    /// Upsert the users' credentials and make their ACLs exactly the given ones (credentials
    /// only without `acls_admin_api_supported`); `prune`: delete every other user the brokers
    /// know (not ANONYMOUS).
    pub async fn apply(&self, users: &[UserSpec], prune: bool) -> Result<Value> {
        let spec = json!({
            "bootstrap": self.bootstrap,
            "aclsAdminApiSupported": self.acls_admin_api_supported,
            "users": users.iter().map(|u| json!({"name": u.name, "password": u.password, "acls": u.acls})).collect::<Vec<_>>(),
        });
        let dir = self.instance_dir.clone().unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("user-operator-{}-{}.json", std::process::id(), SPEC_COUNTER.fetch_add(1, Ordering::Relaxed)));
        write_private(&path, serde_json::to_string(&spec)?.as_bytes())?;
        let path_text = path.to_string_lossy().into_owned();
        let mut args = vec!["apply", path_text.as_str()];
        if prune {
            args.push("--prune");
        }
        let result = self.run(&args).await;
        let _ = std::fs::remove_file(&path);
        result
    }

    /// Remove the users' credentials and ACLs.
    pub async fn delete(&self, names: &[&str]) -> Result<Value> {
        let mut args = vec!["delete", "--bootstrap", self.bootstrap.as_str()];
        if !self.acls_admin_api_supported {
            args.push("--no-acls");
        }
        args.extend_from_slice(names);
        self.run(&args).await
    }

    /// `{"users": {NAME: {"credentials": [...], "acls": [Strimzi ACL rules]}}}` (all users without names).
    pub async fn describe(&self, names: &[&str]) -> Result<Value> {
        let mut args = vec!["describe", "--bootstrap", self.bootstrap.as_str()];
        if !self.acls_admin_api_supported {
            args.push("--no-acls");
        }
        args.extend_from_slice(names);
        self.run(&args).await
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(bytes)?;
    Ok(())
}
