//! How verification reaches a site: one `ConnectionSettings` per site, resolved from flags,
//! the environment, a Java client properties file (the seed's `client-sasl-scram.properties`)
//! or the cluster (Kafka status, CA and password Secrets); and the one function that turns it
//! into an rdkafka `ClientConfig`, so every check uses the same SASL/TLS/timeouts. Connection
//! failures are classified into errors a user can act on.

use crate::error::UsageError;
use crate::truststore::{StoreType, TrustStoreError, read_trust_store};
use anyhow::{Result, anyhow};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct ConnectionSettings {
    /// Which site this is, for messages (`a`, `b`, or `explicit`).
    pub label: String,
    pub bootstrap: String,
    pub ca_file: Option<PathBuf>,
    /// CA certificate PEM (from the cluster's Secret, or a JKS/PKCS#12 trust store) when there is no file.
    pub ca_pem: Option<String>,
    /// Where `ca_pem` came from, for messages; `None` = the cluster's Secret.
    pub ca_origin: Option<String>,
    pub user: String,
    pub password: String,
    /// Where the password came from, for the fix of an authentication failure.
    pub password_source: String,
    pub timeout: Duration,
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionSettings")
            .field("label", &self.label)
            .field("bootstrap", &self.bootstrap)
            .field("ca_file", &self.ca_file)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl ConnectionSettings {
    fn ca_description(&self) -> String {
        match (&self.ca_file, &self.ca_origin) {
            (Some(p), _) => format!("CA file {}", p.display()),
            (None, Some(origin)) => origin.clone(),
            (None, None) => "the cluster CA from the cluster's Secret".into(),
        }
    }

    /// The one place a Kafka client configuration is made.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanisms", "SCRAM-SHA-512")
            .set("sasl.username", &self.user)
            .set("sasl.password", &self.password)
            // Hostname verification stays on (librdkafka's default, stated for clarity).
            .set("ssl.endpoint.identification.algorithm", "https")
            .set("broker.address.family", "v4")
            .set("socket.timeout.ms", (self.timeout.as_millis().clamp(1000, 60_000)).to_string())
            .set("message.max.bytes", "2097152")
            .set("receive.message.max.bytes", "104857600")
            .set("client.id", format!("amqdr-verify-{}", self.label));
        match (&self.ca_file, &self.ca_pem) {
            (Some(f), _) => {
                c.set("ssl.ca.location", f.display().to_string());
            }
            (None, Some(pem)) => {
                c.set("ssl.ca.pem", pem);
            }
            (None, None) => {}
        }
        c.set_log_level(RDKafkaLogLevel::Warning);
        c
    }
}

/// Client context that keeps librdkafka's error and log messages, so a failed connection can
/// say *why* (authentication, certificate, refused connection).
#[derive(Clone, Default)]
pub struct RecordingContext {
    pub messages: Arc<Mutex<Vec<String>>>,
}

impl ClientContext for RecordingContext {
    fn log(&self, _level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        let mut m = self.messages.lock().expect("lock");
        if m.len() < 200 {
            m.push(format!("{fac}: {log_message}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let mut m = self.messages.lock().expect("lock");
        if m.len() < 200 {
            m.push(format!("{error}: {reason}"));
        }
    }
}

impl rdkafka::consumer::ConsumerContext for RecordingContext {}

impl RecordingContext {
    pub fn text(&self) -> String {
        self.messages.lock().expect("lock").join("\n")
    }
}

/// Why a site could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "authentication failed on {site} ({bootstrap}) as user {user}: wrong password, or no SCRAM-SHA-512 credential for that user\n  fix: check the password in {password_source} (or pass another with --password-file)"
    )]
    AuthenticationFailed { site: String, bootstrap: String, user: String, password_source: String },
    #[error(
        "TLS certificate verify failed on {site} ({bootstrap}): the broker's certificate is not trusted by {ca}, or its name does not match the address\n  fix: pass the cluster CA (the `<cluster>-cluster-ca-cert` Secret's ca.crt) with --ca-file"
    )]
    CertificateVerifyFailed { site: String, bootstrap: String, ca: String },
    #[error(
        "cannot reach {site} at {bootstrap}: {detail}\n  fix: check the address (Route/LoadBalancer host and port) and that the cluster is up"
    )]
    Unreachable { site: String, bootstrap: String, detail: String },
    #[error("topic {topic} does not exist on {site} ({bootstrap})\n  fix: create it (a KafkaTopic), or pass --topic")]
    UnknownTopic { site: String, bootstrap: String, topic: String },
    #[error(
        "user {user} is not authorized to use topic {topic} on {site} ({bootstrap}) (the brokers do not say whether it exists)\n  fix: pass a topic the user may use (--topic), or grant it: settings user.topics, then `amqdr install`"
    )]
    TopicNotAuthorized { site: String, bootstrap: String, user: String, topic: String },
}

/// Classify librdkafka's messages from a failed connection attempt.
pub fn classify(settings: &ConnectionSettings, messages: &str, fallback: &str) -> ConnectError {
    let site = format!("site {}", settings.label);
    let bootstrap = settings.bootstrap.clone();
    let lower = messages.to_lowercase();
    if lower.contains("authentication failed") || lower.contains("sasl authentication error") || lower.contains("invalid credentials") {
        ConnectError::AuthenticationFailed {
            site,
            bootstrap,
            user: settings.user.clone(),
            password_source: settings.password_source.clone(),
        }
    } else if lower.contains("certificate verify failed") || lower.contains("ssl handshake failed") {
        ConnectError::CertificateVerifyFailed { site, bootstrap, ca: settings.ca_description() }
    } else {
        let detail = messages
            .lines()
            .find(|l| l.contains("Connect to") || l.contains("refused") || l.contains("resolve"))
            .map(str::to_string)
            .unwrap_or_else(|| fallback.to_string());
        ConnectError::Unreachable { site, bootstrap, detail }
    }
}

/// Connect and check the topic exists, within the timeout; a clear error otherwise.
pub fn probe(settings: &ConnectionSettings, topic: Option<&str>) -> Result<()> {
    let context = RecordingContext::default();
    let consumer: BaseConsumer<RecordingContext> = settings
        .client_config()
        .set("group.id", "amqdr-verify-probe")
        .create_with_context(context.clone())
        .map_err(|e| anyhow!("invalid client settings for site {}: {e}", settings.label))?;
    match consumer.fetch_metadata(topic, settings.timeout) {
        Ok(md) => {
            if let Some(t) = topic {
                let found = md.topics().iter().find(|x| x.name() == t);
                if found.and_then(|x| x.error()).is_some_and(|e| RDKafkaErrorCode::from(e) == RDKafkaErrorCode::TopicAuthorizationFailed) {
                    return Err(ConnectError::TopicNotAuthorized {
                        site: format!("site {}", settings.label),
                        bootstrap: settings.bootstrap.clone(),
                        user: settings.user.clone(),
                        topic: t.into(),
                    }
                    .into());
                }
                let missing = match found {
                    None => true,
                    Some(x) => {
                        matches!(x.error(), Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition)
                            || x.partitions().is_empty()
                    }
                };
                if missing {
                    return Err(ConnectError::UnknownTopic {
                        site: format!("site {}", settings.label),
                        bootstrap: settings.bootstrap.clone(),
                        topic: t.into(),
                    }
                    .into());
                }
            }
            Ok(())
        }
        Err(e) => {
            // librdkafka hands error and log events to the application only when it polls.
            for _ in 0..5 {
                let _ = consumer.poll(Duration::from_millis(50));
            }
            Err(classify(settings, &context.text(), &e.to_string()).into())
        }
    }
}

/// Explicit connection inputs: flags, environment, a properties file.
#[derive(Debug, Clone, Default)]
pub struct ConnectionInputs {
    pub bootstrap: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub client_config: Option<PathBuf>,
}

/// Java client properties in the seed's format: what amqdr can use of them.
#[derive(Debug, Default, PartialEq)]
pub struct JavaClientProperties {
    pub bootstrap: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub truststore: Option<TrustStoreProperties>,
}

/// `ssl.truststore.*` of a Java client properties file.
#[derive(Clone, PartialEq)]
pub struct TrustStoreProperties {
    /// As written; a relative location resolves against the working directory, as in Java.
    pub location: PathBuf,
    pub store_type: StoreType,
    /// Whether `ssl.truststore.type` was set (otherwise Java's default, JKS), for messages.
    pub type_given: bool,
    pub password: Option<String>,
}

impl fmt::Debug for TrustStoreProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStoreProperties")
            .field("location", &self.location)
            .field("store_type", &self.store_type)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The CA a connection trusts, from a client properties file.
#[derive(Debug, Clone, PartialEq)]
pub enum TrustedCa {
    /// A PEM file, handed to librdkafka as `ssl.ca.location`.
    PemFile(PathBuf),
    /// Certificates read from a JKS or PKCS#12 store (`ssl.ca.pem`), and where they came from.
    Certificates { pem: String, origin: String },
}

impl TrustStoreProperties {
    /// Read the store the way the Java client would; errors name the properties and the fix.
    pub fn load(&self, config: &Path) -> Result<TrustedCa> {
        let loc = self.location.display().to_string();
        let usage = |message: String, hint: Option<&str>| -> anyhow::Error {
            UsageError::new(format!("--client-config {}: {message}", config.display())).with_hint_opt(hint.map(str::to_string)).into()
        };
        let bytes = std::fs::read(&self.location).map_err(|e| {
            let relative = if self.location.is_relative() {
                let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "?".into());
                format!(" (a relative location resolves against the working directory, {cwd}, as in Java)")
            } else {
                String::new()
            };
            usage(format!("ssl.truststore.location={loc}: cannot read it{relative}: {e}"), None)
        })?;
        let declared = if self.type_given {
            format!("ssl.truststore.type={}", self.store_type.name())
        } else {
            "ssl.truststore.type is not set (Java's default: JKS)".to_string()
        };
        let loaded = read_trust_store(&bytes, self.store_type, self.password.as_deref()).map_err(|e| match e {
            TrustStoreError::WrongPassword { .. } => usage(
                format!("ssl.truststore.password does not open {loc}: {e}"),
                Some("set ssl.truststore.password to the store's password (keytool's -storepass)"),
            ),
            TrustStoreError::PasswordRequired => usage(
                format!("ssl.truststore.password is not set, and {loc} is a PKCS#12 store: {e}"),
                Some("add ssl.truststore.password with the store's password"),
            ),
            TrustStoreError::PemText { .. } => {
                usage(format!("{declared}, but {loc} is PEM text"), Some("set ssl.truststore.type=PEM (without ssl.truststore.password)"))
            }
            TrustStoreError::PemWithPassword => {
                usage(format!("ssl.truststore.password is set for the PEM trust store {loc}: {e}"), Some("remove ssl.truststore.password"))
            }
            other => usage(format!("ssl.truststore.location={loc}: {other}"), None),
        })?;
        if self.store_type == StoreType::Pem {
            return Ok(TrustedCa::PemFile(self.location.clone()));
        }
        Ok(TrustedCa::Certificates {
            pem: loaded.to_pem(),
            origin: format!("trust store {loc} ({}, from --client-config {})", loaded.format, config.display()),
        })
    }
}

/// Parse `.properties` text (key=value, `\` continuations, # comments).
pub fn parse_properties(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!') || line.trim().is_empty()) {
            continue;
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            logical.push_str(stripped);
            continue;
        }
        logical.push_str(line);
        if let Some(idx) = logical.find(['=', ':']) {
            out.insert(logical[..idx].trim().to_string(), logical[idx + 1..].trim().to_string());
        }
        logical.clear();
    }
    out
}

pub fn read_java_properties(path: &Path) -> Result<JavaClientProperties> {
    let text =
        std::fs::read_to_string(path).map_err(|e| UsageError::new(format!("--client-config {}: cannot read: {e}", path.display())))?;
    let props = parse_properties(&text);
    let bad = |msg: String| -> anyhow::Error { UsageError::new(format!("--client-config {}: {msg}", path.display())).into() };
    if let Some(p) = props.get("security.protocol")
        && p != "SASL_SSL"
    {
        return Err(bad(format!("security.protocol={p}; amqdr verifies SASL_SSL listeners")));
    }
    if let Some(m) = props.get("sasl.mechanism")
        && m != "SCRAM-SHA-512"
    {
        return Err(bad(format!("sasl.mechanism={m}; amqdr uses SCRAM-SHA-512")));
    }
    let jaas = props.get("sasl.jaas.config").cloned().unwrap_or_default();
    let field = |name: &str| -> Option<String> {
        let idx = jaas.find(&format!("{name}="))?;
        let rest = &jaas[idx + name.len() + 1..];
        let rest = rest.trim_start();
        if let Some(quoted) = rest.strip_prefix('"') {
            quoted.find('"').map(|end| quoted[..end].to_string())
        } else {
            Some(rest.split([' ', ';']).next().unwrap_or("").to_string())
        }
    };
    let truststore = match props.get("ssl.truststore.location").filter(|l| !l.is_empty()) {
        None => None,
        Some(location) => {
            let given = props.get("ssl.truststore.type").filter(|t| !t.is_empty());
            let store_type = match given {
                None => StoreType::JAVA_DEFAULT,
                Some(t) => StoreType::parse(t)
                    .ok_or_else(|| bad(format!("ssl.truststore.type={t}: amqdr reads JKS, PKCS12 and PEM trust stores")))?,
            };
            Some(TrustStoreProperties {
                location: PathBuf::from(location),
                store_type,
                type_given: given.is_some(),
                password: props.get("ssl.truststore.password").filter(|p| !p.is_empty()).cloned(),
            })
        }
    };
    if props.get("ssl.endpoint.identification.algorithm").is_some_and(|v| v.is_empty()) {
        return Err(bad(
            "ssl.endpoint.identification.algorithm is empty (hostname verification off); amqdr keeps TLS verification on".into()
        ));
    }
    Ok(JavaClientProperties {
        bootstrap: props.get("bootstrap.servers").cloned(),
        user: field("username"),
        password: field("password"),
        truststore,
    })
}

/// A password from `--password-file` (or AMQDR_PASSWORD_FILE), with where it came from.
pub fn password_from_file(path: &Path) -> Result<(String, String)> {
    let password = crate::settings::files::read_password_file(path)
        .map_err(|e| UsageError::new(format!("--password-file {}: {e}", path.display())))?;
    Ok((password, format!("password file {}", path.display())))
}

impl ConnectionInputs {
    /// Resolve a site's connection from explicit inputs; `None` if no bootstrap is known.
    pub fn resolve(&self, label: &str, timeout: Duration) -> Result<Option<ConnectionSettings>> {
        let props = match &self.client_config {
            Some(p) => read_java_properties(p)?,
            None => JavaClientProperties::default(),
        };
        let Some(bootstrap) = self.bootstrap.clone().or(props.bootstrap) else { return Ok(None) };
        let user = self.user.clone().or(props.user).unwrap_or_else(|| "my-user".into());
        let (password, password_source) = match (&self.password_file, props.password) {
            (Some(f), _) => password_from_file(f)?,
            (None, Some(p)) => (p, format!("client config {}", self.client_config.as_deref().unwrap_or(Path::new("")).display())),
            (None, None) => {
                return Err(UsageError::new(format!("no password for site {label}"))
                    .with_hint("pass --password-file FILE (or AMQDR_PASSWORD_FILE), or --client-config with sasl.jaas.config")
                    .into());
            }
        };
        // --ca-file wins over the properties' trust store, which is then not read at all.
        let trusted = match (&self.ca_file, &props.truststore, &self.client_config) {
            (Some(f), _, _) => Some(TrustedCa::PemFile(f.clone())),
            (None, Some(store), Some(config)) => Some(store.load(config)?),
            _ => None,
        };
        let (ca_file, ca_pem, ca_origin) = match trusted {
            Some(TrustedCa::PemFile(f)) => {
                let text =
                    std::fs::read_to_string(&f).map_err(|e| UsageError::new(format!("CA file {}: cannot read: {e}", f.display())))?;
                crate::certs::inspect_certificate(&text).map_err(|e| UsageError::new(format!("CA file {}: {e}", f.display())))?;
                (Some(f), None, None)
            }
            Some(TrustedCa::Certificates { pem, origin }) => (None, Some(pem), Some(origin)),
            None => (None, None, None),
        };
        Ok(Some(ConnectionSettings {
            label: label.into(),
            bootstrap,
            ca_file,
            ca_pem,
            ca_origin,
            user,
            password,
            password_source,
            timeout,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ConnectionSettings {
        ConnectionSettings {
            label: "a".into(),
            bootstrap: "localhost:9094".into(),
            ca_file: Some("/tmp/ca.crt".into()),
            ca_pem: None,
            ca_origin: None,
            user: "my-user".into(),
            password: "pw".into(),
            password_source: "password file /tmp/pw".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn seed_properties_file() {
        let text = r#"
security.protocol=SASL_SSL
ssl.truststore.location=/tmp/ca.crt
ssl.truststore.type=PEM
ssl.endpoint.identification.algorithm=HTTPS

sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
      username="my-user" \
      password="gUoNKbFYIPV5";
"#;
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        let p = read_java_properties(f.path()).unwrap();
        assert_eq!(p.user.as_deref(), Some("my-user"));
        assert_eq!(p.password.as_deref(), Some("gUoNKbFYIPV5"));
        let store = p.truststore.unwrap();
        assert_eq!((store.location, store.store_type, store.password), (PathBuf::from("/tmp/ca.crt"), StoreType::Pem, None));
    }

    fn properties_in(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("client-sasl-scram.properties");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The seed's step 4, verbatim apart from the location (absolute here: the unit test
    /// does not change the working directory; the integration tests use the relative one).
    fn seed_properties(location: &Path, password_line: &str) -> String {
        format!(
            "security.protocol=SASL_SSL\nssl.truststore.location={}\n{password_line}\nssl.endpoint.identification.algorithm=HTTPS\n\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n      username=\"my-user\" \\\n      password=\"gUoNKbFYIPV5\";\n",
            location.display()
        )
    }

    fn inputs(config: &Path) -> ConnectionInputs {
        ConnectionInputs { bootstrap: Some("localhost:9094".into()), client_config: Some(config.to_path_buf()), ..Default::default() }
    }

    #[test]
    fn pkcs12_truststore_without_type_is_read_like_java() {
        let dir = tempfile::tempdir().unwrap();
        let ca = crate::certs::CertificateAuthority::generate("ca", 30).unwrap();
        let store = crate::truststore::CaTrustStore::generate(&ca.cert_pem).unwrap();
        let jks_named = dir.path().join("kafka.client.truststore.jks");
        std::fs::write(&jks_named, &store.p12).unwrap();
        let config = properties_in(dir.path(), &seed_properties(&jks_named, &format!("ssl.truststore.password={}", store.password)));
        let site = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(site.ca_file, None);
        let pem = site.ca_pem.clone().unwrap();
        assert_eq!(
            crate::certs::inspect_certificate(&pem).unwrap().public_key_raw,
            crate::certs::inspect_certificate(&ca.cert_pem).unwrap().public_key_raw
        );
        assert_eq!(site.client_config().get("ssl.ca.pem"), Some(pem.as_str()));
        assert!(site.ca_description().contains("kafka.client.truststore.jks (PKCS#12"), "{}", site.ca_description());
        assert_eq!(site.password, "gUoNKbFYIPV5");

        // Wrong store password: exit 2, naming the file and the property.
        let config = properties_in(dir.path(), &seed_properties(&jks_named, "ssl.truststore.password=test1234"));
        let err = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some(), "{err}");
        let text = err.to_string();
        assert!(text.contains("ssl.truststore.password") && text.contains("kafka.client.truststore.jks"), "{text}");

        // No password: Java cannot read the encrypted certificates either.
        let config = properties_in(dir.path(), &seed_properties(&jks_named, ""));
        let text = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap_err().to_string();
        assert!(text.contains("ssl.truststore.password is not set"), "{text}");

        // --ca-file wins, and the store is not read at all.
        let ca_file = dir.path().join("ca.crt");
        std::fs::write(&ca_file, &ca.cert_pem).unwrap();
        let with_ca_file = ConnectionInputs { ca_file: Some(ca_file.clone()), ..inputs(&config) };
        assert_eq!(with_ca_file.resolve("a", Duration::from_secs(5)).unwrap().unwrap().ca_file, Some(ca_file));
    }

    #[test]
    fn truststore_type_mistakes_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let ca = crate::certs::CertificateAuthority::generate("ca", 30).unwrap();
        let pem_file = dir.path().join("ca.crt");
        std::fs::write(&pem_file, &ca.cert_pem).unwrap();
        // PEM text without ssl.truststore.type: Java's JKS loader would fail on it.
        let config = properties_in(dir.path(), &seed_properties(&pem_file, "ssl.truststore.password=test1234"));
        let text = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap_err().to_string();
        assert!(text.contains("ssl.truststore.type is not set") && text.contains("ssl.truststore.type=PEM"), "{text}");
        let config = properties_in(dir.path(), &seed_properties(&pem_file, "ssl.truststore.type=JCEKS"));
        let text = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap_err().to_string();
        assert!(text.contains("ssl.truststore.type=JCEKS"), "{text}");
        // A relative location that is not there says where it was looked for.
        let config = properties_in(dir.path(), "ssl.truststore.location=no-such.jks\nsasl.jaas.config=x username=\"u\" password=\"p\";\n");
        let text = inputs(&config).resolve("a", Duration::from_secs(5)).unwrap_err().to_string();
        assert!(text.contains("working directory"), "{text}");
    }

    #[test]
    fn classification() {
        let s = settings();
        assert!(matches!(
            classify(
                &s,
                "Local: Authentication failure: SASL authentication error: Authentication failed during authentication due to invalid credentials",
                ""
            ),
            ConnectError::AuthenticationFailed { .. }
        ));
        let e = classify(&s, "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed", "");
        assert!(e.to_string().contains("/tmp/ca.crt"), "{e}");
        assert!(matches!(classify(&s, "Connect to ipv4#127.0.0.1:1 failed: Connection refused", ""), ConnectError::Unreachable { .. }));
    }

    #[test]
    fn client_config_keeps_verification_on_and_hides_nothing_it_should_not() {
        let c = settings().client_config();
        assert_eq!(c.get("ssl.endpoint.identification.algorithm"), Some("https"));
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert!(!format!("{:?}", settings()).contains("pw\""));
    }
}
