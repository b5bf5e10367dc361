//! Validation of merged settings, once, before any cluster call. Every problem names the
//! settings path, where its value came from, and how to fix it; all problems are reported together.

use super::files;
use super::{Origin, Settings, SettingsSource, SiteId, StorageKind, parse_quantity_bytes};
use crate::error::{InvalidSettings, UsageError};
use crate::profile::{ListenerType, MirrorKind, Profile};
use crate::settings::images;
use crate::strimzi_rules;
use std::fmt;

/// A production-unsafe but valid choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Diagnostics {
    pub warnings: Vec<Warning>,
}

struct Checker<'a> {
    src: &'a SettingsSource,
    errors: Vec<UsageError>,
    warnings: Vec<Warning>,
}

impl Checker<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>, fix: impl Into<String>) {
        let message = match self.src.origin(field) {
            Origin::Default => format!("{field}: {}", message.into()),
            origin => format!("{field}: {} (from {origin})", message.into()),
        };
        let mut e = UsageError::new(message).with_hint(fix);
        e.field = Some(field.to_string());
        self.errors.push(e);
    }

    fn warn(&mut self, field: &str, message: impl Into<String>) {
        self.warnings.push(Warning { field: field.into(), message: message.into() });
    }

    fn dns_label(&mut self, field: &str, value: &str, max_len: usize) {
        if let Err(why) = check_dns_label(value, max_len) {
            self.error(
                field,
                format!("{value:?} is not a valid name: {why}"),
                format!("use at most {max_len} lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"),
            );
        }
    }

    fn at_least_one(&mut self, field: &str, value: u32) {
        if value < 1 {
            self.error(field, format!("must be at least 1, got {value}"), format!("set {field} to 1 or more"));
        }
    }
}

/// RFC 1123 label: lower-case alphanumerics and '-', alphanumeric at both ends.
pub fn check_dns_label(value: &str, max_len: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.len() > max_len {
        return Err(format!("it is {} characters long, the limit here is {max_len}", value.len()));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if let Some(c) = value.chars().find(|c| !ok_char(*c)) {
        return Err(format!("it contains {c:?}"));
    }
    if value.starts_with('-') || value.ends_with('-') {
        return Err("it starts or ends with '-'".into());
    }
    Ok(())
}

fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 249 {
        return Err("a Kafka topic name has 1 to 249 characters".into());
    }
    if name == "." || name == ".." {
        return Err("'.' and '..' are not topic names".into());
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(format!("it contains {c:?}; topic names use letters, digits, '.', '_' and '-'"));
    }
    Ok(())
}

fn check_images(c: &mut Checker<'_>, s: &Settings) {
    let fix = "give a full image reference, e.g. mirror.example.com:5000/strimzi/kafka:1.2.0-kafka-4.3.1";
    if let Some(r) = &s.images.registry
        && let Err(why) = images::check_registry(r)
    {
        c.error(
            "images.registry",
            format!("{r:?}: {why}"),
            "give a registry host with an optional port and path, e.g. mirror.example.com:5000",
        );
    }
    let i = &s.images;
    let single = [
        ("operator.image", &s.operator.image),
        ("images.topicOperator", &i.topic_operator),
        ("images.userOperator", &i.user_operator),
        ("images.kafkaInit", &i.kafka_init),
        ("images.kafkaExporter", &i.kafka_exporter),
        ("images.cruiseControl", &i.cruise_control),
        ("images.kafkaBridge", &i.kafka_bridge),
        ("images.kanikoExecutor", &i.kaniko_executor),
        ("images.buildah", &i.buildah),
        ("images.mavenBuilder", &i.maven_builder),
    ];
    for (field, value) in single {
        if let Some(v) = value
            && let Err(why) = images::check_reference(v)
        {
            c.error(field, format!("{v:?}: {why}"), fix);
        }
    }
    if s.profile == Profile::Legacy && i.buildah.is_some() {
        c.error(
            "images.buildah",
            "Strimzi 0.45.2 (profile legacy) has no Buildah image",
            "remove images.buildah (Kaniko builds images with profile legacy)",
        );
    }
    let versioned = [
        ("images.kafka", &i.kafka),
        ("images.kafkaConnect", &i.kafka_connect),
        ("images.kafkaMirrorMaker2", &i.kafka_mirror_maker2),
        ("images.kafkaMirrorMaker", &i.kafka_mirror_maker),
    ];
    let supported = s.profile.supported_kafka_versions();
    for (field, map) in versioned {
        if field == "images.kafkaMirrorMaker" && s.profile == Profile::Current && !map.is_empty() {
            c.error(
                field,
                "MirrorMaker 1 does not exist in Strimzi 1.x (profile current)",
                "remove images.kafkaMirrorMaker, or use --profile legacy",
            );
            continue;
        }
        for (version, image) in map {
            let entry = format!("{field}.{version}");
            if !supported.contains(&version.as_str()) {
                c.error(
                    &entry,
                    format!("Strimzi {} has no Kafka {version}", s.profile.strimzi_version()),
                    format!("key the image by one of {}", supported.join(", ")),
                );
            } else if let Err(why) = images::check_reference(image) {
                c.error(&entry, format!("{image:?}: {why}"), fix);
            }
        }
    }
    if !i.kafka.is_empty() && !i.kafka.contains_key(s.kafka_version()) {
        c.warn(
            "images.kafka",
            format!(
                "no image for kafka.version {}: its brokers use {}",
                s.kafka_version(),
                s.images().kafka.iter().find(|k| k.version == s.kafka_version()).map(|k| k.image.as_str()).unwrap_or("-")
            ),
        );
    }
}

/// Longest suffix Strimzi appends to a cluster name for a Kubernetes object name.
const CLUSTER_NAME_SUFFIX: &str = "-kafka-bootstrap";

pub fn validate(src: &SettingsSource) -> Result<Diagnostics, InvalidSettings> {
    let s: &Settings = &src.settings;
    let mut c = Checker { src, errors: Vec::new(), warnings: Vec::new() };
    check_names(s, &mut c);
    check_replicas(s, &mut c);
    check_profile(s, &mut c);
    check_listener(s, &mut c);
    check_sizes(s, &mut c);
    check_images(&mut c, s);
    check_files(s, &mut c);
    check_health(s, &mut c);
    warn_unsafe(s, &mut c);

    if c.errors.is_empty() { Ok(Diagnostics { warnings: c.warnings }) } else { Err(InvalidSettings(c.errors)) }
}

/// Namespaces, cluster and user names as Kubernetes and Kafka accept them, distinct where they must be.
fn check_names(s: &Settings, c: &mut Checker<'_>) {
    for site in SiteId::ALL {
        let st = s.site(site);
        let p = format!("sites.{site}");
        c.dns_label(&format!("{p}.operatorNamespace"), &st.operator_namespace, 63);
        c.dns_label(&format!("{p}.kafkaNamespace"), &st.kafka_namespace, 63);
        c.dns_label(&format!("{p}.clusterName"), &st.cluster_name, 63 - CLUSTER_NAME_SUFFIX.len());
    }
    if s.one_cluster() {
        let (a, b) = (&s.sites.a, &s.sites.b);
        if a.kafka_namespace == b.kafka_namespace {
            c.error(
                "sites.b.kafkaNamespace",
                format!("both sites use namespace {:?} in the same cluster", b.kafka_namespace),
                "give each site its own Kafka namespace (defaults: datacenter-a, datacenter-b), or a kube context each",
            );
        }
        if a.operator_namespace == b.operator_namespace {
            c.error(
                "sites.b.operatorNamespace",
                format!("both sites' operators use namespace {:?} in the same cluster", b.operator_namespace),
                "give each site its own operator namespace (defaults: amq-operator-a, amq-operator-b), or a kube context each",
            );
        }
        for (x, y) in [(a, b), (b, a)] {
            if x.operator_namespace == y.kafka_namespace {
                c.error(
                    "sites.b.operatorNamespace",
                    format!("namespace {:?} is one site's operator namespace and the other site's Kafka namespace", x.operator_namespace),
                    "use four distinct namespaces when both sites share a cluster",
                );
                break;
            }
        }
    }
    c.dns_label("operator.serviceAccount", &s.operator.service_account, 63);
    c.dns_label("user.name", &s.user.name, 63);
    c.dns_label("dr.user", &s.dr.user, 63);
    let identities = [("user.name", &s.user.name), ("mirror.name", &s.mirror.name), ("dr.user", &s.dr.user)];
    for (i, (field, name)) in identities.iter().enumerate() {
        if let Some((other, _)) = identities[..i].iter().find(|(_, n)| n == name) {
            c.error(
                field,
                format!("{name:?} is also {other}: each purpose has its own Kafka user and ACLs"),
                "give the application, the mirror and DR operations distinct names",
            );
        }
    }
    for (field, list) in [("user.topics", &s.user.topics), ("user.groups", &s.user.groups)] {
        for (i, entry) in list.iter().enumerate() {
            if let Err(why) = crate::scope::NamePattern::parse(entry) {
                c.error(&format!("{field}[{i}]"), why, "use a literal name, a prefix ending in `*` (e.g. orders-*), or `*`");
            }
        }
    }
    c.dns_label("mirror.name", &s.mirror.name, 63 - "-mirrormaker2".len());
    if let Err(why) = check_topic_name(&s.topic.name) {
        c.error("topic.name", format!("{:?} is not a valid topic name: {why}", s.topic.name), "choose a legal Kafka topic name");
    }
}

/// Replica counts the brokers can carry.
fn check_replicas(s: &Settings, c: &mut Checker<'_>) {
    c.at_least_one("kafka.brokers", s.kafka.brokers);
    c.at_least_one("topic.partitions", s.topic.partitions);
    c.at_least_one("topic.replicas", s.topic.replicas);
    c.at_least_one("topic.minInsyncReplicas", s.topic.min_insync_replicas);
    c.at_least_one("mirror.replicas", s.mirror.replicas);
    if s.kafka.brokers >= 1 && s.topic.replicas > s.kafka.brokers {
        c.error(
            "topic.replicas",
            format!("{} replicas need at least {} brokers, kafka.brokers is {}", s.topic.replicas, s.topic.replicas, s.kafka.brokers),
            "lower topic.replicas or raise kafka.brokers",
        );
    }
    if s.topic.min_insync_replicas > s.topic.replicas {
        c.error(
            "topic.minInsyncReplicas",
            format!(
                "{} is more than topic.replicas ({}): producers with acks=all could never write",
                s.topic.min_insync_replicas, s.topic.replicas
            ),
            "set topic.minInsyncReplicas to at most topic.replicas (2 with 3 replicas)",
        );
    }
}

/// What the profile's Strimzi and Kafka versions support.
fn check_profile(s: &Settings, c: &mut Checker<'_>) {
    let version = s.kafka_version();
    if !s.profile.supported_kafka_versions().contains(&version) {
        c.error(
            "kafka.version",
            format!("Kafka {version} is not supported by Strimzi {} (profile {})", s.profile.strimzi_version(), s.profile),
            format!("use one of {}", s.profile.supported_kafka_versions().join(", ")),
        );
    }
    match s.profile {
        Profile::Current => {
            if s.kafka.zookeeper.is_some() {
                c.error(
                    "kafka.zookeeper",
                    "ZooKeeper is gone in Strimzi 1.x (profile current runs KRaft)",
                    "remove kafka.zookeeper and size kafka.controllers instead, or use --profile legacy",
                );
            }
            if s.mirror.kind == Some(MirrorKind::KafkaMirrorMaker) {
                c.error(
                    "mirror.kind",
                    "MirrorMaker 1 (KafkaMirrorMaker) does not exist in Strimzi 1.x",
                    "use KafkaMirrorMaker2 (the default for profile current), or --profile legacy",
                );
            }
            if let Some(n) = s.kafka.controllers {
                c.at_least_one("kafka.controllers", n);
            }
        }
        Profile::Legacy => {
            if s.kafka.controllers.is_some() {
                c.error(
                    "kafka.controllers",
                    "KRaft controllers are a profile current option; profile legacy runs ZooKeeper",
                    "remove kafka.controllers and size kafka.zookeeper instead, or use --profile current",
                );
            }
            if s.mirror.kind == Some(MirrorKind::KafkaMirrorMaker2) {
                c.error(
                    "mirror.kind",
                    "profile legacy deploys the seed's MirrorMaker 1 (KafkaMirrorMaker)",
                    "remove mirror.kind, or use --profile current for KafkaMirrorMaker2",
                );
            }
            if let Some(n) = s.kafka.zookeeper {
                c.at_least_one("kafka.zookeeper", n);
            }
        }
    }
}

/// The external listener as Strimzi accepts it.
fn check_listener(s: &Settings, c: &mut Checker<'_>) {
    let listener = &s.kafka.listener;
    if !s.profile.listener_types().contains(&listener.kind) {
        let names: Vec<&str> = s.profile.listener_types().iter().map(|l| l.as_str()).collect();
        c.error(
            "kafka.listener.type",
            format!("listener type {} is not available with profile {}", listener.kind, s.profile),
            format!("use one of {}", names.join(", ")),
        );
    }
    if listener.kind == ListenerType::Tlsroute {
        if listener.bootstrap_host.is_none() {
            c.error(
                "kafka.listener.bootstrapHost",
                "a tlsroute listener needs a bootstrap host name",
                "set kafka.listener.bootstrapHost, e.g. kafka-bootstrap.example.com",
            );
        }
        if listener.broker_host_template.is_none() {
            c.error(
                "kafka.listener.brokerHostTemplate",
                "a tlsroute listener needs a host per broker",
                "set kafka.listener.brokerHostTemplate, e.g. broker-{nodeId}.example.com",
            );
        }
        if listener.gateway.is_none() {
            c.error(
                "kafka.listener.gateway",
                "a tlsroute listener attaches to a Gateway",
                "set kafka.listener.gateway.name (and namespace, sectionName)",
            );
        }
    } else {
        for (field, set) in [("gateway", listener.gateway.is_some()), ("brokerHostTemplate", listener.broker_host_template.is_some())] {
            if set {
                c.error(
                    &format!("kafka.listener.{field}"),
                    format!("{field} applies to tlsroute listeners only, the listener is {}", listener.kind),
                    format!("remove kafka.listener.{field}, or set kafka.listener.type to tlsroute"),
                );
            }
        }
    }
    if listener.bootstrap_host.is_some() && !strimzi_rules::bootstrap_host_allowed(listener.kind) {
        c.error(
            "kafka.listener.bootstrapHost",
            format!(
                "a {} listener has no bootstrap host name; Strimzi {} would reject the Kafka: \"listener external {}\"",
                listener.kind,
                s.profile.strimzi_version(),
                strimzi_rules::bootstrap_host_rejection(s.profile)
            ),
            "remove kafka.listener.bootstrapHost (the operator reports the load balancer or node address itself), or use --listener route",
        );
    }
}

/// The seed's notes on large messages and disk, and the broker config the operator owns.
fn check_sizes(s: &Settings, c: &mut Checker<'_>) {
    if s.kafka.message_max_bytes < 1024 {
        c.error(
            "kafka.messageMaxBytes",
            format!("{} bytes is too small for any record batch", s.kafka.message_max_bytes),
            "use at least 1024 (default 1048588)",
        );
    }
    if let Some(mrs) = s.mirror.max_request_size
        && mrs != s.kafka.message_max_bytes
    {
        c.error(
                "mirror.maxRequestSize",
                format!(
                    "the mirror producer's max.request.size ({mrs}) differs from the clusters' message.max.bytes ({}): large records would be rejected or stall the mirror",
                    s.kafka.message_max_bytes
                ),
                "make them equal, or drop mirror.maxRequestSize to follow kafka.messageMaxBytes",
            );
    }
    for key in s.kafka.config.keys() {
        if let Some(prefix) = strimzi_rules::forbidden_kafka_config_prefix(s.profile, key) {
            c.error(
                &format!("kafka.config.{key}"),
                format!(
                    "Strimzi {} ignores {key:?} in spec.kafka.config (keys starting with {prefix:?} belong to the operator: listeners, TLS, SASL, node identity and storage are its own)",
                    s.profile.strimzi_version()
                ),
                "remove the key; amqdr and the operator configure this themselves",
            );
        }
    }
    for key in ["message.max.bytes", "log.retention.bytes"] {
        if s.kafka.config.contains_key(key) {
            let typed = if key == "message.max.bytes" { "kafka.messageMaxBytes" } else { "kafka.retentionBytes" };
            c.error(
                &format!("kafka.config.{key}"),
                format!("{key} has a setting of its own"),
                format!("set {typed} instead, so amqdr can check it"),
            );
        }
    }
    match (s.kafka.storage.kind, parse_quantity_bytes(&s.kafka.storage.size)) {
        (StorageKind::PersistentClaim, None) => c.error(
            "kafka.storage.size",
            format!("{:?} is not a Kubernetes quantity", s.kafka.storage.size),
            "use a size such as 10Gi or 500Gi",
        ),
        (StorageKind::PersistentClaim, Some(size)) => {
            if let Some(retention) = s.kafka.retention_bytes
                && retention >= size
            {
                c.error(
                    "kafka.retentionBytes",
                    format!(
                        "{retention} bytes per partition is not below the volume size {} ({size} bytes): the disk can fill up",
                        s.kafka.storage.size
                    ),
                    "set kafka.retentionBytes well below kafka.storage.size (divide by the partitions per broker)",
                );
            }
        }
        (StorageKind::Ephemeral, _) => c.warn("kafka.storage.type", "ephemeral storage loses all data when a broker pod restarts"),
    }
}

/// Files the settings point at, and the mirror's interval and scope.
fn check_files(s: &Settings, c: &mut Checker<'_>) {
    if let Some(path) = &s.operator.pull_secret_file
        && let Err(why) = files::read_pull_secret(path)
    {
        c.error(
            "operator.pullSecretFile",
            format!("{}: {why}", path.display()),
            "pass a dockerconfigjson file (raw JSON with \"auths\", or its base64)",
        );
    }
    match (&s.ca.cert_file, &s.ca.key_file) {
        (Some(cert), Some(key)) => {
            if let Err(why) = crate::certs::CertificateAuthority::from_pem_files(cert, key) {
                c.error("ca.certFile", format!("{why:#}"), "pass a PEM CA certificate (CA:true) and its unencrypted PKCS#8 private key");
            }
        }
        (Some(_), None) => c.error("ca.keyFile", "a CA certificate was given without its key", "pass --ca-key with --ca-cert"),
        (None, Some(_)) => c.error("ca.certFile", "a CA key was given without its certificate", "pass --ca-cert with --ca-key"),
        (None, None) => {}
    }
    if s.ca.validity_days < 30 {
        c.error("ca.validityDays", format!("{} days is too short for a cluster CA", s.ca.validity_days), "use 365 or more");
    }
    for (field, file) in [
        ("user.passwordFile", &s.user.password_file),
        ("mirror.passwordFile", &s.mirror.password_file),
        ("dr.passwordFile", &s.dr.password_file),
    ] {
        if let Some(path) = file
            && let Err(why) = files::read_password_file(path)
        {
            c.error(field, format!("{}: {why}", path.display()), "pass a file holding the password on one line");
        }
    }
    if s.mirror.sync_interval_seconds == 0 {
        c.error("mirror.syncIntervalSeconds", "must be at least 1", "use a few seconds (default 10)");
    }
    check_mirror_scope(s, c);
}

/// The health endpoint and its canary.
fn check_health(s: &Settings, c: &mut Checker<'_>) {
    let h = &s.health;
    if let Err(why) = check_topic_name(&h.canary_topic) {
        c.error("health.canaryTopic", format!("{:?} is not a valid topic name: {why}", h.canary_topic), "choose a legal Kafka topic name");
    } else if h.canary_topic == s.topic.name {
        c.error(
            "health.canaryTopic",
            format!("{:?} is also topic.name: canary records would mix with client records", h.canary_topic),
            "give the canary a topic of its own (default amqdr-canary)",
        );
    }
    for (field, value) in [
        ("health.intervalSeconds", h.interval_seconds),
        ("health.probeTimeoutSeconds", h.probe_timeout_seconds),
        ("health.failAfter", h.fail_after),
        ("health.recoverAfter", h.recover_after),
    ] {
        c.at_least_one(field, value);
    }
    if h.port == 0 {
        c.error("health.port", "must be a port number (1-65535)", "use e.g. 8080");
    }
    if h.enabled && h.image.as_deref().is_none_or(str::is_empty) {
        c.error(
            "health.image",
            "health.enabled needs the image that runs `amqdr serve`",
            "build it (`podman build -f Containerfile .`), push it, and set health.image, e.g. registry.example.com/amqdr:0.1.0",
        );
    }
}

/// Valid but unsafe for production.
fn warn_unsafe(s: &Settings, c: &mut Checker<'_>) {
    if s.kafka.brokers < 3 {
        c.warn("kafka.brokers", format!("{} broker(s): a broker failure stops the site; use 3 or more in production", s.kafka.brokers));
    }
    let quorum = if s.profile.uses_zookeeper() {
        ("kafka.zookeeper", s.zookeeper_replicas())
    } else {
        ("kafka.controllers", s.controller_replicas())
    };
    if quorum.1 < 3 {
        c.warn(quorum.0, format!("a quorum of {} survives no failure; use 3", quorum.1));
    } else if quorum.1 % 2 == 0 {
        c.warn(quorum.0, format!("an even quorum ({}) tolerates no more failures than {}", quorum.1, quorum.1 - 1));
    }
    if s.topic.replicas < 3 {
        c.warn("topic.replicas", format!("replication factor {} loses data when a broker disk fails", s.topic.replicas));
    }
    if s.topic.min_insync_replicas < 2 && s.topic.replicas >= 2 {
        c.warn("topic.minInsyncReplicas", "1 lets acks=all writes succeed on a single copy");
    }
    if !s.mirror.enabled {
        c.warn("mirror.enabled", "no mirroring: the DR site will not receive production data");
    }
}

/// The mirror's scope (`mirror.include` less `mirror.exclude`) is what DR protects: it must
/// carry the application's topic and the canary, and the ACLs that follow it should be exact.
fn check_mirror_scope(s: &Settings, c: &mut Checker<'_>) {
    use crate::scope::{AclScope, acl_scope};
    let mut valid = true;
    if let Err(e) = regex::Regex::new(&s.mirror.include) {
        c.error("mirror.include", format!("not a regular expression: {e}"), "use a Java-style pattern such as .* or orders\\..*");
        valid = false;
    }
    for entry in &s.mirror.exclude {
        if let Err(e) = regex::Regex::new(entry) {
            c.error(
                "mirror.exclude",
                format!("{entry:?} is not a regular expression: {e}"),
                "give one pattern per entry, e.g. [\"__.*\", \"tmp-.*\"]",
            );
            valid = false;
        }
    }
    if let Err(e) = regex::Regex::new(&s.mirror.groups_pattern) {
        c.error("mirror.groupsPattern", format!("not a regular expression: {e}"), "use a Java-style pattern such as .* or orders-.*");
        valid = false;
    }
    if !valid {
        return;
    }
    let Ok(scope) = s.mirror_scope(&[]) else { return };
    let topic = &s.topic.name;
    if scope.excludes(topic) {
        c.error(
            "mirror.exclude",
            format!("removes topic.name {topic:?} from the mirror's scope: DR would not protect the application's topic"),
            "remove the entry that matches it from mirror.exclude",
        );
    } else if !scope.covers(topic) {
        c.error(
            "mirror.include",
            format!("{:?} does not match topic.name {topic:?}: the mirror's scope covers nothing the application writes", s.mirror.include),
            format!("widen mirror.include to carry it, e.g. {}|{}", regex::escape(topic), s.mirror.include),
        );
    }
    let canary = s.canary_topic();
    if scope.excludes(canary) {
        c.error(
            "mirror.exclude",
            format!("removes the canary topic health.canaryTopic {canary:?}: `serve` could no longer measure the RPO"),
            "remove the entry that matches it from mirror.exclude, or rename health.canaryTopic",
        );
    }
    for entry in &s.user.topics {
        if let Ok(crate::scope::NamePattern::Literal(name)) = crate::scope::NamePattern::parse(entry)
            && !scope.covers(&name)
        {
            c.warn(
                "user.topics",
                format!("{name:?} is outside the mirror's scope (mirror.include/mirror.exclude): DR does not protect it"),
            );
        }
    }
    if acl_scope(&s.mirror_include()) == AclScope::Everything {
        c.warn(
            "mirror.include",
            format!(
                "{:?} is not an alternation of topic names and prefixes (e.g. orders|payments\\..*), which Kafka ACLs cannot express: \
                 the mirror's user may read every topic where it copies from and write every topic where it copies to",
                s.mirror.include
            ),
        );
    }
    if acl_scope(&s.mirror.groups_pattern) == AclScope::Everything {
        c.warn(
            "mirror.groupsPattern",
            format!(
                "{:?} is not an alternation of group names and prefixes, which Kafka ACLs cannot express: the mirror and DR operations may use every group",
                s.mirror.groups_pattern
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Origin, Override, Sources};

    fn check(overrides: &[(&str, &str)]) -> Result<Diagnostics, InvalidSettings> {
        let sources = Sources {
            config_file: None,
            overrides: overrides
                .iter()
                .map(|(p, v)| Override { path: p.to_string(), raw: v.to_string(), origin: Origin::Flag(format!("--set {p}")) })
                .collect(),
        };
        validate(&SettingsSource::load(&sources).expect("loads"))
    }

    fn error_text(overrides: &[(&str, &str)]) -> String {
        check(overrides).expect_err("should be invalid").to_string()
    }

    #[test]
    fn defaults_are_valid_without_warnings() {
        let d = check(&[]).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let d = check(&[("profile", "legacy")]).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn non_rfc1123_names() {
        let t = error_text(&[("sites.a.kafkaNamespace", "Datacenter_A")]);
        assert!(t.contains("sites.a.kafkaNamespace") && t.contains("RFC 1123") && t.contains("--set sites.a.kafkaNamespace"), "{t}");
        let t = error_text(&[("sites.b.clusterName", &"x".repeat(60))]);
        assert!(t.contains("sites.b.clusterName") && t.contains("limit here is 47"), "{t}");
        let t = error_text(&[("topic.name", "bad topic")]);
        assert!(t.contains("topic.name"), "{t}");
    }

    #[test]
    fn replicas_below_one() {
        for field in ["kafka.brokers", "topic.partitions", "mirror.replicas"] {
            let t = error_text(&[(field, "0")]);
            assert!(t.contains(field) && t.contains("at least 1"), "{t}");
        }
        let t = error_text(&[("profile", "legacy"), ("kafka.zookeeper", "0")]);
        assert!(t.contains("kafka.zookeeper"), "{t}");
    }

    #[test]
    fn listener_type_the_profile_lacks() {
        let t = error_text(&[("profile", "legacy"), ("kafka.listener.type", "tlsroute")]);
        assert!(t.contains("kafka.listener.type") && t.contains("not available with profile legacy"), "{t}");
        let err = SettingsSource::load(&Sources {
            config_file: None,
            overrides: vec![Override {
                path: "kafka.listener.type".into(),
                raw: "ingres".into(),
                origin: Origin::Flag("--listener".into()),
            }],
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("kafka.listener.type") && err.contains("--listener") && err.contains("route"), "{err}");
    }

    #[test]
    fn bootstrap_host_only_on_listeners_that_take_it() {
        for (profile, listener) in
            [("current", "loadbalancer"), ("current", "nodeport"), ("legacy", "loadbalancer"), ("legacy", "nodeport")]
        {
            let t = error_text(&[
                ("profile", profile),
                ("kafka.listener.type", listener),
                ("kafka.listener.bootstrapHost", "kafka.example.com"),
            ]);
            assert!(t.contains("kafka.listener.bootstrapHost") && t.contains("cannot configure bootstrap.host"), "{t}");
            assert!(t.contains("fix: remove kafka.listener.bootstrapHost"), "{t}");
        }
        let t =
            error_text(&[("profile", "legacy"), ("kafka.listener.type", "nodeport"), ("kafka.listener.bootstrapHost", "k.example.com")]);
        assert!(t.contains("not Route or Ingress based listener") && t.contains("0.45.2"), "{t}");
        for profile in ["current", "legacy"] {
            assert!(check(&[("profile", profile), ("kafka.listener.bootstrapHost", "kafka.apps.example.com")]).is_ok());
        }
        let t = error_text(&[("kafka.listener.type", "loadbalancer"), ("kafka.listener.brokerHostTemplate", "b-{nodeId}.example.com")]);
        assert!(t.contains("kafka.listener.brokerHostTemplate") && !t.contains("kafka.listener.gateway"), "{t}");
    }

    #[test]
    fn kafka_config_keys_the_operator_drops() {
        let t = error_text(&[(
            "kafka.config",
            r#"{"ssl.keystore.type": "PEM", "num.io.threads": 8, "listener.name.external-9094.max.connections": 100}"#,
        )]);
        assert!(t.contains("kafka.config.ssl.keystore.type") && t.contains("\"ssl.\"") && t.contains("1.2.0"), "{t}");
        assert!(!t.contains("num.io.threads") && !t.contains("max.connections"), "{t}");
        let t = error_text(&[("profile", "legacy"), ("kafka.config", r#"{"broker.session.timeout.ms": 9000}"#)]);
        assert!(t.contains("kafka.config.broker.session.timeout.ms") && t.contains("0.45.2"), "{t}");
        assert!(
            check(&[("kafka.config", r#"{"broker.session.timeout.ms": 9000, "ssl.cipher.suites": "TLS_AES_256_GCM_SHA384"}"#)]).is_ok()
        );
    }

    #[test]
    fn image_references_and_registry() {
        let t = error_text(&[("images.registry", "https://mirror.example.com")]);
        assert!(t.contains("images.registry") && t.contains("scheme"), "{t}");
        let t = error_text(&[("operator.image", "quay.io/strimzi/Operator:1")]);
        assert!(t.contains("operator.image") && t.contains("fix:"), "{t}");
        let t = error_text(&[("images.kafka", r#"{"3.7.0": "mirror.example.com/kafka:1"}"#)]);
        assert!(t.contains("images.kafka.3.7.0") && t.contains("4.3.1"), "{t}");
        let t = error_text(&[("images.kafka", r#"{"4.3.1": "bad image"}"#)]);
        assert!(t.contains("images.kafka.4.3.1"), "{t}");
        let t = error_text(&[("images.kafkaMirrorMaker", r#"{"4.3.1": "mirror.example.com/kafka:1"}"#)]);
        assert!(t.contains("images.kafkaMirrorMaker") && t.contains("MirrorMaker 1"), "{t}");
        let t = error_text(&[("profile", "legacy"), ("images.buildah", "mirror.example.com/buildah:1")]);
        assert!(t.contains("images.buildah"), "{t}");
        let d = check(&[("images.registry", "mirror.example.com:5000"), ("images.kafka", r#"{"4.2.0": "mirror.example.com/kafka:x"}"#)])
            .unwrap();
        assert!(d.warnings.iter().any(|w| w.field == "images.kafka" && w.message.contains("4.3.1")), "{:?}", d.warnings);
    }

    #[test]
    fn tlsroute_needs_gateway_and_hosts() {
        let t = error_text(&[("kafka.listener.type", "tlsroute")]);
        assert!(t.contains("bootstrapHost") && t.contains("brokerHostTemplate") && t.contains("gateway"), "{t}");
    }

    #[test]
    fn zookeeper_and_mm1_rejected_with_current() {
        let t = error_text(&[("kafka.zookeeper", "3")]);
        assert!(t.contains("kafka.zookeeper") && t.contains("--profile legacy"), "{t}");
        let t = error_text(&[("mirror.kind", "KafkaMirrorMaker")]);
        assert!(t.contains("mirror.kind") && t.contains("KafkaMirrorMaker2"), "{t}");
    }

    #[test]
    fn kraft_options_rejected_with_legacy() {
        let t = error_text(&[("profile", "legacy"), ("kafka.controllers", "3")]);
        assert!(t.contains("kafka.controllers") && t.contains("ZooKeeper"), "{t}");
        let t = error_text(&[("profile", "legacy"), ("kafka.version", "4.3.1")]);
        assert!(t.contains("kafka.version") && t.contains("3.9.2"), "{t}");
    }

    #[test]
    fn message_size_must_match_mirror_request_size() {
        let t = error_text(&[("mirror.maxRequestSize", "2000000")]);
        assert!(t.contains("mirror.maxRequestSize") && t.contains("message.max.bytes") && t.contains("1048588"), "{t}");
        assert!(check(&[("mirror.maxRequestSize", "1048588")]).is_ok());
    }

    #[test]
    fn retention_must_stay_below_volume() {
        let t = error_text(&[("kafka.retentionBytes", "10737418240")]);
        assert!(t.contains("kafka.retentionBytes") && t.contains("10Gi"), "{t}");
        assert!(check(&[("kafka.retentionBytes", "5368709120")]).is_ok());
        let t = error_text(&[("kafka.storage.size", "lots")]);
        assert!(t.contains("kafka.storage.size"), "{t}");
    }

    #[test]
    fn missing_and_malformed_files() {
        let t = error_text(&[("operator.pullSecretFile", "/nonexistent/pull-secret")]);
        assert!(t.contains("operator.pullSecretFile") && t.contains("/nonexistent/pull-secret"), "{t}");
        let mut bad = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut bad, b"not json, not base64 either!").unwrap();
        let t = error_text(&[("operator.pullSecretFile", bad.path().to_str().unwrap())]);
        assert!(t.contains("operator.pullSecretFile") && t.contains("dockerconfigjson"), "{t}");
        let t = error_text(&[("ca.certFile", bad.path().to_str().unwrap()), ("ca.keyFile", bad.path().to_str().unwrap())]);
        assert!(t.contains("ca.certFile") && t.contains("PEM"), "{t}");
        let t = error_text(&[("ca.certFile", bad.path().to_str().unwrap())]);
        assert!(t.contains("ca.keyFile"), "{t}");
        let empty = tempfile::NamedTempFile::new().unwrap();
        let t = error_text(&[("user.passwordFile", empty.path().to_str().unwrap())]);
        assert!(t.contains("user.passwordFile") && t.contains("empty"), "{t}");
    }

    #[test]
    fn one_cluster_needs_distinct_namespaces() {
        let t = error_text(&[("sites.b.kafkaNamespace", "datacenter-a")]);
        assert!(t.contains("sites.b.kafkaNamespace"), "{t}");
        // With two contexts the same namespace names are fine.
        assert!(check(&[("sites.b.kafkaNamespace", "datacenter-a"), ("sites.a.context", "prod"), ("sites.b.context", "dr")]).is_ok());
    }

    #[test]
    fn unsafe_choices_warn() {
        let d = check(&[("kafka.brokers", "1"), ("topic.replicas", "1"), ("topic.minInsyncReplicas", "1"), ("kafka.controllers", "1")])
            .unwrap();
        let fields: Vec<&str> = d.warnings.iter().map(|w| w.field.as_str()).collect();
        assert!(
            fields.contains(&"kafka.brokers") && fields.contains(&"topic.replicas") && fields.contains(&"kafka.controllers"),
            "{fields:?}"
        );
    }

    #[test]
    fn health_settings() {
        let t = error_text(&[("health.enabled", "true")]);
        assert!(t.contains("health.image") && t.contains("Containerfile"), "{t}");
        assert!(check(&[("health.enabled", "true"), ("health.image", "registry.example.com/amqdr:1")]).is_ok());
        let t = error_text(&[("health.canaryTopic", "my-topic")]);
        assert!(t.contains("health.canaryTopic") && t.contains("topic.name"), "{t}");
        let t = error_text(&[("health.failAfter", "0"), ("health.canaryTopic", "a b")]);
        assert!(t.contains("health.failAfter") && t.contains("health.canaryTopic"), "{t}");
    }

    #[test]
    fn all_problems_reported_at_once() {
        let err = check(&[("kafka.brokers", "0"), ("topic.name", "a b")]).unwrap_err();
        assert!(err.0.len() >= 2);
    }

    #[test]
    fn the_mirror_scope_must_carry_the_application_topic_and_the_canary() {
        let t = error_text(&[("mirror.include", r"orders\..*")]);
        assert!(t.contains("mirror.include") && t.contains("my-topic") && t.contains("widen"), "{t}");
        let t = error_text(&[("mirror.exclude", r#"["my-.*"]"#)]);
        assert!(t.contains("mirror.exclude") && t.contains("topic.name") && t.contains("remove the entry"), "{t}");
        let t = error_text(&[("mirror.exclude", r#"["amqdr-.*"]"#)]);
        assert!(t.contains("mirror.exclude") && t.contains("canary"), "{t}");
        let t = error_text(&[("mirror.exclude", r#"["(unclosed"]"#)]);
        assert!(t.contains("mirror.exclude") && t.contains("not a regular expression"), "{t}");
        let d = check(&[("mirror.include", r"my-topic|orders\..*\.eu")]).unwrap();
        assert!(d.warnings.iter().any(|w| w.field == "mirror.include" && w.message.contains("every topic")), "{:?}", d.warnings);
        let d = check(&[("mirror.include", r"my-topic|orders\..*"), ("user.topics", "[payments]")]).unwrap();
        assert!(d.warnings.iter().any(|w| w.field == "user.topics" && w.message.contains("payments")), "{:?}", d.warnings);
        assert!(!d.warnings.iter().any(|w| w.field == "mirror.include"), "{:?}", d.warnings);
    }
}
