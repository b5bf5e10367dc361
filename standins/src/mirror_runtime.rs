//! Strimzi's cluster operator for the mirror resources, on the Kafka test bed: a KafkaMirrorMaker2
//! (Strimzi 1.2.0) becomes a Kafka Connect distributed worker on the site of its namespace (the
//! target), driven only through Connect's REST API as KafkaMirrorMaker2AssemblyOperator and
//! AbstractConnectOperator drive it; a KafkaMirrorMaker (0.45.2) becomes one MirrorMaker 1
//! process with the consumer/producer properties Strimzi's container scripts write. Processes
//! are started and stopped through `tests/testbed/kafka/ctl.sh`, so their pids and logs live in
//! the test bed instance and `tests/testbed/down` stops them.
//!
//! What stands in for Kubernetes: Strimzi's internal bootstrap Service
//! (`<cluster>-kafka-bootstrap[.<ns>.svc]:9093`) resolves to the real broker of the site mapped
//! to that namespace, as cluster DNS would; Secrets are "mounted" as files in the mirror's state
//! folder and the worker reads them through Kafka's DirectoryConfigProvider registered under
//! Strimzi's provider name `strimzisecrets` (Strimzi uses its KubernetesSecretConfigProvider with
//! the same `${strimzisecrets:<ns>/<secret>:<key>}` references), so the connector configs are the
//! ones Strimzi sends and no password is a literal in a config.
//!
//! The same code serves the kube stand-in ([`kube_driver`]: watch events, periodic resync,
//! ConfigMap changes) and the standalone test bed (`examples/testbed-kafka.rs mirror`).

#![allow(dead_code)]

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const MM2_KIND: &str = "KafkaMirrorMaker2";
pub const MM1_KIND: &str = "KafkaMirrorMaker";
pub const OFFSETS_ANNOTATION: &str = "strimzi.io/connector-offsets";
pub const CONNECTOR_ANNOTATION: &str = "strimzi.io/mirrormaker-connector";
/// Strimzi's Connect REST port; the `status.url` it reports uses it.
const REST_API_PORT: u16 = 8083;

/// One site of a Kafka test bed instance: where a namespace's Kafka cluster really runs.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaSite {
    /// The instance's state folder (`.testbed/kafka-NAME`, `AMQDR_TESTBED_KAFKA_DIR`).
    pub instance_dir: PathBuf,
    /// `a` or `b`.
    pub site: String,
}

impl KafkaSite {
    pub fn new(instance_dir: impl Into<PathBuf>, site: &str) -> KafkaSite {
        KafkaSite { instance_dir: instance_dir.into(), site: site.to_string() }
    }

    /// The instance name, as ctl.sh takes it.
    pub fn instance(&self) -> String {
        let base = self.instance_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        base.strip_prefix("kafka-").unwrap_or(&base).to_string()
    }

    fn port(&self, plain: bool) -> Result<u16> {
        let text = std::fs::read_to_string(self.instance_dir.join("ports"))
            .with_context(|| format!("the Kafka test bed instance {} is not up", self.instance_dir.display()))?;
        let ports: Vec<u16> = text.split_whitespace().map(|p| p.parse()).collect::<Result<_, _>>()?;
        // zk a_plain a_sasl a_ctrl b_plain b_sasl b_ctrl
        let index = match (self.site.as_str(), plain) {
            ("a", true) => 1,
            ("a", false) => 2,
            ("b", true) => 4,
            ("b", false) => 5,
            _ => bail!("site must be a or b, not {}", self.site),
        };
        ports.get(index).copied().context("ports file incomplete")
    }

    /// The SASL_SSL/SCRAM-SHA-512 listener (Strimzi's internal `tls` listener on 9093).
    pub fn sasl_bootstrap(&self) -> Result<String> {
        Ok(format!("localhost:{}", self.port(false)?))
    }

    /// The listener without authentication (the operators' own access, as a super user).
    pub fn plain_bootstrap(&self) -> Result<String> {
        Ok(format!("127.0.0.1:{}", self.port(true)?))
    }
}

/// What a reconciliation noticed besides the status it wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    Event(String),
    /// Something the real operator rejects or warns about (NotReady or a Warning condition).
    Violation(String),
}

/// What the operator reads from and writes to the Kubernetes API besides the resource itself.
#[allow(async_fn_in_trait)]
pub trait ClusterApi {
    /// A Secret's data, decoded.
    async fn secret(&self, namespace: &str, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>>;
    async fn config_map(&self, namespace: &str, name: &str) -> Result<Option<BTreeMap<String, String>>>;
    /// Create or update one entry of a ConfigMap (owned by the resource), keeping other entries.
    async fn put_config_map_entry(&self, namespace: &str, name: &str, key: &str, value: &str, owner: &Value) -> Result<()>;
    async fn remove_annotations(&self, kind: &str, namespace: &str, name: &str, keys: &[&str]) -> Result<()>;
}

/// The operator's result for one resource: the status to write and what it noticed.
#[derive(Debug, Clone)]
pub struct Reconciled {
    pub status: Value,
    pub notes: Vec<Note>,
}

fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

fn condition(kind: &str, reason: Option<&str>, message: Option<&str>) -> Value {
    let mut c = json!({"type": kind, "status": "True", "lastTransitionTime": now()});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    c
}

/// A reconciliation failure the way Strimzi names it (the exception's simple class name).
#[derive(Debug)]
struct Failure {
    reason: &'static str,
    message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Failure {}

fn failure(reason: &'static str, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Failure { reason, message: message.into() })
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Keys the operator drops from user configuration (AbstractConfiguration.filterForbidden).
fn forbidden(key: &str, prefixes: &[&str], exceptions: &[&str]) -> bool {
    let lower = key.to_lowercase();
    prefixes.iter().any(|p| lower.starts_with(p)) && !exceptions.contains(&key)
}

/// KafkaMirrorMaker2ClusterSpec FORBIDDEN_PREFIXES / _EXCEPTIONS (1.2.0).
const MM2_FORBIDDEN: &[&str] = &[
    "group.id",
    "config.storage.topic",
    "offset.storage.topic",
    "status.storage.topic",
    "ssl.",
    "sasl.",
    "security.",
    "listeners",
    "plugin.path",
    "rest.",
    "bootstrap.servers",
    "consumer.interceptor.classes",
    "producer.interceptor.classes",
];
const MM2_FORBIDDEN_EXCEPTIONS: &[&str] =
    &["ssl.endpoint.identification.algorithm", "ssl.cipher.suites", "ssl.protocol", "ssl.enabled.protocols"];
/// KafkaMirrorMakerConsumerSpec / ProducerSpec FORBIDDEN_PREFIXES (0.45.2).
const MM1_CONSUMER_FORBIDDEN: &[&str] = &["ssl.", "bootstrap.servers", "group.id", "sasl.", "security.", "interceptor.classes"];
const MM1_PRODUCER_FORBIDDEN: &[&str] = &["ssl.", "bootstrap.servers", "sasl.", "security.", "interceptor.classes"];

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

/// The mirror's folder in its instance: `mirrors/<ns>.<name>`; its process is `mirror-<ns>.<name>`.
pub fn mirror_id(namespace: &str, name: &str) -> String {
    format!("{namespace}.{name}")
}

/// The REST address of the Connect worker a KafkaMirrorMaker2 runs on (what its status `url`
/// names inside the cluster), once the runtime has started it.
pub fn connect_rest_url(site: &KafkaSite, namespace: &str, name: &str) -> Option<String> {
    let port = std::fs::read_to_string(site.instance_dir.join("mirrors").join(mirror_id(namespace, name)).join("rest-port")).ok()?;
    Some(format!("http://127.0.0.1:{}", port.trim()))
}

/// Whether the process of a mirror resource is running (its pid file names a live process).
pub fn process_running(site: &KafkaSite, namespace: &str, name: &str) -> bool {
    let pid_file = site.instance_dir.join(format!("mirror-{}.pid", mirror_id(namespace, name)));
    std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|p| p.trim().parse::<i32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid))
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map(|s| s.split_whitespace().nth(2) == Some("Z")).unwrap_or(true)
}

/// Files below `root`, relative to it.
fn files_under(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(root) {
                out.push(relative.to_path_buf());
            }
        }
    }
    Ok(out)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

// ---------------------------------------------------------------------------------------------
// Connect REST (KafkaConnectApiImpl)

/// Percent-encode a connector name for a URL path (`->` in MirrorMaker 2 connector names).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// One request to the Connect REST API: status code and JSON body (Null when empty).
pub async fn rest(method: &str, url: &str, body: Option<&Value>) -> Result<(u16, Value)> {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body(Full::new(bytes::Bytes::from(payload)))?;
    let response = tokio::time::timeout(Duration::from_secs(60), client.request(request))
        .await
        .with_context(|| format!("{method} {url} timed out"))?
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await?.to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok((status, value))
}

fn rest_error(method: &str, path: &str, status: u16, body: &Value) -> anyhow::Error {
    let message = body.get("message").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| body.to_string());
    failure("ConnectRestException", format!("{method} {path} returned {status}: {message}"))
}

struct Connect {
    base: String,
}

impl Connect {
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        rest(method, &format!("{}{path}", self.base), body).await
    }

    /// A call retried with Strimzi's BackOff(200 ms, x2) while the worker answers 409
    /// (rebalancing) or is not yet reachable.
    async fn call_with_backoff(&self, method: &str, path: &str, body: Option<&Value>, ok: &[u16]) -> Result<(u16, Value)> {
        let mut delay = Duration::from_millis(200);
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let result = self.call(method, path, body).await;
            match &result {
                Ok((status, _)) if ok.contains(status) => return result,
                Ok((409 | 500 | 503, _)) | Err(_) if Instant::now() < deadline => {}
                Ok((status, value)) => return Err(rest_error(method, path, *status, value)),
                Err(_) => return result,
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(3));
        }
    }

    async fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Ok((200, _)) = self.call("GET", "/connectors", None).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the Connect worker at {} did not answer within 180 s", self.base);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn list(&self) -> Result<Vec<String>> {
        let (_, v) = self.call_with_backoff("GET", "/connectors", None, &[200]).await?;
        Ok(v.as_array().map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_string)).collect()).unwrap_or_default())
    }

    /// statusWithBackOff: a just-created connector has no status for a moment (404).
    async fn status(&self, name: &str) -> Result<Value> {
        let path = format!("/connectors/{}/status", encode(name));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, body) = self.call_with_backoff("GET", &path, None, &[200, 404]).await?;
            if code == 200 {
                return Ok(body);
            }
            if Instant::now() > deadline {
                return Err(rest_error("GET", &path, code, &body));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// PUT /connectors/{name}/{pause|resume|stop}, expecting Strimzi's status codes.
    async fn state_change(&self, name: &str, action: &str, expected: u16) -> Result<()> {
        let path = format!("/connectors/{}/{action}", encode(name));
        let (status, body) = self.call("PUT", &path, None).await?;
        if status != expected {
            return Err(rest_error("PUT", &path, status, &body));
        }
        Ok(())
    }
}

fn connector_state(status: &Value) -> Option<&str> {
    str_at(status, "/connector/state")
}

// ---------------------------------------------------------------------------------------------
// The runtime

/// Namespace -> site of a Kafka test bed instance, and the test bed's ctl.sh.
#[derive(Clone, Debug)]
pub struct MirrorRuntime {
    pub sites: HashMap<String, KafkaSite>,
    ctl: PathBuf,
}

impl MirrorRuntime {
    pub fn new(sites: HashMap<String, KafkaSite>) -> MirrorRuntime {
        MirrorRuntime { sites, ctl: Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/testbed/kafka/ctl.sh") }
    }

    pub fn serves(&self, namespace: &str) -> bool {
        self.sites.contains_key(namespace)
    }

    /// A bootstrap list as a pod in `namespace` reaches it: Strimzi's internal bootstrap Service
    /// resolves to the real broker of the site mapped to its namespace, as cluster DNS would;
    /// loopback addresses (the test bed's external listeners) are used as they are.
    pub fn resolve(&self, namespace: &str, bootstrap: &str) -> Result<String> {
        let mut out = Vec::new();
        for address in bootstrap.split(',').map(str::trim) {
            let (host, port) =
                address.rsplit_once(':').ok_or_else(|| failure("InvalidResourceException", format!("{address} has no port")))?;
            let mut labels = host.split('.');
            let service = labels.next().unwrap_or_default();
            if host == "localhost" || host == "127.0.0.1" {
                out.push(address.to_string());
            } else if service.ends_with("-kafka-bootstrap") {
                let service_ns = labels.next().unwrap_or(namespace);
                let site = self.sites.get(service_ns).ok_or_else(|| {
                    failure("UnknownHostException", format!("{host}: namespace {service_ns} is not mapped to a Kafka test bed site"))
                })?;
                if port != "9093" {
                    return Err(failure(
                        "UnknownHostException",
                        format!("{address}: the test bed maps Strimzi's tls listener (9093, SCRAM-SHA-512) only"),
                    ));
                }
                out.push(site.sasl_bootstrap()?);
            } else {
                return Err(failure("UnknownHostException", format!("{host} does not resolve on the test bed")));
            }
        }
        Ok(out.join(","))
    }

    fn site_of(&self, namespace: &str) -> Result<&KafkaSite> {
        self.sites.get(namespace).ok_or_else(|| anyhow!("namespace {namespace} is not mapped to a Kafka test bed site"))
    }

    fn mirror_dir(&self, namespace: &str, name: &str) -> Result<PathBuf> {
        Ok(self.site_of(namespace)?.instance_dir.join("mirrors").join(mirror_id(namespace, name)))
    }

    async fn ctl(&self, site: &KafkaSite, args: &[&str]) -> Result<()> {
        let out = tokio::process::Command::new(&self.ctl)
            .arg(site.instance())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .with_context(|| format!("running {}", self.ctl.display()))?;
        if !out.status.success() {
            bail!("ctl.sh {} {args:?}: {}", site.instance(), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(())
    }

    /// Start the mirror's process when its configuration changed or it is not running (Strimzi
    /// rolls the pods when the configuration hash changes); stop it for `replicas: 0`.
    async fn run_process(&self, namespace: &str, name: &str, replicas: i64, config_digest: &str) -> Result<()> {
        let site = self.site_of(namespace)?.clone();
        let dir = self.mirror_dir(namespace, name)?;
        let id = mirror_id(namespace, name);
        let running_digest = std::fs::read_to_string(dir.join("running")).unwrap_or_default();
        if replicas == 0 {
            let _ = std::fs::remove_file(dir.join("enabled"));
            self.ctl(&site, &["stop-process", &id]).await?;
            return Ok(());
        }
        std::fs::write(dir.join("enabled"), "")?;
        if running_digest == config_digest && process_running(&site, namespace, name) {
            return Ok(());
        }
        self.ctl(&site, &["stop-process", &id]).await?;
        std::fs::write(dir.join("running"), config_digest)?;
        self.ctl(&site, &["start-process", &id]).await
    }

    /// The resource was deleted: its pods go with it (owner references).
    pub async fn deleted(&self, namespace: &str, name: &str) -> Result<()> {
        let site = self.site_of(namespace)?.clone();
        self.ctl(&site, &["stop-process", &mirror_id(namespace, name)]).await?;
        let dir = self.mirror_dir(namespace, name)?;
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Reconcile one KafkaMirrorMaker2 or KafkaMirrorMaker as the cluster operator does.
    pub async fn reconcile(&self, api: &impl ClusterApi, kind: &str, resource: &Value) -> Reconciled {
        let mut notes = Vec::new();
        let generation = resource.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
        let namespace = str_at(resource, "/metadata/namespace").unwrap_or_default().to_string();
        let name = str_at(resource, "/metadata/name").unwrap_or_default().to_string();
        let mut status = Map::new();
        let result = match kind {
            MM2_KIND => self.reconcile_mm2(api, resource, &mut status, &mut notes).await,
            MM1_KIND => self.reconcile_mm1(api, resource, &mut status, &mut notes).await,
            other => Err(anyhow!("the mirror runtime does not handle {other}")),
        };
        let warnings: Vec<Value> = status.remove("conditions").and_then(|c| c.as_array().cloned()).unwrap_or_default();
        let mut conditions = vec![match &result {
            Ok(()) => condition("Ready", None, None),
            Err(e) => {
                let (reason, message) = match e.downcast_ref::<Failure>() {
                    Some(f) => (f.reason, f.message.clone()),
                    None => ("RuntimeException", format!("{e:#}")),
                };
                notes.push(Note::Violation(format!("{kind} {namespace}/{name}: {reason}: {message}")));
                condition("NotReady", Some(reason), Some(&message))
            }
        }];
        for w in &warnings {
            let reason = str_at(w, "/reason").unwrap_or_default();
            let text = format!("{kind} {namespace}/{name}: warning {reason}: {}", str_at(w, "/message").unwrap_or_default());
            // Strimzi 0.45.2 warns on every KafkaMirrorMaker; that warning is not about the resource.
            notes.push(if reason == "MirrorMaker1Deprecation" { Note::Event(text) } else { Note::Violation(text) });
        }
        conditions.extend(warnings);
        status.insert("conditions".into(), Value::Array(conditions));
        status.insert("observedGeneration".into(), json!(generation));
        Reconciled { status: Value::Object(status), notes }
    }

    // ----------------------------------------------------------------------------- MM2

    async fn reconcile_mm2(
        &self,
        api: &impl ClusterApi,
        resource: &Value,
        status: &mut Map<String, Value>,
        notes: &mut Vec<Note>,
    ) -> Result<()> {
        let namespace = str_at(resource, "/metadata/namespace").unwrap_or_default().to_string();
        let name = str_at(resource, "/metadata/name").unwrap_or_default().to_string();
        let spec = &resource["spec"];
        let replicas = spec.get("replicas").and_then(Value::as_i64).unwrap_or(3);
        let component = format!("{name}-mirrormaker2");
        status.insert("replicas".into(), json!(replicas));
        status.insert(
            "labelSelector".into(),
            json!(format!("strimzi.io/cluster={name},strimzi.io/name={component},strimzi.io/kind={MM2_KIND}")),
        );
        let target = &spec["target"];
        let target_alias = str_at(target, "/alias").unwrap_or_default().to_string();
        let mirrors = spec.get("mirrors").and_then(Value::as_array).cloned().unwrap_or_default();
        let dir = self.mirror_dir(&namespace, &name)?;
        let secrets_root = dir.join("secrets");

        // The internal trusted-certificates Secret (<name>-mirrormaker2-tls-trusted-certs):
        // `ca.crt` for the Connect cluster (target) and `<alias>-ca.crt` per cluster.
        let trusted_secret = format!("{component}-tls-trusted-certs");
        let mut trusted: BTreeMap<String, String> = BTreeMap::new();
        if let Some(certs) = target.pointer("/tls/trustedCertificates").and_then(Value::as_array) {
            trusted.insert("ca.crt".into(), trusted_certificates(api, &namespace, certs).await?);
        }
        let mut clusters = vec![target.clone()];
        clusters.extend(mirrors.iter().map(|m| m["source"].clone()));
        for cluster in &clusters {
            if let Some(certs) = cluster.pointer("/tls/trustedCertificates").and_then(Value::as_array) {
                let alias = str_at(cluster, "/alias").unwrap_or_default();
                trusted.insert(format!("{alias}-ca.crt"), trusted_certificates(api, &namespace, certs).await?);
            }
        }
        // Password Secrets, mounted where the config provider reads them.
        let mut files: BTreeMap<PathBuf, Vec<u8>> = BTreeMap::new();
        for (key, pem) in &trusted {
            files.insert(Path::new(&namespace).join(&trusted_secret).join(key), pem.as_bytes().to_vec());
        }
        for cluster in &clusters {
            if let Some(secret) = cluster.pointer("/authentication/passwordSecret") {
                let (secret_name, key) =
                    (str_at(secret, "/secretName").unwrap_or_default(), str_at(secret, "/password").unwrap_or_default());
                let value = secret_item(api, &namespace, secret_name, key).await?;
                files.insert(Path::new(&namespace).join(secret_name).join(key), value);
            }
        }

        // The worker: KafkaConnectConfigurationBuilder's sections, from spec.target.
        let rest_port = match std::fs::read_to_string(dir.join("rest-port")) {
            Ok(p) => p.trim().parse::<u16>()?,
            Err(_) => free_port()?,
        };
        let worker = worker_properties(
            &self.resolve(&namespace, str_at(target, "/bootstrapServers").unwrap_or_default())?,
            &namespace,
            &component,
            target,
            rest_port,
            notes,
        );

        // The running worker's working directory is the secrets folder: update files in place
        // (like a Secret volume) and never replace the folder itself.
        std::fs::create_dir_all(&secrets_root)?;
        for stale in files_under(&secrets_root)?.into_iter().filter(|f| !files.contains_key(f)) {
            std::fs::remove_file(secrets_root.join(stale))?;
        }
        for (path, bytes) in &files {
            let file = secrets_root.join(path);
            if std::fs::read(&file).ok().as_deref() != Some(bytes.as_slice()) {
                write_private(&file, bytes)?;
            }
        }
        write_private(&dir.join("worker.properties"), worker.as_bytes())?;
        std::fs::write(dir.join("kind"), "connect")?;
        std::fs::write(dir.join("rest-port"), rest_port.to_string())?;
        let digest = format!(
            "{:x}",
            fxhash(&[
                worker.as_bytes(),
                &serde_json::to_vec(&files.iter().map(|(p, b)| (p.display().to_string(), b.clone())).collect::<Vec<_>>())?
            ])
        );
        self.run_process(&namespace, &name, replicas, &digest).await?;
        if replicas == 0 {
            // hasZeroReplicas: no connectors are reconciled and no url is reported.
            return Ok(());
        }
        status.insert("url".into(), json!(format!("http://{name}-mirrormaker2-api.{namespace}.svc:{REST_API_PORT}")));

        let connect = Connect { base: format!("http://127.0.0.1:{rest_port}") };
        connect.wait_ready().await?;
        // reconcileConnectors: delete what is not desired, create or update the rest.
        let desired = connector_definitions(self, &namespace, &component, spec, &target_alias, &mirrors)?;
        let current = connect.list().await?;
        for extra in current.iter().filter(|c| !desired.iter().any(|d| &d.name == *c)) {
            let path = format!("/connectors/{}", encode(extra));
            connect.call_with_backoff("DELETE", &path, None, &[204]).await?;
            notes.push(Note::Event(format!("{MM2_KIND} {namespace}/{name}: deleted connector {extra}")));
        }
        let mut warnings = Vec::new();
        let mut connectors_status = Vec::new();
        let mut first_error = None;
        for connector in &desired {
            match self.reconcile_connector(api, &connect, resource, connector, &mut warnings, notes).await {
                Ok(s) => connectors_status.push(s),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        status.insert("connectors".into(), Value::Array(connectors_status.clone()));
        status.insert("conditions".into(), Value::Array(warnings));
        if let Some(e) = first_error {
            return Err(e);
        }
        if connectors_status.iter().any(|s| connector_state(s) == Some("FAILED")) {
            return Err(failure("Throwable", "One or more connectors are in FAILED state"));
        }
        Ok(())
    }

    /// maybeCreateOrUpdateConnector for one MirrorMaker 2 connector.
    async fn reconcile_connector(
        &self,
        api: &impl ClusterApi,
        connect: &Connect,
        resource: &Value,
        connector: &ConnectorDefinition,
        warnings: &mut Vec<Value>,
        notes: &mut Vec<Note>,
    ) -> Result<Value> {
        let n = encode(&connector.name);
        let namespace = str_at(resource, "/metadata/namespace").unwrap_or_default();
        let name = str_at(resource, "/metadata/name").unwrap_or_default();
        let (code, current) = connect.call_with_backoff("GET", &format!("/connectors/{n}/config"), None, &[200, 404]).await?;
        if code == 404 {
            // New connectors start in the desired state (KIP-980 initial_state): a stopped or
            // paused connector never runs first.
            let mut body = json!({"name": connector.name, "config": connector.request_config()});
            if let Some(state) = &connector.state {
                body["initial_state"] = json!(state.to_uppercase());
            }
            connect.call_with_backoff("POST", "/connectors", Some(&body), &[201]).await?;
            notes.push(Note::Event(format!(
                "{MM2_KIND} {namespace}/{name}: created connector {} ({})",
                connector.name,
                connector.state.as_deref().unwrap_or("running")
            )));
            return connect.status(&connector.name).await;
        }
        if current != connector.comparable_config() {
            connect.call_with_backoff("PUT", &format!("/connectors/{n}/config"), Some(&connector.request_config()), &[200, 201]).await?;
            notes.push(Note::Event(format!("{MM2_KIND} {namespace}/{name}: updated connector {}", connector.name)));
            let status = connect.status(&connector.name).await?;
            self.update_state(connect, connector, &status, notes).await?;
            return connect.status(&connector.name).await;
        }
        let status = connect.status(&connector.name).await?;
        self.update_state(connect, connector, &status, notes).await?;
        self.manage_offsets(api, connect, resource, connector, warnings, notes).await?;
        connect.status(&connector.name).await
    }

    /// updateState: move the connector to spec.state (running when unset).
    async fn update_state(&self, connect: &Connect, connector: &ConnectorDefinition, status: &Value, notes: &mut Vec<Note>) -> Result<()> {
        let Some(state) = connector_state(status) else {
            return Err(failure("Throwable", "JSON response lacked $.connector.state"));
        };
        let target = connector.state.as_deref().unwrap_or("running");
        let action = match (state, target) {
            ("RUNNING", "paused") | ("STOPPED", "paused") => Some(("pause", 202)),
            ("RUNNING", "stopped") | ("PAUSED", "stopped") | ("FAILED", "stopped") => Some(("stop", 204)),
            ("PAUSED", "running") | ("STOPPED", "running") => Some(("resume", 202)),
            ("FAILED", "paused") => {
                return Err(failure("Throwable", format!("Connector {} cannot be paused since it is in failed state.", connector.name)));
            }
            _ => None,
        };
        if let Some((action, code)) = action {
            connect.state_change(&connector.name, action, code).await?;
            notes.push(Note::Event(format!("connector {}: {action} ({state} -> {target})", connector.name)));
        }
        Ok(())
    }

    /// manageConnectorOffsets: list / alter / reset through the annotations
    /// `strimzi.io/connector-offsets` + `strimzi.io/mirrormaker-connector`.
    async fn manage_offsets(
        &self,
        api: &impl ClusterApi,
        connect: &Connect,
        resource: &Value,
        connector: &ConnectorDefinition,
        warnings: &mut Vec<Value>,
        notes: &mut Vec<Note>,
    ) -> Result<()> {
        let namespace = str_at(resource, "/metadata/namespace").unwrap_or_default();
        let name = str_at(resource, "/metadata/name").unwrap_or_default();
        let annotations = resource.pointer("/metadata/annotations").and_then(Value::as_object);
        let get = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
        let (operation, target_connector) = (get(OFFSETS_ANNOTATION), get(CONNECTOR_ANNOTATION));
        let operation = match (operation, target_connector) {
            (None, None) => return Ok(()),
            (Some(_), None) | (None, Some(_)) => {
                let missing = if operation.is_some() { CONNECTOR_ANNOTATION } else { OFFSETS_ANNOTATION };
                let message = format!(
                    "Encountered error getting connector offsets annotation. KafkaMirrorMaker2 resource {namespace}/{name} is missing annotation {missing}"
                );
                warnings.push(condition("Warning", Some("ManageOffsets"), Some(&message)));
                return Ok(());
            }
            (Some(op), Some(c)) if c == connector.name => op,
            _ => return Ok(()),
        };
        let offsets_path = format!("/connectors/{}/offsets", encode(&connector.name));
        let entry_key = format!("{}.json", connector.name.replace("->", "--"));
        let remove = [OFFSETS_ANNOTATION, CONNECTOR_ANNOTATION];
        match operation {
            "list" => {
                let Some(cm) = connector.list_offsets_to.as_deref() else {
                    let message = "Failed to list the connector offsets due to missing property listOffsets in KafkaMirrorMaker2 CR.";
                    warnings.push(condition("Warning", Some("ListOffsets"), Some(message)));
                    return Ok(());
                };
                let result: Result<()> = async {
                    let (code, offsets) = connect.call("GET", &offsets_path, None).await?;
                    if code != 200 {
                        return Err(rest_error("GET", &offsets_path, code, &offsets));
                    }
                    api.put_config_map_entry(namespace, cm, &entry_key, &serde_json::to_string_pretty(&offsets)?, resource).await?;
                    api.remove_annotations(MM2_KIND, namespace, name, &remove).await
                }
                .await;
                match result {
                    Ok(()) => notes.push(Note::Event(format!("connector {}: offsets listed to ConfigMap {cm}", connector.name))),
                    Err(e) => warnings.push(condition(
                        "Warning",
                        Some("ListOffsets"),
                        Some(&format!("Encountered error listing connector offsets. {}", failure_message(&e))),
                    )),
                }
            }
            "alter" => {
                let Some(cm) = connector.alter_offsets_from.as_deref() else {
                    let message = "Failed to alter the connector offsets due to missing property alterOffsets in KafkaMirrorMaker2 CR.";
                    warnings.push(condition("Warning", Some("AlterOffsets"), Some(message)));
                    return Ok(());
                };
                let result: Result<()> = async {
                    verify_stopped(connect, &connector.name).await?;
                    let data = api.config_map(namespace, cm).await?.ok_or_else(|| {
                        anyhow!("Encountered error fetching offsets to use in alter operation. ConfigMap {namespace}/{cm} does not exist.")
                    })?;
                    let text = data.get(&entry_key).ok_or_else(|| {
                        anyhow!("Encountered error fetching offsets to use in alter operation. Data field {entry_key} is missing.")
                    })?;
                    let offsets: Value =
                        serde_json::from_str(text).map_err(|e| anyhow!("Failed to parse contents of {entry_key} as JSON: {e}"))?;
                    let (code, body) = connect.call("PATCH", &offsets_path, Some(&offsets)).await?;
                    if code != 200 {
                        return Err(rest_error("PATCH", &offsets_path, code, &body));
                    }
                    api.remove_annotations(MM2_KIND, namespace, name, &remove).await
                }
                .await;
                match result {
                    Ok(()) => notes.push(Note::Event(format!("connector {}: offsets altered from ConfigMap {cm}", connector.name))),
                    Err(e) => warnings.push(condition(
                        "Warning",
                        Some("AlterOffsets"),
                        Some(&format!("Encountered error altering connector offsets. {}", failure_message(&e))),
                    )),
                }
            }
            "reset" => {
                let result: Result<()> = async {
                    verify_stopped(connect, &connector.name).await?;
                    let (code, body) = connect.call("DELETE", &offsets_path, None).await?;
                    if code != 200 {
                        return Err(rest_error("DELETE", &offsets_path, code, &body));
                    }
                    api.remove_annotations(MM2_KIND, namespace, name, &remove).await
                }
                .await;
                match result {
                    Ok(()) => notes.push(Note::Event(format!("connector {}: offsets reset", connector.name))),
                    Err(e) => warnings.push(condition(
                        "Warning",
                        Some("ResetOffsets"),
                        Some(&format!("Encountered error resetting connector offsets. {}", failure_message(&e))),
                    )),
                }
            }
            other => {
                // KafkaConnectorOffsetsAnnotation.valueOf throws: the reconciliation fails.
                return Err(failure(
                    "IllegalArgumentException",
                    format!("No enum constant io.strimzi.api.kafka.model.connector.KafkaConnectorOffsetsAnnotation.{other}"),
                ));
            }
        }
        Ok(())
    }

    // ----------------------------------------------------------------------------- MM1

    async fn reconcile_mm1(
        &self,
        api: &impl ClusterApi,
        resource: &Value,
        status: &mut Map<String, Value>,
        notes: &mut Vec<Note>,
    ) -> Result<()> {
        let namespace = str_at(resource, "/metadata/namespace").unwrap_or_default().to_string();
        let name = str_at(resource, "/metadata/name").unwrap_or_default().to_string();
        let spec = &resource["spec"];
        let replicas = spec.get("replicas").and_then(Value::as_i64).unwrap_or(1);
        status.insert("replicas".into(), json!(replicas));
        status.insert(
            "labelSelector".into(),
            json!(format!("strimzi.io/cluster={name},strimzi.io/name={name}-mirror-maker,strimzi.io/kind={MM1_KIND}")),
        );
        // The deprecation warning Strimzi 0.45.2 adds on every reconciliation.
        status.insert(
            "conditions".into(),
            json!([condition(
                "Warning",
                Some("MirrorMaker1Deprecation"),
                Some(
                    "MirrorMaker 1 is deprecated and will be removed in the next Strimzi release (0.46.0). Please migrate to MirrorMaker 2."
                )
            )]),
        );
        let include = spec.get("include").or_else(|| spec.get("whitelist")).and_then(Value::as_str);
        let Some(include) = include else {
            return Err(failure("InvalidResourceException", "One of the fields include or whitelist needs to be specified."));
        };
        let dir = self.mirror_dir(&namespace, &name)?;
        std::fs::create_dir_all(&dir)?;
        let mut properties = BTreeMap::new();
        for (side, forbidden_keys) in [("consumer", MM1_CONSUMER_FORBIDDEN), ("producer", MM1_PRODUCER_FORBIDDEN)] {
            let client = &spec[side];
            let mut text = String::new();
            text.push_str(&format!(
                "bootstrap.servers={}\n",
                self.resolve(&namespace, str_at(client, "/bootstrapServers").unwrap_or_default())?
            ));
            if side == "consumer" {
                text.push_str(&format!("group.id={}\n", str_at(client, "/groupId").unwrap_or_default()));
            }
            for (k, v) in client.get("config").and_then(Value::as_object).into_iter().flatten() {
                if forbidden(k, forbidden_keys, &[]) {
                    notes.push(Note::Event(format!("{MM1_KIND} {namespace}/{name}: {side} option {k} is forbidden and ignored")));
                } else {
                    text.push_str(&format!("{k}={}\n", scalar(v)));
                }
            }
            // kafka_mirror_maker_{consumer,producer}_config_generator.sh: TLS from the mounted
            // certificates, SCRAM with the password read from the mounted Secret.
            let mut protocol = "PLAINTEXT";
            if client.get("tls").is_some() {
                protocol = "SSL";
                if let Some(certs) = client.pointer("/tls/trustedCertificates").and_then(Value::as_array) {
                    let pem = trusted_certificates(api, &namespace, certs).await?;
                    let path = dir.join(format!("{side}-certs/trusted.crt"));
                    write_private(&path, pem.as_bytes())?;
                    text.push_str(&format!("ssl.truststore.location={}\nssl.truststore.type=PEM\n", path.display()));
                }
            }
            if let Some(auth) = client.get("authentication") {
                let mechanism = match str_at(auth, "/type") {
                    Some("scram-sha-512") => "SCRAM-SHA-512",
                    Some("scram-sha-256") => "SCRAM-SHA-256",
                    Some("plain") => "PLAIN",
                    other => {
                        return Err(failure(
                            "InvalidResourceException",
                            format!("authentication type {other:?} is not supported by the test bed"),
                        ));
                    }
                };
                protocol = if protocol == "SSL" { "SASL_SSL" } else { "SASL_PLAINTEXT" };
                let secret = str_at(auth, "/passwordSecret/secretName").unwrap_or_default();
                let key = str_at(auth, "/passwordSecret/password").unwrap_or_default();
                let password = String::from_utf8(secret_item(api, &namespace, secret, key).await?)?;
                let user = str_at(auth, "/username").unwrap_or_default();
                let module = if mechanism == "PLAIN" {
                    "org.apache.kafka.common.security.plain.PlainLoginModule"
                } else {
                    "org.apache.kafka.common.security.scram.ScramLoginModule"
                };
                text.push_str(&format!(
                    "sasl.mechanism={mechanism}\nsasl.jaas.config={module} required username=\"{user}\" password=\"{}\";\n",
                    password.trim_end()
                ));
            }
            text.push_str(&format!("security.protocol={protocol}\n"));
            properties.insert(side, text);
        }
        let mut args = vec![
            "--consumer.config".to_string(),
            dir.join("consumer.properties").display().to_string(),
            "--producer.config".to_string(),
            dir.join("producer.properties").display().to_string(),
            "--whitelist".to_string(),
            include.to_string(),
        ];
        if let Some(n) = spec.pointer("/consumer/numStreams").and_then(Value::as_i64) {
            args.extend(["--num.streams".into(), n.to_string()]);
        }
        if let Some(n) = spec.pointer("/consumer/offsetCommitInterval").and_then(Value::as_i64) {
            args.extend(["--offset.commit.interval.ms".into(), n.to_string()]);
        }
        // Passed only when set (KafkaMirrorMakerCluster.getEnvVars): Kafka's default is true.
        if let Some(abort) = spec.pointer("/producer/abortOnSendFailure").and_then(Value::as_bool) {
            args.extend(["--abort.on.send.failure".into(), abort.to_string()]);
        }
        write_private(&dir.join("consumer.properties"), properties["consumer"].as_bytes())?;
        write_private(&dir.join("producer.properties"), properties["producer"].as_bytes())?;
        std::fs::write(dir.join("args"), args.join("\n") + "\n")?;
        std::fs::write(dir.join("kind"), "mm1")?;
        let digest =
            format!("{:x}", fxhash(&[properties["consumer"].as_bytes(), properties["producer"].as_bytes(), args.join("\n").as_bytes()]));
        self.run_process(&namespace, &name, replicas, &digest).await?;
        if replicas > 0 {
            // Deployment readiness: the mirror's consumer has joined its group on the source.
            let group = str_at(spec, "/consumer/groupId").unwrap_or_default();
            let source = self.resolve(&namespace, str_at(spec, "/consumer/bootstrapServers").unwrap_or_default())?;
            wait_group_members(&dir.join("consumer.properties"), &source, group, true).await?;
        }
        Ok(())
    }
}

fn failure_message(e: &anyhow::Error) -> String {
    match e.downcast_ref::<Failure>() {
        Some(f) => f.message.clone(),
        None => format!("{e:#}"),
    }
}

async fn verify_stopped(connect: &Connect, name: &str) -> Result<()> {
    let status = connect.status(name).await?;
    match connector_state(&status) {
        None => bail!("JSON response lacked $.connector.state"),
        Some("STOPPED") => Ok(()),
        Some(_) => bail!("Connector is not in STOPPED state"),
    }
}

/// FNV-1a over the parts: a stand-in for Strimzi's configuration hash annotation.
fn fxhash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// ReconcilerUtils.trustedCertificates: every referenced certificate (or `pattern` match) of the
/// Secrets, joined; a missing Secret or item fails the reconciliation.
async fn trusted_certificates(api: &impl ClusterApi, namespace: &str, sources: &[Value]) -> Result<String> {
    let mut pems = Vec::new();
    for source in sources {
        let secret_name = str_at(source, "/secretName").unwrap_or_default();
        let data = api
            .secret(namespace, secret_name)
            .await?
            .ok_or_else(|| failure("InvalidConfigurationException", format!("Secret {secret_name} not found in namespace {namespace}")))?;
        if let Some(cert) = str_at(source, "/certificate") {
            let bytes = data.get(cert).ok_or_else(|| {
                failure("InvalidConfigurationException", format!("Items with key(s) [{cert}] are missing in Secret {secret_name}"))
            })?;
            pems.push(String::from_utf8_lossy(bytes).trim_end().to_string() + "\n");
        } else if let Some(pattern) = str_at(source, "/pattern") {
            let glob = regex::Regex::new(&format!("^{}$", regex::escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")))?;
            let mut matched: Vec<String> = data
                .iter()
                .filter(|(k, _)| glob.is_match(k))
                .map(|(_, v)| String::from_utf8_lossy(v).trim_end().to_string() + "\n")
                .collect();
            matched.sort();
            pems.extend(matched);
        } else {
            return Err(failure("InvalidResourceException", "Certificate source does not contain the certificate or the pattern."));
        }
    }
    Ok(pems.join("\n"))
}

async fn secret_item(api: &impl ClusterApi, namespace: &str, secret: &str, key: &str) -> Result<Vec<u8>> {
    let data = api
        .secret(namespace, secret)
        .await?
        .ok_or_else(|| failure("InvalidConfigurationException", format!("Secret {secret} not found in namespace {namespace}")))?;
    data.get(key)
        .cloned()
        .ok_or_else(|| failure("InvalidConfigurationException", format!("Items with key(s) [{key}] are missing in Secret {secret}")))
}

fn secret_reference(namespace: &str, secret: &str, key: &str) -> String {
    format!("${{strimzisecrets:{namespace}/{secret}:{key}}}")
}

/// The Connect worker's properties as KafkaConnectConfigurationBuilder writes them, with the
/// test bed's REST listener and the real bootstrap address.
fn worker_properties(bootstrap: &str, namespace: &str, component: &str, target: &Value, rest_port: u16, notes: &mut Vec<Note>) -> String {
    let mut w = String::from("# Kafka Connect worker of a KafkaMirrorMaker2, as Strimzi's cluster operator writes it.\n");
    w.push_str(&format!("bootstrap.servers={bootstrap}\n"));
    w.push_str(&format!("group.id={}\n", str_at(target, "/groupId").unwrap_or_default()));
    w.push_str(&format!("config.storage.topic={}\n", str_at(target, "/configStorageTopic").unwrap_or_default()));
    w.push_str(&format!("status.storage.topic={}\n", str_at(target, "/statusStorageTopic").unwrap_or_default()));
    w.push_str(&format!("offset.storage.topic={}\n", str_at(target, "/offsetStorageTopic").unwrap_or_default()));
    // Strimzi: rest.advertised.host.name=${strimzienv:ADVERTISED_HOSTNAME}, port 8083, in a pod.
    w.push_str(&format!("listeners=http://127.0.0.1:{rest_port}\nrest.advertised.host.name=127.0.0.1\nrest.advertised.port={rest_port}\n"));
    let mut protocol = "PLAINTEXT";
    let prefixes = ["", "producer.", "consumer.", "admin."];
    if target.get("tls").is_some() {
        protocol = "SSL";
        if target.pointer("/tls/trustedCertificates").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            let reference = secret_reference(namespace, &format!("{component}-tls-trusted-certs"), "ca.crt");
            for p in prefixes {
                w.push_str(&format!("{p}ssl.truststore.certificates={reference}\n{p}ssl.truststore.type=PEM\n"));
            }
        }
    }
    if let Some(auth) = target.get("authentication") {
        protocol = if protocol == "SSL" { "SASL_SSL" } else { "SASL_PLAINTEXT" };
        let mechanism = if str_at(auth, "/type") == Some("scram-sha-256") { "SCRAM-SHA-256" } else { "SCRAM-SHA-512" };
        let password = secret_reference(
            namespace,
            str_at(auth, "/passwordSecret/secretName").unwrap_or_default(),
            str_at(auth, "/passwordSecret/password").unwrap_or_default(),
        );
        let jaas = format!(
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{password}\";",
            str_at(auth, "/username").unwrap_or_default()
        );
        for p in prefixes {
            w.push_str(&format!("{p}sasl.mechanism={mechanism}\n{p}sasl.jaas.config={jaas}\n"));
        }
    }
    // Strimzi's config providers; `strimzisecrets` reads the mounted Secrets (see the module doc).
    w.push_str("config.providers=strimzienv,strimzifile,strimzidir,strimzisecrets\n");
    w.push_str("config.providers.strimzienv.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\n");
    w.push_str("config.providers.strimzienv.param.allowlist.pattern=.*\n");
    w.push_str("config.providers.strimzifile.class=org.apache.kafka.common.config.provider.FileConfigProvider\n");
    w.push_str("config.providers.strimzidir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider\n");
    w.push_str("config.providers.strimzisecrets.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider\n");
    // User configuration (spec.target.config) with Strimzi's defaults, forbidden keys dropped.
    let mut user: BTreeMap<String, String> = [
        ("key.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
        ("value.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
        ("header.converter", "org.apache.kafka.connect.converters.ByteArrayConverter"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in target.get("config").and_then(Value::as_object).into_iter().flatten() {
        if forbidden(k, MM2_FORBIDDEN, MM2_FORBIDDEN_EXCEPTIONS) {
            notes.push(Note::Event(format!("spec.target.config option {k} is forbidden and ignored")));
        } else {
            user.insert(k.clone(), scalar(v));
        }
    }
    for (k, v) in user {
        w.push_str(&format!("{k}={v}\n"));
    }
    for p in prefixes {
        w.push_str(&format!("{p}security.protocol={protocol}\n"));
    }
    w
}

/// One connector Strimzi derives from `spec.mirrors[]` (KafkaMirrorMaker2Connectors).
#[derive(Debug, Clone)]
struct ConnectorDefinition {
    name: String,
    class: String,
    config: BTreeMap<String, String>,
    tasks_max: Option<i64>,
    state: Option<String>,
    list_offsets_to: Option<String>,
    alter_offsets_from: Option<String>,
}

impl ConnectorDefinition {
    /// asJson: the config, tasks.max (a number) and connector.class.
    fn request_config(&self) -> Value {
        let mut m: Map<String, Value> = self.config.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        if let Some(t) = self.tasks_max {
            m.insert("tasks.max".into(), json!(t));
        }
        m.insert("connector.class".into(), json!(self.class));
        Value::Object(m)
    }

    /// needsReconfiguring compares with what GET /config returns (strings, plus name).
    fn comparable_config(&self) -> Value {
        let mut m: Map<String, Value> = self.config.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        if let Some(t) = self.tasks_max {
            m.insert("tasks.max".into(), json!(t.to_string()));
        }
        m.insert("name".into(), json!(self.name));
        m.insert("connector.class".into(), json!(self.class));
        Value::Object(m)
    }
}

fn connector_definitions(
    runtime: &MirrorRuntime,
    namespace: &str,
    component: &str,
    spec: &Value,
    target_alias: &str,
    mirrors: &[Value],
) -> Result<Vec<ConnectorDefinition>> {
    let mut out = Vec::new();
    for mirror in mirrors {
        let source = &mirror["source"];
        let source_alias = str_at(source, "/alias").unwrap_or_default();
        for (field, suffix) in [("sourceConnector", "MirrorSourceConnector"), ("checkpointConnector", "MirrorCheckpointConnector")] {
            let Some(connector) = mirror.get(field) else { continue };
            let mut config = BTreeMap::new();
            add_cluster(runtime, namespace, component, &spec["target"], "target.cluster.", &mut config)?;
            add_cluster(runtime, namespace, component, source, "source.cluster.", &mut config)?;
            for (k, v) in connector.get("config").and_then(Value::as_object).into_iter().flatten() {
                config.insert(k.clone(), scalar(v));
            }
            for (field, key) in [
                ("topicsPattern", "topics"),
                ("topicsExcludePattern", "topics.exclude"),
                ("groupsPattern", "groups"),
                ("groupsExcludePattern", "groups.exclude"),
            ] {
                if let Some(v) = mirror.get(field).and_then(Value::as_str) {
                    config.insert(key.into(), v.into());
                }
            }
            out.push(ConnectorDefinition {
                name: format!("{source_alias}->{target_alias}.{suffix}"),
                class: format!("org.apache.kafka.connect.mirror.{suffix}"),
                config,
                tasks_max: connector.get("tasksMax").and_then(Value::as_i64),
                state: connector.get("state").and_then(Value::as_str).map(str::to_string),
                list_offsets_to: str_at(connector, "/listOffsets/toConfigMap/name").map(str::to_string),
                alter_offsets_from: str_at(connector, "/alterOffsets/fromConfigMap/name").map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// addClusterToMirrorMaker2ConnectorConfig: alias, bootstrap, TLS and SASL with Secret references.
fn add_cluster(
    runtime: &MirrorRuntime,
    namespace: &str,
    component: &str,
    cluster: &Value,
    prefix: &str,
    config: &mut BTreeMap<String, String>,
) -> Result<()> {
    let alias = str_at(cluster, "/alias").unwrap_or_default();
    config.insert(format!("{prefix}alias"), alias.to_string());
    config.insert(
        format!("{prefix}bootstrap.servers"),
        runtime.resolve(namespace, str_at(cluster, "/bootstrapServers").unwrap_or_default())?,
    );
    let mut protocol = "PLAINTEXT";
    if cluster.get("tls").is_some() {
        protocol = "SSL";
        if cluster.pointer("/tls/trustedCertificates").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            let reference = secret_reference(namespace, &format!("{component}-tls-trusted-certs"), &format!("{alias}-ca.crt"));
            config.insert(format!("{prefix}ssl.truststore.certificates"), reference);
            config.insert(format!("{prefix}ssl.truststore.type"), "PEM".into());
        }
    }
    if let Some(auth) = cluster.get("authentication") {
        protocol = if protocol == "SSL" { "SASL_SSL" } else { "SASL_PLAINTEXT" };
        let mechanism = if str_at(auth, "/type") == Some("scram-sha-256") { "SCRAM-SHA-256" } else { "SCRAM-SHA-512" };
        config.insert(format!("{prefix}sasl.mechanism"), mechanism.into());
        let password = secret_reference(
            namespace,
            str_at(auth, "/passwordSecret/secretName").unwrap_or_default(),
            str_at(auth, "/passwordSecret/password").unwrap_or_default(),
        );
        config.insert(
            format!("{prefix}sasl.jaas.config"),
            format!(
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{password}\";",
                str_at(auth, "/username").unwrap_or_default()
            ),
        );
    }
    config.insert(format!("{prefix}security.protocol"), protocol.into());
    for (k, v) in cluster.get("config").and_then(Value::as_object).into_iter().flatten() {
        config.insert(format!("{prefix}{k}"), scalar(v));
    }
    Ok(())
}

/// Wait until the consumer group on the source has members (`want_members`) or none.
pub async fn wait_group_members(consumer_properties: &Path, bootstrap: &str, group: &str, want_members: bool) -> Result<()> {
    let text = std::fs::read_to_string(consumer_properties)?;
    let mut config = rdkafka::ClientConfig::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && l.contains('=')) {
        let (k, v) = line.split_once('=').unwrap_or_default();
        match k {
            "security.protocol" => {
                config.set(k, v);
            }
            "sasl.mechanism" => {
                config.set("sasl.mechanisms", v);
            }
            "ssl.truststore.location" => {
                config.set("ssl.ca.location", v);
            }
            "sasl.jaas.config" => {
                let field =
                    |name: &str| v.split(&format!("{name}=\"")).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
                config.set("sasl.username", field("username"));
                config.set("sasl.password", field("password"));
            }
            _ => {}
        }
    }
    config.set("bootstrap.servers", bootstrap).set("broker.address.family", "v4");
    let consumer: rdkafka::consumer::BaseConsumer = config.create()?;
    let group_name = group.to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let members = tokio::task::block_in_place(|| {
            use rdkafka::consumer::Consumer;
            consumer
                .fetch_group_list(Some(&group_name), Duration::from_secs(10))
                .map(|list| list.groups().iter().find(|g| g.name() == group_name).map(|g| g.members().len()).unwrap_or(0))
        });
        if let Ok(n) = members
            && (n > 0) == want_members
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("consumer group {group} on {bootstrap}: still {} members after 120 s", if want_members { "no" } else { "has" });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The kube stand-in's side: watch the mirror resources of mapped namespaces, reconcile each on
/// every event (one at a time per resource, like the operator's per-resource lock), again every
/// [`kube_driver::RESYNC`] (Strimzi's periodic reconciliation, 120 s by default, shortened) and
/// when a ConfigMap in their namespace changes; write `status` only when it changed (Strimzi's
/// maybeUpdateStatusCommon), so status writes do not feed back into endless reconciliations.
pub mod kube_driver {
    use super::*;
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use kube::Client;
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
    use kube::runtime::{WatchStreamExt, watcher};
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    pub const RESYNC: Duration = Duration::from_secs(3);

    /// Called with every note a reconciliation makes (the stand-in's journal).
    pub type Recorder = Arc<dyn Fn(Note) + Send + Sync>;

    pub struct KubeApi {
        client: Client,
        api_version: String,
    }

    fn resource(api_version: &str, kind: &str) -> ApiResource {
        let (group, version) = api_version.split_once('/').unwrap_or(("kafka.strimzi.io", "v1"));
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &format!("{}s", kind.to_lowercase()))
    }

    impl ClusterApi for KubeApi {
        async fn secret(&self, namespace: &str, name: &str) -> Result<Option<BTreeMap<String, Vec<u8>>>> {
            let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
            Ok(api.get_opt(name).await?.map(|s| s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect()))
        }

        async fn config_map(&self, namespace: &str, name: &str) -> Result<Option<BTreeMap<String, String>>> {
            let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
            Ok(api.get_opt(name).await?.map(|c| c.data.unwrap_or_default()))
        }

        async fn put_config_map_entry(&self, namespace: &str, name: &str, key: &str, value: &str, owner: &Value) -> Result<()> {
            let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
            let kind = str_at(owner, "/kind").unwrap_or_default();
            let owner_name = str_at(owner, "/metadata/name").unwrap_or_default();
            let reference = json!({"apiVersion": str_at(owner, "/apiVersion"), "kind": kind, "name": owner_name,
                "uid": str_at(owner, "/metadata/uid"), "blockOwnerDeletion": false, "controller": false});
            let mut references = match api.get_opt(name).await? {
                Some(existing) => serde_json::to_value(existing.metadata.owner_references.unwrap_or_default())?,
                None => json!([]),
            };
            if let Some(list) = references.as_array_mut()
                && !list.iter().any(|r| r["kind"] == kind && r["name"] == owner_name)
            {
                list.push(reference);
            }
            let patch = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "ownerReferences": references, "labels": {
                    "strimzi.io/cluster": owner_name, "strimzi.io/kind": kind, "strimzi.io/name": owner_name,
                    "app.kubernetes.io/managed-by": "strimzi-cluster-operator"}},
                "data": {key: value}});
            api.patch(name, &PatchParams::apply("strimzi-cluster-operator").force(), &Patch::Apply(patch)).await?;
            Ok(())
        }

        async fn remove_annotations(&self, kind: &str, namespace: &str, name: &str, keys: &[&str]) -> Result<()> {
            let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), namespace, &resource(&self.api_version, kind));
            let nulls: Map<String, Value> = keys.iter().map(|k| ((*k).to_string(), Value::Null)).collect();
            api.patch(name, &PatchParams::default(), &Patch::Merge(json!({"metadata": {"annotations": nulls}}))).await?;
            Ok(())
        }
    }

    /// Aborts the driver when dropped (with the stand-in that holds it).
    pub struct Driver(tokio::task::JoinHandle<()>);

    impl Drop for Driver {
        fn drop(&mut self) {
            self.0.abort();
        }
    }

    type Key = (String, String, String);

    struct Shared {
        client: Client,
        api_version: String,
        runtime: MirrorRuntime,
        record: Recorder,
        pending: Mutex<HashSet<Key>>,
        locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    }

    /// The mirror kinds served at `api_version`: KafkaMirrorMaker2 in `v1`, KafkaMirrorMaker in
    /// `v1beta2` (the legacy profile's mirror).
    fn kinds(api_version: &str) -> Vec<&'static str> {
        if api_version.ends_with("/v1") { vec![MM2_KIND] } else { vec![MM1_KIND] }
    }

    pub fn spawn(client: Client, api_version: &str, runtime: MirrorRuntime, record: Recorder) -> Driver {
        let shared = Arc::new(Shared {
            client,
            api_version: api_version.to_string(),
            runtime,
            record,
            pending: Mutex::new(HashSet::new()),
            locks: Mutex::new(HashMap::new()),
        });
        Driver(tokio::spawn(run(shared)))
    }

    async fn run(shared: Arc<Shared>) {
        let mut streams = Vec::new();
        for kind in kinds(&shared.api_version) {
            let api: Api<DynamicObject> = Api::all_with(shared.client.clone(), &resource(&shared.api_version, kind));
            streams.push(
                watcher(api, watcher::Config::default())
                    .default_backoff()
                    .filter_map(move |e| async move {
                        let objects = match e.ok()? {
                            watcher::Event::Apply(o) | watcher::Event::Delete(o) | watcher::Event::InitApply(o) => vec![o],
                            _ => vec![],
                        };
                        Some(
                            objects
                                .into_iter()
                                .map(|o| (kind, o.metadata.namespace.unwrap_or_default(), o.metadata.name.unwrap_or_default()))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .boxed(),
            );
        }
        let config_maps: Api<ConfigMap> = Api::all(shared.client.clone());
        let namespaces_of_config_maps = watcher(config_maps, watcher::Config::default())
            .default_backoff()
            .applied_objects()
            .filter_map(|c| async move { c.ok().map(|c| vec![("ConfigMap", c.metadata.namespace.unwrap_or_default(), String::new())]) })
            .boxed();
        streams.push(namespaces_of_config_maps);
        let ticks = futures::stream::unfold((), |()| async {
            tokio::time::sleep(RESYNC).await;
            Some((vec![("resync", String::new(), String::new())], ()))
        })
        .boxed();
        streams.push(ticks);
        let mut all = futures::stream::select_all(streams);
        while let Some(keys) = all.next().await {
            for (kind, namespace, name) in keys {
                match kind {
                    "ConfigMap" if shared.runtime.serves(&namespace) => enqueue_namespace(&shared, Some(&namespace)).await,
                    "resync" => enqueue_namespace(&shared, None).await,
                    "ConfigMap" => {}
                    _ if shared.runtime.serves(&namespace) => enqueue(&shared, (kind.to_string(), namespace, name)),
                    _ => {}
                }
            }
        }
    }

    /// Every mirror resource of one mapped namespace (or of all).
    async fn enqueue_namespace(shared: &Arc<Shared>, namespace: Option<&str>) {
        for kind in kinds(&shared.api_version) {
            let ar = resource(&shared.api_version, kind);
            let namespaces: Vec<String> = match namespace {
                Some(ns) => vec![ns.to_string()],
                None => shared.runtime.sites.keys().cloned().collect(),
            };
            for ns in namespaces {
                let api: Api<DynamicObject> = Api::namespaced_with(shared.client.clone(), &ns, &ar);
                if let Ok(list) = api.list(&Default::default()).await {
                    for o in list {
                        enqueue(shared, (kind.to_string(), ns.clone(), o.metadata.name.unwrap_or_default()));
                    }
                }
                // Resources deleted while no watch event reached us still stop their process.
                if let Ok(dirs) = std::fs::read_dir(shared.runtime.sites[&ns].instance_dir.join("mirrors")) {
                    for d in dirs.flatten() {
                        let id = d.file_name().to_string_lossy().into_owned();
                        if let Some(name) = id.strip_prefix(&format!("{ns}."))
                            && std::fs::read_to_string(d.path().join("kind")).is_ok_and(|k| (k == "connect") == (kind == MM2_KIND))
                        {
                            enqueue(shared, (kind.to_string(), ns.clone(), name.to_string()));
                        }
                    }
                }
            }
        }
    }

    fn enqueue(shared: &Arc<Shared>, key: Key) {
        if !shared.pending.lock().unwrap().insert(key.clone()) {
            return;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let lock = shared.locks.lock().unwrap().entry(key.clone()).or_default().clone();
            let _guard = lock.lock().await;
            shared.pending.lock().unwrap().remove(&key);
            if let Err(e) = reconcile_latest(&shared, &key).await {
                (shared.record)(Note::Event(format!("mirror runtime error on {} {}/{}: {e:#}", key.0, key.1, key.2)));
            }
        });
    }

    fn without_times(status: &Value) -> Value {
        let mut s = status.clone();
        if let Some(conditions) = s.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in conditions {
                if let Some(o) = c.as_object_mut() {
                    o.remove("lastTransitionTime");
                }
            }
        }
        s
    }

    async fn reconcile_latest(shared: &Shared, (kind, namespace, name): &Key) -> Result<()> {
        let api: Api<DynamicObject> = Api::namespaced_with(shared.client.clone(), namespace, &resource(&shared.api_version, kind));
        let object = api.get_opt(name).await?;
        let Some(object) = object.filter(|o| o.metadata.deletion_timestamp.is_none()) else {
            if shared.runtime.mirror_dir(namespace, name)?.exists() {
                shared.runtime.deleted(namespace, name).await?;
                (shared.record)(Note::Event(format!("{kind} {namespace}/{name} deleted: its process stopped")));
            }
            return Ok(());
        };
        let value = serde_json::to_value(&object)?;
        let view = KubeApi { client: shared.client.clone(), api_version: shared.api_version.clone() };
        let reconciled = shared.runtime.reconcile(&view, kind, &value).await;
        let old = value.get("status").cloned().unwrap_or(json!({}));
        let changed = without_times(&old) != without_times(&reconciled.status);
        for note in reconciled.notes {
            if changed || matches!(note, Note::Event(_)) {
                (shared.record)(note);
            }
        }
        if changed {
            let mut patch = reconciled.status.clone();
            if let (Some(p), Some(o)) = (patch.as_object_mut(), old.as_object()) {
                for k in o.keys() {
                    p.entry(k.clone()).or_insert(Value::Null);
                }
            }
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": patch}))).await?;
        }
        Ok(())
    }
}
